"""Training MemN2N on bAbI as in §4.2: SGD on the summed cross-entropy, linear start,
random noise in the temporal index, best of N restarts; evaluation; the attention table."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F

from reproductions.memn2n.babi import Example
from reproductions.memn2n.model import MemN2N

NULL = "<null>"


@dataclass
class Vocab:
    """Word ids; id 0 is the null symbol. Built from every word of train and test (as the authors' code)."""

    words: list[str]

    def __post_init__(self) -> None:
        self.index = {w: i for i, w in enumerate(self.words)}

    @classmethod
    def build(cls, *datasets: list[Example]) -> Vocab:
        seen: set[str] = set()
        for exs in datasets:
            for ex in exs:
                seen.update(w for s in ex.story for w in s)
                seen.update(ex.question)
                seen.add(ex.answer)
        return cls([NULL, *sorted(seen)])

    def __len__(self) -> int:
        return len(self.words)

    def ids(self, tokens: tuple[str, ...] | list[str]) -> list[int]:
        try:
            return [self.index[t] for t in tokens]
        except KeyError as e:
            raise ValueError(f"word {e.args[0]!r} is not in the vocabulary") from None


@dataclass
class Batch:
    stories: torch.Tensor  # (N, M, L) word ids; slot 0 the most recent sentence
    counts: torch.Tensor  # (N,) sentences in memory
    queries: torch.Tensor  # (N, Lq)
    answers: torch.Tensor  # (N,)
    tasks: torch.Tensor  # (N,)

    def __len__(self) -> int:
        return self.answers.shape[0]

    def select(self, index: torch.Tensor) -> Batch:
        """Rows `index`, the memory trimmed to the fullest story among them."""
        counts = self.counts[index]
        width = max(1, int(counts.max()))
        return Batch(
            self.stories[index, :width], counts, self.queries[index],
            self.answers[index], self.tasks[index],
        )  # fmt: skip

    def to(self, device: torch.device) -> Batch:
        return Batch(*(t.to(device) for t in (self.stories, self.counts, self.queries, self.answers, self.tasks)))  # fmt: skip


def vectorize(exs: list[Example], vocab: Vocab, memory_size: int) -> Batch:
    """Pad to the longest sentence and the fullest memory (at most `memory_size`, the most recent)."""
    memories = [ex.story[-memory_size:][::-1] for ex in exs]  # most recent first
    width = max([len(s) for m in memories for s in m] + [1])
    slots = max([len(m) for m in memories] + [1])
    qlen = max(len(ex.question) for ex in exs)
    stories = torch.zeros(len(exs), slots, width, dtype=torch.long)
    queries = torch.zeros(len(exs), qlen, dtype=torch.long)
    for n, (ex, memory) in enumerate(zip(exs, memories, strict=True)):
        for i, sentence in enumerate(memory):
            stories[n, i, : len(sentence)] = torch.tensor(vocab.ids(sentence))
        queries[n, : len(ex.question)] = torch.tensor(vocab.ids(ex.question))
    counts = torch.tensor([len(m) for m in memories])
    answers = torch.tensor([vocab.index[ex.answer] for ex in exs])
    tasks = torch.tensor([ex.task for ex in exs])
    return Batch(stories, counts, queries, answers, tasks)


def noisy_times(
    counts: torch.Tensor, slots: int, memory_size: int, fraction: float, gen: torch.Generator
) -> torch.Tensor:
    """Random noise (RN, §4.1): the temporal indices of a story with n sentences, as if up to
    ⌈fraction·n⌉ empty memories were inserted among them at random. (N, slots), ascending
    from the most recent slot, capped at the last row of T."""
    N = counts.shape[0]
    counts = counts.to(torch.long)
    blanks = (torch.rand(N, generator=gen) * (torch.ceil(fraction * counts) + 1)).floor().long()
    total = counts + blanks  # (N,) positions to choose from
    span = slots + math.ceil(fraction * slots)
    scores = torch.rand(N, span, generator=gen)
    scores[torch.arange(span) >= total.unsqueeze(1)] = 2.0  # never chosen before valid ones
    chosen = scores.argsort(1)[:, :slots]  # a random subset of range(total), unordered
    chosen = torch.where(torch.arange(slots) < counts.unsqueeze(1), chosen, span)
    return chosen.sort(1).values.clamp(max=memory_size - 1)


class LinearStart:
    """Linear start (§4.2): train without the memory softmax until the validation loss stops
    falling (or `max_epochs` pass), then re-insert it. `update` returns True at the switch.

    "Stops falling": `patience` epochs in a row without a new lowest validation loss."""

    def __init__(self, max_epochs: int, patience: int = 1) -> None:
        self.max_epochs, self.patience = max_epochs, patience
        self.epochs = self.stale = 0
        self.best = math.inf
        self.active = max_epochs > 0

    def update(self, val_loss: float) -> bool:
        if not self.active:
            return False
        self.epochs += 1
        self.stale = 0 if val_loss < self.best else self.stale + 1
        self.best = min(self.best, val_loss)
        if self.stale >= self.patience or self.epochs >= self.max_epochs:
            self.active = False
            return True
        return False


@dataclass
class Settings:
    """The resolved hyperparameters of one training (see run.py for their sources)."""

    dim: int = 20
    hops: int = 3
    epochs: int = 100
    anneal_every: int = 25
    lr: float = 0.01
    ls: bool = False
    ls_lr: float = 0.005
    ls_epochs: int = 20
    ls_patience: int = 5
    rn: float = 0.0
    batch_size: int = 32
    max_grad_norm: float = 40.0
    memory_size: int = 50
    encoding: str = "pe"
    temporal: bool = True
    tying: str = "adjacent"
    init_std: float = 0.1


@dataclass
class Evaluation:
    loss: float  # mean cross-entropy per question
    error: float  # fraction wrong
    per_task: dict[int, float] = field(default_factory=dict)  # task -> fraction wrong


def build_model(vocab_size: int, s: Settings, seed: int) -> MemN2N:
    torch.manual_seed(seed)
    return MemN2N(
        vocab_size, dim=s.dim, hops=s.hops, memory_size=s.memory_size,
        encoding=s.encoding, temporal=s.temporal, tying=s.tying, init_std=s.init_std,  # type: ignore[arg-type]
    )  # fmt: skip


@torch.no_grad()
def evaluate(model: MemN2N, data: Batch, batch_size: int = 1000) -> Evaluation:
    model.eval()
    loss, wrong = 0.0, torch.zeros(len(data), dtype=torch.bool)
    for start in range(0, len(data), batch_size):
        index = torch.arange(start, min(start + batch_size, len(data)))
        b = data.select(index)
        logits = model(b.stories, b.queries)
        loss += F.cross_entropy(logits, b.answers, reduction="sum").item()
        wrong[index] = logits.argmax(-1) != b.answers
    per_task = {int(t): wrong[data.tasks == t].float().mean().item() for t in data.tasks.unique()}
    n = max(1, len(data))
    return Evaluation(loss / n, wrong.float().mean().item(), per_task)


def train_step(
    model: MemN2N, b: Batch, lr: float, s: Settings, gen: torch.Generator | None = None
) -> float:
    """One SGD step on a batch: the summed (not averaged, §4.2) cross-entropy; returns it."""
    model.train()
    times = None
    if s.rn > 0 and s.temporal and gen is not None:
        times = noisy_times(b.counts, b.stories.shape[1], s.memory_size, s.rn, gen)
    logits = model(b.stories, b.queries, times)
    loss = F.cross_entropy(logits, b.answers, reduction="sum")
    model.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), s.max_grad_norm)
    with torch.no_grad():
        for p in model.parameters():
            if p.grad is not None:
                p.add_(p.grad, alpha=-lr)
    model.zero_null()
    return loss.item()


Progress = Callable[[int, int, dict[str, Any]], None]


def train(
    model: MemN2N,
    train_data: Batch,
    val_data: Batch,
    s: Settings,
    seed: int,
    on_epoch: Progress | None = None,
) -> dict[str, Any]:
    """LS phase (if asked) then the annealed schedule; returns the history."""
    gen = torch.Generator().manual_seed(seed)
    ls = LinearStart(s.ls_epochs if s.ls else 0, s.ls_patience)
    model.linear = ls.active
    history: dict[str, Any] = {"ls_epochs": 0, "epochs": 0, "val_loss": [], "train_loss": []}
    total = (s.ls_epochs if s.ls else 0) + s.epochs
    done = 0

    def epoch(lr: float) -> float:
        order = torch.randperm(len(train_data), generator=gen)
        loss = 0.0
        for start in range(0, len(order), s.batch_size):
            loss += train_step(
                model, train_data.select(order[start : start + s.batch_size]), lr, s, gen
            )
        return loss / max(1, len(train_data))

    while ls.active:
        train_loss = epoch(s.ls_lr)
        val = evaluate(model, val_data)
        history["train_loss"].append(train_loss)
        history["val_loss"].append(val.loss)
        history["ls_epochs"] += 1
        done += 1
        if ls.update(val.loss):
            model.linear = False
        if on_epoch:
            on_epoch(done, total, {"phase": "LS", "val_err": val.error})
    total = done + s.epochs
    for e in range(s.epochs):
        lr = s.lr * 0.5 ** (e // s.anneal_every)
        train_loss = epoch(lr)
        history["train_loss"].append(train_loss)
        history["epochs"] += 1
        done += 1
        if on_epoch and (e % 5 == 4 or e == s.epochs - 1):
            val = evaluate(model, val_data)
            history["val_loss"].append(val.loss)
            on_epoch(done, total, {"val_err": val.error})
    return history


@dataclass
class Trained:
    model: MemN2N
    vocab: Vocab
    restart: int  # which restart won
    val: Evaluation
    train_eval: Evaluation
    restarts: list[dict[str, Any]]  # per restart: seed, val error, train error, epochs
    seconds: float


def train_restarts(
    train_exs: list[Example],
    val_exs: list[Example],
    vocab: Vocab,
    s: Settings,
    restarts: int,
    seed: int,
    select_on: str = "validation",
    on_epoch: Callable[[int, int, int, dict[str, Any]], None] | None = None,
) -> Trained:
    """Train `restarts` models from different initialisations; keep the best on `select_on`."""
    start = time.perf_counter()
    train_data = vectorize(train_exs, vocab, s.memory_size)
    val_data = vectorize(val_exs, vocab, s.memory_size)
    best: tuple[tuple[float, float], int, dict[str, torch.Tensor]] | None = None
    records: list[dict[str, Any]] = []
    for r in range(restarts):
        run_seed = seed * 1000 + r
        model = build_model(len(vocab), s, run_seed)
        callback = (lambda d, t, m, r=r: on_epoch(r, d, t, m)) if on_epoch else None
        history = train(model, train_data, val_data, s, run_seed, callback)
        val, tr = evaluate(model, val_data), evaluate(model, train_data)
        records.append(
            {
                "seed": run_seed,
                "val_error": round(100 * val.error, 2),
                "train_error": round(100 * tr.error, 2),
                "val_loss": round(val.loss, 4),
                "ls_epochs": history["ls_epochs"],
                "epochs": history["epochs"],
            }
        )
        key = (val.error, val.loss) if select_on == "validation" else (tr.error, tr.loss)
        if best is None or key < best[0]:
            best = (key, r, {k: v.clone() for k, v in model.state_dict().items()})
    assert best is not None
    model = build_model(len(vocab), s, 0)
    model.load_state_dict(best[2])
    model.linear = False
    return Trained(
        model, vocab, best[1], evaluate(model, val_data), evaluate(model, train_data),
        records, time.perf_counter() - start,
    )  # fmt: skip


def errors_by_task(trained: Trained, test_exs: list[Example]) -> dict[int, float]:
    """Test error (%) per task."""
    data = vectorize(test_exs, trained.vocab, trained.model.memory_size)
    ev = evaluate(trained.model, data)
    return {t: 100 * e for t, e in sorted(ev.per_task.items())}


@torch.no_grad()
def attention_table(trained: Trained, ex: Example, title: str = "") -> str:
    """The paper's Table 2 for one question: the story's sentences in memory, which are
    supporting facts, and the attention each hop gives them; then the answer and prediction."""
    model, vocab = trained.model, trained.vocab
    model.eval()
    data = vectorize([ex], vocab, model.memory_size)
    logits, attention = model(data.stories, data.queries, return_attention=True)
    n = int(data.counts[0])
    texts = ex.texts[-model.memory_size :] if n else ()
    ids = ex.line_ids[-model.memory_size :] if n else ()
    p = attention[0, :, :n].flip(-1)  # (K, n) oldest first, like the story
    width = max([len(t) for t in texts] + [len("story sentence")])
    hops = [f"hop {k + 1}" for k in range(model.hops)]
    lines = [title] if title else []
    lines.append(f"{'':3}{'story sentence'.ljust(width)}  support  " + "  ".join(hops))
    for i, (line_id, text) in enumerate(zip(ids, texts, strict=True)):
        support = "yes" if line_id in ex.supports else ""
        cells = "  ".join(f"{p[k, i].item():5.2f}" for k in range(model.hops))
        lines.append(f"{line_id:>2} {text.ljust(width)}  {support:7}  {cells}")
    predicted = vocab.words[int(logits[0].argmax())]
    mark = "correct" if predicted == ex.answer else "wrong"
    lines.append(f"{ex.question_text}  answer: {ex.answer}  prediction: {predicted} ({mark})")
    return "\n".join(lines)
