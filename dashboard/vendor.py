"""plotly.js and its stylesheet, served from the installed plotly package.

plotly.js normally injects its own CSS rules at run time through a <style>
element, which the app's Content-Security-Policy (style-src 'self') refuses.
The same rules are therefore extracted from the bundle once and served as a
plain stylesheet, versioned with the package so both files can be cached for
a year.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache

import plotly

PLOTLY_JS = os.path.join(os.path.dirname(plotly.__file__), "package_data", "plotly.min.js")
VERSION = plotly.__version__

_RULES_START = '{"X,X div":'
_PAIR = re.compile(r'"((?:[^"\\]|\\.)*)":(?:\'((?:[^\'\\]|\\.)*)\'|"((?:[^"\\]|\\.)*)")')


@lru_cache(maxsize=1)
def plotly_css() -> str:
    with open(PLOTLY_JS, encoding="utf-8") as fh:
        text = fh.read()
    start = text.index(_RULES_START)
    end = text.index("}", start)
    rules = []
    for m in _PAIR.finditer(text[start + 1:end]):
        key, value = m.group(1), m.group(2) if m.group(2) is not None else m.group(3)
        selector = re.sub(r"^,", " ,", key).replace("X", ".js-plotly-plot .plotly").replace("Y", ".plotly-notifier")
        rules.append(f"{selector}{{{value}}}")
    if len(rules) < 20:  # the bundle changed shape: fail loudly rather than draw broken charts
        raise RuntimeError("plotly.js style rules not found in the bundle")
    return f"/* plotly.js {VERSION}: the rules plotly.js would inject at run time */\n" + "\n".join(rules) + "\n"
