"""Check the built site's citations: every reference readable, every citation unambiguous.

Usage: ``python scripts/check_bibliography.py _build/html``; run by ``make site-check``.
Exits 1, one line per problem, when

* an entry on the references page shows a LaTeX macro (``\\texttt``, ``\\,``), which the HTML
  builder prints literally;
* two entries share a label;
* one citation text stands for two different works anywhere on the site (the way
  "[Source article, n.d.]" once stood for five articles, telling the reader nothing).

The patterns are those of sphinxcontrib-bibtex's HTML (``class="citation"`` entries and
``references.html#id..`` links); :func:`problems` is tested on small pages of that shape.
"""

from __future__ import annotations

import html
import re
import sys
from collections import defaultdict
from pathlib import Path

# sphinxcontrib-bibtex writes role="doc-biblioentry"; the site's accessibility extension
# (book/_ext/a11y.py) turns it into role="listitem".
ENTRY = re.compile(r'<div class="citation" id="([^"]+)" role="(?:doc-biblioentry|listitem)">(.*?)</div>', re.S)
LABEL = re.compile(r'<span class="label">(.*?)</span>\s*</span>|<span class="label">(.*?)</span>', re.S)
CITATION = re.compile(r'<a class="reference internal" href="(?:[./]*book/)?references\.html#([^"]+)"[^>]*>(.*?)</a>', re.S)
TAG = re.compile(r"<[^>]+>")


def _text(fragment: str) -> str:
    return " ".join(html.unescape(TAG.sub("", fragment)).split())


def problems(site: Path) -> list[str]:
    found: list[str] = []
    references = site / "book" / "references.html"
    if not references.exists():
        return [f"{references.relative_to(site)} is missing: build the site first"]
    entries = ENTRY.findall(references.read_text(encoding="utf-8"))
    if not entries:
        return ["book/references.html: no bibliography entries found"]
    labels: dict[str, list[str]] = defaultdict(list)
    for entry_id, body in entries:
        match = LABEL.search(body)
        label = _text(match.group(0)) if match else ""
        labels[label].append(entry_id)
        if "\\" in _text(body):
            found.append(f"book/references.html: entry {label or entry_id} shows a LaTeX macro: {_text(body)[:100]}")
    found += [f"book/references.html: label {label} is used by {len(ids)} entries" for label, ids in labels.items() if len(ids) > 1]
    # One citation text, one work. Textual citations ({cite:t}) link only their year, so only
    # texts with a name in them are compared.
    works: dict[str, set[str]] = defaultdict(set)
    where: dict[str, str] = {}
    for page in sorted(site.rglob("*.html")):
        if page.relative_to(site).parts[0] in ("_static", "_sources"):
            continue
        for entry_id, text in CITATION.findall(page.read_text(encoding="utf-8")):
            text = _text(text)
            if re.search(r"[^\W\d_]", text.replace("n.d.", "")):
                works[text].add(entry_id)
                where.setdefault(text, str(page.relative_to(site)))
    for text, ids in sorted(works.items()):
        if len(ids) > 1:
            found.append(f"{where[text]}: the citation {text!r} stands for {len(ids)} different works")
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python scripts/check_bibliography.py SITE_DIR", file=sys.stderr)
        return 2
    found = problems(Path(argv[0]))
    for line in found:
        print(line)
    print(f"bibliography: {len(found)} problem(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
