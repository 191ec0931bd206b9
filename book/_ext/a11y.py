"""Accessibility fixes for the theme's markup, found by axe-core (scripts/check_site.py).

* The theme's search and colour-mode buttons: template overrides in ``templates/`` make each
  button's accessible name contain its visible text (label-content-name-mismatch).
* myst-nb's hidden code cells: ``<summary aria-label="Toggle hidden content">`` names the
  control differently from what it shows ("Show code cell source"); without the label the
  visible text is the name.
* The bibliography: docutils marks each entry ``role="doc-biblioentry"`` inside a
  ``role="list"``; that role is deprecated and is not a list item, so a screen reader is told of a
  list with nothing in it. Each entry becomes a ``listitem``.
* ``a11y.css`` (in ``book/_static``): the theme's link colour on tinted boxes (exercises, notes)
  falls below the 4.5:1 contrast ratio; it darkens it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

TEMPLATES = Path(__file__).parent / "templates"


def _templates_first(app: Any, config: Any) -> None:
    # First on the path, so these files win over the theme's own of the same name.
    config.templates_path = [str(TEMPLATES), *config.templates_path]


# Exact markup written by docutils and by myst-nb, and what replaces it.
_BODY_FIXES = (
    ('role="doc-biblioentry"', 'role="listitem"'),
    ('<summary aria-label="Toggle hidden content">', "<summary>"),
)


def _fix_body(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    body = context.get("body")
    if body:
        for old, new in _BODY_FIXES:
            body = body.replace(old, new)
        context["body"] = body


def setup(app: Any) -> dict[str, Any]:
    app.connect("config-inited", _templates_first)
    app.connect("html-page-context", _fix_body)
    app.add_css_file("a11y.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
