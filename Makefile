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

.PHONY: run test fuzz bench i18n system-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

$(VENV)/.bench: bench/requirements.txt | $(VENV)/.dev
	$(BIN)/pip install --quiet -r bench/requirements.txt
	touch $@

## run: install, upgrade the database, seed demo data once, start the web server and the
##      background worker that delivers campaigns (sandbox unless configured)
##      and, once the server answers, a closing banner: the address, on first run the admin
##      account and its password again, and how to stop (Ctrl+C stops both within seconds)
run: $(VENV)/.runtime
	$(FLASK) db upgrade
	@seed="$$($(FLASK) demo seed)" && echo "$$seed" && \
	  exec $(BIN)/python scripts/run.py --host $(HOST) --port $(PORT) --seed "$$seed"

## system-deps: Debian packages the tests need, installed when missing: Chromium for browser
##      tests (with a Chinese font, fonts-noto-cjk, for the pages in Chinese), redis-server for
##      the Redis queue tests and PostgreSQL for the second run of the suite (the tests start
##      their own servers, on free ports)
CJK_FONT ?= /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
system-deps:
	@missing=""; test -x $(CHROMIUM) || missing="chromium"; \
	  test -f $(CJK_FONT) || missing="$$missing fonts-noto-cjk"; \
	  test -x $(REDIS_SERVER) || missing="$$missing redis-server"; \
	  command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
	    || missing="$$missing postgresql"; \
	  test -z "$$missing" || { echo "Installing Debian's$$missing for the tests..."; \
	  $(APT_INSTALL) $$missing >/dev/null; }

## test: install test requirements and Debian packages, check the layers of the code (import-linter,
##       .importlinter) and its security (bandit, medium severity and up: a finding fails unless a
##       `# nosec BXXX` beside it says why it is safe), run the whole suite (browser tests included)
##       on SQLite, then again on PostgreSQL (but the protocol library's tests and the WeCom conformance
##       suite, which use no database)
test: $(VENV)/.dev system-deps
	$(BIN)/lint-imports --no-cache
	$(BIN)/bandit --recursive dashboard --severity-level medium --quiet
	$(BIN)/pytest
	$(BIN)/pytest --db postgresql --ignore=tests/wecom --ignore=tests/conformance

## fuzz: the fuzz tests (callback, card validator, API) with 50,000 examples per target instead
##       of the 2,000 that `make test` runs (FUZZ_PROFILE=fuzz; the better part of an hour)
fuzz: $(VENV)/.dev
	FUZZ_PROFILE=fuzz $(BIN)/pytest tests/test_callback_fuzz.py tests/test_api_fuzz.py tests/wecom/test_cards_fuzz.py

## i18n: gather the messages of the code, templates and scripts into dashboard/translations/*.po
##       (then write the Chinese of each new one there) and compile them to the .mo files the app reads
i18n: $(VENV)/.dev
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_pgettext:1c,2 --sort-output \
	  -o dashboard/translations/messages.pot .
	$(BIN)/pybabel update -i dashboard/translations/messages.pot -d dashboard/translations \
	  --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile -d dashboard/translations --statistics

bench: $(VENV)/.bench system-deps
	@for script in bench/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
