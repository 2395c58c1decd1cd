"""Start the Rasa server (`rasa run`) with Booka's local defaults filled in.

endpoints.yml reads its URLs from the environment; this gives each an unset default (the
action server on :5055, an SQLite tracker store under var/, the local Duckling) and
then hands over to the Rasa CLI. Extra arguments are passed to `rasa run`.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def local_defaults() -> dict[str, str]:
    var = Path(os.environ.get("BOOKA_VAR_DIR") or ROOT / "var")
    (var / "rasa").mkdir(parents=True, exist_ok=True)
    duckling = os.environ.get("DUCKLING_URL") or f"http://127.0.0.1:{os.environ.get('DUCKLING_PORT', '8000')}"
    return {
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{os.environ.get('ACTIONS_PORT', '5055')}/webhook",
        "TRACKER_STORE_URL": f"sqlite:///{var / 'rasa' / 'tracker.db'}",
        "RASA_DUCKLING_HTTP_URL": duckling,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "RASA_TELEMETRY_ENABLED": "false",
    }


def main() -> None:
    for name, value in local_defaults().items():
        if not os.environ.get(name):
            os.environ[name] = value
    os.chdir(ROOT)
    port = os.environ.get("RASA_PORT", "5005")
    command = [
        sys.executable, "-m", "rasa", "run", "--enable-api", "--cors", "*",
        "--model", os.environ.get("RASA_MODEL", "models"), "--endpoints", "endpoints.yml",
        "--credentials", "credentials.yml", "--port", port, "-i", os.environ.get("RASA_HOST", "127.0.0.1"), *sys.argv[1:],
    ]
    os.execv(sys.executable, command)


if __name__ == "__main__":
    main()
