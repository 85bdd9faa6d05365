"""Reading a newsletter mailbox (papertrail.sources.mailbox.read_mailbox): first read, a re-read
where every message is already stored (only header blocks are read), and an unchanged
mailbox (not opened at all).

    python benchmarks/bench_mailbox.py [--messages 2000]

The messages are multipart/alternative newsletters (~25 KB of HTML with 60 links, a
plain part, two arXiv links each), written with Python's `mailbox` module as an mbox
file and as a Maildir folder.
"""

from __future__ import annotations

import argparse
import mailbox
import statistics
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

from papertrail.sources.mailbox import read_mailbox


def newsletter(n: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Import AI <jack@importai.net>"
    msg["Subject"] = f"Import AI {n}: a week of papers"
    msg["Date"] = "Mon, 20 Apr 2026 10:00:00 -0400"
    msg["Message-ID"] = f"<issue-{n}@mail.example>"
    paras = "".join(
        f'<p>Item {i}: <a href="https://example.org/{n}/{i}?utm_source=email">a link</a> '
        "with some words about a model, a dataset and a benchmark result. " * 4 + "</p>"
        for i in range(60)
    )
    html = (
        "<html><head><style>p{margin:0}</style></head><body>"
        f'<a href="https://importai.example/{n}">View this email in your browser</a>'
        f'<p>See <a href="https://arxiv.org/abs/2104.{n % 9000 + 10000:05d}">this</a> and '
        f"arXiv:1707.08567.</p>{paras}</body></html>"
    )
    msg.set_content(f"Plain version.\nView online: https://importai.example/{n}\n")
    msg.add_alternative(html, subtype="html")
    return bytes(msg)


def timed(fn, repeat: int = 3) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=2000)
    n = ap.parse_args().messages
    messages = [newsletter(i) for i in range(n)]
    with tempfile.TemporaryDirectory() as tmp:
        mbox_path = Path(tmp) / "news.mbox"
        box = mailbox.mbox(str(mbox_path))
        for m in messages:
            box.add(m)
        box.close()
        maildir_path = Path(tmp) / "Maildir"
        md = mailbox.Maildir(str(maildir_path))
        for m in messages:
            md.add(m)
        md.close()
        size = mbox_path.stat().st_size / 1e6
        print(f"{n} messages, mbox {size:.1f} MB")
        for label, path in (("mbox", mbox_path), ("maildir", maildir_path)):
            first_s, res = timed(lambda p=path: read_mailbox(p))
            guids = {r.guid for r in res.parsed.records}
            seen_s, again = timed(lambda p=path, g=guids: read_mailbox(p, seen=set(g)))
            same_s, _ = timed(lambda p=path, s=res.state: read_mailbox(p, previous_state=s))
            assert len(res.parsed.records) == n and again.already_seen == n
            print(
                f"{label:8s} first read {first_s:6.2f} s ({n / first_s:5.0f} msg/s) | "
                f"all seen {seen_s:5.2f} s | unchanged {same_s * 1000:5.2f} ms"
            )


if __name__ == "__main__":
    main()
