"""Result files: keyed on their contents, validated, never overwritten, written with the umask's mode."""

import json
import os
import stat

import pytest

from lrcourse.lab.cli import main
from lrcourse.lab.checkpoint import ConfigMismatchError
from lrcourse.lab import random_data, summary_table, sweep
from lrcourse.lab.results import result_path
from lrcourse.lab.results import ResultError, read_result, scan_results, write_result

DATA = random_data(n_train=16, n_val=8, n_test=8, image_size=10, batch_size=8)
RUN = {"model": "tiny", "epochs": 1, "device": "cpu", "estimate": False}


pytestmark = pytest.mark.usefixtures("one_thread")  # see tests/conftest.py


def result(recipe, seed, test, epochs=10):
    return {"format": "lrcourse-run/1", "recipe": recipe, "seed": seed, "wall_time": 2.0, "diverged": False,
            "device": "cpu (x86_64, 2 cores)",
            "config": {"data": "CIFAR-10 (synthetic stand-in) train", "model": "airbench", "epochs": epochs,
                       "lr": 0.1, "optimizer": "sgd", "momentum": 0.9, "weight_decay": 5e-4, "steps_per_epoch": 88},
            "final": {"val_acc": test, "test_acc": test}}


def put(folder, name, data):
    path = folder / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def test_copies_count_once_and_every_skipped_file_is_named(tmp_path):
    put(tmp_path, "cosine-seed0.json", result("cosine", 0, 0.90))
    put(tmp_path, "cosine-seed1.json", result("cosine", 1, 0.94))
    # A file-sync tool's conflict copy and a manual backup: the same runs again, not more seeds.
    put(tmp_path, "cosine-seed0 (conflicted copy 2024-05-01).json", result("cosine", 0, 0.90))
    put(tmp_path, "backup.json", result("cosine", 1, 0.94))
    # The same recipe and seed with other settings: a conflict, named with the setting.
    put(tmp_path, "cosine-seed1.old.json", result("cosine", 1, 0.10, epochs=3))
    # Not results: a notes file, a truncated result, garbage, an empty file, another format.
    put(tmp_path, "notes.json", "[1, 2]")
    put(tmp_path, "step-seed0.json", json.dumps(result("step", 0, 0.5))[:150])
    put(tmp_path, "garbled.json", "{]")
    put(tmp_path, "empty.json", "")
    put(tmp_path, "future.json", result("cosine", 2, 0.5) | {"format": "lrcourse-run/9"})
    put(tmp_path, "half.json", {k: v for k, v in result("cosine", 3, 0.5).items() if k != "final"})

    table = summary_table(tmp_path)
    # Mean of 90 and 94 with sample std 2.83: the copies did not count as seeds 3, 4 and 5.
    assert "| cosine | 2 | 0 | 92.00 ± 2.83 | 92.00 ± 2.83 | 2.0 |" in table
    assert "| step |" not in table
    skipped = table[table.index("Not counted (9 files):"):].splitlines()[1:]
    assert skipped == [
        "- backup.json: a copy of cosine-seed1.json (the same cosine seed 1)",
        "- cosine-seed0 (conflicted copy 2024-05-01).json: a copy of cosine-seed0.json (the same cosine seed 0)",
        "- cosine-seed1.old.json: a conflict with cosine-seed1.json: the same cosine seed 1 with other settings "
        "(epochs 3 vs 10)",
        "- empty.json: empty file",
        "- future.json: format 'lrcourse-run/9' is not 'lrcourse-run/1' (another lrcourse version?)",
        "- garbled.json: not valid JSON (Expecting property name enclosed in double quotes at line 1, column 2)",
        "- half.json: a result with a missing or invalid final.test_acc",
        '- notes.json: not a result file (a JSON list without "format": "lrcourse-run/1")',
        "- step-seed0.json: truncated (the JSON stops after 150 bytes)",
    ]


def test_cli_summary_names_skipped_files_and_still_succeeds(tmp_path, capsys):
    put(tmp_path, "cosine-seed0.json", result("cosine", 0, 0.9))
    put(tmp_path, "cosine-seed0 - Copy.json", result("cosine", 0, 0.9))
    put(tmp_path, "config.json", {"lr": 0.1})
    assert main(["summary", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "| cosine | 1 | 0 |" in out
    assert "- cosine-seed0 - Copy.json: a copy of cosine-seed0.json (the same cosine seed 0)" in out
    assert '- config.json: not a result file (an object without "format": "lrcourse-run/1")' in out


def test_read_result_reasons(tmp_path):
    with pytest.raises(ResultError, match=r"^x.json: truncated \(the JSON stops after 9 bytes\)$"):
        read_result(put(tmp_path, "x.json", '{"a": [1,'))
    assert read_result(put(tmp_path, "ok.json", result("step", 2, 0.3)))["seed"] == 2


def test_a_truncated_result_is_redone_by_the_sweep(tmp_path):
    logs = []
    sweep(["constant"], [0, 1], tmp_path, DATA, log=logs.append, **RUN)
    good = result_path(tmp_path, "constant", 1)
    kept = good.read_bytes()
    broken = result_path(tmp_path, "constant", 0)
    broken.write_bytes(broken.read_bytes()[:200])  # a copy cut short, a disk that filled up
    logs.clear()
    sweep(["constant"], [0, 1], tmp_path, DATA, log=logs.append, **RUN)
    assert "[1/2] constant seed 0: constant-seed0.json is not a complete result: truncated (the JSON stops " \
           "after 200 bytes); training it again" in logs
    assert "[2/2] constant seed 1: done already (constant-seed1.json)" in logs
    assert read_result(broken)["seed"] == 0 and good.read_bytes() == kept
    assert "| constant | 2 | 0 |" in (tmp_path / "summary.md").read_text()


def test_a_result_with_other_settings_is_refused_before_any_work(tmp_path):
    sweep(["constant"], [1], tmp_path, DATA, log=lambda line: None, **RUN)
    kept = result_path(tmp_path, "constant", 1).read_bytes()
    logs = []
    with pytest.raises(ConfigMismatchError, match=r"constant-seed1.json was made with other settings \(epochs 1 "
                       r"there, 2 here\); a sweep never overwrites a result: use another output folder"):
        sweep(["constant"], [0, 1], tmp_path, DATA, log=logs.append, **(RUN | {"epochs": 2}))
    assert not any("training" in line for line in logs)  # not even seed 0, which had no result
    assert not result_path(tmp_path, "constant", 0).exists()
    assert result_path(tmp_path, "constant", 1).read_bytes() == kept


def test_a_result_is_never_written_over_another_file(tmp_path):
    path = put(tmp_path, "cosine-seed0.json", "someone else's file")
    with pytest.raises(FileExistsError, match="refusing to overwrite it"):
        write_result(path, result("cosine", 0, 0.9))
    assert path.read_text() == "someone else's file"
    assert [p.name for p in tmp_path.iterdir()] == ["cosine-seed0.json"]  # no temporary left either


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_result_files_respect_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        sweep(["constant"], [0], tmp_path, DATA, log=lambda line: None, **RUN)
    finally:
        os.umask(old)
    for path in (result_path(tmp_path, "constant", 0), tmp_path / "summary.md"):
        assert stat.S_IMODE(path.stat().st_mode) == mode, path


def test_scan_prefers_the_sweeps_own_name(tmp_path):
    put(tmp_path, "a-backup.json", result("step", 0, 0.5))
    put(tmp_path, "step-seed0.json", result("step", 0, 0.5))
    scan = scan_results(tmp_path)
    assert [p.name for p, _ in scan.results] == ["step-seed0.json"]
    assert [p.name for p, _ in scan.skipped] == ["a-backup.json"]


def test_recipe_stats_are_the_numbers_of_the_summary_rows():
    from lrcourse.lab.results import recipe_stats

    results = [result("cosine", 2, 0.94), result("cosine", 0, 0.90), result("cosine", 1, 0.92), result("step", 0, 0.5)]
    stats = recipe_stats(results, ("step", "cosine"))
    assert list(stats) == ["step", "cosine"]
    cosine = stats["cosine"]
    assert cosine.seeds == [0, 1, 2] and cosine.test_acc == [0.90, 0.92, 0.94]
    assert cosine.mean == pytest.approx(0.92) and cosine.std == pytest.approx(0.02)
    assert stats["step"].std == 0.0 and stats["step"].wall_time == 2.0 and stats["step"].diverged == 0
