"""Both virtual environments exist with what FACTS.md says each one needs."""

from __future__ import annotations

import subprocess

from tests.conftest import ROOT

RASA_PY = ROOT / ".venv/rasa/bin/python"


def test_the_rasa_environment_has_rasa_3_6_21_and_can_import_the_shared_package():
    script = (
        "import importlib.metadata as m, sys; "
        "import booka_common.crypto, booka_common.logs, booka_common.local_secrets; "
        "print(sys.version_info[:2], m.version('rasa'), m.version('rasa-sdk'), m.version('spacy'))"
    )
    result = subprocess.run(
        [str(RASA_PY), "-c", script],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["(3,", "10)", "3.6.21", "3.6.2", "3.6.1"]


def test_the_environments_are_pinned_to_their_lock_files():
    for venv, lock in (
        (".venv/services", "requirements/services.lock"),
        (".venv/rasa", "requirements/rasa.lock"),
    ):
        frozen = subprocess.run(
            [str(ROOT / venv / "bin/python"), "-m", "pip", "freeze"],
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
        pinned = {
            line.strip().lower() for line in (ROOT / lock).read_text().splitlines() if "==" in line
        }
        assert pinned <= {line.strip().lower() for line in frozen.splitlines()}, venv


def test_the_spacy_english_model_loads_by_its_own_name():
    script = (
        "import spacy; nlp = spacy.load('en_core_web_sm'); doc = nlp('Book Ana for Friday');"
        " print(nlp.pipe_names, len(doc))"
    )
    result = subprocess.run(
        [str(RASA_PY), "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "'ner'" in result.stdout and result.stdout.strip().endswith("4")


def test_every_module_of_the_shared_package_imports_in_the_rasa_environment():
    """booka_common holds only what both environments use; the services' framework is in
    services_common, which the Rasa environment never needs."""
    modules = sorted(p.stem for p in (ROOT / "booka_common").glob("*.py") if p.stem != "__init__")
    script = "import importlib; " + "; ".join(
        f"importlib.import_module('booka_common.{name}')" for name in modules
    )
    result = subprocess.run(
        [str(RASA_PY), "-c", script],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert len(modules) >= 8
