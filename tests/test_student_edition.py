"""The student edition keeps every chapter's text and drops every solution."""

import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from student_edition import main, student_copy  # noqa: E402

CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))


def solution_cells(nb):
    inside, found = False, []
    for cell in nb.cells:
        if cell.cell_type == "markdown" and "{solution-start}" in cell.source:
            inside = True
        if inside:
            found.append(cell)
        if cell.cell_type == "markdown" and "{solution-end}" in cell.source:
            inside = False
    return found


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    assert main([str(out)]) == 0
    return out


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.name)
def test_no_solution_text_leaks(edition, chapter):
    original = nbformat.read(chapter, as_version=4)
    copy = nbformat.read(edition / chapter.name, as_version=4)
    solutions = solution_cells(original)
    assert solutions, f"{chapter.name} has no solutions to remove"
    kept_lines = {line.strip() for c in copy.cells for line in c.source.splitlines()}
    assert not any("{solution" in line for line in kept_lines)
    in_solutions = {id(c) for c in solutions}
    elsewhere = {line.strip() for c in original.cells if id(c) not in in_solutions for line in c.source.splitlines()}
    # Every substantial line that only a solution has (its code and prose) is gone from the copy.
    own = {line.strip() for c in solutions for line in c.source.splitlines() if len(line.strip()) > 20} - elsewhere
    assert own, f"{chapter.name}: the solutions have no lines of their own to look for"
    leaked = sorted(own & kept_lines)
    assert not leaked, f"{chapter.name}: solution text kept: {leaked[:3]}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.name)
def test_the_rest_of_the_chapter_is_kept(edition, chapter):
    original = nbformat.read(chapter, as_version=4)
    copy = nbformat.read(edition / chapter.name, as_version=4)
    assert len(copy.cells) == len(original.cells) - len(solution_cells(original))
    exercises = [c for c in copy.cells if c.cell_type == "markdown" and re.search(r"```\{exercise", c.source)]
    assert len(exercises) == sum("```{exercise" in c.source for c in original.cells if c.cell_type == "markdown")
    nbformat.validate(copy)


def test_exercise_cells_lose_their_outputs():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("x = 1", outputs=[nbformat.v4.new_output("stream", text="kept\n")]),
        nbformat.v4.new_markdown_cell("```{exercise}\n:label: e\n\nDo it.\n```"),
        nbformat.v4.new_code_cell("answer = None", outputs=[nbformat.v4.new_output("stream", text="verdict\n")]),
        nbformat.v4.new_markdown_cell("```{solution-start} e\n:class: dropdown\n```"),
        nbformat.v4.new_code_cell("answer = 42  # the solution"),
        nbformat.v4.new_markdown_cell("Because.\n\n```{solution-end}\n```"),
        nbformat.v4.new_markdown_cell("## References"),
    ]
    copy = student_copy(nb)
    assert [c.source for c in copy.cells] == ["x = 1", nb.cells[1].source, "answer = None", "## References"]
    assert copy.cells[0].outputs and not copy.cells[2].outputs


def test_an_unclosed_solution_is_refused():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("```{solution-start} e\n```"), nbformat.v4.new_code_cell("x")]
    with pytest.raises(ValueError, match="never closed"):
        student_copy(nb)
