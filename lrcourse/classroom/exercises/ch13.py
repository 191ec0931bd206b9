"""Checkers for chapter 13, "How high the rate can go: warmup and the batch size"."""

from __future__ import annotations

import math
from typing import Any

from ._common import as_real, close, failed, guarded, not_attempted, passed, show_both, wrong_form

__all__ = ["check_13_1"]

FORM_13_1 = "a function scaled_rate(base_lr, base_batch, batch, rule) with rule 'linear' or 'sqrt'"

# (base_lr, base_batch, batch, rule): up and down in batch size, both rules, a ratio that is not
# a power of two (so a rule applied to log2 or to the wrong ratio shows).
_CASES: tuple[tuple[float, int, int, str], ...] = (
    (0.08, 256, 1024, "linear"), (0.08, 256, 32, "linear"), (0.002, 256, 1024, "sqrt"),
    (0.002, 256, 32, "sqrt"), (0.1, 128, 384, "linear"), (0.001, 100, 900, "sqrt"))


def _want(base_lr: float, base_batch: int, batch: int, rule: str) -> float:
    ratio = batch / base_batch
    return base_lr * (ratio if rule == "linear" else math.sqrt(ratio))


@guarded
def check_13_1(answer: Any) -> bool:
    """Exercise ch13-rules. Answer: a function ``scaled_rate(base_lr, base_batch, batch, rule)``.

    ``rule="linear"`` (Goyal et al.) multiplies ``base_lr`` by ``batch / base_batch``;
    ``rule="sqrt"`` (Malladi et al.'s rule for the rate) by its square root. Checked on six cases,
    both rules, batches larger and smaller than the base.
    """
    if not_attempted(answer, FORM_13_1):
        return False
    if not callable(answer):
        return wrong_form(FORM_13_1, answer)
    for base_lr, base_batch, batch, rule in _CASES:
        value = answer(base_lr, base_batch, batch, rule)
        got = as_real(value)
        if got is None:
            return wrong_form(FORM_13_1, value)
        want = _want(base_lr, base_batch, batch, rule)
        if close(got, want, rel=1e-6):
            continue
        ratio = batch / base_batch
        other = base_lr * (math.sqrt(ratio) if rule == "linear" else ratio)
        case = f"scaled_rate({base_lr}, {base_batch}, {batch}, {rule!r})"
        if close(got, base_lr / (ratio if rule == "linear" else math.sqrt(ratio)), rel=1e-6):
            hint = "the ratio is upside down: a larger batch takes a larger rate, batch / base_batch."
        elif close(got, other, rel=1e-6):
            hint = f"that is the other rule's rate; {rule!r} {'multiplies by the ratio itself' if rule == 'linear' else 'takes the square root of the ratio'}."
        elif close(got, base_lr, rel=1e-6):
            hint = "the rate must change with the batch size: multiply base_lr by a function of batch / base_batch."
        else:
            hint = "linear: base_lr * batch / base_batch; sqrt: base_lr * (batch / base_batch) ** 0.5."
        expected, received = show_both(want, got)
        return failed(f"{expected} for {case}", received, hint)
    return passed("Linear for SGD, square root for Adam's rate; the chapter's grids are centred on these.")
