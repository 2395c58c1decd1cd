"""`make validate`: `rasa data validate --fail-on-warnings`, knowing Rasa's own convention that
intents named `EXTERNAL_…` are triggered by external events (the outreach worker's
reminders and notices) and so have no NLU examples; every other check is Rasa's own."""

from __future__ import annotations

import sys

from rasa.cli.utils import validate_files
from rasa.shared.importers.importer import TrainingDataImporter
from rasa.validator import Validator


class BookaValidator(Validator):
    def _non_default_intents(self) -> list[str]:
        return [i for i in super()._non_default_intents() if not i.startswith("EXTERNAL_")]


def main() -> int:
    import rasa.validator
    from rasa.utils.common import configure_logging_and_warnings

    configure_logging_and_warnings()  # as the rasa CLI does: Rasa's own expected warnings hidden

    rasa.validator.Validator = BookaValidator  # what validate_files builds
    importer = TrainingDataImporter.load_from_config("config.yml", "bot/domain.yml", ["bot/data"])
    validate_files(fail_on_warnings=True, max_history=None, importer=importer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
