"""Checkers for chapter 7, "Choosing the learning rate with a range test"."""

from __future__ import annotations

import json
import math
from typing import Any

from ...range_test import RangeTestResult, range_test_lrs
from ._common import as_int, close, failed, first_difference, guarded, not_attempted, passed, show_lrs, trace, wrong_form

__all__ = ["check_07_1", "check_07_2", "check_07_3", "check_07_4"]

FORM_07_1 = "a function make(optimizer) returning the fixed LambdaLR"
SEED_START, SEED_END, SEED_STEPS = 1e-7, 10.0, 100
BUILT_AT = (0.1, 1.0, 0.003)  # the rates the optimizer is built with in the check


def _seed_want() -> list[float]:
    return [SEED_START * (SEED_END / SEED_START) ** (i / (SEED_STEPS - 1)) for i in range(SEED_STEPS)]


@guarded
def check_07_1(answer: Any) -> bool:
    """Exercise ch07-fix-seed. Answer: a function ``make(optimizer) -> scheduler``.

    Built on optimizers at lr 0.1, 1.0 and 0.003 and stepped 100 times, the scheduler must give
    ``1e-7 * (1e8) ** (i / 99)`` at step ``i``, within 1e-9 relative: 1e-7 at the first step and
    10 at the last, whatever the optimizer's own rate. Any scheduler that does so is accepted.
    """
    if not_attempted(answer, FORM_07_1):
        return False
    want = _seed_want()
    expected = f"rates {show_lrs(want, 3)} ending at 10, for an optimizer built at any rate"
    got: dict[float, list[float]] = {}
    for base in BUILT_AT:
        result = trace(answer, SEED_STEPS, base_lrs=(base,))
        if result.error is not None:
            return failed(expected, result.error,
                          "write it as `def make(optimizer): return LambdaLR(optimizer, ...)`.")
        if result.raised_at is not None:
            return failed(expected, f"{type(result.exception).__name__} at step {result.raised_at}: "
                          f"{result.exception}", "the scheduler must survive the 100 steps of the test.")
        got[base] = result.first
    wrong = [base for base in BUILT_AT if first_difference(got[base], want) is not None]
    if not wrong:
        return passed("1e-7 at the first step and 10 at the last, whatever rate the optimizer was built with.")
    base = wrong[0]
    lrs = got[base]
    received = f"rates {show_lrs(lrs, 3)} ending at {lrs[-1]:.4g}, for an optimizer built at {base:g}"
    if all(close(got[b][0], b) for b in BUILT_AT):
        hint = ("the first step runs at the optimizer's own rate: LambdaLR multiplies that rate by the "
                "factor, which is 1 at step 0. Divide start_lr by optimizer.param_groups[0]['lr'] in the factor.")
    elif close(lrs[0], SEED_START) and close(lrs[-1], SEED_START * (SEED_END / SEED_START) ** 0.99, 1e-6):
        hint = ("the last step misses end_lr: with step / num_it the exponent stops at 99/100. "
                "Divide by num_it - 1, so the exponent reaches 1 at the last step.")
    elif base != BUILT_AT[0] and first_difference(got[BUILT_AT[0]], want) is None:
        hint = (f"right for an optimizer built at 0.1 only: at {base:g} it is wrong. Read the rate from the "
                "optimizer (optimizer.param_groups[0]['lr']) instead of writing 0.1 into the factor.")
    else:
        step = first_difference(lrs, want)
        hint = (f"at step {step} the rate should be {want[step]:.4g}, not {lrs[step]:.4g}: the factor must "
                "be start_lr / base_lr * (end_lr / start_lr) ** (step / (num_it - 1)).")
    return failed(expected, received, hint)


FORM_07_2 = "a function first_stop(values) giving the index where the rule stops, or None"
STOP_PROBES: tuple[tuple[str, list[float], int | None], ...] = (
    ("a falling then exploding curve", [2.3, 2.2, 2.0, 1.5, 1.0, 1.2, 3.9, 4.5, 9.0], 7),
    ("a curve that never blows up", [2.3, 2.1, 2.0, 2.5, 3.0, 2.9], None),
    ("a curve ending in inf", [2.3, 2.0, math.inf], 2),
)
# The exercise says the rule "compared the raw loss with four times its running minimum" and no
# more: the seed's code reads `loss > 4 * min(losses)`, but "compared with" reads as `>=` just as
# well, and the two differ only on a loss of exactly four times the minimum, which real losses never
# hit. A tie is therefore no reason to reject an answer: either reading passes.
TIE_PROBE = [1.0, 4.0, 5.0]
TIE_OUTCOMES = (2, 1)  # 2: `>`, as the seed's code; 1: `>=`
# The exercise states the seed's rule, `loss > 4 * min(losses)`, which says nothing of NaN: a NaN
# compares False, so the rule goes on (to step 4 here), or never fires if the NaN entered the
# minimum. lr_range_test also stops at a value that is not finite (step 3). All three are the rule.
NAN_PROBE = [2.3, 2.0, 1.8, math.nan, 100.0]
NAN_OUTCOMES = {3: "it stops there too", 4: "it goes on to the next value", None: "it never stops"}


def _nan_note(got: Any) -> str:
    return (f" On a NaN loss {NAN_OUTCOMES[got]}: NaN compares False with everything. lr_range_test "
            "also stops at the first value that is not finite (math.isfinite), which matters on "
            "result.smoothed, where one NaN makes every later value NaN.")


def _unjudged(answer: Any, values: list[float]) -> Any:
    """The answer's index on a probe no verdict hangs on: an int, None, "raised", or the repr of
    anything else it returned."""
    try:
        raw = answer(list(values))
    except Exception:  # noqa: BLE001 - a case the exercise leaves open must not crash the check
        return "raised"
    got = None if raw is None else as_int(raw)
    return repr(raw) if raw is not None and got is None else got


@guarded
def check_07_2(answer: Any) -> bool:
    """Exercise ch07-stop-rule. Answer: a function ``first_stop(values)``.

    Called with a list of losses (raw or smoothed), it must return the index of the first step
    at which the seed's rule stops (a value above 4 times the running minimum including that
    value), or ``None`` if it never stops. It is tried on small made-up curves, not on the live
    test. A rule that also stops at the first value that is not finite, as ``lr_range_test``
    does, is right too (applied to ``result.smoothed`` it gives ``result.stopped_at``). The
    exercise says neither what to do with a NaN nor whether a loss of exactly four times the
    minimum stops the test (the seed's code says ``>``, "compared with" allows ``>=``), so every
    reading of those two cases counts; the verdict says which one the answer took.
    """
    if not_attempted(answer, FORM_07_2):
        return False
    if not callable(answer) or isinstance(answer, type):
        return wrong_form("a function first_stop(values)", answer)
    outcomes = []
    for name, values, want in STOP_PROBES:
        raw = answer(list(values))
        got = None if raw is None else as_int(raw)
        if raw is not None and got is None:
            return failed(f"an index or None on {name}", repr(raw),
                          "return the index i of the step that stops the test (an int), or None.")
        outcomes.append((name, values, want, got))
    on_nan, on_tie = _unjudged(answer, NAN_PROBE), _unjudged(answer, TIE_PROBE)
    bad = [(name, values, want, got) for name, values, want, got in outcomes if got != want]
    if not bad and on_tie in TIE_OUTCOMES:
        above = "above" if on_tie == 2 else "at or above"
        tie = "" if on_tie == 2 else (
            " A loss of exactly 4x the minimum stops it (>=); the seed's code, with >, goes on: the two "
            "differ only on a tie, which real losses never hit.")
        if on_nan == 3:
            return passed(f"It stops at the first value {above} 4x the running minimum, or not finite; "
                          "None if it never does." + tie)
        note = _nan_note(on_nan) if on_nan in NAN_OUTCOMES else (
            " On a NaN loss it gives " + ("an error" if on_nan == "raised" else str(on_nan)) + ": the seed's "
            "rule would go on to the next value. lr_range_test stops at the first value that is not finite.")
        rule = " (the seed's rule)" if on_tie == 2 else ""
        return passed(f"It stops at the first value {above} 4x the running minimum{rule}; None if it never "
                      "does." + note + tie)
    if not bad:
        return failed(f"1 or 2 on a loss exactly four times the minimum {TIE_PROBE}",
                      "an error" if on_tie == "raised" else str(on_tie),
                      "the rule compares each loss with 4x the lowest loss so far: [1.0, 4.0, 5.0] fires at "
                      "index 2 (5.0 > 4.0), or at index 1 if a loss equal to 4x the minimum counts.")
    name, values, want, got = bad[0]
    expected = f"{want} on {name} {values}"
    fired = [(w, g) for _, _, w, g in outcomes if w is not None]
    if all(g is not None and g == w + 1 for w, g in fired):
        hint = "one too many: return the index of the step (from 0), not the number of steps taken."
    elif all(g is not None and g == w - 1 for w, g in fired):
        hint = ("you returned the step before the one that fires; return the index i of the step whose "
                "value fires the rule.")
    elif any(not math.isfinite(v) for v in values) and want is not None and got is None:
        hint = ("an infinite loss is above 4x any finite minimum, so the rule fires on it: keep the "
                "minimum of the values so far and compare each value with 4x it.")
    elif want is None and got is not None:
        hint = (f"{name} never goes above 4x its minimum: return None when the rule never fires "
                "(not -1, not len(values)).")
    elif name == STOP_PROBES[0][0] and got is None:
        hint = ("compare with the running minimum of the values so far, not with the first value: the "
                "curve falls to 1.0, so 4.5 is above 4x its minimum.")
    else:
        hint = "keep the lowest value so far (including the current one) and stop at the first value above 4x it."
    return failed(expected, "None" if got is None else str(got), hint)


FORM_07_3 = "the RangeTestResult of the linear test"
LINEAR_START, LINEAR_END = 1e-3, 1.0
CHAPTER_ENDS = (1e2, 1e3)  # the END_LR of the chapter's exponential tests: cpu and gpu size


@guarded
def check_07_3(answer: Any) -> bool:
    """Exercise ch07-linear. Answer: the ``RangeTestResult`` that ``lr_range_test`` returned.

    Its rates must be those of a linear sweep from 1e-3 to 1 over its ``num_steps`` (any
    length), within 1e-9 relative; a test that stopped early holds the first steps of that sweep.
    Only the rates are checked: the losses depend on the network, the data and the device.
    """
    if not_attempted(answer, FORM_07_3):
        return False
    if not isinstance(answer, RangeTestResult):
        if isinstance(answer, (list, tuple)):
            return failed("the RangeTestResult of the test", f"a {type(answer).__name__} of {len(answer)} items",
                          "give the whole result lr_range_test returned (`linear = lr_range_test(...)`), "
                          "not its rates.")
        return wrong_form("the RangeTestResult lr_range_test returned", answer)
    n, lrs = answer.num_steps, answer.lrs
    want = range_test_lrs(LINEAR_START, LINEAR_END, n, "linear")
    expected = f"a linear sweep from 1e-3 to 1 over {n} steps, {show_lrs(want, 3)}"
    received = f"rates {show_lrs(lrs, 3)}, ending at {lrs[-1]:.4g}"
    if first_difference(lrs, want[: len(lrs)]) is None:
        lowest = min(range(len(lrs)), key=lambda i: answer.smoothed[i] if math.isfinite(answer.smoothed[i]) else math.inf)
        below = sum(lr < 0.01 for lr in lrs)
        return passed(f"Lowest smoothed loss at lr {lrs[lowest]:.3g}; only {below} of {len(lrs)} steps "
                      "below lr 0.01: a linear sweep hardly visits the small rates.")
    if first_difference(lrs, range_test_lrs(LINEAR_START, LINEAR_END, n)[: len(lrs)]) is None:
        hint = 'these are the geometric rates of the default mode="exp": pass mode="linear".'
    elif (end := next((e for e in CHAPTER_ENDS if first_difference(
            lrs, range_test_lrs(LINEAR_START, e, n, "linear")[: len(lrs)]) is None), None)) is not None:
        hint = f"this sweep ends at the chapter's END_LR, {end:g}: the exercise sweeps from 1e-3 to end_lr=1.0."
    elif not close(lrs[0], LINEAR_START):
        hint = f"the first step runs at {lrs[0]:.3g}: pass start_lr=1e-3."
    else:
        hint = "pass start_lr=1e-3, end_lr=1.0 and mode=\"linear\" to lr_range_test."
    return failed(expected, received, hint)


FORM_07_4 = "a pair (to_json, from_json): result -> JSON text, text -> RangeTestResult"


def _diverged_result() -> RangeTestResult:
    """A small range test that ends as the live one does: the step that stops it is not finite."""
    n = 40
    lrs = range_test_lrs(1e-3, 1e3, n)
    losses = [2.3 - 1.2 * math.sin(math.pi * i / (n - 1)) ** 2 + 0.01 * (i % 3) for i in range(n)]
    losses[-1] = math.inf
    smoothed, avg = [], 0.0
    for i, loss in enumerate(losses):
        avg = 0.98 * avg + 0.02 * loss
        smoothed.append(avg / (1 - 0.98 ** (i + 1)))
    val = [loss + 0.1 for loss in losses]
    val[-1] = math.nan
    return RangeTestResult(lrs, losses, smoothed, val_losses=val, stopped_at=n - 1, num_steps=60,
                           config={"start_lr": 1e-3, "end_lr": 1e3, "mode": "exp"})


def _same_floats(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    return len(a) == len(b) and all(x == y or (math.isnan(x) and math.isnan(y)) for x, y in zip(a, b))


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


@guarded
def check_07_4(answer: Any) -> bool:
    """Exercise ch07-json. Answer: a pair ``(to_json, from_json)`` of functions.

    ``to_json(result)`` must return JSON text that a strict parser reads (no ``Infinity`` or
    ``NaN``), and ``from_json(text)`` a ``RangeTestResult`` equal to the original: rates, raw and
    smoothed losses (their inf and NaN included), validation losses, stopping step and the four
    suggestions. They are tried on a made-up result whose last step is infinite.
    """
    if not_attempted(answer, FORM_07_4):
        return False
    if not (isinstance(answer, (list, tuple)) and len(answer) == 2 and all(map(callable, answer))):
        return wrong_form("a pair (to_json, from_json) of functions", answer)
    to_json, from_json = answer
    result = _diverged_result()
    expected = "strict JSON text that reads back as the same RangeTestResult"
    try:
        text = to_json(result)
    except ValueError as error:
        return failed(expected, f"to_json raised ValueError: {error}",
                      "that is the failure the exercise asks about: the last loss is inf and strict JSON "
                      "has no inf or NaN. Dump result.to_dict(), which writes them as strings.")
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    if not isinstance(text, str):
        return failed(expected, f"to_json returned a {type(text).__name__}",
                      "return the text, e.g. json.dumps(result.to_dict(), allow_nan=False).")
    try:
        json.loads(text, parse_constant=_reject_constant)
    except ValueError as error:
        return failed(expected, f"text with the non-standard constant {error}",
                      "json.dumps writes inf as Infinity, which strict JSON readers reject: dump "
                      "result.to_dict() with allow_nan=False.")
    back = from_json(text)
    if not isinstance(back, RangeTestResult):
        return failed(expected, f"from_json returned a {type(back).__name__}",
                      "turn the parsed dict back into a result: RangeTestResult.from_dict(json.loads(text)).")
    for name in ("lrs", "losses", "smoothed", "val_losses"):
        if not _same_floats(getattr(back, name), getattr(result, name)):
            return failed(f"the same {name}", f"{name} {show_lrs(getattr(back, name) or [], 3)}...",
                          f"{name} changed on the way: keep every float (inf and NaN too) as to_dict "
                          "writes it, and read it back with from_dict.")
    if (back.stopped_at, back.num_steps) != (result.stopped_at, result.num_steps) or \
            back.suggest("all") != result.suggest("all"):
        return failed("the same stopping step and suggestions", f"stopped_at {back.stopped_at}, "
                      f"num_steps {back.num_steps}", "save every field: to_dict holds them all.")
    return passed("The text is strict JSON, and the result reads back with the same rates, losses and "
                  "suggestions.")
