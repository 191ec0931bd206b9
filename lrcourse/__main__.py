"""``python -m lrcourse`` and the ``lrcourse`` command: the lab's command line (:mod:`lrcourse.lab.cli`).

The one import from the library's folder into the lab: an entry point, not library code, and
nothing imports this module. Where only the library is installed (torch alone), it says in one
line what to install instead of failing with a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

# What the lab needs beyond the library (pyproject.toml's "lab" extra).
LAB_DEPENDENCIES = ("torchvision", "matplotlib", "numpy", "tqdm", "PIL")


def main(argv: Sequence[str] | None = None) -> int:
    try:
        from .lab.cli import main as lab_main
    except ModuleNotFoundError as error:
        if (error.name or "").split(".")[0] not in LAB_DEPENDENCIES:
            raise
        print(f"lrcourse: the command line is part of the lab, which needs {error.name}: "
              "pip install 'lrcourse[lab]'", file=sys.stderr)
        return 2
    return lab_main(argv)


if __name__ == "__main__":
    sys.exit(main())
