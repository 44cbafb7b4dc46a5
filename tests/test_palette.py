"""The status-badge palette: one set of colours, each pair readable (WCAG 1.4.3, 4.5:1).

axe-core checks the badges the browser tests happen to show; this checks every
badge colour, including states no browser test reaches, and that no stylesheet
gives a badge a colour of its own."""

import re
from pathlib import Path

import pytest

CSS = Path(__file__).resolve().parents[1] / "portal" / "static" / "css"
ROOT = (CSS / "app.css").read_text(encoding="utf-8").split(":root {", 1)[1].split("}", 1)[0]
VARIABLES = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})\s*;", ROOT))
BADGES = sorted(name for name in VARIABLES if name.startswith("badge-") and not name.endswith("-bg"))


def _luminance(hex_colour: str) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_ratio_is_computed_as_wcag_defines_it():
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast("#8c6d00", "#fbf5e0"), 2) == 4.47  # the old warning badge: axe's figure


def test_every_badge_tone_is_defined():
    assert {"badge-done", "badge-todo", "badge-warn", "badge-prep", "badge-stale"} <= set(BADGES)


@pytest.mark.parametrize("badge", BADGES)
def test_each_badge_text_has_4_5_to_1_on_its_background(badge):
    ratio = contrast(VARIABLES[badge], VARIABLES[f"{badge}-bg"])
    assert ratio >= 4.5, f"--{badge} on --{badge}-bg is {ratio:.2f}:1"


@pytest.mark.parametrize("text, background", [
    ("color-warning", "color-warning-light"),
    ("color-error", "color-error-light"),
    ("color-success", "color-success-light"),
    ("color-text-sub", "color-bg-sub"),
    ("color-key", "color-key-light"),
])
def test_text_colours_on_their_tinted_backgrounds(text, background):
    assert contrast(VARIABLES[text], VARIABLES[background]) >= 4.5


def _rules(path: Path):
    text = re.sub(r"/\*.*?\*/", "", path.read_text(encoding="utf-8"), flags=re.DOTALL)
    return re.findall(r"([^{}]+)\{([^{}]*)\}", text)


def test_no_stylesheet_colours_a_badge_outside_the_palette():
    offenders = []
    for path in sorted(CSS.rglob("*.css")):
        for selector, body in _rules(path):
            if ".status__label" not in selector or "::before" in selector:
                continue
            for prop, value in re.findall(r"(?<![-\w])(color|background(?:-color)?)\s*:\s*([^;]+)", body):
                if not re.fullmatch(r"var\(--badge-[\w-]+\)", value.strip()):
                    offenders.append(f"{path.name}: {selector.strip()} {{ {prop}: {value.strip()} }}")
    assert offenders == []
