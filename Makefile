# DCNN Book. The two commands: `make book` and `make test`. Both set everything up first.
#
#   make book [SOLUTIONS=0]   build the HTML book into _build/html (warnings are errors);
#                             SOLUTIONS=0 leaves the exercises' solutions out
#   make test                 unit tests + notebook tests (offline, smoke scale)
#   make test-full-dry        every chapter at full scale, dry run (DCNN_DRY_RUN=1: a couple of
#                             steps per loop), into a temporary folder
#   make execute [SCALE=book|full] [NB=chapters/x.ipynb]
#                             re-run chapters in place with papermill (the committed copy is
#                             replaced only when the run succeeds)
#   make bench                benchmarks (LeNet accuracy/time at book scale, twin throughput)
#   make lock                 rewrite requirements-lock.txt from the current .venv

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SCALE  ?= book
SOLUTIONS ?= 1
NB     ?= chapters/*.ipynb
WIDGETS_HTML_MANAGER := @jupyter-widgets/html-manager@1.0.15
REQUIREJS            := requirejs@2.3.8
WIDGETS_JS := _vendor/widgets/embed-amd.js _vendor/widgets/require.js

.PHONY: book test test-full-dry execute bench lock venv data clean

venv: $(STAMP)

# Re-runs only when the lock or the package metadata changed; fast when the venv is current.
$(STAMP): requirements-lock.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-lock.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $@

# The widget manager JavaScript (and the icon fonts it loads from the same folder: the
# page's _static/dcnn.js points it there), so progress bars and explorers render offline.
$(WIDGETS_JS):
	mkdir -p _vendor/widgets
	tmp=$$(mktemp -d) && cd $$tmp && npm pack --silent $(WIDGETS_HTML_MANAGER) $(REQUIREJS) >/dev/null \
	  && for f in *.tgz; do mkdir -p "$${f%.tgz}" && tar xzf "$$f" -C "$${f%.tgz}"; done \
	  && cp jupyter-widgets-html-manager-*/package/dist/embed-amd.js $(CURDIR)/_vendor/widgets/ \
	  && cp jupyter-widgets-html-manager-*/package/dist/*.woff* jupyter-widgets-html-manager-*/package/dist/*.ttf \
	        jupyter-widgets-html-manager-*/package/dist/*.eot jupyter-widgets-html-manager-*/package/dist/*.svg \
	        $(CURDIR)/_vendor/widgets/ \
	  && cp requirejs-*/package/require.js $(CURDIR)/_vendor/widgets/ && rm -rf $$tmp

book: $(STAMP) $(WIDGETS_JS)
	DCNN_SOLUTIONS=$(SOLUTIONS) $(VENV)/bin/jupyter-book build . -W -n --keep-going

# Fashion-MNIST for the tests and chapters: found locally, or Debian's package installed (as
# root), or (online) downloaded by torchvision. Never fails silently.
data: $(STAMP)
	@$(PY) -m dcnn_lib.data 2>/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist >/dev/null; fi; \
	  $(PY) -m dcnn_lib.data; }

test: $(STAMP) data
	DCNN_OFFLINE=1 DCNN_SCALE=smoke $(PY) -m pytest tests --nbval-lax --nbval-current-env chapters

test-full-dry: $(STAMP) data
	$(PY) .ci/dry_run.py $(NB)

execute: $(STAMP) data
	$(PY) .ci/execute.py --scale $(SCALE) $(NB)

bench: $(STAMP) data
	$(PY) benchmarks/run.py

lock: $(STAMP)
	{ echo "# The exact set CI and make install (pip install -r requirements-lock.txt)."; \
	  echo "# Regenerate with: make lock. torch's own CUDA/triton packages are left to torch's pins."; \
	  $(PY) -m pip freeze --exclude-editable | grep -v -E '^(nvidia-|triton==|cuda-)'; } > requirements-lock.txt

clean:
	rm -rf _build .execute-tmp
