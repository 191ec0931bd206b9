"""The classroom: what only the book's chapters and exercises need.

* :mod:`~lrcourse.classroom.toy` -- the small problems of the first chapters (a 2-D quadratic,
  spirals and a tiny network) and :mod:`~lrcourse.classroom.figures` to draw them;
* :mod:`~lrcourse.classroom.exercises` -- the exercise checkers, ``check_<chapter>_<n>(answer)``;
* :mod:`~lrcourse.classroom.env` -- the smoke switch (``LRCOURSE_SMOKE=1``) that shrinks every
  chapter for the test suite.

The classroom may import the lab and the library; neither imports it.
"""

from .env import smoke_mode
from .figures import plot_quadratic_paths
from .toy import BackboneHead, Quadratic, TinyMLP, gradient_descent, spirals, train_toy

__all__ = [
    "BackboneHead",
    "Quadratic",
    "TinyMLP",
    "gradient_descent",
    "plot_quadratic_paths",
    "smoke_mode",
    "spirals",
    "train_toy",
]
