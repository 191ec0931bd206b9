"""``python -m lrcourse``: the lab's command line (:mod:`lrcourse.lab.cli`).

The one import from the library's folder into the lab: an entry point, not library code, and
nothing imports this module.
"""

import sys

from .lab.cli import main

if __name__ == "__main__":
    sys.exit(main())
