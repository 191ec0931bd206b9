"""Every committed chapter is what a reader should see: executed top to bottom, clean, small."""

import json
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
LOCAL_PATH = re.compile(r"(/(home|root|work|Users|tmp)/[\w.-]+|[A-Za-z]:\\\\Users)")


def test_there_are_chapters():
    assert len(CHAPTERS) >= 2


@pytest.fixture(params=CHAPTERS, ids=lambda p: p.name)
def chapter(request):
    return request.param, nbformat.read(request.param, as_version=4)


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def test_valid_nbformat_and_kernel(chapter):
    path, nb = chapter
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    assert path.stat().st_size < 2_000_000, f"{path.name} is {path.stat().st_size} bytes"


def test_executed_top_to_bottom_in_a_clean_kernel(chapter):
    _, nb = chapter
    counts = [c.execution_count for c in code_cells(nb)]
    assert counts == list(range(1, len(counts) + 1))


def test_outputs_present(chapter):
    _, nb = chapter
    with_output = [c for c in code_cells(nb) if c.outputs]
    assert len(with_output) >= len(code_cells(nb)) // 2


def test_errors_only_where_tagged(chapter):
    _, nb = chapter
    for i, cell in enumerate(code_cells(nb), 1):
        tags = cell.metadata.get("tags", [])
        errors = [o for o in cell.outputs if o.output_type == "error"]
        if "raises-exception" in tags:
            assert errors, f"code cell {i} is tagged raises-exception but stored no error"
        else:
            assert not errors, f"code cell {i} stored {errors[0].ename}: {errors[0].evalue}"


def test_no_local_paths_warnings_or_stderr(chapter):
    _, nb = chapter
    for i, cell in enumerate(code_cells(nb), 1):
        for output in cell.outputs:
            text = json.dumps(output.get("text", "")) + json.dumps(output.get("data", {}).get("text/plain", ""))
            text += json.dumps(output.get("traceback", []))
            assert not LOCAL_PATH.search(text), f"code cell {i} shows a local path"
            assert output.get("name") != "stderr", f"code cell {i} wrote to stderr: {output.get('text', '')[:200]}"


def test_tags_not_comment_markers(chapter):
    _, nb = chapter
    for cell in nb.cells:
        assert not re.search(r"^\s*#\s*NBVAL_", cell.source, re.M), "use cell tags, not # NBVAL_ comments"


def test_first_code_cell_installs_only_on_colab(chapter):
    _, nb = chapter
    first = code_cells(nb)[0].source
    assert 'if "google.colab" in sys.modules:' in first
    assert "%pip install" in first and "git+https://" in first
    assert re.search(r"lrcourse\[lab(,\w+)*\] @ ", first)  # the lab, and any extra a chapter needs


def test_checked_cells_print_text(chapter):
    _, nb = chapter
    checked = [c for c in code_cells(nb) if "nbval-check-output" in c.metadata.get("tags", [])]
    assert checked, "a chapter should compare at least one deterministic cell"
    for cell in checked:
        assert cell.outputs, "a checked cell must have a stored output to compare"
        for output in cell.outputs:
            assert "image/png" not in output.get("data", {}), "nbval does not compare images; do not tag figures"


def test_code_fits_the_page(chapter):
    # The site's code blocks show about 80 characters before a reader has to scroll sideways.
    _, nb = chapter
    for i, cell in enumerate(code_cells(nb), 1):
        for line in cell.source.splitlines():
            assert len(line) <= 79, f"code cell {i} has a {len(line)}-character line: {line[:50]}..."
