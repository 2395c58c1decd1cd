"""Understanding measured on messages kept out of training (`make bench`, or on its own:
`.venv/rasa/bin/python bench/nlu_heldout.py [model.tar.gz]`).

- Off-topic recall: the share of bench/data/offtopic_heldout.txt (CLINC150's out-of-scope
  questions) that reaches the fallback (`out_of_scope` or `nlu_fallback`) instead of
  starting a booking, a services list or "stop".
- In-domain accuracy on bench/data/indomain_heldout.tsv, strict (the labelled intent) and
  by answer (an intent whose answer is right for the message: "what times do you have"
  read as book_appointment still lists times, since both open the booking form).
- The same for Portuguese and Spanish, on bench/data/multilingual_heldout.tsv.
- Language detection on bench/data/language_heldout.tsv: the model's `language` of each
  message against the language it is written in, and how often a "clear" one is right.
- Parse latency per language (median and 95th percentile of `Agent.parse_message`), with
  each language's median as a ratio of English's, measured in the same run.

Prints one line per figure and every miss; exits 0 (figures, not a test).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import time
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


def multilingual_messages() -> list[tuple[str, str, str]]:
    """(language, intent, text) of the Portuguese and Spanish held-out messages."""
    rows = [
        line.split("\t", 2)
        for line in (DATA / "multilingual_heldout.tsv").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return [(language, intent, text.strip()) for language, intent, text in rows]


def language_messages() -> list[tuple[str, str]]:
    rows = [
        line.split("\t", 1)
        for line in (DATA / "language_heldout.tsv").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return [(language[:2], text.strip()) for language, text in rows]


async def predictions(model: Path, texts: list[str]) -> tuple[list[dict], list[float]]:
    """The parse of each text and how long it took (ms)."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    await agent.parse_message("warm up")
    parsed, times = [], []
    for text in texts:
        started = time.perf_counter()
        parsed.append(await agent.parse_message(text))
        times.append((time.perf_counter() - started) * 1000)
    return parsed, times


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def report_languages(
    multilingual: list[tuple[str, str, str]],
    parsed: list[dict],
    languages: list[tuple[str, str]],
    detected: list[dict],
) -> None:
    for language in ("pt", "es"):
        rows = [
            (intent, p)
            for (lang, intent, _), p in zip(multilingual, parsed, strict=True)
            if lang == language
        ]
        names = [(intent, (p.get("intent") or {}).get("name") or "") for intent, p in rows]
        strict = sum(e == p for e, p in names)
        by_answer = sum(right_answer(e, p) for e, p in names)
        print(
            f"{language} accuracy (held out): strict {strict}/{len(rows)} ="
            f" {strict / len(rows):.3f}, by answer {by_answer}/{len(rows)} ="
            f" {by_answer / len(rows):.3f}"
        )
    found = [
        (truth, p.get("language") or {}) for (truth, _), p in zip(languages, detected, strict=True)
    ]
    right = sum(d.get("code") == truth for truth, d in found)
    clear = [(truth, d) for truth, d in found if d.get("clear")]
    clear_right = sum(d.get("code") == truth for truth, d in clear)
    print(
        f"language detection (held out): {right}/{len(found)} = {right / len(found):.3f};"
        f" clear {len(clear)}/{len(found)}, of which right {clear_right}/{len(clear)} ="
        f" {clear_right / max(1, len(clear)):.3f}"
    )
    for (truth, text), (_, d) in zip(languages, found, strict=True):
        if d.get("code") != truth:
            print(f"  {truth} -> {d.get('code')} ({d.get('confidence')}) {text}")


def report_latency(by_language: dict[str, list[float]]) -> None:
    floor = percentile(by_language["en"], 0.5)
    for language, times in by_language.items():
        p50, p95 = percentile(times, 0.5), percentile(times, 0.95)
        print(
            f"parse latency {language}: p50 {p50:.1f} ms, p95 {p95:.1f} ms,"
            f" p50 / English p50 {p50 / floor:.2f}x ({len(times)} messages)"
        )


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
    multilingual, languages = multilingual_messages(), language_messages()
    texts = (
        off
        + [text for _, text in inside]
        + [text for _, _, text in multilingual]
        + [text for _, text in languages]
    )
    everything, times = asyncio.run(predictions(model, texts))
    parsed = everything[: len(off) + len(inside)]
    start = len(off) + len(inside)
    foreign = everything[start : start + len(multilingual)]
    detected = everything[start + len(multilingual) :]
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
    report_languages(multilingual, foreign, languages, detected)
    for (language, expected, text), p in zip(multilingual, foreign, strict=True):
        name = (p.get("intent") or {}).get("name") or ""
        if not right_answer(expected, name):
            print(f"  {language} {expected:>18} -> {name:20} {text}")
    foreign_times = times[start : start + len(multilingual)]
    samples = (
        [("en", t) for t in times[len(off) : start]]
        + [(lang, t) for (lang, _, _), t in zip(multilingual, foreign_times, strict=True)]
        + [
            (lang, t)
            for (lang, _), t in zip(languages, times[start + len(multilingual) :], strict=True)
        ]
    )
    report_latency(
        {
            language: [t for lang, t in samples if lang == language]
            for language in ("en", "pt", "es")
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
