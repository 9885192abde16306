# Tasklane: `make run` to use it, `make test` to test it. Every install step lives here.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask
PORT ?= 5000
export FLASK_APP := wsgi:app

.PHONY: run dev worker test check-security bench bench-instructions bench-database-cpu install-valgrind lint format vendor install install-dev migrate-check \
	clean install-wrk screenshots stack stack-stop stack-reload install-stack bench-stack

run: install vendor
	$(FLASK) db upgrade
	@echo "Tasklane is serving on http://127.0.0.1:$(PORT)"
	exec $(VENV)/bin/gunicorn --config gunicorn.conf.py --bind 127.0.0.1:$(PORT) wsgi:app

# The Flask development server with reload and the debugger: never expose it. Unlike `run`
# it starts no job consumer: queued jobs (mail) wait until `make worker` runs beside it.
dev: install vendor
	$(FLASK) db upgrade
	$(FLASK) run --debug --host 127.0.0.1 --port $(PORT)

# The job consumer and its scheduler for the queue QUEUE_URL names (app/jobs/worker.py): the
# worker of a Redis queue. `make run` starts one itself for the default SQLite queue.
worker: install
	exec $(PY) -m app.jobs.worker

test: install-dev vendor
	$(PY) -m pytest $(PYTEST_ARGS)

# The attack, fuzz, concurrency and fault tests behind docs/SECURITY.md; prints the figures
# it measured and writes them to tests/artifacts/security-figures.json.
check-security: install-dev vendor
	$(PY) -m pytest -m security $(PYTEST_ARGS)

# Retake the README's pictures in docs/screenshots/ (the same test runs in `make test`,
# checking the pages without writing the tracked files). Without Chromium it fails, not skips.
screenshots: install-dev vendor
	SCREENSHOTS=1 REQUIRE_BROWSER=1 $(PY) -m pytest tests/browser/test_screenshots.py $(PYTEST_ARGS)

# The production shape on this machine (deploy/stack.py): nginx on STACK_PORT (8080) in front
# of two instances, the worker, PgBouncer (transaction pooling) in front of PostgreSQL on
# 127.0.0.1:5432 (database STACK_DATABASE, created), Redis on 127.0.0.1:6379. Files and logs
# in instance/stack/; run again, it starts whatever part has died; `make stack-stop` ends
# what it started, `make stack-reload` restarts each instance in turn.
stack: install vendor install-stack
	$(PY) -m deploy.stack start

stack-stop:
	$(PY) -m deploy.stack stop

stack-reload:
	$(PY) -m deploy.stack reload

install-stack:
	$(call apt_install,nginx)
	$(call apt_install,pgbouncer)

# Measure Tasklane against its ceilings on PostgreSQL and SQLite (bench/README.md).
# BENCH_SECONDS, BENCH_ROUNDS, BENCH_QUICK=1, BENCH_DATABASE_URL: see bench/settings.py.
bench: install-dev vendor $(VENV)/.installed-bench install-wrk
	$(PY) -m bench.run

# The list and toggle cases through the stack: straight to one instance, through nginx to one
# and to two (bench/stack.py). BENCH_SECONDS, BENCH_ROUNDS, BENCH_SIZE as for `make bench`.
bench-stack: install-dev vendor $(VENV)/.installed-bench install-wrk install-stack
	$(PY) -m bench.stack

# Instructions per toggle and per list page (Tasklane and raw) counted by callgrind: steady
# where CPU time is not, for checking what a change saves in a minute (bench/instructions.py).
# BENCH_DB=sqlite.
bench-instructions: install-dev vendor $(VENV)/.installed-bench install-valgrind
	$(PY) -m bench.instructions $${BENCH_DB:-postgresql}

# PostgreSQL CPU per request of the bench's pages, in process (bench/database_cpu.py): a quick
# look between `make bench` runs. ARGS="--seed" fills the bench database first; cases by name.
bench-database-cpu: install-dev vendor $(VENV)/.installed-bench
	$(PY) -m bench.database_cpu $(ARGS)

$(VENV)/.installed-bench: bench/requirements.txt requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r bench/requirements.txt
	touch $@

# A Debian package, when its command is missing (as root, else through sudo). Servers such
# as nginx install to /usr/sbin, which a normal user's PATH may lack.
define apt_install
	@{ command -v $(1) || [ -x /usr/sbin/$(1) ]; } >/dev/null || { \
	  echo "installing $(1)"; \
	  if [ "$$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1) >/dev/null; }
endef

install-wrk:
	$(call apt_install,wrk)

install-valgrind:
	$(call apt_install,valgrind)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

install: $(VENV)/.installed-runtime
install-dev: $(VENV)/.installed-dev
vendor: static/vendor/htmx.min.js

$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Reinstall only when the pinned requirements change (the stamp is older than the file).
$(VENV)/.installed-runtime: requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed-runtime $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

static/vendor/htmx.min.js: node_modules/.package-lock.json
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx.min.js

clean:
	rm -rf $(VENV) node_modules static/vendor .pytest_cache .ruff_cache

# ---- backups (app/backup.py): FILE=path; restore goes into an empty database unless
# RESTORE_ARGS="--force" (or --into URL). SQLite: the online backup API; PostgreSQL: pg_dump.
.PHONY: backup restore
backup: install
	@test -n "$(FILE)" || { echo "make backup FILE=path/to/backup"; exit 2; }
	$(FLASK) backup "$(FILE)"

restore: install
	@test -n "$(FILE)" || { echo "make restore FILE=path/to/backup [RESTORE_ARGS=--force]"; exit 2; }
	$(FLASK) restore "$(FILE)" $(RESTORE_ARGS)
