"""Understanding measured on messages kept out of training (`make bench`, or on its own:
`.venv/rasa/bin/python bench/nlu_heldout.py [model.tar.gz]`).

- Off-topic recall: the share of bench/data/offtopic_heldout.txt (CLINC150's out-of-scope
  questions) that reaches the fallback (`out_of_scope` or `nlu_fallback`) instead of
  starting a booking, a services list or "stop".
- In-domain accuracy on bench/data/indomain_heldout.tsv, strict (the labelled intent) and
  by answer (an intent whose answer is right for the message: "what times do you have"
  read as book_appointment still lists times, since both open the booking form).

Prints one line per figure and every miss; exits 0 (figures, not a test).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the model names components in bot/
DATA = ROOT / "bench" / "data"
FALLBACKS = {"out_of_scope", "nlu_fallback"}
# Intents with the same answer: the booking form opens for all three.
SAME_ANSWER = [
    {"book_appointment", "check_availability", "inform"},
    {"goodbye", "thank"},
    {"deny", "stop"},
]


def offtopic_messages() -> list[str]:
    return [
        line.strip()
        for line in (DATA / "offtopic_heldout.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]


def indomain_messages() -> list[tuple[str, str]]:
    rows = [
        line.split("\t", 1)
        for line in (DATA / "indomain_heldout.tsv").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return [(intent, text.strip()) for intent, text in rows]


def right_answer(expected: str, predicted: str) -> bool:
    return predicted == expected or any({expected, predicted} <= group for group in SAME_ANSWER)


async def predictions(model: Path, texts: list[str]) -> list[dict]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    return [await agent.parse_message(text) for text in texts]


def main() -> int:
    os.environ.update(
        TF_CPP_MIN_LOG_LEVEL="3",
        RASA_TELEMETRY_ENABLED="false",
        RASA_DUCKLING_HTTP_URL=os.environ.get("DUCKLING_URL", "http://127.0.0.1:9"),
    )
    logging.disable(logging.WARNING)
    models = sorted((ROOT / "models").glob("booka-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    model = Path(sys.argv[1]) if len(sys.argv) > 1 else models[-1]
    off, inside = offtopic_messages(), indomain_messages()
    parsed = asyncio.run(predictions(model, off + [text for _, text in inside]))
    if os.environ.get(
        "NLU_HELDOUT_DUMP"
    ):  # the parse results, to study the off-topic check's scores
        Path(os.environ["NLU_HELDOUT_DUMP"]).write_text(json.dumps(parsed, default=str))
    predicted = [(p.get("intent") or {}).get("name") or "" for p in parsed]
    off_pred, in_pred = predicted[: len(off)], predicted[len(off) :]
    reached = sum(p in FALLBACKS for p in off_pred)
    strict = sum(p == e for (e, _), p in zip(inside, in_pred, strict=False))
    by_answer = sum(right_answer(e, p) for (e, _), p in zip(inside, in_pred, strict=False))
    print(f"model: {model.name}")
    print(
        f"off-topic recall (held out, CLINC150 oos): {reached}/{len(off)} ="
        f" {reached / len(off):.3f}"
    )
    print(
        f"in-domain accuracy (held out): strict {strict}/{len(inside)} ="
        f" {strict / len(inside):.3f}, by answer {by_answer}/{len(inside)} ="
        f" {by_answer / len(inside):.3f}"
    )
    print(
        "off-topic messages that did not reach the fallback, by intent:",
        dict(Counter(p for p in off_pred if p not in FALLBACKS).most_common()),
    )
    for text, p in zip(off, off_pred, strict=False):
        if p not in FALLBACKS:
            print(f"  off-topic -> {p:20} {text}")
    for (expected, text), p in zip(inside, in_pred, strict=False):
        if not right_answer(expected, p):
            print(f"  {expected:>18} -> {p:20} {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
