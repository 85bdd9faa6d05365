"""Words and names as the ranking compares them (shared by rank, learn and similar)."""

from __future__ import annotations

import functools
import re
import unicodedata

WORD = re.compile(r"[^\W_]+")
# Frequent English words that would otherwise describe every starred entry in a
# small reading list (in a large one idf and COMMON_SHARE leave them out anyway).
STOP_WORDS = frozenset(
    """a about above after again all also an and any are as at be because been before being
    between both but by can could did do does doing down during each few for from further had
    has have having here how however i if in into is it its itself just more most no nor not of
    off on once only or other our out over own same should so some such than that the their
    them then there these they this those through to too under until up very via was we were
    what when where which while who why will with within without would you your""".split()  # noqa: SIM905 (a word list reads better as text)
)


@functools.lru_cache(maxsize=65536)  # the same authors come back again and again
def normalize_name(name: str) -> str:
    """'Gaël  Varoquaux' -> 'gael varoquaux': case, accents and punctuation ignored."""
    text = name
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(WORD.findall(text.casefold()))


def content_words(text: str) -> set[str]:
    """The words of a text worth comparing: lower case, 3+ characters, not a number,
    not a stop word."""
    return {
        w
        for w in WORD.findall(text.lower())
        if len(w) > 2 and not w.isdigit() and w not in STOP_WORDS
    }


def phrase_query(phrase: str) -> str:
    """A ranking keyword as an FTS5 query over title and summary: its words as one
    phrase (so punctuation never reaches the query syntax); a final * is a prefix."""
    words = " ".join(WORD.findall(phrase.lower()))
    star = " *" if phrase.rstrip().endswith("*") else ""
    return f'{{title summary}} : "{words}"{star}'
