"""Switches read from the environment.

``LRCOURSE_SMOKE=1`` turns every chapter into a smoke run: the same cells, far fewer steps, so
the whole book runs on a 2-core CPU in the test suite. Chapters write
``n_steps = 20 if smoke_mode() else 2000``.
"""

from __future__ import annotations

import os

__all__ = ["smoke_mode"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def smoke_mode() -> bool:
    """True when ``LRCOURSE_SMOKE`` is set to 1/true/yes/on; an unknown value is an error."""
    raw = os.environ.get("LRCOURSE_SMOKE", "")
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(
        f"LRCOURSE_SMOKE must be one of 1/0, true/false, yes/no, on/off or empty (got LRCOURSE_SMOKE={raw!r})"
    )
