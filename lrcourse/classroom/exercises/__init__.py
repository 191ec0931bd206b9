"""Checkers for the book's exercises: ``check_<chapter>_<n>(answer)`` for the n-th exercise of a chapter.

Each checker prints a verdict a student can act on (what was expected, what was received, the
likely mistake) and returns ``True`` or ``False``. ``None``, the state in which the notebooks are
committed, prints "not attempted yet". The form each answer takes is in the checker's docstring
and in ``EXERCISES``::

    from lrcourse.classroom.exercises import check_03_2

    def answer(optimizer):
        return OneCycleLR(optimizer, max_lr=0.1, total_steps=40)

    check_03_2(answer)

Exercises whose answer is an explanation rather than code or a number (``ch02-freeze``,
``ch05-noise``) have no checker. Where the answer comes out of the chapter's own training, the
checker tries a cheaper property that still tells right from wrong: chapter 7's range tests
are checked on their rates or on small made-up curves, and ``ch08-every-cut`` on the comparison
that decides whether a resumed run is exact.
"""

from __future__ import annotations

from typing import NamedTuple

from . import ch01, ch02, ch03, ch04, ch05, ch06, ch07, ch08, ch09, ch10, ch11, ch12, ch13, ch14
from ._common import NOT_ATTEMPTED
from .ch01 import check_01_1, check_01_2, check_01_3, check_01_4
from .ch02 import check_02_2, check_02_3, check_02_4
from .ch03 import check_03_1, check_03_2, check_03_3, check_03_4
from .ch04 import check_04_1, check_04_2, check_04_3, check_04_4, check_04_5
from .ch05 import check_05_1, check_05_2, check_05_4
from .ch06 import check_06_1, check_06_2, check_06_3, check_06_4
from .ch07 import check_07_1, check_07_2, check_07_3, check_07_4
from .ch08 import check_08_1, check_08_2, check_08_3, check_08_4
from .ch09 import check_09_1, check_09_2
from .ch10 import check_10_1, check_10_2
from .ch11 import check_11_1
from .ch12 import check_12_1
from .ch13 import check_13_1
from .ch14 import check_14_1


class Exercise(NamedTuple):
    """An auto-checked exercise: its checker's name and the form its answer takes."""

    checker: str
    form: str


#: Exercise label (the ``:label:`` of its ``{exercise}`` directive) -> checker and answer form.
EXERCISES: dict[str, Exercise] = {
    "ch01-limit": Exercise("check_01_1", ch01.FORM_01_1),
    "ch01-edge": Exercise("check_01_2", ch01.FORM_01_2),
    "ch01-best": Exercise("check_01_3", ch01.FORM_01_3),
    "ch01-grid": Exercise("check_01_4", ch01.FORM_01_4),
    "ch02-layerwise": Exercise("check_02_2", ch02.FORM_02_2),
    "ch02-when": Exercise("check_02_3", ch02.FORM_02_3),
    "ch02-setlr": Exercise("check_02_4", ch02.FORM_02_4),
    "ch03-resnet": Exercise("check_03_1", ch03.FORM_03_1),
    "ch03-onecycle-accum": Exercise("check_03_2", ch03.FORM_03_2),
    "ch03-get-lr": Exercise("check_03_3", ch03.FORM_03_3),
    "ch03-chain-vs-seq": Exercise("check_03_4", ch03.FORM_03_4),
    "ch04-lambda-warmup": Exercise("check_04_1", ch04.FORM_04_1),
    "ch04-linear-scaling": Exercise("check_04_2", ch04.FORM_04_2),
    "ch04-untuned": Exercise("check_04_3", ch04.FORM_04_3),
    "ch04-largest-lr": Exercise("check_04_4", ch04.FORM_04_4),
    "ch04-noam-half": Exercise("check_04_5", ch04.FORM_04_5),
    "ch05-predict": Exercise("check_05_1", ch05.FORM_05_1),
    "ch05-accuracy": Exercise("check_05_2", ch05.FORM_05_2),
    "ch05-live-patience": Exercise("check_05_4", ch05.FORM_05_4),
    "ch06-fix-loop": Exercise("check_06_1", ch06.FORM_06_1),
    "ch06-cut-points": Exercise("check_06_2", ch06.FORM_06_2),
    "ch06-accum-total": Exercise("check_06_3", ch06.FORM_06_3),
    "ch06-manual-warmup": Exercise("check_06_4", ch06.FORM_06_4),
    "ch07-fix-seed": Exercise("check_07_1", ch07.FORM_07_1),
    "ch07-stop-rule": Exercise("check_07_2", ch07.FORM_07_2),
    "ch07-linear": Exercise("check_07_3", ch07.FORM_07_3),
    "ch07-json": Exercise("check_07_4", ch07.FORM_07_4),
    "ch08-every-cut": Exercise("check_08_1", ch08.FORM_08_1),
    "ch08-global-order": Exercise("check_08_2", ch08.FORM_08_2),
    "ch08-atomic": Exercise("check_08_3", ch08.FORM_08_3),
    "ch08-last-epoch": Exercise("check_08_4", ch08.FORM_08_4),
    "ch09-evaluate": Exercise("check_09_1", ch09.FORM_09_1),
    "ch09-steps": Exercise("check_09_2", ch09.FORM_09_2),
    "ch10-table": Exercise("check_10_1", ch10.FORM_10_1),
    "ch10-plateau": Exercise("check_10_2", ch10.FORM_10_2),
    "ch11-late": Exercise("check_11_1", ch11.FORM_11_1),
    "ch12-steps": Exercise("check_12_1", ch12.FORM_12_1),
    "ch13-rules": Exercise("check_13_1", ch13.FORM_13_1),
    "ch14-edge": Exercise("check_14_1", ch14.FORM_14_1),
}

__all__ = ["EXERCISES", "Exercise", "NOT_ATTEMPTED", *(exercise.checker for exercise in EXERCISES.values())]
