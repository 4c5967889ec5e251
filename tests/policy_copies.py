"""Copies of the real policies folder for tests that break it, and edits of its YAML files."""

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from service.core.settings import PROJECT_ROOT

POLICIES = PROJECT_ROOT / "policies"


def copy_policies(folder: Path) -> Path:
    """A copy of the real policies folder inside `folder`."""
    target = folder / "policies"
    shutil.copytree(POLICIES, target)
    return target


def edit_yaml(path: Path, change: Callable[[dict[str, Any]], object]) -> None:
    """Load a YAML file, apply `change` to it, and write it back in its order."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
