# The two commands: `make run` and `make test`. Both set up everything they need.
.ONESHELL:
SHELL := bash
.SHELLFLAGS := -ec
.DEFAULT_GOAL := help

PORT ?= 8000
UV_VERSION := 0.13.9
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := .venv

# Use uv from PATH if there is one; otherwise install it into .uv/ with python3's pip.
UV := $(or $(shell command -v uv 2>/dev/null),.uv/bin/uv)
PY := .venv/bin/python

.PHONY: help run test check lint format setup production-setup seed clean browser-deps bench backup restore resilience observatory

help:
	@echo "make run     set up, load the seed data and serve on http://127.0.0.1:$(PORT)/"
	@echo "make test    set up and run the whole test suite (SQLite, or DATABASE_URL)"
	@echo "make check   Django checks, missing migrations and quote verification"
	@echo "make lint    ruff check and format check"
	@echo "make browser-deps  Chromium (apt) and tests/js tools (npm); make test does this itself"
	@echo "make bench   the benchmark against Datasette (BENCH_ARGS=\"--scale 1 --pg\"), see README"
	@echo "make resilience  load and faults against gunicorn, PostgreSQL and Redis (as root), see README"
	@echo "make observatory  MDN's HTTP Observatory against the app behind nginx with TLS (as root), see README"
	@echo "make backup  back the database (DATABASE_URL) up into backups/ (or BACKUP=file)"
	@echo "make restore BACKUP=file  restore into an empty database, checked table by table"

.uv/bin/uv:
	python3 -m venv .uv
	.uv/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --quiet
	touch $@

setup: .venv/.synced

# For a production host: the locked dependencies without the development tools.
production-setup: | $(UV)
	$(UV) sync --frozen --no-dev --quiet
	rm -f .venv/.synced  # so that make test installs the dev tools again

# What the browser tests and the HTML validation need besides Python: Debian's Chromium
# (Playwright cannot download browsers here) and, from npm, axe-core and the Nu HTML
# checker (vnu.jar, run with java). Quick and silent when everything is already there.
CHROMIUM := /usr/bin/chromium
JS_STAMP := tests/js/node_modules/.installed

browser-deps: $(CHROMIUM) $(JS_STAMP)

$(CHROMIUM):
	@echo "Installing Debian's Chromium for the browser tests..."
	if [ "$$(id -u)" != 0 ]; then
		echo "$(CHROMIUM) is missing; install it as root: apt-get install -y chromium" >&2
		exit 1
	fi
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
	test -x $@

# --ignore-scripts: vnu-jar's postinstall would try to download a JDK; java comes from the machine.
$(JS_STAMP): tests/js/package.json $(wildcard tests/js/package-lock.json)
	@for tool in node npm java; do
		command -v $$tool >/dev/null || { echo "$$tool is missing; the browser tests need node, npm and java (17+)." >&2; exit 1; }
	done
	cd tests/js
	if [ -f package-lock.json ]; then
		npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	else
		npm install --ignore-scripts --no-audit --no-fund --loglevel=error
	fi
	touch node_modules/.installed

# The benchmark (bench/run.py): generated data, gunicorn, Datasette and wrk. Not part of
# make test; CI runs a tiny one. BENCH_ARGS passes options, e.g. "--pg --duration 20".
BENCH_ARGS ?=
bench: setup
	@if ! command -v wrk >/dev/null; then
		if [ "$$(id -u)" != 0 ]; then echo "wrk is missing; install it as root: apt-get install -y wrk" >&2; exit 1; fi
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
	fi
	$(PY) bench/run.py $(BENCH_ARGS)

resilience: setup
	$(PY) bench/resilience.py $(RESILIENCE_ARGS)

# MDN's HTTP Observatory (bench/observatory.py): the app with its production settings behind
# nginx (deploy/nginx/arms-talks.conf) with TLS on 127.0.0.1, scored; fails below A+ / 100.
# The scanner comes from npm with --ignore-scripts (its postinstall would download the HSTS
# preload and TLD lists) and gets an empty preload list, so that no preload bonus counts.
OBSERVATORY_STAMP := bench/observatory/node_modules/.installed
OBSERVATORY_PRELOAD := bench/observatory/node_modules/@mdn/mdn-http-observatory/conf/hsts-preload.json

observatory: setup $(OBSERVATORY_STAMP)
	@if ! command -v nginx >/dev/null; then
		if [ "$$(id -u)" != 0 ]; then echo "nginx is missing; install it as root: apt-get install -y nginx-light" >&2; exit 1; fi
		echo "Installing Debian's nginx for make observatory..."
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null
		# Where the package starts Debian's own nginx (on port 80), stop it: the run
		# starts its own on ports 80 and 443.
		if [ -s /run/nginx.pid ]; then
			nginx -s quit || true
			for _ in $$(seq 50); do [ -e /run/nginx.pid ] || break; sleep 0.2; done
		fi
	fi
	$(PY) bench/observatory.py $(OBSERVATORY_ARGS)

$(OBSERVATORY_STAMP): bench/observatory/package.json bench/observatory/package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing; make observatory needs node and npm (20+)." >&2; exit 1; }
	cd bench/observatory
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	cd ../..
	echo '{}' >$(OBSERVATORY_PRELOAD)
	touch $@

backup: setup
	$(PY) manage.py backup $(if $(BACKUP),--output "$(BACKUP)")

restore: setup
	if [ -z "$(BACKUP)" ]; then
		echo "Name the backup: make restore BACKUP=backups/arms-talks-….dump (or .json.gz)" >&2
		exit 2
	fi
	$(PY) manage.py restore "$(BACKUP)"

seed: setup
	@$(PY) manage.py migrate --noinput
	$(PY) manage.py load_seed

run: seed
	@$(PY) manage.py create_local_admin --url "http://127.0.0.1:$(PORT)/admin/"
	echo "Serving the tracker on http://127.0.0.1:$(PORT)/ (Ctrl-C to stop)"
	$(PY) manage.py runserver "127.0.0.1:$(PORT)"

test: setup browser-deps
	@$(PY) -m pytest

check: setup
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_seed
	$(PY) manage.py verify_quotes

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: setup
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

clean:
	rm -rf .venv .uv .pytest_cache .ruff_cache staticfiles test-results tests/js/node_modules \
		bench/observatory/node_modules bench/.data
