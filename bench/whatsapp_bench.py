"""WhatsApp end-to-end load (`make bench`): prints figures, asserts nothing.

N simulated customers (WHATSAPP_BENCH_CUSTOMERS, default 50) of the demo salon each hold a
whole booking conversation through the Evolution sandbox: "hi" and "where are you?" sent
back to back, a booking request, their name, "yes", "thanks". Messages leave at a steady
WHATSAPP_BENCH_RATE across all customers (default 10 per second); each customer waits for
the bot's answer before the next step. The sandbox times every webhook attempt, so the
figures are what Evolution would see:
  - webhook acknowledgement latency p50/p99 (target p99 <= 20 ms),
  - time from the webhook to the bot's sendText p50/p95/p99, beside the floor of bare
    `Agent.handle_text` on the same model (target p50 <= 2x the floor),
  - messages per second, and lost / duplicated / out-of-order replies (all must be 0).
The stack is production-like: PostgreSQL for bookings and Rasa's tracker store, Redis for
webhook de-duplication.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stack_bench import agent_floor, percentiles, running_stack  # noqa: E402
from tests.assistant.stack import Stack, latest_model  # noqa: E402

CUSTOMERS = int(os.environ.get("WHATSAPP_BENCH_CUSTOMERS", "50"))
RATE = float(os.environ.get("WHATSAPP_BENCH_RATE", "10"))
SHOP = "bella-salon"
FIRST_NAMES = [
    "Maria",
    "Tiago",
    "Inês",
    "Rui",
    "Sofia",
    "Miguel",
    "Beatriz",
    "Duarte",
    "Leonor",
    "Tomás",
]
LAST_NAMES = [
    "Silva",
    "Santos",
    "Ferreira",
    "Pereira",
    "Oliveira",
    "Costa",
    "Rodrigues",
    "Martins",
    "Sousa",
    "Gomes",
]


class Pacer:
    """Hands out send times 1/RATE apart, shared by every customer."""

    def __init__(self, rate: float) -> None:
        self.interval, self.next_at, self.lock = 1 / rate, time.monotonic(), threading.Lock()

    def wait_turn(self) -> None:
        with self.lock:
            slot = self.next_at = max(self.next_at + self.interval, time.monotonic())
        time.sleep(max(0.0, slot - time.monotonic()))


def opening_slots(count: int) -> list[datetime]:
    """Distinct times when the salon is open and someone is free (Tue–Fri, Lisbon), a week ahead
    onwards."""
    lisbon, slots = ZoneInfo("Europe/Lisbon"), []
    day = datetime.now(lisbon).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(
        days=7
    )
    while len(slots) < count:
        if day.weekday() in (1, 2, 3, 4):
            slots += [
                day.replace(hour=h, minute=m) for h in (10, 11, 12, 15, 16) for m in (0, 30)
            ]  # around staff breaks
        day += timedelta(days=1)
    return slots[:count]


def customer(stack: Stack, pacer: Pacer, index: int, when: datetime, outcome: dict) -> None:
    number = f"35193{index:07d}"
    steps = [
        ["hi", "where are you?"],
        [f"can i book a men's haircut with anyone on {when:%-d %B} at {when:%H:%M}"],
        [f"{FIRST_NAMES[index % 10]} {LAST_NAMES[index // 10 % 10]}"],
        ["yes"],
        ["thanks"],
    ]
    sent = 0
    for step in steps:
        for text in step:
            pacer.wait_turn()
            stack.whatsapp(SHOP, number, text)
            sent += 1
        if len(stack.bot_replies(SHOP, number, sent, timeout=60)) < sent:
            break
    time.sleep(2)  # late duplicates would arrive now
    outcome[number] = sent


def main() -> None:
    model = latest_model()
    with running_stack(model, EVOLUTION_TYPING_MS="1000") as stack:
        floor = agent_floor(stack, model, 200)
        stack.connect_whatsapp(SHOP)
        pacer, outcome = Pacer(RATE), {}
        started = time.time()
        threads = [
            threading.Thread(target=customer, args=(stack, pacer, n, when, outcome))
            for n, when in enumerate(opening_slots(CUSTOMERS))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        _, deliveries = stack.sandbox(
            "GET", f"/sandbox/deliveries?instance={SHOP}&event=messages.upsert"
        )
        chats = {number: stack.chat(SHOP, number) for number in outcome}
    dump(chats)
    report(floor, deliveries["attempts"], chats, started)


def dump(chats: dict[str, list[dict]], label: str = "") -> None:
    """The chats as JSON at WHATSAPP_BENCH_DUMP (plus `label`), to read what went wrong."""
    if os.environ.get("WHATSAPP_BENCH_DUMP"):
        Path(os.environ["WHATSAPP_BENCH_DUMP"] + label).write_text(
            json.dumps(chats, indent=1, ensure_ascii=False)
        )


def turns(messages: list[dict]) -> list[tuple[list[dict], list[dict]]]:
    """The chat as turns: customer messages sent together, then the bot's answers to them."""
    grouped: list[tuple[list[dict], list[dict]]] = []
    for message in messages:
        if not message["from_me"] and (not grouped or grouped[-1][1]):
            grouped.append(([], []))
        if grouped:
            grouped[-1][1 if message["from_me"] else 0].append(message)
    return grouped


def report(
    floor: dict,
    attempts: list[dict],
    chats: dict[str, list[dict]],
    started: float,
    rate: float = RATE,
) -> dict[str, float]:
    """Lost: a customer message without an answer. Duplicated: the same answer twice to one
    message (what a re-processed webhook would cause). Out of order: "hi" and "where are
    you?", sent back to back, answered in the other order. Unexpected: a conversation that
    did not end with a booking (the bot misunderstood, or two customers took one slot)."""
    first_attempt = {a["message_id"]: a["started"] for a in attempts if a["attempt"] == 1}
    acks = [a["took_ms"] / 1000 for a in attempts]
    to_reply, lost, duplicated, out_of_order, unexpected, last_reply, sent_total = (
        [],
        0,
        0,
        0,
        0,
        started,
        0,
    )
    for messages in chats.values():
        conversation = turns(messages)
        for asked, answered in conversation:
            sent_total += len(asked)
            lost += max(0, len(asked) - len(answered))
            duplicated += sum(
                1 for a, b in zip(answered, answered[1:], strict=False) if a["text"] == b["text"]
            )
            for question, answer in zip(asked, answered, strict=False):
                to_reply.append(answer["at"] - first_attempt.get(question["id"], question["at"]))
                last_reply = max(last_reply, answer["at"])
        greeting = conversation[0][1] if conversation else []
        out_of_order += int(len(greeting) >= 2 and "📍" in greeting[0]["text"])
        unexpected += int(not any("booked" in m["text"] for m in messages if m["from_me"]))
    reply = percentiles(to_reply, 50, 95, 99)
    ack = percentiles(acks)
    print(
        f"\nWhatsApp through the Evolution sandbox: {len(chats)} customers, {sent_total} messages"
        f" paced at {rate:g}/s"
    )
    print(
        f"  webhook acknowledgement      p50 {ack['p50']:7.1f} ms   p99 {ack['p99']:7.1f} ms  "
        f" (target p99 <= 20 ms; {len(acks)} attempts)"
    )
    print(
        f"  webhook to the bot's sendText p50 {reply['p50']:7.1f} ms   p95 {reply['p95']:7.1f} ms  "
        f" p99 {reply['p99']:7.1f} ms"
    )
    print(
        f"  bare Agent.handle_text floor p50 {floor['handle_text']['p50']:7.1f} ms   ->"
        f" webhook-to-reply p50 = {reply['p50'] / floor['handle_text']['p50']:.1f}x the floor"
        " (target <= 2x)"
    )
    print(
        f"  throughput {sent_total / max(1e-9, last_reply - started):.1f} messages/s; "
        f"retried webhooks {sum(1 for a in attempts if a['attempt'] > 1)}"
    )
    print(
        f"  lost {lost}   duplicated {duplicated}   out of order {out_of_order}   (all must be 0); "
        f"conversations without a booking {unexpected}"
    )
    return {
        "ack_p99_ms": ack["p99"],
        "reply_p50_ms": reply["p50"],
        "reply_p95_ms": reply["p95"],
        "messages_per_s": sent_total / max(1e-9, last_reply - started),
        "lost": lost,
        "duplicated": duplicated,
        "out_of_order": out_of_order,
        "unexpected": unexpected,
    }


if __name__ == "__main__":
    main()
