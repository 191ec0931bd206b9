"""Check the built site in one headless Chromium session.

Usage: ``python scripts/check_site.py _build/html``. Exits 1 listing every problem found.

For every page it checks, in the same browser (Playwright driving Debian's ``chromium``):

* the page loads with no console error, uncaught exception or failed request;
* every internal link and anchor resolves (read from the rendered page, so links and ids that
  scripts add count too);
* axe-core (vendored in ``tests/vendor/axe-core``) finds no serious or critical violation;
* every image in the content has alt text that says what it shows; an alt text that is just the
  file's name, as a notebook figure gets by default, does not count (axe accepts it);
* on the schedule explorer, the curve and the code appear, change when a slider is moved with
  the keyboard, and axe still passes in its other states (comparison kept, error shown).

Chromium comes from Debian (``apt-get install chromium``), not from Playwright's download.
Without it the script says so, and fails when ``CI`` is set, so CI can never skip it unnoticed.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import re
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urldefrag, urlparse

ROOT = Path(__file__).resolve().parent.parent
AXE_JS = ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js"
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
BLOCKING_IMPACTS = ("serious", "critical")

# Figures that have no alt text yet, per page: a ratchet. A page with more fails (a new figure
# needs alt text); a page with fewer is reported so the number here can come down. Notebook
# figures get theirs from cell metadata: {"mystnb": {"image": {"alt": "..."}}}.
KNOWN_MISSING_ALT: dict[str, int] = {}

_PAGE_FACTS = """() => {
  const attr = (e, a) => e.getAttribute(a);
  return {
    ids: [...document.querySelectorAll("[id], a[name]")].map(e => e.id || attr(e, "name")),
    links: [...document.querySelectorAll("a[href], link[href], img[src], script[src], iframe[src], source[src]")]
      .map(e => attr(e, "href") ?? attr(e, "src")),
    images: [...document.querySelectorAll("article img, main img")]
      .map(i => ({src: attr(i, "src") || "", alt: attr(i, "alt")})),
  };
}"""

_AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => n.target.join(" ")),
  }));
}"""


def site_pages(root: Path) -> list[Path]:
    # _static holds theme template fragments with .html names, not pages of the site.
    return sorted(p for p in root.rglob("*.html") if p.relative_to(root).parts[0] not in ("_static", "_sources"))


def find_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@contextlib.contextmanager
def serve(root: Path) -> Iterator[str]:
    """Serve ``root`` on a free local port; yields the base URL (a secure context for the browser)."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def browser(chromium: str) -> Iterator[Any]:
    """One headless Chromium for every check, from the system package."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            yield instance
        finally:
            instance.close()


def _ignored_url(url: str) -> bool:
    # The browser asks every server for /favicon.ico on its own; no page links to it.
    return urlparse(url).path == "/favicon.ico"


@dataclass
class PageReport:
    errors: list[str] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    links: list[str] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)
    violations: list[dict[str, Any]] = field(default_factory=list)


def open_page(context: Any, url: str) -> tuple[Any, list[str]]:
    """A new tab at ``url``, recording console errors, exceptions and failed requests."""
    page = context.new_page()
    errors: list[str] = []

    def on_console(msg: Any) -> None:
        if msg.type == "error" and not _ignored_url(msg.location.get("url", "")):
            errors.append(f"console error: {msg.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"uncaught exception: {exc}"))
    page.on("requestfailed", lambda req: _ignored_url(req.url) or errors.append(f"request failed: {req.url}"))
    page.on("response", lambda r: r.status >= 400 and not _ignored_url(r.url) and errors.append(f"HTTP {r.status}: {r.url}"))
    page.goto(url, wait_until="load")
    return page, errors


def run_axe(page: Any) -> list[dict[str, Any]]:
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE_JS))
    return page.evaluate(_AXE_RUN)


def blocking(violations: list[dict[str, Any]]) -> list[str]:
    return [
        f"axe {v['impact']} {v['id']}: {v['help']} ({len(v['nodes'])}x, e.g. {v['nodes'][0]})"
        for v in violations
        if v["impact"] in BLOCKING_IMPACTS
    ]


def check_page(context: Any, url: str) -> PageReport:
    page, errors = open_page(context, url)
    try:
        facts = page.evaluate(_PAGE_FACTS)
        report = PageReport(errors=errors, ids=set(facts["ids"]), links=facts["links"], images=facts["images"])
        report.violations = run_axe(page)
        if page.locator("#lr-explorer").count():
            report.errors += check_explorer(page)
        return report
    finally:
        page.close()


def check_explorer(page: Any) -> list[str]:
    """The explorer draws a curve and code, and both follow a slider moved with the keyboard."""
    problems = []
    curve = page.locator("path.lrx-curve.lrx-series-0")
    code = page.locator("#lrx-code")
    before = (curve.get_attribute("d") or "", code.inner_text())
    if len(before[0]) < 20 or "scheduler = " not in before[1]:
        return ["explorer: no curve or no code after loading"]
    slider = page.locator(".lrx-params input[type=range]").first
    slider.focus()
    page.keyboard.press("PageDown")
    after = (curve.get_attribute("d") or "", code.inner_text())
    if after[0] == before[0]:
        problems.append("explorer: moving the first slider did not change the curve")
    if after[1] == before[1]:
        problems.append("explorer: moving the first slider did not change the code")
    # Other states the page can be in: a kept curve with a legend, a log axis, an error message.
    page.click("#lrx-pin")
    page.check("#lrx-axis-log")
    page.select_option("#lrx-schedule", "OneCycleLR")
    page.fill("#lrx-n-num", "150")
    if "Tried to step" not in page.inner_text("#lrx-message"):
        problems.append("explorer: OneCycleLR past total_steps shows no error")
    problems += [f"explorer (kept curve, log axis, error shown): {p}" for p in blocking(run_axe(page))]
    return problems


def missing_alt(images: list[dict[str, Any]]) -> list[str]:
    """Images whose alt text is absent, empty or only a file name."""
    bad = []
    for image in images:
        alt = (image["alt"] or "").strip()
        name = image["src"].rsplit("/", 1)[-1]
        if not alt or alt == image["src"] or name in alt or re.fullmatch(r"\S+\.(png|jpe?g|svg|gif|webp)", alt):
            bad.append(name)
    return bad


class _Refresh(HTMLParser):
    """Finds a <meta http-equiv="refresh"> target: such a page only redirects."""

    def __init__(self) -> None:
        super().__init__()
        self.target: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "meta" and (a.get("http-equiv") or "").lower() == "refresh":
            match = re.search(r"url=(.+)", a.get("content") or "", re.IGNORECASE)
            self.target = match.group(1).strip(" '\"") if match else None


def redirect_target(path: Path) -> str | None:
    parser = _Refresh()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.target


def check_links(root: Path, reports: dict[Path, PageReport]) -> list[str]:
    problems = []
    for page, report in reports.items():
        for link in report.links:
            url = urlparse(link)
            if url.scheme or link.startswith("//"):
                continue  # external (http, mailto, data...): not checked offline
            target, anchor = urldefrag(link)
            target_path = (page.parent / unquote(target.split("?")[0])).resolve() if target else page
            if target_path.is_dir():
                target_path = target_path / "index.html"
            where = page.relative_to(root)
            if not target_path.exists():
                problems.append(f"{where}: broken link {link}")
            elif anchor and target_path in reports and unquote(anchor) not in reports[target_path].ids:
                problems.append(f"{where}: missing anchor #{anchor} in {link or page.name}")
    return problems


def check_site(root: Path, chromium: str, known_missing_alt: dict[str, int] | None = None) -> tuple[list[str], list[str]]:
    """Return (problems, notes) for the site in ``root``."""
    known = KNOWN_MISSING_ALT if known_missing_alt is None else known_missing_alt
    problems: list[str] = []
    notes: list[str] = []
    reports: dict[Path, PageReport] = {}
    with serve(root) as base, browser(chromium) as instance:
        context = instance.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(30_000)
        for path in site_pages(root):
            name = path.relative_to(root).as_posix()
            redirect = redirect_target(path)
            if redirect is not None:
                # Only a redirect: its target is checked as a link; loading it would navigate away.
                reports[path.resolve()] = PageReport(links=[redirect])
                continue
            report = check_page(context, base + name)
            reports[path.resolve()] = report
            problems += [f"{name}: {e}" for e in report.errors + blocking(report.violations)]
            lacking = missing_alt(report.images)
            allowed = known.get(name, 0)
            if len(lacking) > allowed:
                problems.append(f"{name}: {len(lacking)} images without alt text (allowed {allowed}): {', '.join(lacking)}")
            elif lacking:
                notes.append(f"{name}: {len(lacking)} figures still without alt text (known)")
            if len(lacking) < allowed:
                notes.append(f"{name}: only {len(lacking)} images lack alt text: lower KNOWN_MISSING_ALT to {len(lacking)}")
        context.close()
    problems += check_links(root, {p: r for p, r in reports.items()})
    return problems, notes


def main(argv: list[str]) -> int:
    root = Path(argv[1] if len(argv) > 1 else "_build/html").resolve()
    if not (root / "index.html").exists():
        print(f"check_site: {root}/index.html not found; build the book first (make book)")
        return 1
    chromium = find_chromium()
    try:
        import playwright  # noqa: F401
    except ImportError:
        chromium = None
    if not chromium:
        why = "Chromium (apt-get install chromium) or Playwright (pip install -e '.[test]') not found"
        if os.environ.get("CI"):
            print(f"check_site: {why}, and CI is set")
            return 1
        print(f"check_site: not run: {why}")
        return 0
    start = time.monotonic()
    problems, notes = check_site(root, chromium)
    pages = len(site_pages(root))
    print(f"check_site: {pages} pages in headless {Path(chromium).name} ({time.monotonic() - start:.0f} s): "
          f"console, links and anchors, axe-core (serious/critical), alt text, explorer: {len(problems)} problems")
    for note in notes:
        print("  note: " + note)
    for problem in problems:
        print("  " + problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
