"""Load a page's own scripts and style sheets on that page only.

A page lists them in its front matter, as paths under the site's ``_static`` folder::

    ---
    page_js: [explorer/schedules.js, explorer/explorer.js]
    page_css: [explorer/explorer.css]
    ---

Sphinx's ``html_js_files`` would put them on every page; ``app.add_js_file`` called during
``html-page-context`` adds them to the page being written and to no other.
"""

from __future__ import annotations

import json
from typing import Any


def _as_list(value: Any, key: str, pagename: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        # Sphinx keeps front-matter values as text: a YAML list arrives as its JSON form.
        value = json.loads(value) if value.lstrip().startswith("[") else [value]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ValueError(f"{pagename}: front matter {key} must be a path or a list of paths (got {value!r})")


def _add_assets(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    meta = context.get("meta") or {}
    for path in _as_list(meta.get("page_css"), "page_css", pagename):
        app.add_css_file(path)
    for path in _as_list(meta.get("page_js"), "page_js", pagename):
        # defer: run after the page is parsed, in the listed order
        app.add_js_file(path, loading_method="defer")


def setup(app: Any) -> dict[str, Any]:
    app.connect("html-page-context", _add_assets)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
