"""Assistant benchmark (`make bench`): prints figures, asserts nothing.

Starts the whole conversational stack (booking service on a fresh PostgreSQL database with
the demo tenants, Duckling, the action server, the Rasa server with the trained model) and
measures, beside the in-process floor from bench/agent_floor.py on the same model:
  - NLU parse over HTTP (`POST /model/parse`) vs `Agent.parse_message`,
  - a full turn through the REST channel that calls the action server and the booking
    service (the first turn of a booking: form, Duckling, availability) vs bare
    `Agent.handle_text` (target: p50 <= 2x the floor),
  - a question answered by a custom action from the cached catalog ("how much is ..."),
  - a turn answered by a domain response only ("thanks"): Rasa's REST channel and tracker
    store without any action server call, to show where the time goes.
Conversations are warm (sessions exist), as in real use; the tracker store is PostgreSQL,
as in production.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stack_bench import agent_floor, percentiles, running_stack  # noqa: E402
from tests.assistant.stack import http, latest_model  # noqa: E402

ROUNDS = int(os.environ.get("ASSISTANT_BENCH_ROUNDS", "200"))
BOOKING_MESSAGES = ["can i get a haircut with ana on friday at 5", "manicure with maria next wednesday at 11am",
                    "i'd like a blow dry on saturday morning", "book a pedicure thursday at 3pm"]


def timed(call, rounds: int) -> list[float]:
    samples = []
    for index in range(rounds):
        started = time.perf_counter()
        call(index)
        samples.append(time.perf_counter() - started)
    return samples


def main() -> None:
    model = latest_model()
    with running_stack(model) as stack:
        floor = agent_floor(stack, model, ROUNDS)
        rasa = stack.url("rasa")
        senders = [f"bella-salon:35192{n:07d}" for n in range(20)]
        for sender in senders:
            stack.say(sender, "hi")
        parse = timed(lambda i: http("POST", rasa + "/model/parse", {"text": BOOKING_MESSAGES[i % 4]}), ROUNDS)
        thanks = timed(lambda i: stack.say(senders[i % 20], "thanks"), ROUNDS)
        price = timed(lambda i: stack.say(senders[i % 20], "how much is a manicure"), ROUNDS)
        booking = []
        for i in range(ROUNDS // 4):
            booking += timed(lambda _: stack.say(senders[i % 20], BOOKING_MESSAGES[i % 4]), 1)
            stack.say(senders[i % 20], "forget it")
    rows = [
        ("NLU parse, in-process (Agent.parse_message)", floor["parse"]),
        ("NLU parse over HTTP (POST /model/parse)", percentiles(parse)),
        ("bare Agent.handle_text (floor)", floor["handle_text"]),
        ("reply from the domain only (REST, PostgreSQL tracker store)", percentiles(thanks)),
        ("full booking turn (REST, actions, Duckling, booking service)", percentiles(booking)),
        ("price question (REST, custom action, cached catalog)", percentiles(price)),
    ]
    print(f"\nAssistant, {ROUNDS} rounds each ({ROUNDS // 4} booking turns), model {model.name}")
    print(f"{'measure':<64} {'p50 ms':>8} {'p99 ms':>8}")
    for label, figures in rows:
        print(f"{label:<64} {figures['p50']:>8.1f} {figures['p99']:>8.1f}")
    ratio = percentiles(booking)["p50"] / floor["handle_text"]["p50"]
    print(f"full booking turn p50 / handle_text p50 = {ratio:.2f}x (target <= 2x)")


if __name__ == "__main__":
    main()
