"""axe-core on every page state the browser tests visit (WCAG 2.1 A and AA).

axe-core is the npm package pinned in tests/browser/package.json, installed by
bin/setup-test-system. The tests get pages wrapped in `CheckedPage` (see
conftest.py), and axe runs:

* on every new document of the main frame (a `goto`, a link followed, a form
  submitted, a redirect, a `history.replaceState`): the `framenavigated` event
  only marks the page dirty — no Playwright call happens inside an event
  handler — and the check runs at the next call the test makes on the page;
* whenever a screenshot is taken (`shoot`, `page.screenshot`): a state a person
  is meant to look at, including what JavaScript drew after the load;
* at the end of the test, and before a context the test opened is closed.

Before axe runs, the page must have fired `load` and its DOM must have been
quiet for 150 ms (plotly draws after the load). The violations of a test are
collected and fail it at teardown, one readable line per rule and element.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, Error, Page

AXE_JS = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

_RUN = """async (tags) => {
  // Wait for a quiet DOM: scripts (plotly, the whom box) may still be drawing.
  await new Promise((resolve) => {
    let timer;
    const done = () => { observer.disconnect(); clearTimeout(cap); resolve(); };
    const observer = new MutationObserver(() => { clearTimeout(timer); timer = setTimeout(done, 150); });
    observer.observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
    timer = setTimeout(done, 150);
    const cap = setTimeout(done, 3000);
  });
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => ({target: n.target.map(String).join(' '), summary: n.failureSummary || ''})),
  }));
}"""


def available() -> bool:
    return AXE_JS.is_file()


@dataclass
class Violation:
    where: str
    rule: str
    impact: str
    help: str
    target: str
    summary: str

    def line(self) -> str:
        summary = " ".join(self.summary.split())
        return f"  {self.rule} [{self.impact}] {self.target}\n      {self.help}: {summary}\n      at {self.where}"


@dataclass
class Axe:
    """The violations one test found; `check` is a no-op when axe-core is missing."""

    enabled: bool = field(default_factory=available)
    violations: list[Violation] = field(default_factory=list)
    states: int = 0
    _seen: set[tuple[str, str, str]] = field(default_factory=set)
    _source: str | None = None

    def check(self, page: Page, why: str) -> None:
        if not self.enabled or page.is_closed() or not page.url.startswith("http"):
            return
        for attempt in range(3):
            try:
                page.wait_for_load_state("load")
                if not page.evaluate("() => typeof window.axe === 'object'"):
                    self._source = self._source or AXE_JS.read_text(encoding="utf-8")
                    page.evaluate(self._source)  # CDP evaluation: the page's CSP does not apply
                found = page.evaluate(_RUN, TAGS)
                break
            except Error as e:
                # A navigation replaced the document mid-check: check the new one.
                if ("context was destroyed" not in str(e) and "navigat" not in str(e)) or attempt == 2:
                    raise
        self.states += 1
        url = urlsplit(page.url)
        path = url.path + (f"?{url.query}" if url.query else "")
        where = f"{path} ({why}, {page.viewport_size['width']} px)"
        for v in found:
            for node in v["nodes"]:
                key = (path, v["id"], node["target"])
                if key not in self._seen:
                    self._seen.add(key)
                    self.violations.append(Violation(where, v["id"], v["impact"], v["help"], node["target"],
                                                     node["summary"]))

    def report(self) -> str:
        head = f"axe-core: {len(self.violations)} WCAG 2.1 A/AA violation(s) over {self.states} page state(s)"
        return "\n".join([head, *(v.line() for v in self.violations)])


class CheckedPage:
    """A Playwright Page that runs axe at the points listed in the module docstring.

    Everything else is the Page itself; `isinstance(p, Page)` holds, so
    `expect(page)` works. Locators stay plain Playwright locators: what they do
    to the document is caught by the next call on the page.
    """

    def __init__(self, page: Page, axe: Axe):
        object.__setattr__(self, "_page", page)
        object.__setattr__(self, "_axe", axe)
        object.__setattr__(self, "_dirty", False)  # about:blank is nobody's page
        page.on("framenavigated", lambda frame: frame == page.main_frame and self._mark())

    @property
    def __class__(self):  # lets isinstance() and expect() see a Page
        return Page

    def _mark(self) -> None:
        object.__setattr__(self, "_dirty", True)

    def axe_check(self, why: str = "checked", force: bool = True) -> None:
        if force or self._dirty:
            object.__setattr__(self, "_dirty", False)
            self._axe.check(self._page, why)

    def screenshot(self, *args, **kwargs):
        self.axe_check("screenshot")
        return self._page.screenshot(*args, **kwargs)

    def __getattr__(self, name):
        attr = getattr(self._page, name)
        if name.startswith("_") or not callable(attr) or name in ("on", "once", "remove_listener", "is_closed"):
            return attr

        def call(*args, **kwargs):
            self.axe_check("new document", force=False)
            return attr(*args, **kwargs)

        return call

    def __setattr__(self, name, value):
        setattr(self._page, name, value)


class CheckedContext:
    """A BrowserContext whose pages are CheckedPages, checked once more before it closes."""

    def __init__(self, context: BrowserContext, axe: Axe):
        self._context, self._axe, self.pages_opened = context, axe, []

    @property
    def __class__(self):
        return BrowserContext

    def new_page(self) -> CheckedPage:
        page = CheckedPage(self._context.new_page(), self._axe)
        self.pages_opened.append(page)
        return page

    def close(self, **kwargs) -> None:
        for page in self.pages_opened:
            if not page.is_closed():
                page.axe_check("end of test")
        self._context.close(**kwargs)

    def __getattr__(self, name):
        return getattr(self._context, name)


class CheckedBrowser:
    """The session's browser, handing out checked contexts for one test."""

    def __init__(self, browser, axe: Axe):
        self._browser, self.axe, self.contexts = browser, axe, []

    def new_context(self, **kwargs) -> CheckedContext:
        context = CheckedContext(self._browser.new_context(**kwargs), self.axe)
        self.contexts.append(context)
        return context

    def __getattr__(self, name):
        return getattr(self._browser, name)


def required_on_ci() -> bool:
    return bool(os.environ.get("CI"))
