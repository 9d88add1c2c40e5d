# Two commands for newcomers:  `make run` (set up and start the app)  and  `make test` (set up and run every test).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
export DASHBOARD_URL ?= http://$(HOST):$(PORT)
CHROMIUM ?= /usr/bin/chromium
REDIS_SERVER ?= /usr/bin/redis-server
# apt-get install, as root or through sudo, for system-deps
APT_INSTALL = SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); $$SUDO apt-get update -qq && \
  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq

.PHONY: run test fuzz bench system-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

## run: install, upgrade the database, seed demo data once, start the web server and the
##      background worker that delivers campaigns (sandbox unless configured)
run: $(VENV)/.runtime
	$(FLASK) db upgrade
	$(FLASK) demo seed
	@echo ""
	@echo "  Dashboard: http://$(HOST):$(PORT)/   (Ctrl+C stops it and the worker)"
	@echo ""
	$(FLASK) worker & WORKER=$$!; trap 'kill $$WORKER 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/gunicorn -c gunicorn.conf.py --bind $(HOST):$(PORT) wsgi:app

## system-deps: Debian packages the tests need, installed when missing: Chromium for browser
##      tests, redis-server for the Redis queue tests (they start their own, on a free port)
system-deps:
	@test -x $(CHROMIUM) || { echo "Installing Debian's chromium for the browser tests..."; \
	  $(APT_INSTALL) chromium >/dev/null; }
	@test -x $(REDIS_SERVER) || { echo "Installing Debian's redis-server for the queue tests..."; \
	  $(APT_INSTALL) redis-server >/dev/null; }

## test: install test requirements and Debian packages, run the whole suite (browser tests included)
test: $(VENV)/.dev system-deps
	$(BIN)/pytest

bench: $(VENV)/.dev system-deps
	@for script in bench/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
