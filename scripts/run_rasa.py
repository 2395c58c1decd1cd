"""Start the Rasa server (`rasa run`) with Booka's local defaults filled in.

endpoints.yml reads its URLs from the environment; this gives each an unset default (the
action server on :5055, an SQLite tracker store under var/, the local Duckling) and
then runs the Rasa CLI in this process. Extra arguments are passed to `rasa run`.

Rasa's HTTP API (trackers, `/model/parse`, injecting events) is always behind
`--auth-token`: `RASA_AUTH_TOKEN`, else the token generated into `var/RASA_AUTH_TOKEN`.
No CORS header is sent (nothing in a browser talks to Rasa). The channels are those of
`credentials.yml` (Evolution only), or of `credentials.dev.yml` (plus the token-guarded
`dev` channel) when `BOOKA_DEV_CHANNEL=1`.

Two fixes to how Rasa calls the action server are applied first (bot/action_calls.py):
answers are validated by event kind instead of trying all 23 kinds for every event, and
connections to the action server are kept open between calls.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from booka_common.local_secrets import (  # noqa: E402
    default_tracker_store_url,
    local_secret,
    new_token,
)

TICKET_LOCK_LIFETIME_S = 20


def local_defaults() -> dict[str, str]:
    duckling = (
        os.environ.get("DUCKLING_URL")
        or f"http://127.0.0.1:{os.environ.get('DUCKLING_PORT', '8000')}"
    )
    return {
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{os.environ.get('ACTIONS_PORT', '5055')}/webhook",
        "TRACKER_STORE_URL": default_tracker_store_url(),
        "RASA_DUCKLING_HTTP_URL": duckling,
        "TENANT_ENGINE_URL": f"http://127.0.0.1:{os.environ.get('TENANT_ENGINE_PORT', '8003')}",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "RASA_TELEMETRY_ENABLED": "false",
        # one thread per TensorFlow op: a turn's matrices are tiny, and handing them to a
        # pool costs more than it saves (bare handle_text p50, README "Many processes");
        # several Rasa processes share the cores instead
        "TF_INTRA_OP_PARALLELISM_THREADS": "1",
        "TF_INTER_OP_PARALLELISM_THREADS": "1",
        # the same for numpy's BLAS (the sentence encoder, the off-topic check): with a pool,
        # a 650x512 product took 1.1 ms instead of 0.03 (`make profile`)
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        # Rasa's conversation locks expire after this many seconds (its default is 60): a
        # process killed mid-turn leaves its lock in Redis, and the process the inbound log
        # hands the message to (after INBOUND_ACK_WAIT_S, 30 by default) waited out the rest
        # of the minute. 20 s is still longer than a turn at its LLM deadline.
        "TICKET_LOCK_LIFETIME": str(TICKET_LOCK_LIFETIME_S),
    }


def lock_store_settings(redis_url: str) -> dict[str, str]:
    """endpoints.yml's lock store: Rasa's RedisLockStore on `REDIS_URL` when it is set (every
    Rasa process then shares each conversation's lock), else the in-memory one."""
    if not redis_url:
        return {
            "LOCK_STORE_TYPE": "in_memory",
            "LOCK_STORE_HOST": "",
            "LOCK_STORE_PORT": "0",
            "LOCK_STORE_DB": "0",
            "LOCK_STORE_PASSWORD": "",
        }
    url = urlsplit(redis_url)
    return {
        "LOCK_STORE_TYPE": "redis",
        "LOCK_STORE_HOST": url.hostname or "127.0.0.1",
        "LOCK_STORE_PORT": str(url.port or 6379),
        "LOCK_STORE_DB": url.path.strip("/") or "0",
        "LOCK_STORE_PASSWORD": unquote(url.password or ""),
    }


def credentials_file() -> str:
    return (
        "credentials.dev.yml"
        if os.environ.get("BOOKA_DEV_CHANNEL", "").strip() == "1"
        else "credentials.yml"
    )


def main() -> None:
    for name, value in local_defaults().items():
        if not os.environ.get(name):
            os.environ[name] = value
    os.environ.update(lock_store_settings(os.environ.get("REDIS_URL", "")))
    os.chdir(ROOT)
    from rasa.__main__ import main as rasa_main

    from bot.action_calls import speed_up_action_calls

    speed_up_action_calls()

    sys.argv = [
        "rasa",
        "run",
        "--enable-api",
        # "=": a token may start with "-"
        f"--auth-token={local_secret('RASA_AUTH_TOKEN', new_token)}",
        "--model",
        os.environ.get("RASA_MODEL", "models"),
        "--endpoints",
        "endpoints.yml",
        "--credentials",
        credentials_file(),
        "--port",
        os.environ.get("RASA_PORT", "5005"),
        "-i",
        os.environ.get("RASA_HOST", "127.0.0.1"),
        *sys.argv[1:],
    ]
    rasa_main()


if __name__ == "__main__":
    main()
