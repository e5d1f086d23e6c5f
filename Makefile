# Two commands on a fresh machine: `make demo` and `make test`. Nothing needed beyond python3.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DB     ?= data/workbench.duckdb
STAMP  := $(VENV)/.installed

.PHONY: demo test setup browser-deps bench clean lint layout

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

setup: $(STAMP)

## demo: set up, load the bundled synthetic sample, print the first cross-review table, write the summary report.
demo: $(STAMP)
	rm -rf $(DB) $(DB).* $(DB)-*
	$(BIN)/lt-workbench load data/sample data/examples --db $(DB)
	$(BIN)/lt-workbench info --db $(DB)
	@echo
	@echo
	@echo "Patterns (level 2) by number of reviews and areas, public disclosure control:"
	$(BIN)/lt-workbench recurrence --db $(DB) --level 2 --format markdown
	@echo
	@echo "Cross-review summary report (public), executed headlessly with papermill:"
	$(BIN)/lt-workbench report cross_review_summary --db $(DB)
	@echo
	@echo "Open the html file above in a browser; for the interactive explorer run"
	@echo "  $(BIN)/jupyter lab notebooks/explorer.ipynb"

## browser-deps: Debian's Chromium for the real-browser test (skipped where apt is unavailable).
browser-deps:
	@if [ -x /usr/bin/chromium ]; then echo "chromium present"; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "WARNING: could not install chromium; the browser test will be skipped"; \
	else echo "WARNING: no root apt-get; the browser test will be skipped"; fi

## test: set up and run every test; nbval also runs every notebook in notebooks/ on a fresh sample database.
test: $(STAMP) browser-deps lint
	@D=$$(mktemp -d) && $(BIN)/lt-workbench load data/sample data/examples --db $$D/notebooks.duckdb >/dev/null \
	  && LT_WORKBENCH_DB=$$D/notebooks.duckdb $(BIN)/python -m pytest -q --nbval-lax tests notebooks; \
	  rc=$$?; rm -rf $$D; exit $$rc

## lint: ruff, mypy (strict) and the module-size check; make test runs it first.
lint: $(STAMP)
	$(BIN)/ruff check lt_workbench tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m lt_workbench.devtools.layout >/dev/null

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_load.py
	$(BIN)/python benchmarks/bench_tabulate.py
	$(BIN)/python benchmarks/bench_widgets.py
	$(BIN)/python benchmarks/bench_ab.py

clean:
	rm -rf $(VENV) $(DB) $(DB).* $(DB)-*
