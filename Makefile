# Trede — two commands: `make run` (embedded platform at http://127.0.0.1:8000) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
STAMP_PY := $(VENV)/.installed
STAMP_NODE := node_modules/.installed
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/postgres

.PHONY: run test lint install browser pango migrations clean lock

install: $(STAMP_PY) $(STAMP_NODE) pango

# Python packages come from the hashed lock file only (regenerate with `make lock`).
# requirements.lock: everything a developer and CI need; requirements-prod.lock: only what production runs
# (the container image installs that one).
$(STAMP_PY): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"
	$(BIN)/uv pip sync --quiet --python $(BIN)/python --require-hashes requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps --no-build-isolation -e .
	touch $@

$(STAMP_NODE): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 --generate-hashes -o requirements.lock -q
	$(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes -o requirements-prod.lock -q

# WeasyPrint (letters, dossier exports) needs Debian's pango; chromium brings it too, but not every machine has that.
pango:
	@/sbin/ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0 || { \
		echo "Installing Debian's pango for WeasyPrint"; \
		if [ "$$(id -u)" = "0" ]; then apt-get update -qq && apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0; \
		else sudo apt-get update -qq && sudo apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0; fi; }

# Browser tests drive Debian's Chromium (never a downloaded browser build).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium for the browser tests"; \
		if [ "$$(id -u)" = "0" ]; then apt-get update -qq && apt-get install -y -qq chromium; \
		else sudo apt-get update -qq && sudo apt-get install -y -qq chromium; fi; }

# `make run` logs in through a local OpenID provider (infra/oidc-dev, demo accounts, no passwords), started
# alongside Trede and stopped with it. Set OIDC_PROVIDERS yourself to use another provider as well/instead.
DEV_OP_PORT ?= 8090
# make run PORT=8080 serves on another port (the local OpenID provider and BASE_URL follow)
PORT ?= 8000
OIDC_PROVIDERS ?= [{"name": "dev", "issuer": "http://127.0.0.1:$(DEV_OP_PORT)", "client_id": "trede-dev", \
	"client_secret": "trede-dev-secret", "label": "de lokale OpenID-provider (demo-accounts)"}]

run: install
	@mkdir -p var
	@OIDC_DEV_PORT=$(DEV_OP_PORT) OIDC_DEV_REDIRECT_URIS=http://127.0.0.1:$(PORT)/auth/callback/dev \
	OIDC_DEV_POST_LOGOUT_REDIRECT_URIS=http://127.0.0.1:$(PORT)/ node infra/oidc-dev/server.mjs & op=$$!; \
	trap 'kill $$op 2>/dev/null; wait $$op 2>/dev/null' EXIT; \
	BASE_URL=$${BASE_URL:-http://127.0.0.1:$(PORT)} OIDC_PROVIDERS='$(OIDC_PROVIDERS)' $(BIN)/trede serve --embedded --port $(PORT)

# The whole suite on the embedded database (SQLite); with CI=true (or PostgreSQL reachable) once more on PostgreSQL.
test: install browser
	$(BIN)/ruff check .
	$(BIN)/python -m pytest
	@if [ "$$CI" = "true" ] || pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then \
		echo "== the same suite on PostgreSQL =="; \
		TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/python -m pytest; \
	fi

lint: install
	$(BIN)/ruff check .

# New auto migration for one app after changing its tables: make migrations APP=escalations
migrations: install
	@mkdir -p var
	DATABASE_URL=sqlite:///var/migrations-scratch-$(APP).sqlite3 $(BIN)/piccolo migrations new $(APP) --auto

clean:
	rm -rf $(VENV) node_modules var/migrations-scratch-*.sqlite3
