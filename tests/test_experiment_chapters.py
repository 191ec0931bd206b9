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
SWEEPS = sorted(p for p in EXPERIMENTS.iterdir() if p.is_dir()) if EXPERIMENTS.is_dir() else []


def cell_text(chapter, cell_id):
    nb = nbformat.read(ROOT / "book" / chapter, as_version=4)
    cell = next(c for c in nb.cells if c.get("id") == cell_id)
    return "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")


def test_there_are_committed_sweeps():
    assert {p.name for p in SWEEPS} >= {"seed-drop", "seed-drop-plain", "shootout-sgd", "shootout-adamw",
                                        "d2l-as-run", "d2l-corrected", "shootout-fmnist-sgd", "shootout-fmnist-adamw",
                                        "shootout-fmnist-sgd-half", "shootout-fmnist-adamw-half",
                                        "seed-drop-fmnist-plain", "seed-drop-fmnist-momentum"}


def planned_runs(command):
    """The (recipe, seed) runs a command.sh asks for: ``--seeds N``, or a loop ``for seeds in 1 ... N``."""
    loop = re.search(r"for seeds in ([\d ]+); do", command)
    seeds = max(map(int, loop.group(1).split())) if loop else int(re.search(r"--seeds (\d+)", command).group(1))
    if "python -m lrcourse d2l" in command:
        names = re.search(r"--runs (\S+)", command)
        want = list(D2L_RUNS) if names is None or names.group(1) == "all" else names.group(1).split(",")
    else:
        recipes = re.search(r"--recipes (\S+)", command).group(1)
        want = list(RECIPES) if recipes == "all" else recipes.split(",")
    return want, seeds


@pytest.mark.parametrize("folder", SWEEPS, ids=lambda p: p.name)
def test_every_sweep_has_its_command_results_and_summary(folder):
    command = (folder / "command.sh").read_text()
    assert re.search(r"python -m lrcourse (sweep|d2l) ", command)
    assert re.search(rf"--out experiments/{re.escape(folder.name)}( |$)", command, re.M)
    want, seeds = planned_runs(command)
    results = load_results(folder) if any(folder.glob("*-seed*.json")) else []
    have = {(r["recipe"], r["seed"]) for r in results}
    # A sweep still being trained (seed by seed, over sessions) holds every run of its first seeds
    # and some of the next; nothing it did not plan.
    assert have <= {(r, s) for r in want for s in range(seeds)}
    done_seeds = max((s for _, s in have), default=-1)
    assert {(r, s) for r in want for s in range(done_seeds)} <= have, "a seed is missing runs of an earlier one"
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
        if fashion:
            files = result["data_files"]
            assert result["config"]["data"].startswith("Fashion-MNIST train")
            assert files["content_md5"] == {name: md5 for name, (_, md5) in FASHION_MNIST_FILES.items()}
        else:
            assert "synthetic stand-in" in result["config"]["data"]
    if results:
        summary = (folder / "summary.md").read_text()
        names = D2L_RUNS if "lrcourse d2l" in command else RECIPES
        for recipe, st in recipe_stats(results, names).items():
            assert f"| {recipe} | {len(st.seeds)} | {st.diverged} |" in summary


def test_chapter_10_table_is_the_committed_results():
    text = cell_text("10_schedule_shootout.ipynb", "ch10-table")
    stats = {name: recipe_stats(load_results(EXPERIMENTS / f"shootout-{name}"), RECIPES) for name in ("sgd", "adamw")}
    rows = {line.split()[0]: line for line in text.splitlines()[2:] if line.split() and line.split()[0] in RECIPES}
    assert set(rows) == set(RECIPES)
    for recipe in RECIPES:
        numbers = re.findall(r"-?\d+\.\d+|\d+", rows[recipe].split(None, 1)[1])
        sgd, adamw = stats["sgd"][recipe], stats["adamw"][recipe]
        want = [f"{100 * sgd.mean:.2f}", f"{100 * sgd.std:.2f}", f"{sgd.wall_time:.0f}",
                f"{100 * adamw.mean:.2f}", f"{100 * adamw.std:.2f}", f"{adamw.wall_time:.0f}"]
        assert numbers == want, recipe
    n_seeds = len(stats["sgd"]["constant"].seeds)
    assert f"mean ± std over {n_seeds} seeds" in text


def test_chapter_9_table_is_the_committed_results():
    text = cell_text("09_seed_cifar10.ipynb", "ch09-drop-table")
    results = load_results(EXPERIMENTS / "seed-drop")
    stats = recipe_stats(results, ("constant", "step", "warmup_cosine"))
    epochs = results[0]["config"]["epochs"]
    drop = round(2 * epochs / 3)
    for recipe, st in stats.items():
        runs = [r for r in results if r["recipe"] == recipe]
        losses = [statistics.fmean(v) for v in zip(*(r["history"]["val_loss"] for r in runs))]
        line = next(line for line in text.splitlines() if line.startswith(recipe + " "))
        want = (f"{recipe:<14}{losses[drop - 1]:8.3f}{losses[drop]:8.3f}{losses[-1]:8.3f}"
                f"{f'{100 * st.mean:.2f} ± {100 * st.std:.2f}':>18}{st.wall_time:8.0f}")
        assert line == want


def test_chapter_peaks_are_the_committed_sweeps_lrs():
    nb = nbformat.read(ROOT / "book" / "10_schedule_shootout.ipynb", as_version=4)
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    peaks = json.loads(re.search(r"COMMITTED_PEAKS = (\{[^}]*\})", source).group(1).replace("'", '"'))
    for name, lr in peaks.items():
        assert {r["config"]["lr"] for r in load_results(EXPERIMENTS / f"shootout-{name}")} == {lr}
    outputs = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    for name, lr in peaks.items():
        assert f"{name}: peak {lr}, results in shootout-{name}/" in outputs  # the range test agreed


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
