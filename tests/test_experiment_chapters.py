"""The experiment chapters show what the committed sweeps hold: their tables are recomputed here
from the result files in experiments/, and every sweep folder carries the command that made it."""

import json
import re
import statistics
from pathlib import Path

import nbformat
import pytest

from lrcourse.lab import RECIPES, load_results
from lrcourse.lab.d2l_rerun import D2L_RUNS
from lrcourse.lab.data.fashion_mnist import FASHION_MNIST_FILES
from lrcourse.lab.results import recipe_stats

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = ROOT / "experiments"
FOLDERS = sorted(p for p in EXPERIMENTS.iterdir() if p.is_dir()) if EXPERIMENTS.is_dir() else []
# A search (python -m lrcourse tune) is checked by tests/test_search_chapter.py; the rest are sweeps.
SEARCHES = [p for p in FOLDERS if "python -m lrcourse tune " in (p / "command.sh").read_text()]
SWEEPS = [p for p in FOLDERS if p not in SEARCHES]


def cell_text(chapter, cell_id):
    nb = nbformat.read(ROOT / "book" / chapter, as_version=4)
    cell = next(c for c in nb.cells if c.get("id") == cell_id)
    return "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")


def test_there_are_committed_sweeps():
    assert {p.name for p in SWEEPS} >= {"d2l-as-run", "d2l-corrected", "shootout-fmnist-sgd", "shootout-fmnist-adamw",
                                        "shootout-fmnist-sgd-half", "shootout-fmnist-adamw-half",
                                        "seed-drop-fmnist-plain", "seed-drop-fmnist-momentum"}


def planned_runs(command):
    """The (recipe, seed) runs a command.sh asks for, over all its sweep invocations: each one is
    ``--seeds N`` (seeds 0 to N-1) or a loop ``for seeds in 1 ... N`` around it, with its own
    ``--recipes`` (or d2l's ``--runs``)."""
    planned = set()
    # each invocation, with the loop around it if there is one
    pattern = r"(?:for seeds in ([\d ]+); do\s+)?python -m lrcourse (sweep|d2l|anytime) (.*?)(?:\n\s*done|\n(?!\s)|$)"
    for loop, kind, args in re.findall(pattern, command.replace("\\\n", " "), re.S):
        seeds = max(map(int, loop.split())) if loop else int(re.search(r"--seeds (\d+)", args).group(1))
        if kind == "d2l":
            names = re.search(r"--runs (\S+)", args)
            want = list(D2L_RUNS) if names is None or names.group(1) == "all" else names.group(1).split(",")
        elif kind == "anytime":
            want = ["anytime"]
        else:
            recipes = re.search(r"--recipes (\S+)", args).group(1)
            want = list(RECIPES) if recipes == "all" else recipes.split(",")
        planned |= {(r, s) for r in want for s in range(seeds)}
    assert planned, f"no sweep found in: {command}"
    return planned


def test_planned_runs_reads_every_invocation():
    one = "exec python -m lrcourse sweep --out x --recipes constant,wsd --seeds 2 --threads 1"
    assert planned_runs(one) == {(r, s) for r in ("constant", "wsd") for s in (0, 1)}
    two = ("set -e\npython -m lrcourse sweep --recipes all --seeds 1 --out x\n"
           "for seeds in 2 3; do\n    python -m lrcourse sweep --recipes wsd \\\n"
           "        --seeds \"$seeds\" --out x \"$@\"\ndone\n")
    assert planned_runs(two) == {(r, 0) for r in RECIPES} | {("wsd", 1), ("wsd", 2)}


@pytest.mark.parametrize("folder", SWEEPS, ids=lambda p: p.name)
def test_every_sweep_has_its_command_results_and_summary(folder):
    command = (folder / "command.sh").read_text()
    assert re.search(r"python -m lrcourse (sweep|d2l|anytime) ", command)
    assert re.search(rf"--out experiments/{re.escape(folder.name)}( |$)", command, re.M)
    planned = planned_runs(command)
    results = load_results(folder) if any(folder.glob("*-seed*.json")) else []
    have = {(r["recipe"], r["seed"]) for r in results}
    # A sweep still being trained (seed by seed, over sessions) holds every planned run of its
    # first seeds and some of the next; nothing it did not plan.
    assert have <= planned
    done_seeds = max((s for _, s in have), default=-1)
    assert {(r, s) for r, s in planned if s < done_seeds} <= have, "a seed is missing runs of an earlier one"
    fashion = "fashion-mnist" in command or "lrcourse d2l" in command
    for result in results:  # the metadata a reader needs to trust a number
        assert result["git_commit"] and result["git_dirty"] is False, result["recipe"]
        assert result["config"]["torch_threads"] == int(re.search(r"--threads (\d+)", command).group(1))
        for flag, key in (("--lr", "lr"), ("--epochs", "epochs"), ("--model", "model"), ("--optimizer", "optimizer"),
                          ("--momentum", "momentum"), ("--weight-decay", "weight_decay")):
            found = re.search(rf"{flag} (\S+)", command)
            if found:
                value = found.group(1)
                assert str(result["config"][key]) == value or float(result["config"][key]) == float(value), (flag, key)
        code = "\n".join(line for line in command.splitlines() if not line.lstrip().startswith("#"))
        for flag in ("--warmup-fraction", "--decay-fraction", "--decay-shape", "--floor", "--final-ratio"):
            found = re.search(rf"{flag} (\S+)", code)
            if found:  # a recipe knob: in recipe_options (sweep) or the config itself (anytime)
                knob = flag[2:].replace("-", "_")
                where = result["config"] if "lrcourse anytime" in command else result["config"]["recipe_options"]
                assert str(where[knob]) == found.group(1) or float(where[knob]) == float(found.group(1)), flag
        if fashion:
            files = result["data_files"]
            assert result["config"]["data"].startswith("Fashion-MNIST train")
            assert files["content_md5"] == {name: md5 for name, (_, md5) in FASHION_MNIST_FILES.items()}
        else:
            assert "synthetic stand-in" in result["config"]["data"]
    if results:
        summary = (folder / "summary.md").read_text()
        names = D2L_RUNS if "lrcourse d2l" in command else ("anytime",) if "lrcourse anytime" in command else RECIPES
        for recipe, st in recipe_stats(results, names).items():
            assert f"| {recipe} | {len(st.seeds)} | {st.diverged} |" in summary


CH09 = "09_seed_cifar10.ipynb"
DROP_RECIPES = ("constant", "step", "warmup_cosine")


def test_chapter_9_tables_are_the_committed_results():
    from lrcourse.lab.drop import drop_effect
    from lrcourse.lab.paired import compare
    from lrcourse.lab.shootout import failed_runs, final_values

    drop = {setup: load_results(EXPERIMENTS / f"seed-drop-fmnist-{setup}") for setup in ("plain", "momentum")}
    every = [r for runs in drop.values() for r in runs]
    assert f"{len(failed_runs(every))} failed of {len(every)} runs" in cell_text(CH09, "ch09-022")
    epoch = round(2 * every[0]["config"]["epochs"] / 3)
    assert epoch == 20, "the seed's plan drops at epoch 20 of 30"

    def mean_loss(runs, recipe):
        return [statistics.fmean(v) for v in zip(*(r["history"]["val_loss"] for r in runs if r["recipe"] == recipe))]

    table = cell_text(CH09, "ch09-drop-table").splitlines()
    seeds_text = cell_text(CH09, "ch09-drop-seeds")
    verdicts = cell_text(CH09, "ch09-verdicts")
    for setup, runs in drop.items():
        acc = final_values(runs, DROP_RECIPES)
        for recipe in DROP_RECIPES:
            loss = mean_loss(runs, recipe)
            m, sd, lo, hi = pct(acc[recipe])
            want = (f"{setup + ', ' + recipe:<23}{loss[epoch - 1]:7.3f}{loss[epoch]:7.3f}{loss[-1]:7.3f}"
                    f"{m:6.2f} ± {sd:4.2f}{lo:7.2f}{hi:6.2f}")
            assert want in table, (setup, recipe)
        for r in runs:
            if r["recipe"] == "step":
                d = drop_effect(r["history"]["val_loss"], epoch)
                assert (f"{setup + ', seed ' + str(r['seed']):<20}{d.before:8.3f}{d.after:8.3f}"
                        f"{100 * d.change:+8.1f}%{100 * d.jump_before:13.1f}%{100 * d.jump_after:6.1f}%") in seeds_text
        for a, b in (("step", "constant"), ("warmup_cosine", "step"), ("warmup_cosine", "constant")):
            c = compare(acc[a], acc[b])
            low, high = (100 * x for x in c.interval)
            assert f"{setup}, {a} - {b}: " + " ".join(f"{100 * d:+.2f}" for d in c.differences) in verdicts
            word = "supported" if c.supported else "not supported by the spread"
            assert f"mean {100 * c.mean:+.2f} [{low:+.2f}, {high:+.2f}]: {word}\n" in verdicts, (setup, a, b)
    plain = [drop_effect(r["history"]["val_loss"], epoch) for r in drop["plain"] if r["recipe"] == "step"]
    beside = cell_text(CH09, "ch09-025")
    changes = [100 * d.change for d in plain]
    assert (f"{'change at the drop (%)':<28}{100 * (0.491904 / 0.651725 - 1):13.1f}   "
            f"{statistics.fmean(changes):.1f} ({min(changes):.1f} to {max(changes):.1f})") in beside
    train = [100 * drop_effect(r["history"]["train_loss"], epoch).change for r in drop["plain"] if r["recipe"] == "step"]
    assert (f"{'train loss, change (%)':<28}{100 * (0.326198 / 0.404701 - 1):13.1f}   "
            f"{statistics.fmean(train):.1f} ({min(train):.1f} to {max(train):.1f})") in beside


CH10 = "10_schedule_shootout.ipynb"


def chapter_10_sweeps():
    """The committed sweeps chapter 10 reads, as its code names them: {optimizer: {lr: results}},
    the half-budget results, and the shared peaks."""
    nb = nbformat.read(ROOT / "book" / CH10, as_version=4)
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    peaks = json.loads(re.search(r"COMMITTED_PEAKS = (\{[^}]*\})", source).group(1).replace("'", '"'))
    grid, half = {}, {}
    for name, peak in peaks.items():
        grid[name] = {}
        for factor in (1 / 3, 1, 3):
            lr = float(f"{peak * factor:.2g}")
            folder = f"shootout-fmnist-{name}" + ("" if lr == peak else f"-lr{lr:g}")
            grid[name][lr] = load_results(EXPERIMENTS / folder)
        half[name] = load_results(EXPERIMENTS / f"shootout-fmnist-{name}-half")
    return peaks, grid, half


def pct(values):
    v = [100 * x for x in values.values()]
    return statistics.fmean(v), (statistics.stdev(v) if len(v) > 1 else 0.0), min(v), max(v)


def test_chapter_10_reads_the_sweeps_of_its_peaks():
    peaks, grid, half = chapter_10_sweeps()
    for name, peak in peaks.items():
        for lr, results in grid[name].items():
            assert results and {r["config"]["lr"] for r in results} == {lr}
        assert {r["config"]["epochs"] for r in half[name]} == {grid[name][peak][0]["config"]["epochs"] // 2}
        text = cell_text(CH10, "ch10-009")
        assert f"{name}: shared peak {peak} (shootout-fmnist-{name}/)" in text
    text = cell_text(CH10, "ch10-007")  # the range test agreed with the committed peaks
    for name, peak in peaks.items():
        assert re.search(rf"^{name} +valley per seed: .* -> peak {peak}$", text, re.M), name


def test_chapter_10_tables_are_the_committed_results():
    from lrcourse.lab.shootout import against_best, failed_runs, final_values, kendall_tau, rank_changes, tuned_peaks

    peaks, grid, half = chapter_10_sweeps()
    shared = {name: grid[name][peak] for name, peak in peaks.items()}
    acc = {name: final_values(shared[name], RECIPES) for name in peaks}
    text = cell_text(CH10, "ch10-table")
    assert f"{len(acc['sgd']['constant'])} seeds, shared peak" in text
    for recipe in RECIPES:
        line = next(line for line in text.splitlines() if line.startswith(recipe + " "))
        want = "".join(f"{m:6.2f} ± {sd:4.2f}{lo:7.2f}{hi:6.2f} " for m, sd, lo, hi in
                       (pct(acc[name][recipe]) for name in ("sgd", "adamw")))
        assert line == f"{recipe:<14}{want}".rstrip(), recipe
    text = cell_text(CH10, "ch10-paired")
    for name in peaks:
        diffs = against_best(acc[name])
        for recipe, c in diffs.items():
            assert any(line.startswith(f"{recipe:<14}{100 * c.mean:+7.2f}{100 * c.median:+7.2f}"
                                       f"{c.losses:>5}/{len(c.seeds)}") for line in text.splitlines()), (name, recipe)
    everything = [r for name in peaks for rs in [*grid[name].values(), half[name]] for r in rs]
    assert f"{len(failed_runs(everything))} failed of {len(everything)} runs" in cell_text(CH10, "ch10-failed")
    text = cell_text(CH10, "ch10-budget")
    for name in peaks:
        order, order_half, changes = rank_changes(acc[name], final_values(half[name], RECIPES))
        assert f"{name.upper()}: Kendall's tau {kendall_tau(order, order_half):+.2f}; {len(changes)} of 36" in text
    text = cell_text(CH10, "ch10-peaks")
    tuned = {name: tuned_peaks(grid[name], RECIPES) for name in peaks}
    for name in peaks:
        for recipe, t in tuned[name].items():
            assert any(line.startswith(recipe + " ") and line.endswith(f"{t.peak:>9g}")
                       for line in text.splitlines()), (name, recipe)

    def mean_sd(values):
        v = [100 * x for x in values.values()]
        return f"{statistics.fmean(v):.2f} ± {statistics.stdev(v) if len(v) > 1 else 0.0:.2f}"

    lines = cell_text(CH10, "ch10-tuned").splitlines()
    adam = cell_text(CH10, "ch10-adam").splitlines()
    for name in peaks:
        held = sorted(set(acc[name]["constant"]) - set(tuned[name]["constant"].seeds))
        assert len(held) >= 2, "the tuned comparison needs seeds that did not choose the peaks"
        assert f"{name.upper()}: final test accuracy (%), seeds {', '.join(map(str, held))}" in lines
        there = {recipe: {s: v for s, v in final_values(grid[name][t.peak], [recipe])[recipe].items() if s in held}
                 for recipe, t in tuned[name].items()}
        for recipe in RECIPES:
            shared_held = {s: v for s, v in acc[name][recipe].items() if s in held}
            assert set(there[recipe]) == set(held), (name, recipe, "a seed is missing at the chosen peak")
            want = f"{recipe:<14}{mean_sd(shared_held):>15}{tuned[name][recipe].peak:>10g}{mean_sd(there[recipe]):>15}"
            assert want in lines, (name, recipe)
        for recipe, c in against_best(there).items():
            assert any(line.startswith(f"{recipe:<14}{100 * c.mean:+7.2f}{100 * c.median:+7.2f}"
                                       f"{c.losses:>5}/{len(c.seeds)}") for line in lines), (name, recipe)
    from lrcourse.lab.paired import compare
    for recipe in RECIPES:
        if recipe == "constant":
            continue
        row = next(line for line in adam if line.startswith(recipe + " "))
        cells = []
        for values in (acc, None):
            for name in peaks:
                v = values[name] if values else {
                    r: {s: x for s, x in final_values(grid[name][t.peak], [r])[r].items()
                        if s not in t.seeds} for r, t in tuned[name].items()}
                cells.append(f"{100 * compare(v[recipe], v['constant']).mean:+7.2f}")
        assert re.findall(r"[+-]\d+\.\d+", row) == [c.strip() for c in cells], recipe


def test_bench_figures_quoted_in_chapter_9_are_in_the_benchmark_results():
    nb = nbformat.read(ROOT / "book" / "09_seed_cifar10.ipynb", as_version=4)
    prose = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    results = (ROOT / "bench" / "RESULTS.md").read_text()
    for figure in ("648", "529", "2,709", "3,519", "92,284", "26.2x"):
        assert figure in results
    for quoted in ("648", "529", "2 709", "3 519", "92 284"):
        assert quoted in prose


def test_chapter_11_tables_are_the_committed_results():
    from lrcourse.lab.d2l_rerun import D2L_PUBLISHED
    from lrcourse.lab.paired import compare, final_metric

    as_run = {r["recipe"]: r for r in load_results(EXPERIMENTS / "d2l-as-run")}
    corrected = load_results(EXPERIMENTS / "d2l-corrected")
    text = cell_text("11_d2l_rerun.ipynb", "ch11-as-run")
    for run in D2L_RUNS:
        h = as_run[run]["history"]
        ours = (h["train_loss"][-1], h["train_acc"][-1], as_run[run]["final"]["test_acc"])
        want = f"{run:<12}" + "".join(f"{v:7.3f}" for v in D2L_PUBLISHED[run]) + "  |" + "".join(f"{v:7.3f}" for v in ours)
        assert want in text.splitlines(), run
    text = cell_text("11_d2l_rerun.ipynb", "ch11-corrected")
    acc = {run: final_metric(corrected, run) for run in D2L_RUNS}
    assert f"corrected, {len(acc['constant'])} seeds" in text
    for run in D2L_RUNS:
        values = [100 * v for v in acc[run].values()]
        cell = f"{statistics.fmean(values):.2f} ± {statistics.stdev(values):.2f}"
        line = next(line for line in text.splitlines() if line.startswith(run + " "))
        assert cell in line and f"{min(values):7.2f}{max(values):7.2f}" in line, run
    text = cell_text("11_d2l_rerun.ipynb", "ch11-orderings")
    order = sorted(D2L_RUNS, key=lambda r: -D2L_PUBLISHED[r][2])
    for i, a in enumerate(order):
        for b in order[i + 1:]:
            c = compare(acc[a], acc[b])
            line = next(line for line in text.splitlines() if line.startswith(f"{a} > {b} "))
            assert f"{100 * c.mean:+7.2f}{100 * c.median:+7.2f}{c.wins:>6}/{len(c.seeds)}" in line, (a, b)


def test_a_sweep_rerun_with_knobs_equal_to_the_defaults_repeats_chapter_10_bit_for_bit():
    """WSD with --decay-fraction 0.2 --decay-shape linear (the frontier's cooldown grid) is chapter 10's
    wsd at the same peak: every committed seed of both must agree to the last bit."""
    grid = {r["seed"]: r for r in load_results(EXPERIMENTS / "frontier-fmnist-wsd-linear-cd20")}
    shootout = {r["seed"]: r for r in load_results(EXPERIMENTS / "shootout-fmnist-sgd-lr0.078") if r["recipe"] == "wsd"}
    assert grid and set(grid) <= set(shootout)
    for seed, result in grid.items():
        assert result["config"]["recipe_options"] == {"decay_fraction": 0.2, "decay_shape": "linear"}
        assert result["history"]["loss"] == shootout[seed]["history"]["loss"], seed
        assert result["final"] == shootout[seed]["final"], seed
