"""`make train` retrains when any code the model is made of changes: every `bot.` module that
config.yml names, and every `bot` module those import, is among scripts/train.py's inputs."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def train_inputs() -> list[str]:
    spec = importlib.util.spec_from_file_location("train", ROOT / "scripts" / "train.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["train"] = module
    spec.loader.exec_module(module)
    return module.INPUTS


def bot_imports(path: Path) -> set[str]:
    """The `bot/*.py` files that the module at `path` imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bot."):
            found.add(f"{node.module.replace('.', '/')}.py")
    return found


def test_every_module_of_the_model_is_a_training_input() -> None:
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    named = {
        f"{entry['name'].rsplit('.', 1)[0].replace('.', '/')}.py"
        for entry in config["pipeline"] + config["policies"]
        if entry["name"].startswith("bot.")
    }
    needed, todo = set(), list(named)
    while todo:
        module = todo.pop()
        if module not in needed:
            needed.add(module)
            todo += bot_imports(ROOT / module)
    assert named and needed <= set(train_inputs())
