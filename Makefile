# `make run` serves the API with demo data on SQLite; `make test` runs the suite.
# `make serve` is the production server (gunicorn, settings from the environment);
# `make worker` runs the Celery worker and beat schedule beside it;
# `make bench` runs the load benchmark and writes docs/PERFORMANCE.md;
# `make clients` generates the typed clients from the live schema and type-checks
# their examples (clients/check; needs Node.js and npm).
# All build .venv on first use.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
ADDRESS ?= 127.0.0.1:8000

.PHONY: install run test lint clean serve worker bench clients

install: $(BIN)/.installed

$(BIN)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

run: export DJANGO_DEBUG = 1
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo
	$(BIN)/python manage.py runserver $(ADDRESS)

test: install
	$(BIN)/python manage.py test --settings=studio.settings_test --noinput

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) staticfiles db.sqlite3 screenshots .hypothesis celerybeat-schedule*
	rm -rf clients/node_modules clients/generated

# The pinned openapi-typescript and typescript of clients/package-lock.json.
clients/node_modules/.installed: clients/package.json clients/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "make clients: needs Node.js and npm (apt-get install nodejs npm)."; exit 1; }
	npm ci --prefix clients --no-audit --no-fund
	touch $@

clients: install clients/node_modules/.installed
	clients/check

# Production: PostgreSQL, Redis and the rest from the environment as it is
# (DATABASE_URL, REDIS_URL, DJANGO_SECRET_KEY, STUDIO_JWT_SIGNING_KEY, ...);
# debug stays off. Workers and bind address: gunicorn.conf.py.
serve: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput
	$(BIN)/gunicorn -c gunicorn.conf.py

# Background work: a Celery worker that also runs the beat schedule (mail,
# reminders, upkeep), with the environment as it is; needs REDIS_URL as the
# broker. With more machines: workers anywhere, and one `celery -A studio beat`.
worker: install
	@test -n "$$REDIS_URL" || { echo "make worker: set REDIS_URL, the broker (make run needs no worker)."; exit 1; }
	$(BIN)/celery -A studio worker --beat --loglevel=INFO

# Both databases at both scales (about 8 minutes on 2 CPUs); needs PostgreSQL
# and Redis on 127.0.0.1. BENCH_ARGS is passed to every run.
BENCH_ARGS ?=
bench: export BENCH_FROM_MAKE = 1
bench: install
	$(BIN)/python bench/load.py --database sqlite --slots 1000 $(BENCH_ARGS)
	$(BIN)/python bench/load.py --database sqlite --slots 100000 $(BENCH_ARGS)
	$(BIN)/python bench/load.py --database postgres --slots 1000 $(BENCH_ARGS)
	$(BIN)/python bench/load.py --database postgres --slots 100000 $(BENCH_ARGS)
