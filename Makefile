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

# Debian packages the cross-validation and interop tests use: command:package, or /path:package
# for a package that brings a file rather than a command (dns-root-data's root.hints). Installed
# only when we are root and one is missing; the tests that need a missing one skip with a reason.
SYSTEM_TOOLS = tshark:tshark dig:bind9-dnsutils ip:iproute2 curl:curl chromium:chromium ping:iputils-ping \
	/usr/share/dns/root.hints:dns-root-data gtlsclient:ngtcp2-client \
	/usr/share/fonts/truetype/nanum/NanumGothic.ttf:fonts-nanum

system-deps:
	@missing=""; for pair in $(SYSTEM_TOOLS); do \
	  cmd=$${pair%%:*}; pkg=$${pair#*:}; \
	  case $$cmd in /*) test -e $$cmd ;; *) command -v $$cmd >/dev/null 2>&1 ;; esac || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian packages:$$missing"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || \
	    echo "warning: could not install$$missing; the tests that need them will be skipped"; \
	  else echo "note:$$missing not installed and we are not root; the tests that need them will be skipped"; fi; \
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
