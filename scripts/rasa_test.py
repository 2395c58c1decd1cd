"""`make rasa-test`: run the test conversations in bot/tests/ with `rasa test`, failing on any
error.

Dates and times are deliberately not part of these checks: Duckling resolves them against
the clock, so their values change from day to day. The Duckling extractor is therefore
pointed at a closed port and its connection warnings are silenced; the integration tests
(tests/assistant/) drive the same flows with the real Duckling server and actions.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class DropDucklingConnectionErrors(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "duckling" not in record.getMessage().lower()


def main() -> int:
    os.chdir(ROOT)
    os.environ.update(
        TF_CPP_MIN_LOG_LEVEL="3",
        RASA_TELEMETRY_ENABLED="false",
        RASA_DUCKLING_HTTP_URL="http://127.0.0.1:9",
    )
    logging.getLogger("rasa.nlu.extractors.duckling_entity_extractor").addFilter(
        DropDucklingConnectionErrors()
    )
    from rasa.__main__ import main as rasa_main

    sys.argv = [
        "rasa",
        "test",
        "core",
        "--model",
        "models",
        "--stories",
        "bot/tests",
        "--out",
        "reports/rasa-test",
        "--fail-on-prediction-errors",
        *sys.argv[1:],
    ]
    try:
        rasa_main()
    except SystemExit as stop:
        return int(stop.code or 0)
    failed = (ROOT / "reports/rasa-test/failed_test_stories.yml").read_text()
    if "story:" in failed:
        print(failed)
        return 1
    print("All test conversations passed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
