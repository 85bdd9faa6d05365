"""Verified downloads into the user cache: progress, SHA-256, atomic rename.

A file is only ever renamed into the cache after its SHA-256 matched, so a
file present in the cache is a verified one. A corrupted or truncated
download is deleted, never cached.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "papertrail"
CHUNK = 1 << 20


class DownloadError(Exception):
    """A download failed or did not match its checksum; the message says what to do."""


@dataclass(frozen=True)
class Checkpoint:
    """A file published at `url` whose SHA-256 we know."""

    url: str
    sha256: str
    size: int | None = None

    @property
    def filename(self) -> str:
        return self.url.rsplit("/", 1)[-1]


def cache_dir() -> Path:
    """Where downloads live: $PAPERTRAIL_CACHE, else the user cache dir (platformdirs)."""
    env = os.environ.get("PAPERTRAIL_CACHE")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir(APP_NAME, appauthor=False))


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def cached_path(checkpoint: Checkpoint, subdir: str = "weights") -> Path:
    return cache_dir() / subdir / checkpoint.filename


def fetch_verified(
    checkpoint: Checkpoint,
    dest: Path | None = None,
    *,
    on_progress: Callable[[int, int], None] | None = None,
    timeout: float = 30.0,
) -> Path:
    """Return the cached file, downloading and verifying it first if needed.

    `on_progress(bytes_done, bytes_total)` is called as bytes arrive (total 0
    when the server does not say). Raises DownloadError on a network error,
    an HTTP error or a checksum mismatch; nothing is left in the cache then."""
    import httpx

    dest = dest or cached_path(checkpoint)
    if dest.exists():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(f"{dest.name}.{os.getpid()}.part")
    digest = hashlib.sha256()
    done = 0
    try:
        with (
            httpx.stream("GET", checkpoint.url, follow_redirects=True, timeout=timeout) as resp,
            open(part, "wb") as out,
        ):
            if resp.status_code != 200:
                raise DownloadError(
                    f"downloading {checkpoint.url} failed: HTTP {resp.status_code} — "
                    "try again later, or download the file yourself and pass its path"
                )
            total = int(resp.headers.get("content-length") or checkpoint.size or 0)
            for chunk in resp.iter_bytes(CHUNK):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if on_progress:
                    on_progress(done, total)
        got = digest.hexdigest()
        if got != checkpoint.sha256:
            raise DownloadError(
                f"{checkpoint.url}: the download ({done:,} bytes) has SHA-256 {got}, "
                f"expected {checkpoint.sha256} — it was corrupted or truncated, and was not "
                "kept. Run again to retry, or download the file yourself and pass its path"
            )
        os.replace(part, dest)
    except httpx.HTTPError as e:
        raise DownloadError(
            f"could not download {checkpoint.url}: {e} — check your network connection, "
            "or download the file yourself and pass its path"
        ) from None
    finally:
        part.unlink(missing_ok=True)
    return dest
