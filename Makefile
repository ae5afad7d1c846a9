# Fieldaudit: `make run` starts the app with demo data; `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test setup syscheck translations lint typecheck bench clean

run: setup instance/secret_key
	$(FLASK) db upgrade
	$(FLASK) checklists sync
	$(FLASK) demo
	$(FLASK) run --host $(HOST) --port $(PORT)

test: $(VENV)/.test-installed syscheck translations
	$(BIN)/ruff check .
	$(BIN)/mypy app
	$(BIN)/python -m pytest $(PYTEST_ARGS)

setup: $(VENV)/.installed syscheck translations

syscheck:
	@$(PYTHON) -c "import sys; sys.exit(0 if sys.version_info >= (3, 11) else 'Python 3.11 or newer is needed')"
	@missing=""; \
	for lib in libpango-1.0.so.0 libpangoft2-1.0.so.0 libharfbuzz.so.0; do \
	  ldconfig -p | grep -q "$$lib" || missing="$$missing $$lib"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "WeasyPrint (PDF reports) needs system libraries that are missing:$$missing"; \
	  echo "On Debian/Ubuntu: sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b fonts-dejavu-core"; \
	  exit 1; \
	fi
	@fc-list 2>/dev/null | grep -qi dejavu || echo "note: fonts-dejavu-core is not installed; PDFs need a font with Cyrillic (apt-get install fonts-dejavu-core)"

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.test-installed: requirements.txt requirements-test.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-test.txt
	touch $(VENV)/.installed $@

translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d app/translations

instance/secret_key:
	@mkdir -p instance
	@$(PYTHON) -c "import secrets; print(secrets.token_hex(32))" > $@
	@chmod 600 $@

lint: $(VENV)/.test-installed
	$(BIN)/ruff check .

typecheck: $(VENV)/.test-installed
	$(BIN)/mypy app

bench: $(VENV)/.test-installed
	$(BIN)/pip install -q -r bench/requirements.txt
	for script in bench/bench_*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) instance/fieldaudit.db
