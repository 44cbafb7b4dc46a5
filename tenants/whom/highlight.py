"""Mark the parts of a displayed text that a folded search term matched.

Matching happens on folded text (「ﾎｹﾝ」 finds 「ほけん」), so the match is found
in the folded form and mapped back, character by character, onto the text
as stored.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from markupsafe import Markup, escape

from portal.japanese import fold

# Voiced/semi-voiced sound marks that belong to the character before them.
_JOINING = {"\u3099", "\u309a", "\u309b", "\u309c", "\uff9e", "\uff9f"}

# fold() of one displayed character (with its sound mark): a pure function of a
# few thousand possible arguments, so remembered rather than recomputed for
# every character of every highlighted text (a memo, not data: nothing to invalidate).
_fold_unit = lru_cache(maxsize=4096)(fold)


def _units(text: str) -> list[str]:
    units: list[str] = []
    for ch in text:
        if units and (ch in _JOINING or unicodedata.combining(ch)):
            units[-1] += ch
        else:
            units.append(ch)
    return units


def highlight(text: str | None, terms: tuple[str, ...] | list[str]) -> Markup:
    """``text`` escaped, with each stretch matching one of ``terms`` in <mark>."""
    if not text:
        return Markup("")
    if not terms:
        return escape(text)
    whole = fold(text)
    if not any(t in whole for t in terms):
        return escape(text)
    units = _units(text)
    folded: list[str] = []
    owner: list[int] = []
    for i, unit in enumerate(units):
        f = _fold_unit(unit)
        folded.append(f)
        owner.extend([i] * len(f))
    haystack = "".join(folded)
    marked = [False] * len(units)
    for term in terms:
        start = haystack.find(term)
        while start != -1:
            for k in range(start, start + len(term)):
                marked[owner[k]] = True
            start = haystack.find(term, start + 1)
    # A dropped character (a long vowel mark, a dot) inside a match is part of it.
    for i in range(1, len(units) - 1):
        if not folded[i] and marked[i - 1] and marked[i + 1]:
            marked[i] = True
    out: list[str] = []
    i = 0
    while i < len(units):
        j = i
        while j < len(units) and marked[j] == marked[i]:
            j += 1
        chunk = str(escape("".join(units[i:j])))
        out.append(f"<mark>{chunk}</mark>" if marked[i] else chunk)
        i = j
    return Markup("".join(out))
