"""The package's three wings hold: imports run classroom -> lab -> library, with no circle anywhere,
and ``import lrcourse`` loads the library alone (torch and the standard library).

The import rules are import-linter contracts in ``pyproject.toml`` (``[tool.importlinter]``);
this test runs them, so a violation fails the suite with import-linter's report of the offending
import chain.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import grimp
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[1]

WINGS = ("lrcourse.lab", "lrcourse.classroom")
# What an engineer who installed only torch must not pay for. torch itself imports NumPy, and
# tqdm where it is installed; only what lrcourse adds on top of torch counts.
HEAVY = ("matplotlib", "torchvision", "tqdm", "PIL", "numpy")


def test_the_import_contracts_are_kept(capsys) -> None:
    code = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True)
    report = capsys.readouterr().out
    assert code == 0, report
    assert "2 kept, 0 broken" in report


def test_the_library_face_imports_library_modules_only() -> None:
    # The contracts check the modules of each wing; the package's own __init__ is checked here.
    graph = grimp.build_graph("lrcourse")
    imported = graph.find_modules_directly_imported_by("lrcourse")
    assert imported, "lrcourse/__init__.py imports nothing?"
    assert not {module for module in imported if module.startswith(WINGS)}


def test_import_lrcourse_loads_neither_the_other_wings_nor_their_dependencies() -> None:
    probe = (
        "import sys, json, torch; before = set(sys.modules); import lrcourse; "
        "print(json.dumps(sorted(m for m in set(sys.modules) - before if m.split('.')[0] in "
        f"{HEAVY!r} or m.startswith({WINGS!r}))))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    assert json.loads(out.stdout) == []


def test_the_lab_and_the_classroom_import_and_the_command_line_runs() -> None:
    out = subprocess.run([sys.executable, "-m", "lrcourse", "--help"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "sweep" in out.stdout
    import lrcourse.classroom.exercises  # noqa: F401
    import lrcourse.lab  # noqa: F401
