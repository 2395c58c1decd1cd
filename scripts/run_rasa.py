"""Start the Rasa server (`rasa run`) with Booka's local defaults filled in.

endpoints.yml reads its URLs from the environment; this gives each an unset default (the
action server on :5055, an SQLite tracker store under var/, the local Duckling) and
then runs the Rasa CLI in this process. Extra arguments are passed to `rasa run`.

Two fixes to how Rasa calls the action server are applied first (bot/action_calls.py):
answers are validated by event kind instead of trying all 23 kinds for every event, and
connections to the action server are kept open between calls.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def default_tracker_store(var: Path) -> str:
    """The services' PostgreSQL when DATABASE_URL names one (Rasa's `events` table sits beside
    theirs; Rasa's SQLAlchemy 1.4 speaks psycopg2, so a `+psycopg` driver is dropped), else SQLite."""
    database = os.environ.get("DATABASE_URL", "")
    if database.startswith("postgresql"):
        return "postgresql://" + database.split("://", 1)[1]
    return f"sqlite:///{var / 'rasa' / 'tracker.db'}"


def local_defaults() -> dict[str, str]:
    var = Path(os.environ.get("BOOKA_VAR_DIR") or ROOT / "var")
    (var / "rasa").mkdir(parents=True, exist_ok=True)
    duckling = os.environ.get("DUCKLING_URL") or f"http://127.0.0.1:{os.environ.get('DUCKLING_PORT', '8000')}"
    return {
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{os.environ.get('ACTIONS_PORT', '5055')}/webhook",
        "TRACKER_STORE_URL": default_tracker_store(var),
        "RASA_DUCKLING_HTTP_URL": duckling,
        "ADMIN_URL": f"http://127.0.0.1:{os.environ.get('ADMIN_PORT', '8002')}",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "RASA_TELEMETRY_ENABLED": "false",
    }


def main() -> None:
    for name, value in local_defaults().items():
        if not os.environ.get(name):
            os.environ[name] = value
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    from bot.action_calls import speed_up_action_calls
    from rasa.__main__ import main as rasa_main

    speed_up_action_calls()

    sys.argv = [
        "rasa", "run", "--enable-api", "--cors", "*",
        "--model", os.environ.get("RASA_MODEL", "models"), "--endpoints", "endpoints.yml",
        "--credentials", "credentials.yml", "--port", os.environ.get("RASA_PORT", "5005"),
        "-i", os.environ.get("RASA_HOST", "127.0.0.1"),
        *(["--auth-token", os.environ["RASA_AUTH_TOKEN"]] if os.environ.get("RASA_AUTH_TOKEN") else []), *sys.argv[1:],
    ]
    rasa_main()


if __name__ == "__main__":
    main()
