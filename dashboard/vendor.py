"""plotly.js and its stylesheet, served from the installed plotly package.

plotly.js normally injects its own CSS at run time through <style> elements,
which the app's Content-Security-Policy (style-src 'self') refuses — with a
console error each time. The same rules are therefore extracted from the bundle
once and served as plain stylesheets, versioned with the package so every file
can be cached for a year. The page links them with the ids plotly.js looks for
before it injects anything, so it injects nothing:

* its own rules: `<link id="plotly.js-style-global" class="no-inline-styles">`
  (plotly.js's documented opt-out for strict CSPs);
* the rules of its bundled MapLibre (for map tiles, which the dashboard does
  not use: its map is a plain scatter), injected unless an element with a
  fixed id (read from the bundle) exists: an empty <template> with that id.

So the CSP stays `style-src 'self'`: no 'unsafe-inline', no nonce, no hash.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache

import plotly

PLOTLY_JS = os.path.join(os.path.dirname(plotly.__file__), "package_data", "plotly.min.js")
VERSION = plotly.__version__

PLOTLY_STYLE_ID = "plotly.js-style-global"
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


_MAPLIBRE = re.compile(r'if\(!document\.getElementById\("([0-9a-f]{64})"\)\)\{var e=document\.createElement\("style"\);'
                       r'e\.id="\1",e\.textContent=`\.maplibregl')


@lru_cache(maxsize=1)
def maplibre_style_id() -> str:
    with open(PLOTLY_JS, encoding="utf-8") as fh:
        match = _MAPLIBRE.search(fh.read())
    if not match:  # the bundle changed shape: fail loudly rather than log CSP errors on every page
        raise RuntimeError("plotly.js's MapLibre style block not found in the bundle")
    return match.group(1)
