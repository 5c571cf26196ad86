# The README's two commands: `make demo` and `make test`. Each sets up what it needs.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench fuzz clean swipl postgres chromium

swipl:
	@command -v swipl >/dev/null 2>&1 || { \
	  echo "Installing SWI-Prolog (swi-prolog-nox)…"; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends swi-prolog-nox; }

# PostgreSQL 15 for the store's second backend; the tests start their own server with it.
postgres:
	@scripts/postgres.sh install

# The report's page test drives a real headless Chromium: Debian's package.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Chromium (chromium)…"; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; }

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

# Lint the shipped rules, simulate the default 10,000 ticks into ./var/, stream the events
# into the engine and answer a few questions of rules/trading.dl; run the trading system's
# invariants (every `.never` under rules/) over the store, as CI would: a now-query evaluates
# only the relations its invariant reads (docs/architecture.md); write the run's report (five
# charts and report.html) into ./var/report/.
demo: swipl $(STAMP)
	@for f in $$(find rules -name '*.dl' | sort); do $(VENV)/bin/tempolog lint $$f || exit 1; done
	@mkdir -p var
	$(VENV)/bin/tempolog sim --db var/events.db --overwrite --engine rules/trading.dl
	$(VENV)/bin/tempolog check rules/ --db var/events.db
	$(VENV)/bin/tempolog report --db var/events.db --out var/report
	@echo
	@echo "The demo's events are in var/events.db. Ask them questions:"
	@echo "  $(VENV)/bin/tempolog serve --db var/events.db --rules rules/trading.dl   # HTTP on 127.0.0.1:8000, docs at /docs"
	@echo "  curl -s localhost:8000/query -d '{\"query\": \"self_trade(tr, c, s, q, p, t)\", \"limit\": 3}'"
	@echo "  $(VENV)/bin/tempolog repl --db var/events.db --rules rules/trading.dl    # end a query with '.', .help for commands"
	@echo "(docs/service.md and docs/repl.md say more.)"

# The store contract suite runs on SQLite and on a PostgreSQL server that the tests start
# (scripts/postgres.sh, on a temporary data directory) and stop when they end.
test: swipl postgres chromium $(STAMP)
	$(VENV)/bin/ruff check engine sim api tests bench
	$(PY) -m pytest

# Benchmarks are never tests; results go to docs/benchmarks.md by hand, with the machine.
bench: swipl postgres $(STAMP)
	$(PY) -m bench.parse
	$(PY) -m bench.engine
	$(PY) -m bench.sim
	$(PY) -m bench.store
	$(PY) -m bench.replay

# The long fuzz run (a few minutes): figures for docs/reliability.md, by hand, with the machine.
fuzz: swipl $(STAMP)
	$(PY) -m bench.fuzz

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
