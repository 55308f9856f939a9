# Two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.installed

API_TESTS := tests/api tests/downloads tests/playlists tests/shorts_api tests/edge

.PHONY: run test test-postgres fuzz system-deps venv install axe lint bench clean

# Debian packages: ffmpeg for media, espeak-ng for the test talk, fonts-dejavu-core for the
# burned-in captions (libass draws them in DejaVu Sans), chromium for the browser tests
# (Playwright drives /usr/bin/chromium; `playwright install` is never run), npm for axe-core in
# the accessibility tests. Installed only when we are root on Debian; elsewhere clipmill falls
# back to imageio-ffmpeg's bundled binary.
system-deps:
	@if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	  missing=""; \
	  command -v ffmpeg >/dev/null 2>&1 || missing="$$missing ffmpeg"; \
	  command -v espeak-ng >/dev/null 2>&1 || missing="$$missing espeak-ng"; \
	  [ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing="$$missing fonts-dejavu-core"; \
	  command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	  [ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	  command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	  if [ -n "$$missing" ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  fi; \
	else echo "not root on Debian: skipping apt (ffmpeg falls back to imageio-ffmpeg)"; fi

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PIP) install -q -e ".[test,scaled]"
	touch $(STAMP)

install: $(STAMP)

# axe-core for the accessibility tests (tests/e2e/test_accessibility.py), pinned with its
# integrity hash in tests/e2e/axe/package-lock.json and installed by `npm ci`: node_modules is
# never committed. Without npm the step says so and those tests skip, saying why.
AXE := tests/e2e/axe/node_modules/axe-core/axe.min.js

$(AXE): tests/e2e/axe/package.json tests/e2e/axe/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --prefix tests/e2e/axe --no-audit --no-fund --loglevel=error && touch $(AXE); \
	else echo "no npm: skipping axe-core (the accessibility tests will skip)"; fi

axe: $(AXE)

run: install
	@if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1 && ! command -v ffmpeg >/dev/null 2>&1; then $(MAKE) system-deps; fi
	$(VENV)/bin/clipmill serve

# The whole suite, then the API tests again behind authentication (auth=users, an API key).
test: system-deps install axe
	$(PY) -m pytest -q
	CLIPMILL_TEST_AUTH=users $(PY) -m pytest -q $(API_TESTS)

# The job, API, download, playlist and shorts-API tests again on PostgreSQL (root on Debian).
test-postgres: system-deps install
	CLIPMILL_TEST_DATABASE_URL=$$(bash scripts/postgres-for-tests.sh) \
	  $(PY) -m pytest -q tests/jobs tests/api tests/downloads tests/playlists tests/shorts_api

# A long run of the API fuzz test (make test runs 25 cases per operation).
fuzz: install
	CLIPMILL_FUZZ_EXAMPLES=$${CLIPMILL_FUZZ_EXAMPLES:-1000} $(PY) -m pytest -q --timeout=0 tests/api/test_fuzz.py

lint: install
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy src

bench: install
	$(PY) bench/download_vs_ytdlp.py

clean:
	rm -rf $(VENV) data .pytest_cache
