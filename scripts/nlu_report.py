"""`make nlu-report`: 5-fold cross-validation of the NLU pipeline, summarised.

Runs `rasa test nlu --cross-validation` on bot/data/nlu with config.yml minus the Duckling
extractor (dates and times are not annotated in the training data, so Duckling would only
add unmatched predictions), writes Rasa's reports under reports/nlu/ and prints intent
macro F1 and entity F1 against the targets (0.90 and 0.85), overall and for each language
the examples are written in (`metadata: {language: ...}` on the blocks under
bot/data/nlu/pt/ and es/; English without).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"intent macro F1": 0.90, "entity F1 (DIET: service, staff)": 0.85}


def config_without_duckling() -> str:
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    config["pipeline"] = [c for c in config["pipeline"] if "Duckling" not in c["name"]]
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
        "--successes",
    ]
    subprocess.run(command, cwd=ROOT, env=env, check=True)
    intent = json.loads((out / "intent_report.json").read_text())
    entity = json.loads((out / "RememberingDIETClassifier_report.json").read_text())
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
    per_language = language_f1(out)
    for language, score in per_language.items():
        verdict = "ok" if score >= TARGETS["intent macro F1"] else "BELOW TARGET"
        print(f"  intent macro F1, {language:<20} {score:.3f}   target >= 0.90  {verdict}")
    targets_met = all(figures[name] >= TARGETS[name] for name in TARGETS) and all(
        score >= TARGETS["intent macro F1"] for score in per_language.values()
    )
    return 0 if targets_met else 1


def example_languages() -> dict[str, str]:
    """The language of every training example's text (as `rasa test` reports it)."""
    languages = {}
    for path in sorted((ROOT / "bot/data/nlu").rglob("*.yml")):
        for block in yaml.safe_load(path.read_text()).get("nlu", []):
            if "intent" not in block:
                continue
            language = (block.get("metadata") or {}).get("language", "en")
            for line in block["examples"].splitlines():
                if line.strip().startswith("- "):
                    languages[plain_text(line.strip()[2:])] = language
    return languages


def plain_text(example: str) -> str:
    """ "[corte](service) amanhã" as `rasa test` writes it: "corte amanhã"."""
    return re.sub(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\{[^}]*\}", r"\1\2", example).strip()


def language_f1(out: Path) -> dict[str, float]:
    """Intent macro F1 over each language's examples, from the cross-validation's per-example
    successes and errors."""
    from sklearn.metrics import f1_score

    languages = example_languages()
    rows = json.loads((out / "intent_successes.json").read_text()) + json.loads(
        (out / "intent_errors.json").read_text()
    )
    by_language: dict[str, tuple[list[str], list[str]]] = {}
    for row in rows:
        language = languages.get(row["text"].strip(), "en")
        truth, predicted = by_language.setdefault(language, ([], []))
        truth.append(row["intent"])
        predicted.append((row.get("intent_prediction") or {}).get("name") or "")
    return {
        language: f1_score(truth, predicted, average="macro", labels=sorted(set(truth)))
        for language, (truth, predicted) in sorted(by_language.items())
    }


if __name__ == "__main__":
    sys.exit(main())
