# Two commands set everything up on a fresh machine:
#   make demo   -- create .venv, install minternet, run the demo
#   make test   -- create .venv, install minternet with its test tools (and tshark where we can), run the tests
VENV   ?= .venv
PYTHON ?= python3
PY      = $(VENV)/bin/python

.PHONY: demo test system-deps bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

# Debian packages the interop/cross-validation tests use. Installed only when we are root and they
# are missing; the tests that need them skip with a reason otherwise.
system-deps:
	@if ! command -v tshark >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing tshark (Debian package) for the pcap cross-check"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tshark >/dev/null || \
	    echo "warning: could not install tshark; its tests will be skipped"; \
	  else echo "note: tshark is not installed and we are not root; its tests will be skipped"; fi; \
	fi

demo: $(VENV)/.installed
	$(VENV)/bin/minternet demo

test: $(VENV)/.installed system-deps
	$(PY) -m pytest -q

bench: $(VENV)/.installed
	$(PY) bench/codecs.py
	$(PY) bench/forwarding.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
