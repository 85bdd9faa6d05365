"""Where each OAI-PMH harvest got to: one `harvest_state` row per endpoint and set.

The harvester (`papertrail.ingest.oai`) saves the row after every page, in the same
transaction as the page's papers, so a killed harvest resumes from the last
saved resumption token, or restarts from `last_datestamp` when the token has
expired. Columns:

- `name`              `<kind> <endpoint> <set or "*">`: the row's natural key
- `last_from` / `last_until`  the window the current (or last) harvest asked for
                      (YYYY-MM-DD; NULL = open)
- `last_datestamp`    where the next request starts from (inclusive): while a
                      harvest runs, the newest record datestamp saved so far;
                      once it is done, the `from` of the next incremental harvest
- `resumption_token`  the token of the next page, while a harvest is unfinished
- `status`            running | done | failed | interrupted
- `records`           records saved by the current (or last) harvest
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlite_utils


@dataclass
class HarvestState:
    name: str
    kind: str
    endpoint: str
    set_spec: str | None = None
    last_from: str | None = None
    last_until: str | None = None
    last_datestamp: str | None = None
    resumption_token: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    status: str | None = None
    records: int = 0
    error: str | None = None

    @property
    def unfinished(self) -> bool:
        return self.status in ("running", "failed", "interrupted")


_COLUMNS = [f.name for f in fields(HarvestState)]


def harvest_name(kind: str, endpoint: str, set_spec: str | None) -> str:
    """The state row's key: one per harvest kind, endpoint and set."""
    return f"{kind} {endpoint} {set_spec or '*'}"


def _state(row: Any) -> HarvestState:
    return HarvestState(**dict(zip(_COLUMNS, row, strict=True)))


def get_harvest_state(db: sqlite_utils.Database, name: str) -> HarvestState | None:
    row = db.execute(
        f"SELECT {', '.join(_COLUMNS)} FROM harvest_state WHERE name = ?", [name]
    ).fetchone()
    return _state(row) if row else None


def list_harvest_states(db: sqlite_utils.Database, kind: str | None = None) -> list[HarvestState]:
    sql = f"SELECT {', '.join(_COLUMNS)} FROM harvest_state"
    args: list[Any] = []
    if kind is not None:
        sql += " WHERE kind = ?"
        args.append(kind)
    return [_state(row) for row in db.execute(sql + " ORDER BY name", args)]


def save_harvest_state(db: sqlite_utils.Database, state: HarvestState) -> None:
    """Upsert the row (inside the caller's transaction when there is one)."""
    values = asdict(state)
    updates = ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS if c != "name")
    with db.atomic():
        db.execute(
            f"INSERT INTO harvest_state ({', '.join(_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(_COLUMNS))}) "
            f"ON CONFLICT (name) DO UPDATE SET {updates}",
            [values[c] for c in _COLUMNS],
        )
