"""pyproject.toml, environment.yml and the package agree with each other."""

import re
from importlib.metadata import version
from pathlib import Path

import yaml

import lrcourse

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser, from PyPI (a test dependency there)
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def normalise(requirement):
    return re.sub(r"\s+", "", requirement).lower().replace("_", "-")


def requirements_of(extra):
    """The requirements an extra brings, with its references to other extras (lrcourse[lab]) expanded."""
    out = set()
    for requirement in PYPROJECT["project"]["optional-dependencies"][extra]:
        named = re.fullmatch(r"lrcourse\[(\w+)\]", requirement)
        out |= requirements_of(named.group(1)) if named else {requirement}
    return out


def test_the_library_needs_torch_alone_and_the_extras_the_rest():
    assert [normalise(r).split(">=")[0] for r in PYPROJECT["project"]["dependencies"]] == ["torch"]
    lab = {normalise(r).split(">=")[0] for r in requirements_of("lab")}
    assert {"torchvision", "matplotlib", "numpy", "tqdm"} <= lab
    assert {normalise(r).split(">=")[0] for r in requirements_of("plot")} == {"matplotlib"}
    assert lab <= {normalise(r).split(">=")[0] for r in requirements_of("book")}
    assert lab <= {normalise(r).split(">=")[0] for r in requirements_of("test")}


def test_environment_yml_names_the_same_packages_as_pyproject():
    project = PYPROJECT["project"]
    declared = set(project["dependencies"])
    for extra in ("book", "test"):
        declared |= requirements_of(extra)
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    listed = {r for r in pip_section if not r.startswith("-e")}
    assert {normalise(r) for r in listed} == {normalise(r) for r in declared}
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    assert python == "python" + project["requires-python"]


def test_book_toolchain_is_pinned_to_jupyter_book_1():
    book = requirements_of("book")
    assert "jupyter-book==1.0.4.post1" in book
    assert any(normalise(r) == "sphinx>=7,<8" for r in book)


def test_constraints_pin_a_torch_pair_that_imports_together():
    lines = (ROOT / "constraints.txt").read_text().splitlines()
    pins = dict(line.split("==", 1) for line in lines if re.match(r"^(torch|torchvision)==", line))
    assert set(pins) == {"torch", "torchvision"}
    import torch
    import torchvision
    import torchvision.ops  # fails with "operator torchvision::nms does not exist" on a mismatched pair

    assert torch.__version__.split("+")[0] == pins["torch"].strip()
    assert torchvision.__version__.split("+")[0] == pins["torchvision"].strip()


def test_version_and_typing_marker():
    assert lrcourse.__version__ == version("lrcourse")
    assert (Path(lrcourse.__file__).parent / "py.typed").exists()
