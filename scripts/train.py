"""`make train`: train the Rasa model into models/, or say it is up to date.

Rasa 3 restores unchanged components from its cache but still writes a new model file on
every `rasa train`. This trains only when the inputs changed: the fingerprint covers
config.yml, the domain, the training data, the custom policies and featurizer, and the
pinned Rasa environment. Models are named `booka-<fingerprint>.tar.gz`; the three newest are kept.
Prints the model's path last.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"
INPUTS = [
    "config.yml",
    "bot/domain.yml",
    "bot/policies.py",
    "bot/featurizers.py",
    "bot/intent_checks.py",
    "bot/language.py",
    "bot/duckling.py",
    "bot/intent_classifier.py",
    "bot/entity_extractor.py",
    "bot/recent.py",
    "requirements/rasa.lock",
]
KEEP = 3


def fingerprint() -> str:
    digest = hashlib.sha256()
    files = [ROOT / name for name in INPUTS] + sorted((ROOT / "bot/data").rglob("*.yml"))
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def main() -> int:
    name = f"booka-{fingerprint()}"
    model = MODELS / f"{name}.tar.gz"
    if model.exists():
        print(f"Model is up to date (data, domain and config unchanged): {model.relative_to(ROOT)}")
        model.touch()  # the newest model is the one Rasa loads from models/
        return 0
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "RASA_TELEMETRY_ENABLED": "false",
    }
    command = [
        str(Path(sys.executable).parent / "rasa"),
        "train",
        "--domain",
        "bot/domain.yml",
        "--config",
        "config.yml",
        "--data",
        "bot/data",
        "--out",
        str(MODELS),
        "--fixed-model-name",
        name,
    ]
    result = subprocess.run(command, cwd=ROOT, env=env)
    if result.returncode != 0 or not model.exists():
        return result.returncode or 1
    for old in sorted(MODELS.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime, reverse=True)[
        KEEP:
    ]:
        old.unlink()
    print(f"Trained: {model.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
