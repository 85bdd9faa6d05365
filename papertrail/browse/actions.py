"""The reading page's triage actions: one table, key -> the papertrail.api call the CLI
makes for the same command, and the inverse that undoes it.

`s` star (api.mark "starred": rescoring included, as `papertrail star`), `r` read,
`x` not relevant (api.mark "dismissed": offered only when the store knows that flag,
`api.page.triage_flags`), `t` tag, `n` note. Each run returns the `Undo` that reverts
what it changed (None when nothing changed), applied through the same table.
Plain Python: imports no Datasette.

May import: as the browse package (see its docstring).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from papertrail import api


class ActionError(ValueError):
    """The action cannot run as asked: str() says why and what to do."""


@dataclass(frozen=True)
class Undo:
    """The action (and its argument) that reverts one that ran."""

    action: str
    entry: int
    arg: str = ""


@dataclass(frozen=True)
class Done:
    message: str
    undo: Undo | None


Run = Callable[[api.Paths, int, str], Done]


@dataclass(frozen=True)
class Action:
    name: str
    key: str  # the keyboard key on the reading page ("" for none)
    flag: str | None  # the triage flag it needs (None: always offered)
    run: Run


def _mark(flag: str, on: bool, inverse: str, done: str) -> Run:
    def run(paths: api.Paths, entry: int, arg: str) -> Done:
        result = api.mark(paths, [str(entry)], flag, on)
        if result.missing:
            raise ActionError("; ".join(result.missing))
        undo = Undo(inverse, entry) if result.changed else None
        return Done(f"{done} #{entry}" if result.changed else f"#{entry} was already so", undo)

    return run


def _tags(arg: str) -> list[str]:
    tags = api.clean_tags(arg.replace(",", " ").split())
    if not tags:
        raise ActionError("no tag given: type one or more tags, separated by spaces")
    return tags


def _tag(paths: api.Paths, entry: int, arg: str) -> Done:
    added = api.tag(paths, str(entry), _tags(arg))
    undo = Undo("untag", entry, " ".join(added)) if added else None
    shown = " ".join(added) or "nothing new"
    return Done(f"Tagged #{entry}: {shown}", undo)


def _untag(paths: api.Paths, entry: int, arg: str) -> Done:
    removed = api.tag(paths, str(entry), _tags(arg), remove=True)
    undo = Undo("tag", entry, " ".join(removed)) if removed else None
    return Done(f"Untagged #{entry}: {' '.join(removed) or 'nothing'}", undo)


def _note(paths: api.Paths, entry: int, arg: str) -> Done:
    note = api.add_note(paths, str(entry), arg)
    return Done(f"Noted on #{entry}", Undo("delete_note", entry, str(note["id"])))


def _delete_note(paths: api.Paths, entry: int, arg: str) -> Done:
    if not arg.strip().isdigit():
        raise ActionError(f"which note? {arg!r} is not a note id")
    note_id = int(arg)
    text = next((n["text"] for n in api.notes(paths, str(entry)) if n["id"] == note_id), None)
    api.delete_note(paths, str(entry), note_id)
    return Done(f"Deleted note {note_id} of #{entry}", Undo("note", entry, text) if text else None)


ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action("star", "s", None, _mark("starred", True, "unstar", "Starred")),
        Action("unstar", "s", None, _mark("starred", False, "star", "Unstarred")),
        Action("read", "r", None, _mark("read", True, "unread", "Marked read")),
        Action("unread", "r", None, _mark("read", False, "read", "Marked unread")),
        Action("dismiss", "x", "dismissed", _mark("dismissed", True, "undismiss", "Not relevant:")),
        Action("undismiss", "x", "dismissed", _mark("dismissed", False, "dismiss", "Relevant:")),
        Action("tag", "t", None, _tag),
        Action("untag", "", None, _untag),
        Action("note", "n", None, _note),
        Action("delete_note", "", None, _delete_note),
    )
}


def offered(name: str) -> bool:
    """Whether the action exists and the store knows the flag it needs."""
    action = ACTIONS.get(name)
    return action is not None and (action.flag is None or action.flag in api.triage_flags())


def run_action(paths: api.Paths, name: str, entry: int, arg: str = "") -> Done:
    """Run one action through the API; ActionError (or the API's ValueError/KeyError)
    when it cannot."""
    if not offered(name):
        raise ActionError(f"no action {name!r} here")
    return ACTIONS[name].run(paths, entry, arg)
