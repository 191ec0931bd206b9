"""Chapter 14 shows what the committed searches hold: each search folder carries the command that
made it and agrees with it, and the chapter's tables are recomputed here from the files."""

import json
import re
from pathlib import Path

import nbformat
import pytest

optuna = pytest.importorskip("optuna")

from lrcourse.lab import load_results  # noqa: E402
from lrcourse.lab.data.fashion_mnist import FASHION_MNIST_FILES  # noqa: E402
from lrcourse.lab.grids import spread  # noqa: E402
from lrcourse.lab.paired import compare, final_metric  # noqa: E402
from lrcourse.lab.studies import finished_trials, load_study, pruning_audit, search_cost, settings_of  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = ROOT / "experiments"
ARMS = {"tpe, seed 0": "tune-fmnist-tpe", "tpe, seed 1": "tune-fmnist-tpe-seed1",
        "random, seed 0": "tune-fmnist-random", "random, seed 1": "tune-fmnist-random-seed1",
        "random, unpruned": "tune-fmnist-random-unpruned"}
SEARCHES = tuple(ARMS.values())
WITH_FINALS = [arm for arm in ARMS if arm != "random, unpruned"]
CH14 = "14_searching_the_schedule.ipynb"


def flag(command, name):
    found = re.search(rf"--{name} (\S+)", command)
    return found.group(1) if found else None


def cell_text(cell_id):
    nb = nbformat.read(ROOT / "book" / CH14, as_version=4)
    cell = next(c for c in nb.cells if c.get("id") == cell_id)
    return "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")


def prose():
    nb = nbformat.read(ROOT / "book" / CH14, as_version=4)
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


@pytest.mark.parametrize("name", SEARCHES)
def test_every_search_agrees_with_its_command(name):
    folder = EXPERIMENTS / name
    command = (folder / "command.sh").read_text()
    assert re.search(rf"python -m lrcourse tune .*--out experiments/{name} ", command.replace("\\\n", " "))
    study = load_study(folder)
    settings = study.user_attrs["lrcourse_settings"]
    for name_, key in (("epochs", "epochs"), ("sampler", "sampler"), ("pruner", "pruner"), ("seed", "seed"),
                       ("threads", "torch_threads"), ("momentum", "momentum"), ("model", "model"),
                       ("optimizer", "optimizer")):
        assert str(settings[key]) == flag(command, name_), name_
    assert settings["data"].startswith("Fashion-MNIST train, 55000 images")
    # Exactly the trials asked for, one file each, nothing trained twice; any other trial was one
    # refused over the budget (two workers started one at the same moment), which trained nothing.
    trials = finished_trials(study)
    assert len(trials) == int(flag(command, "trials"))
    for t in study.trials:
        assert t in trials or (t.user_attrs.get("surplus") and not t.intermediate_values), t.number
    assert len({tuple(sorted(t.params.items())) for t in trials}) == len(trials)
    records = {json.loads(p.read_text())["trial"]: json.loads(p.read_text()) for p in (folder / "trials").glob("*.json")}
    assert sorted(records) == [t.number for t in trials]
    for t in trials:
        record = records[t.number]
        assert record["state"] == t.state.name.lower() and record["params"] == t.params
        assert record["epochs_trained"] == len(t.intermediate_values)
        if record["state"] == "complete":  # the metadata a reader needs to trust a number
            assert record["git_commit"] and record["git_dirty"] is False
            assert record["config"]["torch_threads"] == settings["torch_threads"]
            assert record["value"] == t.value
    # The final runs: the best trial's settings, seeds 0 to N-1, with the real data's checksums.
    finals = load_results(folder / "final") if (folder / "final").is_dir() else []
    assert len(finals) == int(flag(command, "final-seeds"))
    best = settings_of(study.best_trial)
    for result in finals:
        assert result["recipe"] == best.recipe and result["config"]["lr"] == best.lr
        assert result["config"].get("recipe_options") == best.recipe_options
        assert result["git_commit"] and result["git_dirty"] is False
        assert result["data_files"]["content_md5"] == {n: md5 for n, (_, md5) in FASHION_MNIST_FILES.items()}
    assert sorted(r["seed"] for r in finals) == list(range(len(finals)))


def test_random_search_samples_the_same_trials_with_and_without_its_pruner():
    pruned, full = (load_study(EXPERIMENTS / ARMS[arm]) for arm in ("random, seed 0", "random, unpruned"))
    assert [t.params for t in finished_trials(pruned)] == [t.params for t in finished_trials(full)]
    tpe = load_study(EXPERIMENTS / ARMS["tpe, seed 0"])
    assert [t.params for t in tpe.trials[:10]] == [t.params for t in pruned.trials[:10]]  # TPE's random start-up


def _studies():
    return {arm: load_study(EXPERIMENTS / name) for arm, name in ARMS.items()}


def test_chapter_14_tables_are_the_committed_searches():
    studies = _studies()
    text = cell_text("ch14-studies")
    for arm, study in studies.items():
        cost, best = search_cost(study), study.best_trial
        assert cost.trials == 30
        assert f"{arm:<17}{cost.pruned:>6}{cost.epochs:>7}   {100 * best.value:.2f} %  {settings_of(best).describe()}" in text
    shootout = load_results(EXPERIMENTS / "shootout-fmnist-sgd")
    finals = {"range test": [r for r in shootout if r["recipe"] == "warmup_cosine"],
              "range test, wsd": [r for r in shootout if r["recipe"] == "wsd"]}
    for arm in WITH_FINALS:
        finals[arm] = load_results(EXPERIMENTS / ARMS[arm] / "final")
    text = cell_text("ch14-final")
    for arm, runs in finals.items():
        test = spread(runs, runs[0]["recipe"])
        assert f"{100 * test.mean:>9.2f} ± {100 * test.std:.2f}" in text, arm
    text = cell_text("ch14-paired")
    pairs = [(arm, "range test") for arm in WITH_FINALS] + [("tpe, seed 0", "range test, wsd"),
                                                             ("tpe, seed 1", "random, seed 1")]
    for a, b in pairs:
        c = compare(final_metric(finals[a], finals[a][0]["recipe"]), final_metric(finals[b], finals[b][0]["recipe"]),
                    names=(a, b))
        word = "supported" if c.supported else "not supported"
        line = next(line for line in text.splitlines() if line.startswith(f"{a} - {b} "))
        assert line.startswith(f"{a + ' - ' + b:<32}{100 * c.mean:+6.2f}{c.wins:>4}/{len(c.seeds)}"), line
        assert line.endswith(f"  {word}"), line
    audit = pruning_audit(studies["random, seed 0"], studies["random, unpruned"], epoch=5)
    text = cell_text("ch14-pruning")
    assert f"pruned trials: {len(audit.pruned)};" in text
    assert f"end: {audit.tau:.2f}" in text
    assert ("pruned" if audit.best_pruned else "not pruned") in text


def test_chapter_14_counts_what_each_contender_spent():
    studies = _studies()
    text = cell_text("ch14-cost")
    steps = studies["tpe, seed 0"].user_attrs["lrcourse_settings"]["steps_per_epoch"]
    assert f"{'range test':<16}{3 * 300 / steps:>10.1f}{50:>12}" in text  # chapter 10's three range tests
    for arm in WITH_FINALS:
        assert f"{arm:<16}{float(search_cost(studies[arm]).epochs):>10.1f}{50:>12}" in text, arm
