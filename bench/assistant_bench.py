"""Assistant benchmark (`make bench`): prints figures, asserts nothing.

Starts the whole conversational stack (booking service on a fresh PostgreSQL database with
the demo tenants, Duckling, the action server, the Rasa server with the trained model) and
measures, beside the in-process floor from bench/agent_floor.py on the same model:
  - NLU parse over HTTP (`POST /model/parse`) vs `Agent.parse_message`,
  - a full turn through the dev channel that calls the action server and the booking
    service (the first turn of a booking: form, Duckling, availability) vs bare
    `Agent.handle_text` (target: p50 <= 2x the floor), at equal conversation length: in new
    conversations (the floor's are), and after 21 earlier turns (Rasa's policies and the
    action server read the whole tracker, so every turn of a long conversation costs more),
  - a question answered by a custom action from the cached catalog ("how much is ..."),
  - a turn answered by a domain response only ("thanks"): Rasa's dev channel and tracker
    store without any action server call, to show where the time goes,
  - the tenant brains: a text rendered by the admin app (cache hit of an LLM paraphrase),
    against a text rendered where it is used, from the copy of the tenant's texts (the
    first text of a message checks the copy with a conditional GET),
    and a fallback turn answered by the tenant's LLM from the owner's FAQ beside a normal
    question turn. The LLM is the loopback provider (tests/fakes), which answers at once,
    so the difference is Booka's own cost of a fallback turn; a real provider adds its
    latency on top.
Conversations are warm (sessions exist), as in real use; the tracker store is PostgreSQL,
as in production.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stack_bench import agent_floor, percentiles, running_stack  # noqa: E402
from booka_common.engine_client import TenantEngineClient  # noqa: E402
from tests.assistant.stack import http, latest_model  # noqa: E402

ROUNDS = int(os.environ.get("ASSISTANT_BENCH_ROUNDS", "200"))
SENDERS = 20
EARLIER_TURNS = (
    1 + 2 * ROUNDS // SENDERS
)  # each sender's "hi", "thanks" and price questions before its booking turns
BOOKING_MESSAGES = [
    "can i get a haircut with ana on friday at 5",
    "manicure with maria next wednesday at 11am",
    "i'd like a blow dry on saturday morning",
    "book a pedicure thursday at 3pm",
]


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
        floor = agent_floor(stack, model, ROUNDS, history=EARLIER_TURNS)
        senders = [f"bella-salon:35192{n:07d}" for n in range(SENDERS)]
        for sender in senders:
            stack.say(sender, "hi")
        parse = timed(
            lambda i: stack.rasa_api("POST", "/model/parse", {"text": BOOKING_MESSAGES[i % 4]}),
            ROUNDS,
        )
        thanks = timed(lambda i: stack.say(senders[i % SENDERS], "thanks"), ROUNDS)
        price = timed(lambda i: stack.say(senders[i % SENDERS], "how much is a manicure"), ROUNDS)
        booking, booking_new = (
            [],
            [],
        )  # the senders above have had EARLIER_TURNS turns by now; new ones have had "hi"
        for i in range(ROUNDS // 4):
            booking += timed(
                lambda _, n=i: stack.say(senders[n % SENDERS], BOOKING_MESSAGES[n % 4]), 1
            )
            stack.say(senders[i % SENDERS], "forget it")
            newcomer = f"bella-salon:35193{i:07d}"
            stack.say(newcomer, "hi")
            booking_new += timed(
                lambda _, n=i, who=newcomer: stack.say(who, BOOKING_MESSAGES[n % 4]), 1
            )
        render, checked, held, fallback = tenant_brains(stack, senders)
    rows = [
        ("NLU parse, in-process (Agent.parse_message)", floor["parse"]),
        ("NLU parse over HTTP (POST /model/parse)", percentiles(parse)),
        ("bare Agent.handle_text (floor), new conversations", floor["handle_text"]),
        (f"bare Agent.handle_text (floor) after {EARLIER_TURNS} turns", floor["handle_text_long"]),
        ("reply from the domain only (dev channel, PostgreSQL tracker store)", percentiles(thanks)),
        (
            "full booking turn (dev channel, actions, Duckling, booking), new conv.",
            percentiles(booking_new),
        ),
        (
            f"full booking turn (dev channel, actions, ...) after {EARLIER_TURNS}+ turns",
            percentiles(booking),
        ),
        ("price question (dev channel, custom action, cached catalog)", percentiles(price)),
        ("render a text, LLM paraphrase cached (POST /internal/.../render)", percentiles(render)),
        ("a message's first text: copy checked (304) and rendered here", percentiles(checked)),
        ("a message's next texts: rendered here from the checked copy", percentiles(held)),
        ("fallback turn answered by the LLM from the FAQ (dev channel)", percentiles(fallback)),
    ]
    print(f"\nAssistant, {ROUNDS} rounds each ({ROUNDS // 4} booking turns), model {model.name}")
    print(f"{'measure':<64} {'p50 ms':>8} {'p99 ms':>8}")
    for label, figures in rows:
        print(f"{label:<64} {figures['p50']:>8.1f} {figures['p99']:>8.1f}")
    ratio = percentiles(booking_new)["p50"] / floor["handle_text"]["p50"]
    print(
        f"full booking turn p50 / handle_text p50, new conversations = {ratio:.2f}x (target <= 2x)"
    )
    ratio = percentiles(booking)["p50"] / floor["handle_text_long"]["p50"]
    print(f"full booking turn p50 / handle_text p50, after {EARLIER_TURNS} turns = {ratio:.2f}x")
    extra = percentiles(fallback)["p50"] - percentiles(price)["p50"]
    print(
        f"a fallback turn answered by the LLM costs {extra:.1f} ms more than a price question at"
        " p50 (plus the provider's own time)"
    )


def tenant_brains(stack, senders: list[str]) -> tuple[list[float], list[float]]:  # noqa: ANN001
    """Render latency with the paraphrase cached, and fallback turns answered from the FAQ."""
    tenant = "bella-salon"
    stack.llm_rules(
        [
            {
                "match": "Template:",
                "content": (
                    "All done! Your {{ service }}{% if staff %} with {{ staff }}{% endif %} on {{"
                    " date }} at {{ time }} is cancelled 👋"
                ),
            },
            {
                "match": "wifi",
                "content": (
                    '{"intent": "none", "confidence": 0.9, "answer": "Yes, free wifi: ask at the'
                    ' desk."}'
                ),
            },
        ]
    )
    assert stack.engine_api("PUT", f"/v1/tenants/{tenant}/tone", {"mode": "llm"})[0] == 200
    assert (
        stack.engine_api(
            "PUT",
            f"/v1/tenants/{tenant}/quota",
            {"plan": "custom", "monthly_token_budget": 10**9, "conversation_token_cap": 10**8},
        )[0]
        == 200
    )
    assert (
        stack.engine_api(
            "POST",
            f"/v1/tenants/{tenant}/faq",
            {"question": "Is there wifi?", "answer": "Yes, free, ask at the desk."},
        )[0]
        == 201
    )
    body = {
        "template": "booking_cancelled",
        "variables": {
            "service": "Haircut",
            "start": "2026-12-04T17:00:00+00:00",
            "customer_name": "Rita",
        },
    }
    url = stack.url("engine") + f"/internal/v1/tenants/{tenant}/render"
    http("POST", url, body, token=stack.token)
    time.sleep(1)  # the paraphrase is made in the background on the first render
    assert http("POST", url, body, token=stack.token)[1]["origin"] == "paraphrase"
    render = timed(lambda _: http("POST", url, body, token=stack.token), ROUNDS)
    expected = http("POST", url, body, token=stack.token)[1]["text"]
    checked, held = asyncio.run(rendered_here(stack, tenant, body, expected))
    fallback = timed(lambda i: stack.say(senders[i % SENDERS], "is there wifi"), ROUNDS)
    assert (
        stack.say(senders[0], "is there wifi")[0]["text"] == "Yes, free wifi: ask at the desk."
    ), "the LLM path was measured"
    return render, checked, held, fallback


async def rendered_here(
    stack,  # noqa: ANN001
    tenant: str,
    body: dict,
    expected: str,
) -> tuple[list[float], list[float]]:
    """How the action server renders now: from its copy of the tenant's texts, checked once
    per customer message (the first text), then used as it is (the others)."""
    client = TenantEngineClient(stack.url("engine"), stack.token)
    checked: list[float] = []
    held: list[float] = []
    try:
        for index in range(ROUNDS * 2):
            started = time.perf_counter()
            text = await client.render(
                tenant, body["template"], body["variables"], turn=f"bench:{index // 2}"
            )
            (held if index % 2 else checked).append(time.perf_counter() - started)
            assert text == expected, (text, expected)
    finally:
        await client.close()
    return checked, held


if __name__ == "__main__":
    main()
