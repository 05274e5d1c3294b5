# Partner Portal — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PACKAGES := ./shared ./services/customers ./services/subscriptions ./services/billing ./services/notifications ./services/gateway
STAMP := $(VENV)/.installed

.PHONY: run test chaos bench install chromium asyncapi contracts clean

$(STAMP): $(wildcard */pyproject.toml services/*/pyproject.toml)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(addprefix -e ,$(PACKAGES)) -e './stack[test]'
	touch $(STAMP)

install: $(STAMP)

## make chromium: Debian's Chromium for the browser tests (tests/browser), installed when missing (needs root, as CI).
chromium:
	test -x /usr/bin/chromium || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)

## make run: the whole system on this machine (embedded PostgreSQL, Tansu, SMTP catcher), until Ctrl-C.
run: $(STAMP)
	$(PY) -m portal_stack run

## make test: unit, integration and end-to-end tests against a real PostgreSQL and a real Kafka-protocol broker.
test: $(STAMP) chromium
	$(PY) -m pytest

## make chaos: the fault and fuzz tests in their longer form (the bounded form runs in make test).
chaos: $(STAMP)
	CHAOS_ROUNDS=3 CHAOS_CLIENTS=6 FUZZ_BAD_PER_TOPIC=300 $(PY) -m pytest tests/chaos -q -s

## make bench: the reference figures, then every benchmark and a partner day (real system on this machine);
## reports in bench/results/.
bench: $(STAMP)
	$(PY) -m pip install --quiet -e './stack[bench]'
	$(PY) -m bench.run

## make asyncapi: the AsyncAPI document of every service, written to docs/asyncapi/.
asyncapi: $(STAMP)
	mkdir -p docs/asyncapi
	for service in customers subscriptions billing notifications; do \
	  $(VENV)/bin/faststream docs gen --factory portal_$$service.app:asyncapi --yaml --out docs/asyncapi/$$service.yaml || exit 1; \
	done

## make contracts: rewrite the event-contract snapshots after an intended, compatible change.
contracts: $(STAMP)
	$(PY) -m portal_shared.contracts shared/contracts

clean:
	rm -rf $(VENV) .portal
