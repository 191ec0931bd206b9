"""Drop duplicate inline scripts from every page.

Under Jupyter Book 1.0.4 with Sphinx 7, sphinx-thebe's configuration script
(``const THEBE_JS_URL = ...``) is registered twice, so every page throws
"Identifier 'THEBE_JS_URL' has already been declared" in the browser console.
Removing exact duplicates restores a page with no console errors; it changes
nothing else.
"""

from __future__ import annotations

from typing import Any


def _dedupe(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple[str, str]] = set()
    unique = []
    for script in scripts:
        attributes = getattr(script, "attributes", {})
        # Inline scripts carry filename None or "" depending on who added them.
        filename = getattr(script, "filename", script) or ""
        key = (str(filename), str(attributes.get("body", "")))
        if key in seen:
            continue
        seen.add(key)
        unique.append(script)
    scripts[:] = unique


def setup(app: Any) -> dict[str, Any]:
    # Last, after the theme and the other extensions have added their scripts.
    app.connect("html-page-context", _dedupe, priority=999)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
