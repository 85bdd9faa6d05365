"""bAbI task files measured, and checked against what the bAbI authors published (torch-free).

`measure` reads a task file (the release's or one `generate.py` wrote) and
counts what the format and the published task descriptions fix: stories,
questions per story, statements per story and between questions, the
vocabulary, the question forms, the answers, the supporting facts per question
and how far back the last one lies.

`PUBLISHED` is what Weston et al. 2015 (arXiv 1502.05698, §3 and its Table 1
examples) and the authors' own generator (github.com/facebookarchive/bAbI-tasks,
`lua/babi/tasks/*.lua`, the world in `tasks/worlds/world_basic.txt`) fix for
the six tasks generated here; the release itself cannot be downloaded on the
machine these checks were written on. `check` compares one against the other.
Run it: `python -m reproductions.memn2n.stats FILE…`.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from reproductions.memn2n.babi import Story, parse_babi, tokenize

ACTORS = ("Daniel", "John", "Mary", "Sandra")  # world_basic.txt
PLACES = ("bathroom", "bedroom", "garden", "hallway", "kitchen", "office")
OBJECTS = ("apple", "football", "milk")  # the gettable ones (the table is not)


@dataclass(frozen=True)
class Published:
    """What the bAbI authors fix for one task (None: left to chance or not stated)."""

    name: str
    questions_per_story: int  # every generator loop asks 5 questions
    statements_per_story: int | None  # exactly, when the generator fixes it
    question_forms: frozenset[str]  # with ACTOR / OBJECT / PLACE for the names
    answers: frozenset[str]
    supports: frozenset[int]  # supporting facts per question
    last_statement_supports: bool  # the question's answer is always in the statement before it
    verbs: frozenset[str]  # the kinds of statement the stories use (see `_verb`)
    source: str


_WHERE = frozenset(PLACES)
_MOVES = frozenset({"move"})
_OBJECTS = frozenset({"move", "get", "drop"})
PUBLISHED: dict[int, Published] = {
    1: Published(
        "single-supporting-fact", 5, 10, frozenset({"where is ACTOR"}), _WHERE,
        frozenset({1}), False, _MOVES, "WhereIsActor.lua: (2 moves, 1 question) × 5",
    ),
    2: Published(
        "two-supporting-facts", 5, None, frozenset({"where is the OBJECT"}), _WHERE,
        frozenset({2}), False, _OBJECTS,
        "WhereIsObject.lua: random actions; after 3+, a question with p = 1/2; 5 questions",
    ),
    3: Published(
        "three-supporting-facts", 5, None, frozenset({"where was the OBJECT before the PLACE"}),
        _WHERE, frozenset({3}), False, _OBJECTS,
        "WhereWasObject.lua: as task 2, the question about the object's last two places",
    ),
    6: Published(
        "yes-no-questions", 5, 10, frozenset({"is ACTOR in the PLACE"}), frozenset({"yes", "no"}),
        frozenset({1}), False, _MOVES,
        "IsActorThere.lua: (2 moves, 1 question) × 5, yes and no with p = 1/2",
    ),
    11: Published(
        "basic-coreference", 5, 10, frozenset({"where is ACTOR"}), _WHERE, frozenset({1}), True,
        frozenset({"move", "move (he/she)"}),
        "BasicCoreference.lua: (ACTOR moves, he/she moves again, where is ACTOR?) × 5; "
        "support: the pronoun sentence",
    ),
    12: Published(
        "conjunction", 5, 10, frozenset({"where is ACTOR"}), _WHERE, frozenset({1}), False,
        frozenset({"move (two actors)"}), "Conjunction.lua: (2 'A and B went to P', 1 question) × 5",
    ),
}  # fmt: skip


@dataclass
class Measured:
    """What one task file holds."""

    stories: int = 0
    questions: int = 0
    per_story: Counter[int] = field(default_factory=Counter)  # questions per story
    statements: Counter[int] = field(default_factory=Counter)  # statements per story
    gaps: Counter[int] = field(default_factory=Counter)  # statements before each question
    vocabulary: set[str] = field(default_factory=set)
    forms: Counter[str] = field(default_factory=Counter)
    answers: Counter[str] = field(default_factory=Counter)
    supports: Counter[int] = field(default_factory=Counter)
    last_support_distance: Counter[int] = field(default_factory=Counter)  # 1: the statement before
    verbs: Counter[str] = field(default_factory=Counter)  # moves, gets, drops, pronoun moves

    @property
    def last_is_support(self) -> float:
        """Share of questions whose last supporting fact is the statement just before them."""
        return self.last_support_distance[1] / self.questions if self.questions else 0.0


def question_form(text: str) -> str:
    """'Where is Mary?' -> 'where is ACTOR'; names, objects and places become placeholders."""
    out = []
    for word in tokenize(text):
        if word.capitalize() in ACTORS:
            out.append("ACTOR")
        elif word in OBJECTS:
            out.append("OBJECT")
        elif word in PLACES:
            out.append("PLACE")
        else:
            out.append(word)
    return " ".join(out)


_GET = re.compile(r"\b(got|picked up|grabbed|took)\b")
_DROP = re.compile(r"\b(dropped|discarded|put down|left)\b")
_PRONOUN = re.compile(r"^(?:\w+(?: that)? )?(he|she)\b", re.IGNORECASE)


def _verb(sentence: str) -> str:
    if _GET.search(sentence):
        return "get"
    if _DROP.search(sentence):
        return "drop"
    if " and " in sentence:
        return "move (two actors)"
    if _PRONOUN.search(sentence):
        return "move (he/she)"
    return "move"


def measure(text: str, source: str = "<text>") -> Measured:
    """Count a task file's stories, questions, words, forms, answers and supports."""
    m = Measured()
    for story in parse_babi(text, source):
        _measure_story(m, story)
    return m


def _measure_story(m: Measured, story: Story) -> None:
    m.stories += 1
    m.per_story[len(story.questions)] += 1
    m.statements[len(story.statements)] += 1
    questions = {q.line_id: q for q in story.questions}
    seen: list[int] = []
    since = 0
    for line_id in story.order:
        if line_id in story.statements:
            sentence = story.statements[line_id]
            m.vocabulary.update(tokenize(sentence))
            m.verbs[_verb(sentence)] += 1
            seen.append(line_id)
            since += 1
            continue
        q = questions[line_id]
        m.questions += 1
        m.gaps[since] += 1
        since = 0
        m.vocabulary.update(tokenize(q.text))
        m.forms[question_form(q.text)] += 1
        m.answers[q.answer] += 1
        m.supports[len(q.supports)] += 1
        if q.supports:
            m.last_support_distance[len(seen) - seen.index(max(q.supports))] += 1


@dataclass(frozen=True)
class Check:
    what: str
    published: str
    found: str
    agrees: bool


def check(task: int, m: Measured) -> list[Check]:
    """`m` against what the authors published for `task` (ValueError for tasks not in PUBLISHED)."""
    if task not in PUBLISHED:
        raise ValueError(f"no published description is recorded here for task {task}")
    p = PUBLISHED[task]
    words = {w.lower() for w in (*ACTORS, *PLACES, *OBJECTS)}
    out = [
        Check("questions per story", str(p.questions_per_story), _spread(m.per_story),
              set(m.per_story) == {p.questions_per_story}),
        Check("statements per story", str(p.statements_per_story or "varies"),
              _spread(m.statements), p.statements_per_story is None
              or set(m.statements) == {p.statements_per_story}),
        Check("question forms", ", ".join(sorted(p.question_forms)), ", ".join(sorted(m.forms)),
              set(m.forms) == set(p.question_forms)),
        Check("answers", f"{len(p.answers)}: {', '.join(sorted(p.answers))}",
              _top(m.answers), set(m.answers) <= p.answers),
        Check("supporting facts per question", ", ".join(map(str, sorted(p.supports))),
              _spread(m.supports), set(m.supports) <= p.supports),
        Check("answer in the statement just before the question",
              "always" if p.last_statement_supports else "not required",
              f"{100 * m.last_is_support:.0f} %",
              not p.last_statement_supports or m.last_is_support == 1.0),
        Check("kinds of statement", ", ".join(sorted(p.verbs)), _top(m.verbs),
              set(m.verbs) <= p.verbs),
        Check("names, places, objects", "4 actors, 6 places, 3 objects (world_basic.txt)",
              f"{len(m.vocabulary & words)} of them in {len(m.vocabulary)} words",
              m.vocabulary & words <= words),
    ]  # fmt: skip
    return out


def _spread(counts: Counter[int]) -> str:
    if not counts:
        return "—"
    total = sum(counts.values())
    mean = sum(k * v for k, v in counts.items()) / total
    lo, hi = min(counts), max(counts)
    return f"{lo}" if lo == hi else f"{lo}–{hi} (mean {mean:.1f})"


def _top(counts: Counter[str], n: int = 6) -> str:
    total = sum(counts.values()) or 1
    cells = [f"{k} {100 * v / total:.0f} %" for k, v in counts.most_common(n)]
    more = len(counts) - n
    return ", ".join(cells) + (f" (+{more} more)" if more > 0 else "")


def report(task: int, m: Measured, label: str) -> str:
    """A Markdown table: each check, the published figure, the measured one."""
    lines = [f"Task {task} ({PUBLISHED[task].name}), {label}: {m.stories} stories, "
             f"{m.questions} questions", "",
             "| check | published (authors' generator) | here | agrees |", "|---|---|---|---|"]  # fmt: skip
    for c in check(task, m):
        lines.append(
            f"| {c.what} | {c.published} | {c.found} | {'yes' if c.agrees else '**no**'} |"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """`python -m reproductions.memn2n.stats qa6_yes-no-questions_train.txt …`"""
    for name in argv:
        path = Path(name)
        found = re.match(r"qa(\d+)_", path.name)
        if not found:
            print(f"{path}: not a bAbI task file name (qaN_…)", file=sys.stderr)
            return 2
        m = measure(path.read_text(encoding="utf-8"), str(path))
        print(report(int(found.group(1)), m, path.name) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
