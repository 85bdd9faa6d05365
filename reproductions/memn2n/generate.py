"""A bAbI world simulated here, writing stories in the release's format (torch-free).

Weston et al. (2015, arXiv 1502.05698) generate the tasks from a small
simulated world: actors move between rooms and pick up and drop objects;
questions are asked about the state. This module re-implements that world for
tasks 1, 2, 3, 6, 11 and 12 (not the authors' generator: the sentences follow the
release's wording, the statistics are ours — see the README). Every file is
seeded and reproducible: the same (seed, task, split, size) gives the same bytes.

Each question is asked only when its answer follows from the story's last
`MEMORY` statements, so a model with a 50-sentence memory can answer it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from reproductions.memn2n.babi import SIZE_DIRS, task_filename

GENERATED_TASKS = (1, 2, 3, 6, 11, 12)
SIZES = {"1k": 1000, "10k": 10000}
TEST_QUESTIONS = 1000
QUESTIONS_PER_STORY = 5
MEMORY = 50

ACTORS = ("Mary", "John", "Daniel", "Sandra")
PRONOUN = {"Mary": "she", "Sandra": "she", "John": "he", "Daniel": "he"}
PLACES = ("bathroom", "bedroom", "garden", "hallway", "kitchen", "office")
OBJECTS = ("apple", "football", "milk")
MOVE = ("moved to", "went to", "journeyed to", "travelled to", "went back to")
GET = ("got", "picked up", "grabbed", "took")  # "Mary got the milk there."
DROP = ("dropped", "discarded", "put down", "left")  # "Mary dropped the milk."
THEN = ("Then", "After that", "Following that", "Afterwards")


@dataclass
class World:
    """What is true, and which statement (line id) told it."""

    rng: random.Random
    place: dict[str, str] = field(default_factory=dict)  # actor -> room (once stated)
    place_line: dict[str, int] = field(default_factory=dict)  # actor -> line that put them there
    holder: dict[str, str | None] = field(default_factory=dict)  # object -> actor
    get_line: dict[str, int] = field(default_factory=dict)  # object -> line of the current get
    obj_place: dict[str, str] = field(default_factory=dict)  # object -> room (true, maybe unstated)
    obj_support: dict[str, tuple[int, ...]] = field(default_factory=dict)  # where-is-O facts
    trail: dict[str, list[tuple[str, tuple[int, ...]]]] = field(default_factory=dict)
    mentioned: dict[str, list[int]] = field(default_factory=dict)  # actor -> lines naming them

    def __post_init__(self) -> None:
        for o in OBJECTS:
            self.holder[o] = None
            self.obj_place[o] = self.rng.choice(PLACES)
            self.trail[o] = []

    def move(self, actor: str, line: int) -> str:
        here, came = self.place.get(actor), self.place_line.get(actor)
        to = self.rng.choice([p for p in PLACES if p != here])
        self.place[actor], self.place_line[actor] = to, line
        for o, h in self.holder.items():
            if h == actor:
                assert came is not None  # only an actor with a stated place picks things up
                self.obj_place[o] = to
                self.obj_support[o] = (self.get_line[o], line)
                # where the carrier came from, that it had the object, that it went on
                self.trail[o].append((to, (came, self.get_line[o], line)))
        return to

    def gets(self) -> list[tuple[str, str]]:
        return [
            (a, o)
            for a in ACTORS
            if a in self.place
            for o in OBJECTS
            if self.holder[o] is None and self.obj_place[o] == self.place[a]
        ]

    def drops(self) -> list[tuple[str, str]]:
        return [(h, o) for o, h in self.holder.items() if h is not None]

    def get(self, actor: str, obj: str, line: int) -> None:
        self.holder[obj], self.get_line[obj] = actor, line
        facts = (self.place_line[actor], line)
        self.obj_support[obj] = facts
        if not self.trail[obj] or self.trail[obj][-1][0] != self.place[actor]:
            self.trail[obj].append((self.place[actor], facts))

    def drop(self, actor: str, obj: str, line: int) -> None:
        self.holder[obj] = None
        self.obj_support[obj] = (self.place_line[actor], line)


@dataclass
class StoryWriter:
    """Lines of one story in the release's format; statement ordinals for the memory check."""

    lines: list[str] = field(default_factory=list)
    ordinal: dict[int, int] = field(default_factory=dict)  # line id -> statement number
    statements: int = 0

    @property
    def next_id(self) -> int:
        return len(self.lines) + 1

    def say(self, text: str) -> int:
        line = self.next_id
        self.statements += 1
        self.ordinal[line] = self.statements
        self.lines.append(f"{line} {text}")
        return line

    def ask(self, question: str, answer: str, supports: tuple[int, ...]) -> None:
        ids = " ".join(str(s) for s in sorted(set(supports)))
        self.lines.append(f"{self.next_id} {question} \t{answer}\t{ids}")

    def in_memory(self, supports: tuple[int, ...]) -> bool:
        return all(self.statements - self.ordinal[s] < MEMORY for s in supports)


class TaskWriter:
    """One statement at a time, and the questions that can be asked now, for one task."""

    def __init__(self, task: int, rng: random.Random) -> None:
        self.task, self.rng = task, rng
        self.world = World(rng)
        self.story = StoryWriter()
        self.last_actor: str | None = None
        self.last_was_pronoun = False

    # ------------------------------------------------------------ statements

    def statement(self) -> None:
        w, rng, s = self.world, self.rng, self.story
        if self.task == 12:
            a, b = rng.sample(ACTORS, 2)
            line = s.next_id
            # Both go to one room: move one, then put the other there.
            to = w.move(a, line)
            w.place[b], w.place_line[b] = to, line
            s.say(f"{a} and {b} {rng.choice(MOVE)} the {to}.")
            for x in (a, b):
                w.mentioned.setdefault(x, []).append(line)
            return
        if self.task == 11:
            if self.last_actor and not self.last_was_pronoun and rng.random() < 0.6:
                a = self.last_actor
                line = s.next_id
                to = w.move(a, line)
                s.say(f"{rng.choice(THEN)} {PRONOUN[a]} {rng.choice(MOVE)} the {to}.")
                w.mentioned.setdefault(a, []).append(line)
                self.last_was_pronoun = True
                return
            self._move(rng.choice(ACTORS))
            self.last_was_pronoun = False
            return
        if self.task in (2, 3, 6):
            gets, drops = w.gets(), w.drops()
            roll = rng.random()
            if gets and roll < 0.35:
                a, o = rng.choice(gets)
                w.get(a, o, s.next_id)
                s.say(f"{a} {rng.choice(GET)} the {o} there.")
                return
            if drops and roll < 0.5:
                a, o = rng.choice(drops)
                w.drop(a, o, s.next_id)
                s.say(f"{a} {rng.choice(DROP)} the {o}.")
                return
        self._move(rng.choice(ACTORS))

    def _move(self, actor: str) -> None:
        line = self.story.next_id
        to = self.world.move(actor, line)
        self.story.say(f"{actor} {self.rng.choice(MOVE)} the {to}.")
        self.world.mentioned.setdefault(actor, []).append(line)
        self.last_actor = actor

    # ------------------------------------------------------------ questions

    def candidates(self) -> list[tuple[str, str, tuple[int, ...]]]:
        """(question, answer, supporting line ids) answerable from the memory now."""
        w, s = self.world, self.story
        out: list[tuple[str, str, tuple[int, ...]]] = []
        if self.task in (1, 11, 12):
            for a in ACTORS:
                if a not in w.place:
                    continue
                facts = (w.place_line[a],)
                if self.task == 11 and s.lines[w.place_line[a] - 1].split(" ", 2)[1] in THEN_FIRST:
                    facts = (w.mentioned[a][-2], w.place_line[a])  # the name, then "he"/"she"
                out.append((f"Where is {a}?", w.place[a], facts))
        elif self.task == 6:
            for a in ACTORS:
                if a in w.place:
                    asked = (
                        w.place[a]
                        if self.rng.random() < 0.5
                        else self.rng.choice([p for p in PLACES if p != w.place[a]])
                    )
                    answer = "yes" if asked == w.place[a] else "no"
                    out.append((f"Is {a} in the {asked}?", answer, (w.place_line[a],)))
        elif self.task == 2:
            for o in OBJECTS:
                if w.trail[o]:
                    out.append((f"Where is the {o}?", w.obj_place[o], w.obj_support[o]))
        elif self.task == 3:
            for o in OBJECTS:
                trail = w.trail[o]
                if len(trail) < 2:
                    continue
                last = trail[-1][0]
                if [p for p, _ in trail].count(last) != 1:
                    continue  # "before the kitchen" must name one arrival
                before, facts = trail[-2][0], trail[-1][1]
                out.append((f"Where was the {o} before the {last}?", before, facts))
        return [c for c in out if s.in_memory(c[2])]


THEN_FIRST = frozenset(t.split()[0] for t in THEN)


def generate_task(task: int, questions: int, seed: int, label: str) -> str:
    """`questions` questions of `task` in stories of up to five, as the text of a task file."""
    if task not in GENERATED_TASKS:
        raise ValueError(
            f"the generator writes tasks {', '.join(map(str, GENERATED_TASKS))}, not {task}"
        )
    rng = random.Random(f"babi-{seed}-{task}-{label}")
    out: list[str] = []
    asked = 0
    while asked < questions:
        writer = TaskWriter(task, rng)
        per_story = min(QUESTIONS_PER_STORY, questions - asked)
        done = 0
        while done < per_story and writer.story.statements < 4 * MEMORY:
            for _ in range(rng.randint(1, 3) if task != 3 else rng.randint(2, 6)):
                writer.statement()
            found = writer.candidates()
            if found and writer.story.statements >= 2:
                question, answer, facts = rng.choice(found)
                writer.story.ask(question, answer, facts)
                done += 1
        out += writer.story.lines
        asked += done
    return "\n".join(out) + "\n"


def write_dataset(root: Path, tasks: tuple[int, ...], size: str = "1k", seed: int = 0) -> Path:
    """Write `<root>/<en|en-10k>/qaN_<name>_{train,test}.txt`; returns the size folder."""
    folder = Path(root) / SIZE_DIRS[size]
    folder.mkdir(parents=True, exist_ok=True)
    for task in tasks:
        for split, n, label in (
            ("train", SIZES[size], f"train-{size}"),
            ("test", TEST_QUESTIONS, "test"),
        ):
            path = folder / task_filename(task, split)
            path.write_text(generate_task(task, n, seed, label), encoding="utf-8")
    return folder
