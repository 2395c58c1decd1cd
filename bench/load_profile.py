"""Where a loaded Rasa process's CPU goes (`make profile`, after the in-process turn profile).

The scaling bench's stack with one Rasa process on the inbound log (bench/scaling_bench.py):
after its warm-up, LOAD_PROFILE_CUSTOMERS (default 60) simulated customers hold whole booking
conversations at LOAD_PROFILE_RATE messages per second (default 24, near one process's
limit), and `py-spy record` samples the Rasa process for LOAD_PROFILE_SECONDS (default 25)
meanwhile (LOAD_PROFILE_PY_SPY=0: not sampled). Printed: the CPU each process of the stack,
the engines (PostgreSQL, Redis, NATS), py-spy and the whole machine used then, in cores; and
the Rasa process's samples (every thread: the inbound log's consumer, Rasa's event loop, the
tracker store) charged to the parts of bench/turn_profile.py plus the SQL, lock and channel
work a turn does only when served. Writes the collapsed stacks to reports/profile/load.txt.
"""

from __future__ import annotations

import collections
import contextlib
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.scaling_bench import dropped_afterwards, load, log_settings, warm_up  # noqa: E402
from bench.stack_bench import agent_floor, running_stack  # noqa: E402
from bench.turn_profile import COMPONENTS, OUT, PY_SPY, component_of, print_shares  # noqa: E402
from bench.whatsapp_bench import SHOP  # noqa: E402
from tests.assistant.stack import latest_model  # noqa: E402

CUSTOMERS = int(os.environ.get("LOAD_PROFILE_CUSTOMERS", "60"))
RATE = float(os.environ.get("LOAD_PROFILE_RATE", "24"))
SECONDS = int(os.environ.get("LOAD_PROFILE_SECONDS", "25"))
SAMPLE = os.environ.get("LOAD_PROFILE_PY_SPY", "1") != "0"  # 0: only the CPU per process
# What only a served turn does, checked before the turn's own parts (an SQL statement is
# charged to SQL even when the tracker store made it); the channel's own work comes last,
# since every turn runs below its frames
SERVED = [
    ("SQL (tracker store)", r"sqlalchemy|psycopg"),
    ("Redis (locks, dedup)", r"redis"),
    ("action server calls", r"rasa/core/actions/action\.py|bot/action_calls\.py|aiohttp"),
]
CHANNEL = [("inbound log and channel", r"connectors/|nats")]
# Where an idle thread waits: py-spy without pausing the process cannot always tell idle
# threads apart, so samples that end in a wait are dropped (a thread pool's queue, the event
# loop's poll, a thread blocked in C)
IDLE = re.compile(
    r"^(?:_worker \(concurrent/futures/thread\.py|serve \(sanic/server/runners\.py"
    r"|run \(threading\.py)"
)


def record(pid: int, target: Path) -> None:
    subprocess.run(
        [
            str(PY_SPY),
            "record",
            "--nonblocking",  # never pauses the process: its figures stay those of the load
            "--pid",
            str(pid),
            "--duration",
            str(SECONDS),
            "--rate",
            "200",
            "--format",
            "raw",
            "--output",
            str(target),
        ],
        check=True,
        capture_output=True,
    )


# Engines the stack uses but does not start, counted by process name
ENGINES = {"postgres": "postgresql", "redis-server": "redis", "nats-server": "nats"}


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """User plus system CPU seconds so far of each process and its descendants, of the engines
    by name, of py-spy, and of the whole machine (`machine`), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    parent, spent, names = {}, {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            head, tail = stat.read_text().rsplit(")", 1)
            fields = tail.split()
            pid = int(stat.parent.name)
            parent[pid], names[pid] = int(fields[1]), head.split("(", 1)[1]
            spent[pid] = (int(fields[11]) + int(fields[12])) / tick

    def family(pid: int) -> list[int]:
        return [pid, *(p for child, up in parent.items() if up == pid for p in family(child))]

    found = {name: sum(spent.get(p, 0.0) for p in family(pid)) for name, pid in pids.items()}
    for command, name in {**ENGINES, "py-spy": "py-spy"}.items():
        found[name] = sum(spent[p] for p, n in names.items() if n == command)
    busy = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    found["machine"] = (sum(map(int, busy)) - int(busy[3]) - int(busy[4])) / tick
    return found


def shares(raw: str) -> tuple[collections.Counter[str], int]:
    """Samples per part over the whole process, from py-spy's raw output."""
    counts: collections.Counter[str] = collections.Counter()
    for line in raw.splitlines():
        stack, _, number = line.rpartition(" ")
        if number.isdigit() and not IDLE.match(stack.rsplit(";", 1)[-1]):
            counts[component_of(stack, SERVED + COMPONENTS + CHANNEL, anchor=None)] += int(number)
    return counts, sum(counts.values())


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    model, raw = latest_model(), OUT / "load.txt"
    settings = log_settings()
    with dropped_afterwards(settings), running_stack(model, **settings) as stack:
        floor = agent_floor(stack, model, 50)
        stack.connect_whatsapp(SHOP)
        warm_up(stack, floor)
        driver = threading.Thread(
            target=load, args=(stack, floor, RATE), kwargs={"first": 0, "customers": CUSTOMERS}
        )
        pids = {name: process.pid for name, process in stack.processes.items()}
        before, started = cpu_seconds(pids), time.monotonic()
        driver.start()
        if SAMPLE:
            record(stack.processes["rasa"].pid, raw)
        else:
            time.sleep(SECONDS)
        after, elapsed = cpu_seconds(pids), time.monotonic() - started
        driver.join()
    print(f"CPU of each process during the {elapsed:.0f} s measured, in cores:")
    for name in sorted(after, key=lambda n: before.get(n, 0) - after[n]):
        print(f"  {name:<12} {(after[name] - before.get(name, 0)) / elapsed:5.2f}")
    if not SAMPLE:
        return
    counts, total = shares(raw.read_text())
    print(f"CPU of the Rasa process at {RATE:g} msg/s for {SECONDS} s: {total} samples")
    print_shares(counts, total, raw)


if __name__ == "__main__":
    main()
