"""Check the built site: every internal link and anchor resolves, and every page loads in
headless Chromium without a console error.

Usage: ``python scripts/check_site.py _build/html``. Exits 1 listing every problem found.
The browser check needs Chromium (Debian: ``apt-get install chromium``); without it the script
says so and fails when ``CI`` is set, so a CI machine can never skip it unnoticed.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

CONSOLE_ERROR = re.compile(r'CONSOLE.*"(Uncaught|Failed to load resource|Refused to|[A-Za-z]*Error\b)')
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--enable-logging=stderr", "--v=0", "--virtual-time-budget=4000", "--dump-dom",
]


def site_pages(root: Path) -> list[Path]:
    # _static holds theme template fragments with .html names, not pages of the site.
    return sorted(p for p in root.rglob("*.html") if p.relative_to(root).parts[0] not in ("_static", "_sources"))


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name in ("id", "name"):
                self.ids.add(value)
            elif (name == "href" and tag in ("a", "link")) or (name == "src" and tag in ("img", "script")):
                self.links.append(value)


@functools.cache
def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def check_links(root: Path) -> list[str]:
    problems = []
    for page in site_pages(root):
        for link in _parse(page).links:
            url = urlparse(link)
            if url.scheme or link.startswith("//") or link.startswith("mailto:"):
                continue  # external: not checked offline
            target, anchor = urldefrag(link)
            target_path = (page.parent / unquote(target.split("?")[0])).resolve() if target else page
            if target_path.is_dir():
                target_path = target_path / "index.html"
            where = page.relative_to(root)
            if not target_path.exists():
                problems.append(f"{where}: broken link {link}")
            elif anchor and target_path.suffix == ".html" and unquote(anchor) not in _parse(target_path).ids:
                problems.append(f"{where}: missing anchor #{anchor} in {link or page.name}")
    return problems


def check_console(root: Path, chromium: str) -> list[str]:
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    problems = []
    try:
        for page in site_pages(root):
            url = f"http://127.0.0.1:{server.server_port}/{page.relative_to(root).as_posix()}"
            with tempfile.TemporaryDirectory() as profile:
                result = subprocess.run(
                    [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", url],
                    capture_output=True, text=True, timeout=120,
                )
            if result.returncode != 0 or "</html>" not in result.stdout:
                problems.append(f"{page.relative_to(root)}: Chromium could not load the page (exit {result.returncode})")
            problems += [f"{page.relative_to(root)}: {line.strip()}" for line in result.stderr.splitlines()
                         if CONSOLE_ERROR.search(line)]
    finally:
        server.shutdown()
    return problems


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def main(argv: list[str]) -> int:
    root = Path(argv[1] if len(argv) > 1 else "_build/html")
    if not (root / "index.html").exists():
        print(f"check_site: {root}/index.html not found; build the book first (make book)")
        return 1
    pages = site_pages(root)
    problems = check_links(root)
    print(f"check_site: {len(pages)} pages, internal links and anchors: {len(problems)} problems")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if chromium:
        console = check_console(root, chromium)
        print(f"check_site: loaded {len(pages)} pages in {Path(chromium).name}: {len(console)} console errors")
        problems += console
    elif os.environ.get("CI"):
        problems.append("Chromium not found, and CI is set: install it (apt-get install chromium)")
    else:
        print("check_site: browser check not run: Chromium not found (Debian: apt-get install chromium)")
    for problem in problems:
        print("  " + problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
