"""The frontier chapters (12 and 13) show what the committed sweeps hold: each table is recomputed
here from the result files in experiments/ and must appear, line for line, in the cell that prints
it; the numbers the prose quotes are checked against the same files."""

import math
import statistics
from pathlib import Path

import nbformat
import pytest

from lrcourse.lab import load_results
from lrcourse.lab.grids import best_setting, largest_stable, spread
from lrcourse.lab.paired import compare, final_metric

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = ROOT / "experiments"
CH12 = "12_ending_a_run.ipynb"
CH13 = "13_how_high_the_rate.ipynb"


def cell_text(chapter, cell_id):
    nb = nbformat.read(ROOT / "book" / chapter, as_version=4)
    cell = next(c for c in nb.cells if c.get("id") == cell_id)
    if cell.cell_type == "markdown":
        return " ".join(cell.source.split())
    return "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")


def load(name):
    return load_results(EXPERIMENTS / name)


def pct(s):
    return f"{100 * s.mean:.2f} ± {100 * s.std:.2f} ({100 * s.low:.2f}–{100 * s.high:.2f})"


def verdict_line(a, b, names, width=29):
    c = compare(a, b, names=names)
    low, high = (100 * v for v in c.interval)
    word = "supported" if c.supported else "not supported"
    return (f"{names[0] + ' - ' + names[1]:<{width}}{100 * c.mean:+6.2f}"
            f"{c.wins:>4}/{len(c.seeds)}  [{low:+.2f}, {high:+.2f}]  {word}"), c


# --- chapter 12 -----------------------------------------------------------------------------

def test_chapter_12_straight_to_zero_is_the_committed_results():
    to_zero, to_tenth = load("frontier-fmnist-floor0"), load("frontier-fmnist-floor0.1")
    ends = {("cosine", "to 0"): (to_zero, "warmup_cosine"), ("linear", "to 0"): (to_zero, "warmup_linear"),
            ("cosine", "to 10 %"): (to_tenth, "warmup_cosine"), ("linear", "to 10 %"): (to_tenth, "warmup_linear")}
    text = cell_text(CH12, "ch12-s2z")
    for (shape, end), (res, recipe) in ends.items():
        assert f"{shape:<9}{end:<9}{pct(spread(res, recipe))}" in text.splitlines()
    acc = {key: final_metric(res, recipe) for key, (res, recipe) in ends.items()}
    text = cell_text(CH12, "ch12-s2z-paired").splitlines()
    claims = {}
    for a, b in ((("linear", "to 0"), ("cosine", "to 10 %")), (("cosine", "to 0"), ("cosine", "to 10 %")),
                 (("linear", "to 0"), ("linear", "to 10 %")), (("linear", "to 0"), ("cosine", "to 0"))):
        line, claims[a, b] = verdict_line(acc[a], acc[b], (" ".join(a), " ".join(b)))
        assert line in text
    prose = cell_text(CH12, "ch12-006")
    cos = claims[("cosine", "to 0"), ("cosine", "to 10 %")]
    paper = claims[("linear", "to 0"), ("cosine", "to 10 %")]
    assert cos.supported and not paper.supported
    assert f"{100 * cos.mean:.2f} points on every one of the five seeds" in prose
    assert f"({100 * paper.mean:+.2f})" in prose and f"one seed of five goes the other way" in prose
    assert paper.wins == 4 and len(paper.seeds) == 5


def wsd_accuracies():
    acc = {(shape, f): final_metric(load(f"frontier-fmnist-wsd-{shape}-cd{f}"), "wsd")
           for shape in ("linear", "1-sqrt", "cosine") for f in (5, 10, 20, 40)}
    acc["none", 0] = final_metric(load("frontier-fmnist-wsd-cd0"), "wsd")
    return acc


def test_chapter_12_cooldowns_are_the_committed_results():
    acc = wsd_accuracies()
    text = cell_text(CH12, "ch12-wsd").splitlines()
    for shape in ("linear", "1-sqrt", "cosine"):
        row = f"{shape:<8}" + "".join(f"{100 * statistics.fmean(acc[shape, f].values()):>12.2f}" for f in (5, 10, 20, 40))
        assert row in text
    assert f"{'no cooldown':<22}{pct(spread(load('frontier-fmnist-wsd-cd0'), 'wsd'))}" in text
    cosine = {s: v for s, v in final_metric(load("frontier-fmnist-floor0"), "warmup_cosine").items() if s in acc["none", 0]}
    paired = cell_text(CH12, "ch12-wsd-paired").splitlines()
    verdicts = {}
    for shape in ("linear", "1-sqrt", "cosine"):
        for a, b, names in ((acc[shape, 5], acc["none", 0], (f"{shape} 5 %", "no cooldown")),
                            (acc[shape, 20], acc[shape, 5], (f"{shape} 20 %", f"{shape} 5 %")),
                            (acc[shape, 40], acc[shape, 20], (f"{shape} 40 %", f"{shape} 20 %")),
                            (acc[shape, 20], cosine, (f"{shape} 20 %", "cosine to 0"))):
            line, verdicts[names] = verdict_line(a, b, names)
            assert line in paired
    # the prose's claims, from the same comparisons
    assert all(verdicts[f"{s} 5 %", "no cooldown"].supported for s in ("linear", "1-sqrt", "cosine"))
    assert all(verdicts[f"{s} 20 %", f"{s} 5 %"].supported for s in ("linear", "1-sqrt", "cosine"))
    assert not any(verdicts[f"{s} 40 %", f"{s} 20 %"].supported for s in ("linear", "1-sqrt", "cosine"))
    assert verdicts["1-sqrt 20 %", "cosine to 0"].supported and verdicts["cosine 20 %", "cosine to 0"].supported
    assert not verdicts["linear 20 %", "cosine to 0"].supported
    sqrt_linear, _ = verdict_line(acc["1-sqrt", 20], acc["linear", 20], ("1-sqrt 20 %", "linear 20 %"))
    assert sqrt_linear in paired and "supported" in sqrt_linear and "not supported" not in sqrt_linear
    prose = cell_text(CH12, "ch12-009")
    assert f"(+{100 * verdicts['1-sqrt 20 %', 'cosine to 0'].mean:.2f} and " \
           f"+{100 * verdicts['cosine 20 %', 'cosine to 0'].mean:.2f})" in prose


def test_chapter_12_anytime_is_the_committed_results():
    anytime = load("frontier-fmnist-anytime")
    seeds = {r["seed"] for r in anytime}
    separate = {5: final_metric(load("frontier-fmnist-cosine-e5"), "warmup_cosine"),
                10: {s: v for s, v in final_metric(load("frontier-fmnist-floor0"), "warmup_cosine").items() if s in seeds},
                15: final_metric(load("frontier-fmnist-cosine-e15"), "warmup_cosine")}
    text = cell_text(CH12, "ch12-anytime").splitlines()
    for e in (5, 10, 15):
        branch = {r["seed"]: r["branches"][str(e)]["final"]["test_acc"] for r in anytime}
        c = compare(branch, separate[e])
        low, high = (100 * v for v in c.interval)
        line = (f"{e:<8}{100 * statistics.fmean(branch.values()):>9.2f}{100 * statistics.fmean(separate[e].values()):>8.2f}"
                f"{100 * c.mean:>+7.2f}{c.wins:>5}/{len(c.seeds)}  [{low:+.2f}, {high:+.2f}]  "
                f"{'supported' if c.supported else 'not supported'}")
        assert line in text, e
    spent = anytime[0]["steps_spent"]
    steps = anytime[0]["config"]["steps_per_epoch"]
    assert spent == 15 * steps + sum(round(0.2 * e * steps) for e in (5, 10, 15)) == 4515
    assert f"branched {spent:,}, separate cosine runs {30 * steps:,} ({spent / (30 * steps):.0%})" in "\n".join(text)
    assert f"{round(100 * spent / (30 * steps))} % of the steps" in cell_text(CH12, "ch12-011")


SF_SGD = (0.026, 0.078, 0.23, 0.7, 2.1, 6.3)
SF_ADAMW = (0.00068, 0.002, 0.006, 0.018)


def test_chapter_12_schedule_free_is_the_committed_results():
    seeds = {0, 1, 2}
    floor0 = [r for r in load("frontier-fmnist-floor0") if r["recipe"] == "warmup_cosine"]
    cosine = {"sgd": {0.026: load("shootout-fmnist-sgd"), 0.078: floor0, 0.23: load("frontier-fmnist-cosine-lr0.23"),
                      0.7: load("frontier-fmnist-cosine-lr0.7")},
              "adamw": {0.002: load("shootout-fmnist-adamw-lr0.002"), 0.006: load("frontier-fmnist-adamw-cosine-lr0.006"),
                        0.018: load("frontier-fmnist-adamw-cosine-lr0.018"), 0.054: load("frontier-fmnist-adamw-cosine-lr0.054")}}
    sf = {"sgd": {p: load(f"frontier-fmnist-sf-sgd-lr{p}") for p in SF_SGD},
          "adamw": {p: load(f"frontier-fmnist-sf-adamw-lr{p}") for p in SF_ADAMW}}
    text = cell_text(CH12, "ch12-sf")
    lines = text.splitlines()
    for opt in ("sgd", "adamw"):
        for grid, recipe in ((sf[opt], "constant"), (cosine[opt], "warmup_cosine")):
            for peak, res in grid.items():
                res = [r for r in res if r["recipe"] == recipe and r["seed"] in seeds]
                v, t = spread(res, recipe, "val_acc"), spread(res, recipe)
                assert f"  peak {peak:<8}{100 * v.mean:7.2f} ± {100 * v.std:.2f} | {pct(t)}" in lines, (opt, peak)
    paired = cell_text(CH12, "ch12-sf-paired").splitlines()
    for opt in ("sgd", "adamw"):
        sf_best = best_setting(sf[opt], "constant")
        cos_grid = {p: [r for r in res if r["recipe"] == "warmup_cosine" and r["seed"] in seeds]
                    for p, res in cosine[opt].items()}
        cos_best = best_setting(cos_grid, "warmup_cosine")
        assert cos_best.at_edge is None, f"{opt}: the tuned cosine's best must lie inside its grid"
        for peak in (sf_best.setting, *sf_best.ties):
            line, _ = verdict_line(final_metric(sf[opt][peak], "constant"),
                                   final_metric(cos_grid[cos_best.setting], "warmup_cosine"),
                                   (f"SF {opt} {peak}", f"cosine {cos_best.setting}"))
            assert line in paired, (opt, peak)
    assert best_setting(sf["sgd"], "constant").ties == (2.1,)  # the prose's tie


def test_chapter_12_live_cells_agree_with_their_prose():
    live = cell_text(CH12, "ch12-sf-live")
    assert "x ahead of y at" in live
    pitfall = " ".join(cell_text(CH12, "ch12-sf-pitfall").split())
    assert "loaded optimizer in train mode? False" in pitfall
    assert "refused: Optimizer was not in train mode when step is called" in pitfall


# --- chapter 13 -----------------------------------------------------------------------------

def e5(batch, optimizer, warmup, lr):
    return load(f"frontier-fmnist-e5-b{batch}-{optimizer}-w{warmup}-lr{lr:.3g}")


WARMUPS = (0, 0.02, 0.1, 0.3)
PEAKS = (0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56)
TRAINED = {0: PEAKS, 0.02: PEAKS[1:], 0.1: PEAKS, 0.3: PEAKS[1:]}


def test_chapter_13_warmup_tables_are_the_committed_results():
    warm = {w: {p: e5(256, "sgd", w, p) for p in TRAINED[w]} for w in WARMUPS}
    table = cell_text(CH13, "ch13-warmup-table").splitlines()
    chosen = {}
    for w in WARMUPS:
        s = largest_stable(warm[w], "warmup_cosine")
        best = best_setting(warm[w], "warmup_cosine")
        chosen[w] = best.setting
        trained = max(p for p, failed in s.failures.items() if not failed)
        line = (f"{w:<7.0%}{s.largest_stable!s:>13}{s.first_failed!s:>13}{trained:>12}{best.setting:>8}"
                f"{100 * spread(warm[w][best.setting], 'warmup_cosine').mean:>10.2f}")
        assert any(row.startswith(line) for row in table), w
    # the prose: the edge moves from 0.08 to 0.16 with 10 and 30 % warmup, not with 2 %
    stable = {w: largest_stable(warm[w], "warmup_cosine").largest_stable for w in WARMUPS}
    assert stable == {0: 0.08, 0.02: 0.08, 0.1: 0.16, 0.3: 0.16}
    paired = cell_text(CH13, "ch13-warmup-paired").splitlines()

    def at(w, p):
        return final_metric(warm[w][p], "warmup_cosine")

    for p in (0.02, 0.04, 0.08):
        line, _ = verdict_line(at(0.1, p), at(0, p), (f"10% at {p}", f"none at {p}"), width=32)
        assert line in paired, p
    for w in WARMUPS[1:]:
        line, _ = verdict_line(at(w, chosen[w]), at(0, chosen[0]), (f"{w:.0%} at {chosen[w]}", f"none at {chosen[0]}"),
                               width=32)
        assert line in paired, w
    larger, c = verdict_line(at(0.3, 0.16), at(0.3, 0.08), ("30% at 0.16", "30% at 0.08"), width=32)
    assert larger in paired
    prose = cell_text(CH13, "ch13-006")
    assert f"adds {100 * c.mean:.2f} points that the two seeds do not agree on" in prose and not c.supported


BATCHES = (32, 64, 128, 256, 512, 1024)


def batch_grid():
    rates = {"sgd": {b: [0.08 * b / 256 * 2.0**k for k in range(-2, 3)] for b in BATCHES},
             "adamw": {b: [0.002 * math.sqrt(b / 256) * 2.0**k for k in range(-2, 5)] for b in BATCHES}}
    rates["sgd"][64].append(0.16)
    rates["sgd"][1024] = [0.02, 0.04] + rates["sgd"][1024]
    rates["adamw"][512].append(0.002 * math.sqrt(2) * 32)
    return {opt: {b: {lr: e5(b, opt, 0.1, lr) for lr in rates[opt][b]} for b in BATCHES} for opt in rates}


def test_chapter_13_batch_tables_are_the_committed_results():
    grid = batch_grid()
    text = cell_text(CH13, "ch13-batch-table").splitlines()
    for opt in grid:
        best = {b: best_setting(grid[opt][b], "warmup_cosine") for b in BATCHES}
        base = best[256].setting
        for b in BATCHES:
            chosen = best[b]
            line = (f"  {b:>5}{chosen.setting:>10.3g}{base * b / 256:>10.3g}{base * math.sqrt(b / 256):>10.3g}"
                    f"{100 * spread(grid[opt][b][chosen.setting], 'warmup_cosine').mean:>10.2f}")
            row = next(row for row in text if row.startswith(line))
            assert ("(grid edge)" in row) == (chosen.at_edge is not None), (opt, b)


def test_chapter_13_slopes_in_the_prose_are_the_committed_choices():
    grid = batch_grid()
    chosen = {opt: {b: best_setting(grid[opt][b], "warmup_cosine").setting for b in BATCHES} for opt in grid}

    def slope(opt, batches):
        xs = [math.log2(b) for b in batches]
        ys = [math.log2(chosen[opt][b]) for b in batches]
        mx, my = statistics.fmean(xs), statistics.fmean(ys)
        return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)

    printed = cell_text(CH13, "ch13-batch-table")
    small, large, adamw = slope("sgd", BATCHES[:3]), slope("sgd", BATCHES[3:]), slope("adamw", BATCHES)
    assert f"sgd, batch 32-128 {small:.2f}, 256-1024 {large:.2f}; adamw, 32-1024 {adamw:.2f}" in printed
    prose = cell_text(CH13, "ch13-009")
    assert f"the linear rule's slope ({small:.2f})" in prose and f"a slope of {adamw:.2f}" in prose
    assert [chosen["sgd"][b] for b in BATCHES] == [0.02, 0.04, 0.08, 0.08, 0.08, 0.08]
