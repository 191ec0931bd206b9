"""The schedule explorer (book/explorer.md) in a real headless Chromium.

Its numbers must be the package's: for a grid of schedules and arguments, the LRs the page
computes equal those of ``lrcourse.preview`` driving the real torch or lrcourse scheduler, to
1e-12 relative, and the code the page shows builds that very scheduler. It must also work from the
keyboard, fit a 375-pixel screen, and log no console error.

The page is served on its own (the explorer's raw HTML from book/explorer.md plus its scripts), so
these tests need no book build; scripts/check_site.py checks it again inside the built site.
Chromium comes from Debian (apt-get install chromium); without it (or Playwright) the tests are
skipped, except under CI, where they fail.
"""

from __future__ import annotations

import importlib.util
import math
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from torch.optim.lr_scheduler import (
    ConstantLR,
    CosineAnnealingLR,
    CosineAnnealingWarmRestarts,
    CyclicLR,
    ExponentialLR,
    LinearLR,
    MultiStepLR,
    OneCycleLR,
    PolynomialLR,
    SequentialLR,
    StepLR,
)

import lrcourse
from lrcourse import preview

ROOT = Path(__file__).resolve().parent.parent
EXPLORER = ROOT / "book" / "_static" / "explorer"
SCRIPTS = ["schedules.js", "pycode.js", "plot.js", "explorer.js"]

_spec = importlib.util.spec_from_file_location("check_site", ROOT / "scripts" / "check_site.py")
check_site = importlib.util.module_from_spec(_spec)
sys.modules["check_site"] = check_site  # dataclasses look their module up there
_spec.loader.exec_module(check_site)


def _need_browser() -> str:
    chromium = check_site.find_chromium()
    missing = not chromium or importlib.util.find_spec("playwright") is None
    if missing:
        why = "needs Debian's chromium and playwright (apt-get install chromium; pip install -e '.[test]')"
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    return chromium


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The explorer page alone, served locally: yields its URL."""
    root = tmp_path_factory.mktemp("explorer-site")
    shutil.copytree(EXPLORER, root / "explorer")
    source = (ROOT / "book" / "explorer.md").read_text(encoding="utf-8")
    raw = re.search(r"```\{raw\} html\n(.*?)\n```", source, re.DOTALL)
    assert raw, "book/explorer.md has no raw HTML block"
    scripts = "".join(f'<script defer src="explorer/{name}"></script>' for name in SCRIPTS)
    (root / "index.html").write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>Schedule explorer</title><link rel="stylesheet" href="explorer/explorer.css">{scripts}</head>'
        f"<body><main><h1>Schedule explorer</h1>{raw.group(1)}</main></body></html>",
        encoding="utf-8",
    )
    with check_site.serve(root) as base:
        yield base + "index.html"


@pytest.fixture(scope="module")
def browser() -> Any:
    chromium = _need_browser()
    with check_site.browser(chromium) as instance:
        yield instance


@pytest.fixture()
def page(browser: Any, site: str) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    tab, errors = check_site.open_page(context, site)
    tab.wait_for_selector("#lrx-code")
    yield tab
    context.close()
    assert errors == [], errors


@pytest.fixture(scope="module")
def api(browser: Any, site: str) -> Any:
    """One page for the tests that only call the page's functions and change nothing on it."""
    context = browser.new_context()
    tab, errors = check_site.open_page(context, site)
    tab.wait_for_selector("#lrx-code")
    yield tab
    context.close()
    assert errors == [], errors


# (schedule key in the page, its arguments, steps, base LR, the same scheduler built in Python)
GRID: list[tuple[str, dict[str, Any], int, float, Any]] = [
    ("StepLR", {"step_size": 7, "gamma": 0.5}, 60, 0.1, lambda o: StepLR(o, step_size=7, gamma=0.5)),
    ("MultiStepLR", {"milestones": [0, 5, 5, 20, 33], "gamma": 0.3}, 50, 0.05,
     lambda o: MultiStepLR(o, milestones=[0, 5, 5, 20, 33], gamma=0.3)),
    ("ConstantLR", {"factor": 0.25, "total_iters": 12}, 30, 0.1, lambda o: ConstantLR(o, factor=0.25, total_iters=12)),
    ("LinearLR", {"start_factor": 0.05, "end_factor": 0.7, "total_iters": 40}, 60, 0.3,
     lambda o: LinearLR(o, start_factor=0.05, end_factor=0.7, total_iters=40)),
    ("ExponentialLR", {"gamma": 0.93}, 300, 0.1, lambda o: ExponentialLR(o, gamma=0.93)),
    ("PolynomialLR", {"total_iters": 80, "power": 2.5}, 100, 0.1, lambda o: PolynomialLR(o, total_iters=80, power=2.5)),
    # past T_max the recursion climbs back up and goes round again: three periods
    ("CosineAnnealingLR", {"T_max": 50, "eta_min": 0.001}, 330, 0.1, lambda o: CosineAnnealingLR(o, T_max=50, eta_min=0.001)),
    ("CosineAnnealingLR", {"T_max": 1000, "eta_min": 0.0}, 1000, 0.1, lambda o: CosineAnnealingLR(o, T_max=1000)),
    ("CosineAnnealingWarmRestarts", {"T_0": 10, "T_mult": 2, "eta_min": 1e-4}, 160, 0.1,
     lambda o: CosineAnnealingWarmRestarts(o, T_0=10, T_mult=2, eta_min=1e-4)),
    ("CyclicLR", {"base_lr": 0.001, "max_lr": 0.1, "step_size_up": 7, "step_size_down": 13, "mode": "triangular", "gamma": 1.0},
     100, 0.1, lambda o: CyclicLR(o, base_lr=0.001, max_lr=0.1, step_size_up=7, step_size_down=13)),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.5, "step_size_up": 10, "step_size_down": 10, "mode": "triangular2", "gamma": 1.0},
     90, 0.1, lambda o: CyclicLR(o, base_lr=0.01, max_lr=0.5, step_size_up=10, mode="triangular2")),
    ("CyclicLR", {"base_lr": 0.001, "max_lr": 0.1, "step_size_up": 5, "step_size_down": 15, "mode": "exp_range", "gamma": 0.99},
     90, 0.1, lambda o: CyclicLR(o, base_lr=0.001, max_lr=0.1, step_size_up=5, step_size_down=15, mode="exp_range", gamma=0.99)),
    ("OneCycleLR", {"max_lr": 0.2, "total_steps": 100, "pct_start": 0.3, "anneal_strategy": "cos", "div_factor": 25.0,
                    "final_div_factor": 1e4, "three_phase": False},
     100, 0.1, lambda o: OneCycleLR(o, max_lr=0.2, total_steps=100)),
    ("OneCycleLR", {"max_lr": 0.05, "total_steps": 77, "pct_start": 0.4, "anneal_strategy": "linear", "div_factor": 10.0,
                    "final_div_factor": 100.0, "three_phase": True},
     77, 0.1, lambda o: OneCycleLR(o, max_lr=0.05, total_steps=77, pct_start=0.4, anneal_strategy="linear",
                                   div_factor=10.0, final_div_factor=100.0, three_phase=True)),
    ("SequentialLR", {"warmup_steps": 10, "start_factor": 0.01, "T_max": 90, "eta_min": 0.0}, 130, 0.1,
     lambda o: SequentialLR(o, [LinearLR(o, start_factor=0.01, total_iters=10), CosineAnnealingLR(o, T_max=90)], milestones=[10])),
    ("WarmupLR", {"warmup_steps": 10, "gamma": 0.03}, 80, 0.1, lambda o: lrcourse.WarmupLR(o, warmup_steps=10, gamma=0.03)),
    ("WarmupLR", {"warmup_steps": 0, "gamma": 0.01}, 20, 0.1, lambda o: lrcourse.WarmupLR(o, warmup_steps=0, gamma=0.01)),
    ("warmup_constant", {"warmup_steps": 7}, 20, 0.1, lambda o: lrcourse.warmup_constant(o, warmup_steps=7)),
    ("warmup_linear", {"warmup_steps": 10, "total_steps": 100}, 120, 0.1,
     lambda o: lrcourse.warmup_linear(o, warmup_steps=10, total_steps=100)),
    ("warmup_cosine", {"warmup_steps": 10, "total_steps": 100, "num_cycles": 1.5, "min_lr_ratio": 0.1}, 130, 0.1,
     lambda o: lrcourse.warmup_cosine(o, warmup_steps=10, total_steps=100, num_cycles=1.5, min_lr_ratio=0.1)),
    ("warmup_poly", {"warmup_steps": 5, "total_steps": 60, "lr_end": 1e-4, "power": 2.0}, 70, 0.03,
     lambda o: lrcourse.warmup_poly(o, warmup_steps=5, total_steps=60, lr_end=1e-4, power=2.0)),
    ("inverse_sqrt", {"warmup_steps": 10, "timescale": 0}, 200, 0.1, lambda o: lrcourse.inverse_sqrt(o, warmup_steps=10)),
    ("inverse_sqrt", {"warmup_steps": 10, "timescale": 25}, 200, 0.1,
     lambda o: lrcourse.inverse_sqrt(o, warmup_steps=10, timescale=25)),
    ("inverse_sqrt_vaswani", {"warmup_steps": 40, "d_model": 512}, 200, 1.0,
     lambda o: lrcourse.inverse_sqrt(o, warmup_steps=40, d_model=512)),
    ("wsd", {"warmup_steps": 10, "stable_steps": 50, "decay_steps": 30, "decay": "linear", "min_lr_ratio": 0.0}, 100, 0.1,
     lambda o: lrcourse.wsd(o, warmup_steps=10, stable_steps=50, decay_steps=30)),
    ("wsd", {"warmup_steps": 5, "stable_steps": 20, "decay_steps": 40, "decay": "cosine", "min_lr_ratio": 0.05}, 80, 0.1,
     lambda o: lrcourse.wsd(o, warmup_steps=5, stable_steps=20, decay_steps=40, decay="cosine", min_lr_ratio=0.05)),
    ("wsd", {"warmup_steps": 0, "stable_steps": 10, "decay_steps": 40, "decay": "1-sqrt", "min_lr_ratio": 0.0}, 60, 0.1,
     lambda o: lrcourse.wsd(o, warmup_steps=0, stable_steps=10, decay_steps=40, decay="1-sqrt")),
]


def _page_compute(page: Any, key: str, args: dict[str, Any], n: int, base_lr: float) -> dict[str, Any]:
    return page.evaluate("([k, a, n, b]) => LRExplorer.compute(k, a, n, b)", [key, args, n, base_lr])


def _page_scheduler_code(page: Any, key: str, args: dict[str, Any]) -> dict[str, list[str]]:
    return page.evaluate("([k, a]) => LRExplorer.code.schedulerCode(LRExplorer.schedule(k), a)", [key, args])


def _build_from(code: dict[str, list[str]]) -> Any:
    """make_scheduler from the page's code: its imports, then its statements binding `scheduler`."""
    namespace: dict[str, Any] = {"torch": torch}
    exec("\n".join(code["imports"]), namespace)

    def make(optimizer: torch.optim.Optimizer) -> Any:
        local = dict(namespace, optimizer=optimizer)
        exec("\n".join(code["build"]), local)
        return local["scheduler"]

    return make


def _assert_close(page_lrs: list[float], expected: list[float], what: str) -> None:
    assert len(page_lrs) == len(expected), what
    worst = max((abs(a - b) / max(abs(a), abs(b)) for a, b in zip(page_lrs, expected) if a != b), default=0.0)
    assert worst <= 1e-12, f"{what}: relative difference {worst:.3g}"


def test_every_schedule_of_the_page_is_in_the_grid(api: Any) -> None:
    keys = api.evaluate("() => LRExplorer.SCHEDULES.map(s => s.key)")
    assert sorted(keys) == sorted({key for key, *_ in GRID})


@pytest.mark.parametrize("key,args,n,base_lr,make", GRID, ids=[f"{g[0]}-{i}" for i, g in enumerate(GRID)])
def test_page_lrs_equal_preview(api: Any, key: str, args: dict, n: int, base_lr: float, make: Any) -> None:
    expected = preview(make, n, base_lr=base_lr)
    result = _page_compute(api, key, args, n, base_lr)
    assert result["error"] is None
    _assert_close(result["lrs"], expected, key)
    # the code the page shows builds a scheduler with exactly the same LRs
    assert preview(_build_from(_page_scheduler_code(api, key, args)), n, base_lr=base_lr) == expected


def test_onecycle_past_total_steps_stops_with_torchs_error(api: Any) -> None:
    page = api
    args = dict(GRID[12][1])
    with pytest.raises(ValueError) as raised:
        preview(lambda o: OneCycleLR(o, max_lr=0.2, total_steps=100), 101)
    result = _page_compute(page, "OneCycleLR", args, 101, 0.1)
    assert result["error"] == f"ValueError: {raised.value}"
    # the LRs before the error are those a loop of total_steps + 1 recorded steps would see
    assert result["lrs"][:100] == _page_compute(page, "OneCycleLR", args, 100, 0.1)["lrs"]
    assert len(result["lrs"]) == 101


@pytest.mark.parametrize(
    "key,args,base_lr,make",
    [
        ("warmup_linear", {"warmup_steps": 20, "total_steps": 10}, 0.1,
         lambda o: lrcourse.warmup_linear(o, warmup_steps=20, total_steps=10)),
        ("warmup_poly", {"warmup_steps": 2, "total_steps": 10, "lr_end": 0.2, "power": 1.0}, 0.1,
         lambda o: lrcourse.warmup_poly(o, warmup_steps=2, total_steps=10, lr_end=0.2)),
    ],
)
def test_refused_arguments_give_lrcourses_message(api: Any, key: str, args: dict, base_lr: float, make: Any) -> None:
    with pytest.raises(ValueError) as raised:
        preview(make, 5, base_lr=base_lr)
    result = _page_compute(api, key, args, 5, base_lr)
    assert result == {"lrs": [], "error": str(raised.value)}


def _visible_lrs(page: Any) -> list[float]:
    return page.evaluate("() => LRExplorer.lrs()")


def test_keyboard_slider_changes_curve_and_code(page: Any) -> None:
    curve = page.locator("path.lrx-curve.lrx-series-0")
    before_d, before_code = curve.get_attribute("d"), page.inner_text("#lrx-code")
    assert "scheduler = CosineAnnealingLR(optimizer, T_max=100)" in before_code
    page.focus("#lrx-p-T_max-range")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    assert page.input_value("#lrx-p-T_max-num") == "98"
    assert curve.get_attribute("d") != before_d
    code = page.inner_text("#lrx-code")
    assert "scheduler = CosineAnnealingLR(optimizer, T_max=98)" in code
    assert code != before_code
    _assert_close(_visible_lrs(page), preview(lambda o: CosineAnnealingLR(o, T_max=98), 100), "after the slider")
    # typing into the number field moves the slider and the curve the same way
    page.fill("#lrx-p-eta_min-num", "0.01")
    assert "eta_min=0.01" in page.inner_text("#lrx-code")
    assert page.input_value("#lrx-p-eta_min-range") == "0.01"
    _assert_close(_visible_lrs(page), preview(lambda o: CosineAnnealingLR(o, T_max=98, eta_min=0.01), 100), "typed")


def test_schedule_choice_and_epoch_loop(page: Any) -> None:
    page.select_option("#lrx-schedule", "StepLR")
    page.check("#lrx-unit-epoch")
    code = page.inner_text("#lrx-code")
    assert "from torch.optim.lr_scheduler import StepLR" in code
    assert "for epoch in range(100):" in code and "    scheduler.step()  # once per epoch" in code
    assert page.locator(".lrx-svg .lrx-axis-label").first.text_content() == "epoch"
    _assert_close(_visible_lrs(page), preview(lambda o: StepLR(o, step_size=30), 100), "StepLR defaults")


def test_shown_code_runs_and_ends_at_the_plotted_lr(page: Any) -> None:
    page.select_option("#lrx-schedule", "warmup_cosine")
    page.fill("#lrx-n-num", "40")
    code = page.inner_text("#lrx-code")
    namespace: dict[str, Any] = {}
    exec(compile(code, "explorer-code", "exec"), namespace)
    lrs = _visible_lrs(page)
    # after the loop the scheduler holds the LR of step 40, the one after the last plotted
    assert namespace["scheduler"].last_epoch == 40
    assert lrs == preview(lambda o: lrcourse.warmup_cosine(o, warmup_steps=10, total_steps=100), 40)


def test_keyboard_focus_order_and_visible_focus(page: Any) -> None:
    expected = [
        "lrx-p-T_max-range", "lrx-p-T_max-num", "lrx-p-eta_min-range", "lrx-p-eta_min-num",
        "lrx-base-range", "lrx-base-num", "lrx-n-range", "lrx-n-num", "lrx-unit-step", "lrx-axis-linear",
        "lrx-inspect-range", "lrx-inspect-num", "lrx-pin", "lrx-copy", "lrx-code-box",
    ]  # "Clear comparison" is disabled until a curve is kept, so Tab skips it
    page.focus("#lrx-schedule")
    order = []
    for _ in expected:
        page.keyboard.press("Tab")
        active = page.evaluate(
            "() => { const e = document.activeElement; const s = getComputedStyle(e);"
            " return {id: e.id, outline: s.outlineStyle, width: parseFloat(s.outlineWidth)}; }"
        )
        assert active["outline"] != "none" and active["width"] >= 2, f"no visible focus on #{active['id']}"
        order.append(active["id"])
    assert order == expected


def test_inspect_readout_and_comparison(page: Any) -> None:
    page.fill("#lrx-inspect-num", "50")
    expected = preview(lambda o: CosineAnnealingLR(o, T_max=100), 100)[50]
    readout = page.inner_text("#lrx-readout")
    assert readout.startswith("step 50: lr = ")
    # The explorer's promise is agreement with lrcourse.preview to 1e-12, not to the last bit: the
    # browser's Math.cos and Python's math.cos may round the last bit apart (Chromium 150 gives
    # 0.05000000000000003 where Python gives 0.05000000000000004).
    assert math.isclose(float(readout.removeprefix("step 50: lr = ")), expected, rel_tol=1e-12)
    page.click("#lrx-pin")
    page.select_option("#lrx-schedule", "ExponentialLR")
    assert page.locator(".lrx-svg path.lrx-series-1").count() == 1  # the kept curve, dashed
    assert "kept curve: " in page.inner_text("#lrx-readout")
    page.click("#lrx-unpin")
    assert page.locator(".lrx-svg path.lrx-series-1").count() == 0


def test_copy_button_copies_the_code(page: Any) -> None:
    page.click("#lrx-copy")
    page.wait_for_function("() => document.getElementById('lrx-copied').textContent === 'Copied.'")
    assert page.evaluate("() => navigator.clipboard.readText()") == page.inner_text("#lrx-code") + (
        "" if page.inner_text("#lrx-code").endswith("\n") else "\n"
    )


def test_axe_finds_nothing_serious_in_the_explorer(page: Any) -> None:
    page.check("#lrx-axis-log")
    page.click("#lrx-pin")
    page.select_option("#lrx-schedule", "OneCycleLR")
    page.fill("#lrx-n-num", "120")
    assert "Tried to step 101 times" in page.inner_text("#lrx-message")
    assert check_site.blocking(check_site.run_axe(page)) == []


@pytest.mark.parametrize("width", [375, 1280])
def test_screenshots_fit_the_width(browser: Any, site: str, width: int, tmp_path_factory: pytest.TempPathFactory) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900})
    tab, errors = check_site.open_page(context, site)
    tab.wait_for_selector("#lrx-code")
    tab.check("#lrx-axis-log")
    shots = tmp_path_factory.mktemp("screenshots")
    tab.screenshot(path=str(shots / f"explorer-{width}.png"), full_page=True)
    # nothing sticks out sideways: only the code block scrolls, inside itself
    assert tab.evaluate("() => document.documentElement.scrollWidth") <= width
    svg_width = tab.evaluate("() => document.querySelector('.lrx-svg').getBoundingClientRect().width")
    assert svg_width <= width and svg_width >= min(width - 40, 600)
    context.close()
    assert errors == []
    print(f"screenshot: {shots / f'explorer-{width}.png'}")


def test_lrs_are_finite_and_positive_for_every_default(page: Any) -> None:
    # every schedule as the page opens it: a curve, no error, no NaN
    for key in page.evaluate("() => LRExplorer.SCHEDULES.map(s => s.key)"):
        page.select_option("#lrx-schedule", key)
        assert page.inner_text("#lrx-message") == "", key
        lrs = _visible_lrs(page)
        assert len(lrs) == 100 and all(math.isfinite(v) and v >= 0 for v in lrs), key
