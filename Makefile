# Booka: `make demo` runs the product, `make test` runs every test. Both set up what they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export PYTHONPATH := $(CURDIR)

SVC := .venv/services
RASA := .venv/rasa
SVC_PY := $(SVC)/bin/python
RASA_PY := $(RASA)/bin/python

.PHONY: help setup setup-services setup-rasa demo test test-fast bench migrate seed services-up clean

help:
	@echo "make demo    set up, seed and run Booka locally (embedded SQLite; DATABASE_URL for PostgreSQL)"
	@echo "make test    set up and run every test (needs PostgreSQL and Redis on 127.0.0.1)"
	@echo "make bench   performance figures of the booking service (PostgreSQL)"
	@echo "make setup   build both virtual environments (.venv/services, .venv/rasa)"
	@echo "make migrate / make seed   bring the database to the newest schema / add the demo tenants"

setup: setup-services setup-rasa

setup-services:
	@scripts/make-venv $(SVC) requirements/services.lock

setup-rasa:
	@scripts/make-venv $(RASA) requirements/rasa.lock
	@TF_CPP_MIN_LOG_LEVEL=3 $(RASA_PY) scripts/package_spacy_model.py

migrate: setup-services
	$(SVC_PY) -m booking_service migrate

seed: migrate
	$(SVC_PY) -m booking_service seed

demo: setup seed
	@scripts/demo

test: setup
	@scripts/services-up
	$(SVC_PY) -m pytest tests

test-fast: setup-services
	$(SVC_PY) -m pytest tests -m "not slow"

bench: setup-services
	@scripts/services-up
	$(SVC_PY) bench/booking_bench.py

clean:
	rm -rf .venv var .pytest_cache .hypothesis
