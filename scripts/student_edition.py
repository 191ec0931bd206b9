"""Write the student edition of the chapters: no solutions, and no answers stored in the exercises.

Usage: ``python scripts/student_edition.py [OUT]`` (``make student``; OUT defaults to ``student/``).
Each chapter is copied with

* every cell from a ``{solution-start}`` marker through its ``{solution-end}`` removed, the
  solution's prose, code and outputs with it;
* the stored outputs of the cells between an ``{exercise}`` and its solution (the answer cell and
  the check cell) cleared, so a student sees an empty answer, not the verdict on the reference one;
* everything else (the chapter's text, code and outputs) kept, so the chapter still reads as it
  does on the site.

An instructor hands out the folder (or uploads it to Colab or an LMS); the solutions stay in
``book/``. ``tests/test_student_edition.py`` checks that no solution text reaches the copies.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
SOLUTION_START = re.compile(r"^```\{solution-start\}", re.M)
SOLUTION_END = re.compile(r"^```\{solution-end\}", re.M)
EXERCISE = re.compile(r"^```\{exercise(?:-start)?\}", re.M)


def student_copy(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The chapter without its solutions; raises ValueError on an unclosed solution."""
    cells, in_solution, in_exercise = [], False, False
    for index, cell in enumerate(nb.cells):
        text = cell.source if cell.cell_type == "markdown" else ""
        if SOLUTION_START.search(text):
            if in_solution:
                raise ValueError(f"cell {index}: a solution starts inside another one")
            in_solution, in_exercise = True, False
        if not in_solution:
            if EXERCISE.search(text):
                in_exercise = True
            copy = nbformat.from_dict(cell)
            if in_exercise and copy.cell_type == "code":
                copy.outputs, copy.execution_count = [], None
            cells.append(copy)
        if SOLUTION_END.search(text):
            if not in_solution:
                raise ValueError(f"cell {index}: a solution ends that never started")
            in_solution = False
    if in_solution:
        raise ValueError("the last solution is never closed with {solution-end}")
    out = nbformat.from_dict(nb)
    out.cells = cells
    return out


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else ROOT / "student"
    out.mkdir(parents=True, exist_ok=True)
    chapters = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
    for chapter in chapters:
        copy = student_copy(nbformat.read(chapter, as_version=4))
        nbformat.validate(copy)
        nbformat.write(copy, out / chapter.name)
    print(f"student edition: {len(chapters)} chapters without solutions in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
