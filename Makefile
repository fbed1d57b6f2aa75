# `make run` brings the whole system up locally; `make test` runs the whole suite. Both install
# and start what they need (Python packages, Kafka from Maven Central, PostgreSQL from Debian).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml requirements.lock | sha1sum | cut -c1-12)

.PHONY: run test lint format install infra stop-infra migrate seed bench clean image chaos chaos-short fuzz

# This clone's Kafka and PostgreSQL on other ports (another clone holds the defaults): every
# process started here is pointed at them, unless given addresses of its own.
ifdef SWITCHBOARD_PG_PORT
export DATABASE_URL ?= postgresql+asyncpg://switchboard:switchboard@127.0.0.1:$(SWITCHBOARD_PG_PORT)/switchboard
endif
ifdef SWITCHBOARD_KAFKA_PORT
export KAFKA_BOOTSTRAP_SERVERS ?= localhost:$(SWITCHBOARD_KAFKA_PORT)
endif

$(STAMP): pyproject.toml requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { apt-get update -qq && apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install -q --disable-pip-version-check -c requirements.lock -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

# The web inbox's browser libraries (htmx, its SSE extension, axe-core for the tests), pinned by
# services/web/package-lock.json and installed from npm; never copied into the repository.
NODE_STAMP := services/web/node_modules/.installed-$(shell cat services/web/package-lock.json | sha1sum | cut -c1-12)

$(NODE_STAMP): services/web/package.json services/web/package-lock.json
	@command -v npm >/dev/null || { echo "npm (Node.js) is needed for the web inbox's libraries: apt-get install nodejs npm"; exit 1; }
	cd services/web && npm ci --no-audit --no-fund --loglevel=error
	@rm -f services/web/node_modules/.installed-* && touch $@

install: $(STAMP) $(NODE_STAMP)

infra:
	@bash infra/system-packages.sh
	@bash infra/postgres.sh start
	@bash infra/kafka.sh start

stop-infra:
	@bash infra/kafka.sh stop
	@bash infra/postgres.sh stop

migrate: install infra
	$(PY) -m devtools.migrate

seed: migrate
	$(PY) -m devtools.seed

run: install infra
	$(PY) -m devtools.run

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: install infra lint
	@bash infra/system-packages.sh install browser
	$(PY) -m pytest $(PYTEST_ARGS)
	@bash infra/beside.sh build/chaos/make-test.log $(PY) -m pytest tests/chaos -m chaos -s -p no:cacheprovider \
		-- $(PY) -m pytest tests/browser -m browser $(BROWSER_PYTEST_ARGS)

# Chaos under load (tests/chaos, docs/reliability.md): a Switchboard of its own (PostgreSQL, Kafka,
# two replicas of each service) killed piece by piece for CHAOS_DURATION seconds while texts come
# in at 100 a second; `make chaos-short` runs each fault once at 10 texts a second (about 4
# minutes), as `make test` does beside the browser tests. The table goes to build/chaos/.
CHAOS_DURATION ?= 900
chaos: install
	@bash infra/system-packages.sh
	CHAOS_DURATION=$(CHAOS_DURATION) $(PY) -m pytest tests/chaos -m chaos -s -p no:cacheprovider

chaos-short: install
	@bash infra/system-packages.sh
	$(PY) -m pytest tests/chaos -m chaos -s -p no:cacheprovider

# Every operation of the five APIs fuzzed from their OpenAPI documents, at length (`make test`
# runs 4 cases per operation and mode; this runs FUZZ_EXAMPLES, thousands of cases in all).
FUZZ_EXAMPLES ?= 60
fuzz: install infra
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest tests/security/test_fuzz_api.py -s -p no:cacheprovider

bench: install infra
	@bash infra/system-packages.sh install bench
	$(PY) bench/run_all.py $(BENCH_ARGS)

# The one image of every service (Containerfile), with podman or buildah (installed from Debian
# when missing, as root). IMAGE=<name:tag> names it; BASE_IMAGE=<ref@digest> builds FROM your
# registry's Debian slim, otherwise the base is made here with mmdebstrap. See infra/image.sh.
image:
	@bash infra/image.sh build

clean: stop-infra
	@bash infra/postgres.sh remove
	rm -rf .state $(VENV)
