# Two entry points: `make book` builds the site, `make test` runs every check. Each sets itself up.
# The site has two editions from the same sources: English at _build/html, Korean at
# _build/html/ko (locales/README.md); `make po` brings the Korean catalogs up to date.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
JB     := $(VENV)/bin/jupyter-book
STAMP  := $(VENV)/.installed-stamp

.PHONY: book test lint clean assign-deps assignments po lab

# On Linux without an NVIDIA GPU, torch comes from PyTorch's CPU-only index: PyPI's Linux wheel of
# the same version pulls in the CUDA libraries, gigabytes a student without a GPU never uses.
# `make TORCH_INDEX= ...` installs from PyPI alone.
TORCH_PIN   := $(shell grep -E '^torch==' requirements.txt)
TORCH_INDEX ?= $(if $(filter Linux,$(shell uname -s)),$(if $(shell command -v nvidia-smi),,https://download.pytorch.org/whl/cpu))
# JupyterLab opens the Markdown chapters as notebooks: a setting of this environment only, so
# no other project's Markdown, Python or R files change how they open.
LABSETTINGS := $(VENV)/etc/jupyter/labconfig/default_setting_overrides.json

$(STAMP): requirements.txt pyproject.toml binder/jupyterlab-overrides.json
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python 3.10 or newer is needed, found " + sys.version.split()[0])'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(if $(TORCH_INDEX),$(PY) -m pip install -q "$(TORCH_PIN)" --extra-index-url $(TORCH_INDEX))
	$(PY) -m pip install -q -r requirements.txt
	mkdir -p $(dir $(LABSETTINGS)) && cp binder/jupyterlab-overrides.json $(LABSETTINGS)
	touch $@

# jupyter-cache keys each notebook on its own code cells only; when the library or the results
# the chapters read change, every notebook must run again, so the cache is dropped, and with it
# the saved Sphinx environments, which would otherwise keep every unchanged page as it was.
LIBSTAMP := _build/.adamlab-inputs-stamp
$(LIBSTAMP): $(shell find src results benchmarks/results -name '*.py' -o -name '*.json' 2>/dev/null)
	rm -rf _build/.jupyter_cache _build/.doctrees _build/.doctrees-ko _build/.doctrees-gettext
	mkdir -p _build && touch $@

# The Korean edition reads the English build's execution cache: nothing runs twice.
book: $(STAMP) $(LIBSTAMP)
	$(JB) build . -W -n --keep-going
	$(PY) locales/build.py html
	@echo
	@echo "The book is built: open $(CURDIR)/_build/html/index.html (한국어: _build/html/ko/index.html)"

# Extract the English text and update the Korean catalogs (locales/ko/LC_MESSAGES/*.po). The
# messages come from the sources alone, so a cache stale for src/ changes is good enough here;
# a chapter that fails to run (no ADAMLAB_DATA, say) stops it before any catalog changes.
po: $(STAMP)
	$(PY) locales/build.py update

# The chapters as notebooks, in JupyterLab at the repository root (README: "Run the notebooks").
lab: $(STAMP)
	$(VENV)/bin/jupyter lab

lint: $(STAMP)
	$(PY) -m ruff check src tests

# The browser tests read the built site, so they run after the build. The accessibility test
# loads axe-core into each page: npm installs the version package-lock.json pins into node_modules/.
test: $(STAMP) lint node_modules/.package-lock.json
	$(PY) -m pytest -m "not browser"
	$(MAKE) $(LIBSTAMP)
	$(JB) build . -W -n --keep-going
	$(PY) locales/build.py html
	$(PY) -m pytest -m browser

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

# Optional: otter-grader for the course assignments (heavy, so not in requirements.txt).
assign-deps: $(STAMP)
	@$(PY) -c 'import otter' 2>/dev/null || $(PY) -m pip install -q -r requirements-assign.txt

# Student and autograder versions of every assignment in dist/<name>/ (git-ignored).
assignments: assign-deps
	$(PY) assignments/build.py --out dist

clean:
	rm -rf _build
