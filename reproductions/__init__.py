"""Reproductions of classic deep-learning papers, one self-contained package per paper.

Layout of `reproductions/<name>/` (copy `style_transfer/` to start a new one):

- `__init__.py`  the paper(s) as constants (`PAPERS`, of `common.Paper`), the
                 command name (`NAME`), a one-line `TITLE`. No torch import:
                 `papertrail repro list` reads it without torch installed.
- `config.py`    `@dataclass` configs whose defaults are the paper's
                 hyperparameters (each field cites its section / table). No
                 torch import; model.py and train.py take their configs from
                 here, never from run.py, so imports run one way (run → the
                 rest → config). Packages whose other modules never import a
                 config keep them in run.py.
- `run.py`       the command line `Args` (a dataclass; `papertrail repro NAME`
                 builds its options from the fields) and `run(args, ctx)`,
                 which returns a `common.RunResult`. Imports torch lazily.
- `model.py`     the model and objective, readable top to bottom; the module
                 docstring names the paper, its arXiv link and the objective.
- `data.py`      datasets (real on-disk formats) and any generated data.
- `README.md`    how to run, results next to the paper's, every deviation.

No reproduction imports another; what they share (device, seeding, image I/O,
verified downloads, the run context) lives in `reproductions.common`.
`papertrail.repro` finds the packages here, links their papers into the
reading list and records each run in the database.
"""
