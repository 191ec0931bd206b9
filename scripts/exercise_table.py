"""The table of auto-checked exercises on the instructor's page, written from ``lrcourse.classroom.exercises``.

Usage: ``python scripts/exercise_table.py`` rewrites the block between the markers in
``book/instructors.md``; ``tests/test_book.py`` fails when the page and the package disagree.
"""

from __future__ import annotations

import re
from pathlib import Path

from lrcourse.classroom.exercises import EXERCISES

PAGE = Path(__file__).resolve().parents[1] / "book" / "instructors.md"
START, END = "<!-- exercise-checkers:start -->", "<!-- exercise-checkers:end -->"
BLOCK = re.compile(re.escape(START) + r".*?" + re.escape(END), re.S)


def render() -> str:
    rows = [START, "| exercise | checker | the answer it takes |", "|---|---|---|"]
    for label, exercise in EXERCISES.items():
        form = exercise.form.replace("|", "\\|")
        rows.append(f"| {{ref}}`{label}` | `{exercise.checker}` | {form} |")
    rows.append(END)
    return "\n".join(rows)


def update_page() -> None:
    PAGE.write_text(BLOCK.sub(lambda _: render(), PAGE.read_text()))


if __name__ == "__main__":
    update_page()
