"""The release artefacts: the wheel and sdist build, pass ``twine check``, hold every module, and
the wheel works in an environment that has torch and nothing else.

"Torch and nothing else" is built without downloading torch again: a fresh virtual environment
whose only extra path holds links to torch and the distributions torch itself requires (read from
its metadata), so NumPy, matplotlib, torchvision and tqdm are absent there, as on an engineer's
machine with a bare ``pip install torch``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
import zipfile
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest
from packaging.requirements import Requirement

import lrcourse

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # No --sdist/--wheel: build makes the sdist, then the wheel from the sdist (which proves the sdist
    # complete), and writes nothing into the checkout but the ignored egg-info.
    build = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    return out


def wheel_of(dist: Path) -> Path:
    (wheel,) = dist.glob("lrcourse-*.whl")
    return wheel


def test_wheel_and_sdist_build_and_pass_twine_check(dist: Path) -> None:
    version = lrcourse.__version__
    assert wheel_of(dist).name == f"lrcourse-{version}-py3-none-any.whl"
    assert (dist / f"lrcourse-{version}.tar.gz").exists()
    check = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", *map(str, dist.iterdir())],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_the_wheel_holds_every_module_and_the_typing_marker(dist: Path) -> None:
    names = set(zipfile.ZipFile(wheel_of(dist)).namelist())
    package = ROOT / "lrcourse"
    expected = {path.relative_to(ROOT).as_posix() for path in package.rglob("*.py")} | {"lrcourse/py.typed"}
    assert expected <= names, sorted(expected - names)
    assert not [name for name in names if name.startswith(("tests/", "book/", "experiments/"))]
    metadata = next(name for name in names if name.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel_of(dist)).read(metadata).decode()
    hard = [line.split(":", 1)[1].strip() for line in text.splitlines()
            if line.startswith("Requires-Dist:") and "extra ==" not in line]
    assert hard == ["torch>=2.4.1"]  # the library's only hard dependency
    for extra in ("plot", "lab", "book", "test"):
        assert f"Provides-Extra: {extra}" in text


def _torch_and_what_it_requires() -> list[Path]:
    """The top-level files and folders of torch's distribution and of every one it requires."""
    seen: set[str] = set()
    todo, paths = ["torch"], set()
    while todo:
        name = todo.pop()
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            continue  # an optional or platform-only requirement that is not installed here
        key = dist.metadata["Name"].lower().replace("_", "-")
        if key in seen:
            continue
        seen.add(key)
        # Its packages, modules and metadata folder; not the scripts it put in bin/ ("..").
        paths |= {Path(dist.locate_file(file.parts[0])) for file in dist.files or [] if file.parts[0] != ".."}
        for requirement in map(Requirement, dist.requires or []):
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return sorted(p for p in paths if p.exists())


@pytest.fixture(scope="module")
def torch_only_python(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("torch-only")
    site = home / "site"
    site.mkdir()
    for path in _torch_and_what_it_requires():
        (site / path.name).symlink_to(path)
    env = home / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(env)
    python = env / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             capture_output=True, text=True, check=True).stdout.strip()
    Path(purelib, "torch-only.pth").write_text(str(site) + "\n")
    return python


def test_the_wheel_works_beside_torch_alone(dist: Path, torch_only_python: Path) -> None:
    python = str(torch_only_python)
    clean_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PIP_CONSTRAINT")}
    install = subprocess.run([python, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet",
                              "--disable-pip-version-check", str(wheel_of(dist))],
                             capture_output=True, text=True, env=clean_env)
    assert install.returncode == 0, install.stdout + install.stderr
    script = """
import importlib.util, json, sys
import torch
absent = [name for name in ("numpy", "matplotlib", "torchvision", "tqdm") if importlib.util.find_spec(name)]
assert not absent, f"not a torch-only environment: {absent}"
from lrcourse import decay_groups, lr_range_test, preview, warmup_cosine
import lrcourse

model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
optimizer = torch.optim.SGD(decay_groups(model, weight_decay=1e-4), lr=0.1)
scheduler = warmup_cosine(optimizer, num_warmup_steps=2, num_training_steps=10)
lrs = []
for _ in range(10):
    optimizer.step()
    scheduler.step()
    lrs.append(scheduler.get_last_lr()[0])
previewed = preview(lambda o: warmup_cosine(o, 2, 10), 11, 0.1)
g = torch.Generator().manual_seed(0)
batches = [(torch.randn(16, 4, generator=g), torch.randint(0, 2, (16,), generator=g)) for _ in range(4)]
fresh = torch.optim.SGD(decay_groups(model, weight_decay=1e-4), lr=0.1)
result = lr_range_test(model, fresh, batches, num_steps=12, progress=False)
try:
    result.plot()
    plot_error = None
except ModuleNotFoundError as error:
    plot_error = str(error)
print(json.dumps({"version": lrcourse.__version__, "lrs": lrs, "previewed": previewed[1:],
                  "steps": len(result.lrs), "plot_error": plot_error, "file": lrcourse.__file__}))
"""
    run = subprocess.run([python, "-c", script], capture_output=True, text=True, cwd=str(torch_only_python.parent),
                         env=clean_env)
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["version"] == lrcourse.__version__
    assert "site-packages" in out["file"]  # the installed wheel, not this checkout
    assert out["lrs"] == out["previewed"]
    assert out["steps"] >= 2
    assert "pip install 'lrcourse[plot]'" in out["plot_error"]
    command = subprocess.run([python, "-m", "lrcourse", "--help"], capture_output=True, text=True,
                             cwd=str(torch_only_python.parent), env=clean_env)
    assert command.returncode == 2
    # One readable line, no traceback (torch itself warns, once, that NumPy is missing).
    assert "Traceback" not in command.stderr
    (line,) = [line for line in command.stderr.splitlines() if line.startswith("lrcourse:")]
    assert line.startswith("lrcourse: the command line is part of the lab") and "pip install 'lrcourse[lab]'" in line
