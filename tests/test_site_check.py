"""scripts/check_site.py finds what it is there to find.

A checker that passes every site is worse than none, so it runs here on a tiny site with one
page of each kind of defect, and on a clean page that must pass. Needs Debian's chromium and
Playwright, like the check itself (skipped without them, except under CI).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("check_site", ROOT / "scripts" / "check_site.py")
check_site = importlib.util.module_from_spec(_spec)
sys.modules["check_site"] = check_site  # dataclasses look their module up there
_spec.loader.exec_module(check_site)

HEAD = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>'


def _page(title: str, body: str) -> str:
    return HEAD.format(title=title) + f"<body><main><h1>{title}</h1>{body}</main></body></html>"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], list[str]]:
    chromium = check_site.find_chromium()
    if not chromium or importlib.util.find_spec("playwright") is None:
        if os.environ.get("CI"):
            pytest.fail("needs Debian's chromium and playwright")
        pytest.skip("needs Debian's chromium and playwright")
    root = tmp_path_factory.mktemp("site")
    (root / "_images").mkdir()
    (root / "_images" / "fig.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    pages = {
        "index.html": '<!doctype html><html><head><meta http-equiv="refresh" content="0; url=clean.html"></head></html>',
        "clean.html": _page("Clean", '<p id="here">Fine. <a href="links.html#top">a link</a></p>'
                                     '<img src="_images/fig.png" alt="A falling learning-rate curve">'),
        "links.html": _page("Links", '<p id="top"><a href="nowhere.html">broken</a> <a href="clean.html#gone">anchor</a></p>'),
        "console.html": _page("Console", "<script>console.error('boom')</script><script>undefined_function()</script>"),
        "axe.html": _page("Axe", '<button></button><p style="color:#bbb;background:#fff">faint</p>'),
        # axe accepts a file name as alt text (a notebook figure's default); the check does not
        "alt.html": _page("Alt", '<img src="_images/fig.png" alt="_images/fig.png">'),
    }
    for name, html in pages.items():
        (root / name).write_text(html, encoding="utf-8")
    return check_site.check_site(root, chromium, known_missing_alt={})


def _on(problems: list[str], page: str) -> list[str]:
    return [p for p in problems if p.startswith(page + ":")]


def test_clean_page_and_redirect_pass(report: tuple[list[str], list[str]]) -> None:
    problems, _ = report
    assert _on(problems, "clean.html") == []
    assert _on(problems, "index.html") == []


def test_broken_link_and_missing_anchor_are_found(report: tuple[list[str], list[str]]) -> None:
    problems = _on(report[0], "links.html")
    assert "links.html: broken link nowhere.html" in problems
    assert "links.html: missing anchor #gone in clean.html#gone" in problems
    assert len(problems) == 2


def test_console_errors_and_exceptions_are_found(report: tuple[list[str], list[str]]) -> None:
    problems = _on(report[0], "console.html")
    assert any("console error: boom" in p for p in problems)
    assert any("uncaught exception" in p and "undefined_function" in p for p in problems)


def test_serious_axe_violations_are_found(report: tuple[list[str], list[str]]) -> None:
    problems = " ".join(_on(report[0], "axe.html"))
    assert "axe critical button-name" in problems
    assert "axe serious color-contrast" in problems


def test_file_name_alt_text_counts_as_missing(report: tuple[list[str], list[str]]) -> None:
    assert _on(report[0], "alt.html") == ["alt.html: 1 images without alt text (allowed 0): fig.png"]


def test_known_missing_alt_is_a_ratchet() -> None:
    images = [{"src": "_images/a.png", "alt": "_images/a.png"}, {"src": "_images/b.png", "alt": "Two curves"}]
    assert check_site.missing_alt(images) == ["a.png"]
    assert check_site.missing_alt([{"src": "x/c.png", "alt": " "}, {"src": "x/d.png", "alt": "d.png"}]) == ["c.png", "d.png"]
