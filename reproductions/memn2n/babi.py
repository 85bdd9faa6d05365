"""The bAbI tasks (Weston et al. 2015, arXiv 1502.05698) in their release's on-disk format.

A task file holds stories one after another; line numbers restart at 1 for
each story. A statement is `ID text`; a question is
`ID question? <TAB>answer<TAB>supporting ids` (list tasks answer `a,b`;
several supporting ids are separated by spaces):

    1 Mary moved to the bathroom.
    2 John went to the hallway.
    3 Where is Mary? \tbathroom\t1

`parse_babi` is pure (text in, stories out); `read_task` finds and reads a
task's train/test files in the release tarball, its extracted folder, or a
folder of generated files with the same names. Torch-free.
"""

from __future__ import annotations

import re
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from reproductions.common.download import Checkpoint

# The release (v1.2): 1k and 10k training sets of tasks 1–20 in English and shuffled-word forms.
# SHA-256 and size as published in huggingface/datasets' babi_qa dataset_infos.json.
RELEASE = Checkpoint(
    url="http://www.thespermwhale.com/jaseweston/babi/tasks_1-20_v1-2.tar.gz",
    sha256="0364ebde659f14d11bc21744516c5ec49d3d06cb692733f66680771244998898",
    size=15_719_851,
)
RELEASE_DIR = "tasks_1-20_v1-2"
SIZE_DIRS = {"1k": "en", "10k": "en-10k"}

TASK_NAMES = {
    1: "single-supporting-fact",
    2: "two-supporting-facts",
    3: "three-supporting-facts",
    4: "two-arg-relations",
    5: "three-arg-relations",
    6: "yes-no-questions",
    7: "counting",
    8: "lists-sets",
    9: "simple-negation",
    10: "indefinite-knowledge",
    11: "basic-coreference",
    12: "conjunction",
    13: "compound-coreference",
    14: "time-reasoning",
    15: "basic-deduction",
    16: "basic-induction",
    17: "positional-reasoning",
    18: "size-reasoning",
    19: "path-finding",
    20: "agents-motivations",
}

_LINE = re.compile(r"(\d+) (.*)")
_WORD = re.compile(r"[^\s.?!]+")


class BabiFormatError(ValueError):
    """A line that is not in the bAbI format; the message names the file and line."""


def tokenize(text: str) -> list[str]:
    """Lower-cased words without the sentence's full stop / question mark."""
    return _WORD.findall(text.lower())


@dataclass(frozen=True)
class Question:
    line_id: int
    text: str
    answer: str  # as written, e.g. "bathroom" or "apple,football"
    supports: tuple[int, ...]  # line ids of the supporting statements

    @property
    def answers(self) -> tuple[str, ...]:
        return tuple(self.answer.split(","))


@dataclass
class Story:
    """One story: its statements (line id → text) and its questions, in file order."""

    statements: dict[int, str] = field(default_factory=dict)
    questions: list[Question] = field(default_factory=list)
    order: list[int] = field(default_factory=list)  # every line id, statements and questions


@dataclass(frozen=True)
class Example:
    """One question with the story before it: what the model reads."""

    task: int
    story_index: int  # which story of its file (questions of one story share it)
    story: tuple[tuple[str, ...], ...]  # statements before the question, oldest first, tokenized
    texts: tuple[str, ...]  # the same statements as written
    line_ids: tuple[int, ...]  # their line ids
    question: tuple[str, ...]
    question_text: str
    answer: str
    supports: tuple[int, ...]


def parse_babi(text: str, source: str = "<text>") -> list[Story]:
    """Stories from the text of one task file. Raises BabiFormatError naming `source:line`."""
    stories: list[Story] = []
    story: Story | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        where = f"{source}:{number}"
        m = _LINE.match(line)
        if not m:
            raise BabiFormatError(
                f"{where}: expected 'ID text' (a line number, a space, the sentence), got {line[:60]!r}"
            )
        line_id, body = int(m.group(1)), m.group(2)
        if line_id == 1:
            story = Story()
            stories.append(story)
        elif story is None or line_id != story.order[-1] + 1:
            previous = story.order[-1] if story else None
            raise BabiFormatError(
                f"{where}: line id {line_id} follows {previous}; ids run 1, 2, 3 … within a story "
                "and restart at 1 for the next"
            )
        assert story is not None
        story.order.append(line_id)
        if "\t" not in body:
            story.statements[line_id] = body.strip()
            continue
        parts = body.split("\t")
        if len(parts) < 2 or not parts[1].strip():
            raise BabiFormatError(f"{where}: a question needs '<TAB>answer<TAB>supporting ids'")
        supports_text = parts[2].strip() if len(parts) > 2 else ""
        try:
            supports = tuple(int(s) for s in supports_text.split())
        except ValueError:
            raise BabiFormatError(
                f"{where}: supporting ids must be line numbers, got {supports_text!r}"
            ) from None
        unknown = [s for s in supports if s not in story.statements]
        if unknown:
            raise BabiFormatError(
                f"{where}: supporting id(s) {unknown} are not statements earlier in this story"
            )
        story.questions.append(Question(line_id, parts[0].strip(), parts[1].strip(), supports))
    return stories


def examples(stories: list[Story], task: int) -> list[Example]:
    """One Example per question: the statements before it (all of them; the model keeps the last 50)."""
    out: list[Example] = []
    for index, story in enumerate(stories):
        questions = {q.line_id: q for q in story.questions}
        seen: list[int] = []
        for line_id in story.order:
            if line_id in story.statements:
                seen.append(line_id)
                continue
            q = questions[line_id]
            texts = tuple(story.statements[i] for i in seen)
            out.append(
                Example(
                    task=task,
                    story_index=index,
                    story=tuple(tuple(tokenize(t)) for t in texts),
                    texts=texts,
                    line_ids=tuple(seen),
                    question=tuple(tokenize(q.text)),
                    question_text=q.text,
                    answer=q.answer.lower(),
                    supports=q.supports,
                )
            )
    return out


def task_filename(task: int, split: str) -> str:
    return f"qa{task}_{TASK_NAMES[task]}_{split}.txt"


def _find_in_dir(root: Path, size: str, task: int, split: str) -> Path:
    name = task_filename(task, split)
    sub = SIZE_DIRS[size]
    for candidate in (root / RELEASE_DIR / sub / name, root / sub / name, root / name):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"{root}: no {sub}/{name} — pass the bAbI release (tasks_1-20_v1-2.tar.gz), the folder it "
        f"extracts to, or its {sub}/ folder"
    )


def read_task(source: Path, task: int, split: str, size: str = "1k") -> list[Example]:
    """The examples of one task's train or test split from the release tarball or a folder."""
    if task not in TASK_NAMES:
        raise ValueError(f"bAbI has tasks 1–20, not {task}")
    if split not in ("train", "test"):
        raise ValueError(f"split is train or test, not {split!r}")
    source = Path(source)
    if source.is_dir():
        path = _find_in_dir(source, size, task, split)
        text = path.read_text(encoding="utf-8")
        return examples(parse_babi(text, str(path)), task)
    if not source.exists():
        raise FileNotFoundError(f"{source}: no such file or folder")
    member = f"{RELEASE_DIR}/{SIZE_DIRS[size]}/{task_filename(task, split)}"
    try:
        with tarfile.open(source, "r:*") as tar:
            handle = tar.extractfile(member)
            if handle is None:
                raise KeyError(member)
            text = handle.read().decode("utf-8")
    except KeyError:
        raise FileNotFoundError(f"{source}: the archive has no {member}") from None
    except tarfile.TarError as e:
        raise ValueError(f"{source}: not a readable tar archive ({e})") from None
    return examples(parse_babi(text, f"{source}:{member}"), task)


def split_validation(
    exs: list[Example], fraction: float, seed: int
) -> tuple[list[Example], list[Example]]:
    """Hold out `fraction` of the training *stories* (all their questions) for validation."""
    import random

    groups: dict[tuple[int, int], list[Example]] = {}
    for ex in exs:
        groups.setdefault((ex.task, ex.story_index), []).append(ex)
    keys = list(groups)
    random.Random(seed).shuffle(keys)
    n_val = max(1, round(fraction * len(keys))) if fraction > 0 else 0
    held = set(keys[:n_val])
    train = [e for e in exs if (e.task, e.story_index) not in held]
    val = [e for e in exs if (e.task, e.story_index) in held]
    return train, val
