"""`make nlu-report`: 5-fold cross-validation of the NLU pipeline, summarised.

Runs `rasa test nlu --cross-validation` on bot/data/nlu with config.yml minus the Duckling
extractor (dates and times are not annotated in the training data, so Duckling would only
add unmatched predictions), writes Rasa's reports under reports/nlu/ and prints intent
macro F1 and entity F1 against the targets (0.90 and 0.85).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"intent macro F1": 0.90, "entity F1 (DIET: service, staff)": 0.85}


def config_without_duckling() -> str:
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    config["pipeline"] = [c for c in config["pipeline"] if c["name"] != "DucklingEntityExtractor"]
    handle = tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False)
    yaml.safe_dump(config, handle)
    return handle.name


def main() -> int:
    out = ROOT / "reports" / "nlu"
    folds = os.environ.get("NLU_FOLDS", "5")
    env = {
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "RASA_TELEMETRY_ENABLED": "false",
        "PYTHONPATH": str(ROOT),
    }
    command = [
        str(Path(sys.executable).parent / "rasa"),
        "test",
        "nlu",
        "--nlu",
        "bot/data/nlu",
        "--config",
        config_without_duckling(),
        "--cross-validation",
        "--folds",
        folds,
        "--out",
        str(out),
    ]
    subprocess.run(command, cwd=ROOT, env=env, check=True)
    intent = json.loads((out / "intent_report.json").read_text())
    entity = json.loads((out / "DIETClassifier_report.json").read_text())
    figures = {
        "intent macro F1": intent["macro avg"]["f1-score"],
        "entity F1 (DIET: service, staff)": entity["micro avg"]["f1-score"],
    }
    print(f"\nNLU cross-validation ({folds} folds) — reports in {out.relative_to(ROOT)}/")
    for name, value in figures.items():
        print(
            f"  {name:<34} {value:.3f}   target >= {TARGETS[name]:.2f} "
            f" {'ok' if value >= TARGETS[name] else 'BELOW TARGET'}"
        )
    weakest = sorted(
        (v["f1-score"], k)
        for k, v in intent.items()
        if isinstance(v, dict)
        and "support" in v
        and k not in ("macro avg", "weighted avg", "micro avg")
    )[:5]
    print("  weakest intents: " + ", ".join(f"{name} {score:.2f}" for score, name in weakest))
    return 0 if all(figures[name] >= TARGETS[name] for name in TARGETS) else 1


if __name__ == "__main__":
    sys.exit(main())
