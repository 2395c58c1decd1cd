"""The floor for the assistant benchmark, in the Rasa environment: the model in-process.

Prints JSON with p50/p99 (ms) of `Agent.parse_message` (NLU only) and of bare
`Agent.handle_text` (NLU + policies, in-memory tracker, no action server) on messages that
the domain's responses answer. Without an action server the session cannot start (our
`action_session_start` is a custom action, and a turn after a failed start runs no action
at all), so each conversation is given the events that action writes, as the server's
conversations have them; every timed turn must then end with the bot's reply. The
pipeline's Duckling is the stack's (DUCKLING_URL), as for the Rasa server.
The same turn is also timed in conversations that already had HISTORY turns: Rasa's
policies read the whole tracker at every prediction, so a long conversation costs more even
without an action server, and the stack's turns are compared with the floor at equal length.
Usage: agent_floor.py MODEL ROUNDS [HISTORY]
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
for _name in (
    "TF_INTRA_OP_PARALLELISM_THREADS",
    "TF_INTER_OP_PARALLELISM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
):
    os.environ.setdefault(_name, "1")  # as scripts/run_rasa.py serves the model
if os.environ.get("DUCKLING_URL"):
    os.environ["RASA_DUCKLING_HTTP_URL"] = os.environ["DUCKLING_URL"]
logging.disable(logging.WARNING)

from rasa.core.agent import Agent  # noqa: E402
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet  # noqa: E402
from rasa.utils.log_utils import configure_structlog  # noqa: E402

# Rasa's structured log as `rasa run` sets it up: debug lines are dropped where they are
# made, instead of being rendered (a tenth of the floor's CPU went to rendering them)
configure_structlog(logging.WARNING)

MESSAGES = [
    "thanks a lot",
    "are you a bot?",
    "bye for now",
    "thank you so much",
    "cheers mate",
    "is this a robot",
]
SENDERS = [f"bella-salon:35191{number:07d}" for number in range(50)]
LONG_SENDERS = [f"bella-salon:35194{number:07d}" for number in range(20)]


async def start_sessions(agent: Agent, senders: list[str]) -> None:
    """The events our action_session_start writes for a customer of the demo salon."""
    for sender in senders:
        tracker = await agent.tracker_store.get_or_create_tracker(
            sender, append_action_listen=False
        )
        tracker.update_with_events(
            [
                ActionExecuted("action_session_start"),
                SessionStarted(),
                SlotSet("tenant", "bella-salon"),
                SlotSet("tenant_unknown", False),
                ActionExecuted("action_listen"),
            ],
            agent.domain,
        )
        await agent.tracker_store.save(tracker)


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50": ordered[len(ordered) // 2] * 1000,
        "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
    }


async def timed_turns(
    agent: Agent, senders: list[str], rounds: int
) -> tuple[list[float], list[float]]:
    """Parse and whole-turn durations of `rounds` messages spread over `senders`; each turn must be
    answered."""
    parse, turn = [], []
    for index in range(rounds):
        text = MESSAGES[index % len(MESSAGES)]
        started = time.perf_counter()
        await agent.parse_message(text)
        parse.append(time.perf_counter() - started)
        started = time.perf_counter()
        replies = await agent.handle_text(text, sender_id=senders[index % len(senders)])
        turn.append(time.perf_counter() - started)
        assert replies and replies[0].get("text"), (
            f"{text!r} got no reply: the floor would time a broken turn"
        )
    return parse, turn


async def main(model: str, rounds: int, history: int) -> None:
    agent = Agent.load(model)
    await start_sessions(agent, SENDERS + LONG_SENDERS)
    parsed = await agent.parse_message("tomorrow at 5")
    assert any("Duckling" in str(entity.get("extractor")) for entity in parsed["entities"]), (
        "Duckling did not answer"
    )
    for text in MESSAGES:  # warm-up
        await agent.parse_message(text)
        await agent.handle_text(text, sender_id=SENDERS[0])
    parse, turn = await timed_turns(agent, SENDERS, rounds)
    await timed_turns(
        agent, LONG_SENDERS, history * len(LONG_SENDERS)
    )  # the earlier turns, not timed
    _, long_turn = await timed_turns(agent, LONG_SENDERS, rounds)
    print(
        json.dumps(
            {
                "parse": percentiles(parse),
                "handle_text": percentiles(turn),
                "handle_text_long": percentiles(long_turn),
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 0))
