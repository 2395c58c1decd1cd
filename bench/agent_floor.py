"""The floor for the assistant benchmark, in the Rasa environment: the model in-process.

Prints JSON with p50/p99 (ms) of `Agent.parse_message` (NLU only) and of bare
`Agent.handle_text` (NLU + policies, in-memory tracker, no action server) on messages that
need no custom action. Usage: agent_floor.py MODEL ROUNDS
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
logging.disable(logging.WARNING)

from rasa.core.agent import Agent  # noqa: E402

MESSAGES = ["thanks a lot", "are you a bot?", "bye for now", "what's the weather like", "cheers mate", "is this a robot"]


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"p50": ordered[len(ordered) // 2] * 1000, "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000}


async def main(model: str, rounds: int) -> None:
    agent = Agent.load(model)
    for text in MESSAGES:  # warm-up
        await agent.parse_message(text)
        await agent.handle_text(text, sender_id="bella-salon:warmup")
    parse, turn = [], []
    for index in range(rounds):
        text = MESSAGES[index % len(MESSAGES)]
        started = time.perf_counter()
        await agent.parse_message(text)
        parse.append(time.perf_counter() - started)
        started = time.perf_counter()
        await agent.handle_text(text, sender_id=f"bella-salon:35191{index % 50:07d}")
        turn.append(time.perf_counter() - started)
    print(json.dumps({"parse": percentiles(parse), "handle_text": percentiles(turn)}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
