"""The held-out sets of `bench/nlu_heldout.py` measure words the model never saw: none of
their lines may appear in the training data (`bot/data/nlu`)."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def normalise(text: str) -> str:
    return re.sub(
        r"[^a-z0-9 ]",
        "",
        re.sub(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\{[^}]*\}", r"\1\2", text.lower()),
    ).strip()


def training_examples() -> set[str]:
    """The intents' examples, in every language's folder (the lexicon's word lists are
    vocabulary, not examples: "hello" may be held out and still be a greeting word)."""
    examples = set()
    for path in (ROOT / "bot/data/nlu").rglob("*.yml"):
        for block in yaml.safe_load(path.read_text()).get("nlu", []):
            if "intent" not in block:
                continue
            for line in str(block.get("examples", "")).splitlines():
                examples.add(normalise(line.lstrip("- ")))
    return examples


def heldout_lines() -> list[str]:
    offtopic = (ROOT / "bench/data/offtopic_heldout.txt").read_text().splitlines()
    indomain = [
        line.split("\t", 1)[1]
        for line in (ROOT / "bench/data/indomain_heldout.tsv").read_text().splitlines()
        if "\t" in line and not line.startswith("#")
    ]
    multilingual = [
        line.split("\t", 2)[2]
        for line in (ROOT / "bench/data/multilingual_heldout.tsv").read_text().splitlines()
        if line.count("\t") == 2 and not line.startswith("#")
    ]
    languages = [
        line.split("\t", 1)[1]
        for line in (ROOT / "bench/data/language_heldout.tsv").read_text().splitlines()
        if "\t" in line and not line.startswith("#")
    ]
    lines = offtopic + indomain + multilingual + languages
    return [line for line in lines if line.strip() and not line.startswith("#")]


def test_no_held_out_line_is_in_the_training_data():
    seen = training_examples()
    assert len(seen) > 500
    leaked = [line for line in heldout_lines() if normalise(line) in seen]
    assert not leaked, f"held-out lines found in bot/data/nlu: {leaked[:40]}"
