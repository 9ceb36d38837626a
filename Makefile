# Two entry points: `make book` builds the site, `make test` runs every check. Each sets itself up.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
JB     := $(VENV)/bin/jupyter-book
STAMP  := $(VENV)/.installed-stamp

.PHONY: book test lint clean assign-deps assignments

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python 3.10 or newer is needed, found " + sys.version.split()[0])'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r requirements.txt
	touch $@

# jupyter-cache keys each notebook on its own code cells only; when the library or the results
# the chapters read change, every notebook must run again, so the cache is dropped.
LIBSTAMP := _build/.adamlab-inputs-stamp
$(LIBSTAMP): $(shell find src results benchmarks/results -name '*.py' -o -name '*.json' 2>/dev/null)
	rm -rf _build/.jupyter_cache
	mkdir -p _build && touch $@

book: $(STAMP) $(LIBSTAMP)
	$(JB) build . -W -n --keep-going
	@echo
	@echo "The book is built: open $(CURDIR)/_build/html/index.html"

lint: $(STAMP)
	$(PY) -m ruff check src tests

# The browser tests read the built site, so they run after the build.
test: $(STAMP) lint
	$(PY) -m pytest -m "not browser"
	$(MAKE) $(LIBSTAMP)
	$(JB) build . -W -n --keep-going
	$(PY) -m pytest -m browser

# Optional: otter-grader for the course assignments (heavy, so not in requirements.txt).
assign-deps: $(STAMP)
	@$(PY) -c 'import otter' 2>/dev/null || $(PY) -m pip install -q -r requirements-assign.txt

# Student and autograder versions of every assignment in dist/<name>/ (git-ignored).
assignments: assign-deps
	$(PY) assignments/build.py --out dist

clean:
	rm -rf _build
