# Two commands set up everything on a fresh machine (see README):
#   make book   build the static site into _build/html
#   make test   unit tests, every chapter under nbval (smoke mode), and the strict book build
# Both create .venv and install into it when needed; nothing has to be done by hand first.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
CHAPTERS := $(sort $(wildcard book/[0-9][0-9]_*.ipynb))
# Strict: -W turns every warning (a notebook error included) into a failure, -n reports every
# broken reference, --all rebuilds unchanged pages, --keep-going lists all problems at once.
BUILD_FLAGS := --all -W -n --keep-going

.PHONY: book test unit unit-oldest nbval site-check notebooks student serve clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[book,test]"
	@touch $@

book: $(STAMP)
	$(VENV)/bin/jupyter-book build . $(BUILD_FLAGS)
	@echo "Site built: _build/html/index.html"

# The real data the experiments and their tests use: Debian's dataset-fashion-mnist package puts
# the official Fashion-MNIST files here (tests/test_fashion_mnist.py reads them).
FASHION_MNIST := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
$(FASHION_MNIST):
	@command -v apt-get >/dev/null || { echo "Fashion-MNIST is missing: install Debian's dataset-fashion-mnist (or run on Debian/Ubuntu)"; exit 1; }
	apt-get install -y -qq dataset-fashion-mnist >/dev/null || \
	    { apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist >/dev/null; }

unit: $(STAMP) $(FASHION_MNIST)
	$(PY) -m pytest tests

# The unit tests under the oldest torch that pyproject.toml admits (with its torchvision), from
# PyPI, in a venv of its own. Not part of `make test`: the first run downloads about 3 GB. The
# deselected test checks that the main venv has constraints.txt's torch, which this one has not.
OLDEST_VENV        := .venv-oldest
OLDEST_TORCH       := 2.4.1
OLDEST_TORCHVISION := 0.19.1
unit-oldest:
	@test -x $(OLDEST_VENV)/bin/python || $(PYTHON) -m venv $(OLDEST_VENV)
	$(OLDEST_VENV)/bin/python -m pip install --quiet --disable-pip-version-check \
	    "torch==$(OLDEST_TORCH)" "torchvision==$(OLDEST_TORCHVISION)" -e ".[test]"
	$(OLDEST_VENV)/bin/python -m pytest tests \
	    --deselect tests/test_packaging.py::test_constraints_pin_a_torch_pair_that_imports_together

# Smoke mode shrinks every run so all chapters execute on a 2-core CPU; only cells tagged
# nbval-check-output are compared against the committed outputs.
nbval: $(STAMP)
	LRCOURSE_SMOKE=1 $(PY) -m pytest --nbval-lax --nbval-current-env \
	    --nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider $(CHAPTERS)

# One headless Chromium session (Playwright driving Debian's chromium: apt-get install chromium)
# over every page: no console error, every internal link and anchor resolves, no serious or
# critical axe-core violation, figures have alt text, the schedule explorer works.
site-check: book
	$(PY) scripts/check_site.py _build/html
	$(PY) scripts/check_bibliography.py _build/html

test: unit nbval site-check

notebooks: $(STAMP)
	$(PY) scripts/execute_notebooks.py $(CHAPTERS)

# Copies of the chapters for students: no solutions, no stored answers (scripts/student_edition.py).
student: $(STAMP)
	$(PY) scripts/student_edition.py student

serve: book
	$(PY) -m http.server --directory _build/html --bind 127.0.0.1 8000

clean:
	rm -rf _build .pytest_cache
	find . -name __pycache__ -not -path "./$(VENV)/*" -prune -exec rm -rf {} +
