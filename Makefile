# Booka: `make demo` runs the product, `make test` runs every test. Both set up what they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export PYTHONPATH := $(CURDIR)

SVC := .venv/services
RASA := .venv/rasa
SVC_PY := $(SVC)/bin/python
RASA_PY := $(RASA)/bin/python
# The Rasa CLI on the project's own layout: domain and data under bot/, config at the root.
RASA_CLI := TF_CPP_MIN_LOG_LEVEL=3 RASA_TELEMETRY_ENABLED=false $(RASA)/bin/rasa
RASA_PROJECT := --domain bot/domain.yml --config config.yml

.PHONY: help setup setup-services setup-rasa setup-browser setup-deploy-tools demo test test-fast bench profile migrate seed services-up clean \
        train validate rasa-test nlu-report actions rotate-keys lint admin-messages

help:
	@echo "make demo    set up, seed and run Booka locally (embedded SQLite; DATABASE_URL for PostgreSQL)"
	@echo "make test    set up and run every test (needs PostgreSQL and Redis on 127.0.0.1)"
	@echo "make lint    ruff format --check and ruff check over the tree (make test runs it first)"
	@echo "make bench   performance figures of the booking service and the assistant (PostgreSQL)"
	@echo "make profile where a turn's CPU goes, alone and under load (py-spy; reports/profile/)"
	@echo "make setup   build both virtual environments (.venv/services, .venv/rasa)"
	@echo "make migrate / make seed   bring the database to the newest schema / add the demo tenants"
	@echo "make train   train the Rasa model into models/ (skipped when data and config are unchanged)"
	@echo "make validate      rasa data validate: domain, NLU data, rules and stories agree"
	@echo "make rasa-test     run the test conversations in bot/tests/ (rasa test, must be 100%)"
	@echo "make rotate-keys   re-seal customer data, booking notes and transcripts with the newest key"
	@echo "make nlu-report    5-fold cross-validation; intent and entity F1 (reports/ is not committed)"
	@echo "make admin-messages  extract the web app's texts and merge them into admin/locale/*/admin.po"

setup: setup-services setup-rasa

setup-browser:
	@scripts/install-chromium

setup-deploy-tools:
	@scripts/install-deploy-tools

setup-services:
	@scripts/make-venv $(SVC) requirements/services.lock

setup-rasa:
	@scripts/make-venv $(RASA) requirements/rasa.lock

migrate: setup-services
	$(SVC_PY) -m booking_service migrate
	$(SVC_PY) -m tenant_engine migrate
	$(SVC_PY) -m admin migrate
	$(SVC_PY) -m outreach migrate

# After putting a new key first in BOOKA_SECRET_KEYS: re-seal everything with it (then drop the old key).
rotate-keys: migrate setup-rasa
	$(SVC_PY) -m booking_service rotate-keys
	$(SVC_PY) -m outreach rotate-keys
	$(RASA_PY) -m bot.tracker_store rotate-keys

seed: migrate
	$(SVC_PY) -m booking_service seed
	$(SVC_PY) -m admin demo-users

demo: setup seed train
	@scripts/demo

test: lint setup train setup-browser setup-deploy-tools
	@scripts/services-up
	$(RASA_PY) -m pytest --noconftest -p no:cacheprovider -W ignore::pytest.PytestConfigWarning -q tests/assistant_unit
	$(SVC_PY) -m pytest tests --ignore=tests/assistant_unit

# Formatting and lint rules live in pyproject.toml ([tool.ruff]); `ruff format .` fixes the first.
lint: setup-services
	$(SVC)/bin/ruff format --check --quiet .
	$(SVC)/bin/ruff check --quiet .

train: setup-rasa
	@$(RASA_PY) scripts/train.py

validate: setup-rasa
	$(RASA_PY) scripts/validate.py

rasa-test: train
	$(RASA_PY) scripts/rasa_test.py

nlu-report: setup-rasa
	$(RASA_PY) scripts/nlu_report.py

test-fast: setup-services
	$(SVC_PY) -m pytest tests -m "not slow" --ignore=tests/assistant_unit

bench: setup train
	@scripts/services-up
	$(SVC_PY) bench/template_limits.py
	$(SVC_PY) bench/booking_bench.py
	$(SVC_PY) bench/assistant_bench.py
	$(SVC_PY) bench/whatsapp_bench.py
	$(SVC_PY) bench/scaling_bench.py
	$(SVC_PY) bench/outreach_bench.py
	@scripts/make-venv .venv/arq requirements/arq.lock
	$(SVC_PY) bench/job_engines.py
	$(SVC_PY) bench/login_storm.py
	$(RASA_PY) bench/nlu_heldout.py
	$(SVC_PY) bench/customer_simulator.py

profile: setup train
	@scripts/services-up
	$(SVC_PY) bench/turn_profile.py
	$(SVC_PY) bench/load_profile.py

# The owners' web app's texts: extracted from admin/ (code and pages) into messages.pot, merged
# into each language's admin.po for a translator (tests/admin/test_i18n.py checks both).
ADMIN_LANGUAGES := pt_PT pt_BR es
admin-messages: setup-services
	$(SVC)/bin/pybabel extract -F admin/babel.cfg -k lazy -k N_ --no-location --sort-output \
	    --project=Booka --copyright-holder=Booka -o admin/locale/messages.pot .
	for language in $(ADMIN_LANGUAGES); do \
	    $(SVC)/bin/pybabel update -i admin/locale/messages.pot -d admin/locale -D admin \
	        -l $$language --no-fuzzy-matching --ignore-obsolete --width=100; done

clean:
	rm -rf .venv var .pytest_cache .hypothesis
