"""The scenario library: find a scenario by id or path."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import NotFound, ValidationError
from simulator.scenario import Scenario

if TYPE_CHECKING:
    from scoring.guide import Guide

LIBRARY_DIR = Path(os.environ.get("HOTLINE_TRAINER_SCENARIOS", Path(__file__).resolve().parent.parent / "scenarios"))


def load_library(folder: Path | None = None) -> list[Scenario]:
    """Every scenario in the library, sorted by difficulty then id; refuses a broken library."""
    from simulator.validate import validate_paths

    scenarios, problems = validate_paths([folder or LIBRARY_DIR])
    if problems:
        raise ValidationError(problems)
    return sorted(scenarios, key=lambda s: (s.difficulty, s.id))


def check_scenario_ids(ids: list[str], folder: Path | None = None) -> list[str]:
    """The ids, each a scenario of the library (without parsing them); an unknown one is an error with a hint."""
    folder = folder or LIBRARY_DIR
    known = {p.stem for p in folder.glob("*.yaml")}
    for ref in ids:
        if ref not in known:
            from core.suggest import closest

            close = closest(ref, known)
            hint = f"是不是 {close}?" if close else "用 run_training.py list 查看全部场景"
            raise NotFound(f"没有 id 为 {ref!r} 的场景 - {hint}")
    return list(dict.fromkeys(ids))


def find_scenario(ref: str, folder: Path | None = None, guide: Guide | None = None) -> Scenario:
    """``ref`` is a library id (``wrong-courtroom``) or a path to a YAML file. ``guide``: the guide already loaded
    (the scorer's), so it is not parsed a second time."""
    from simulator.validate import load_scenario

    path = Path(ref)
    if path.suffix in (".yaml", ".yml") or path.is_file():
        if not path.is_file():
            raise NotFound(f"找不到场景文件 {ref} - 检查路径")
        return load_scenario(path, guide)
    folder = folder or LIBRARY_DIR
    candidate = folder / f"{ref}.yaml"
    if candidate.is_file():
        return load_scenario(candidate, guide)
    from core.suggest import closest

    close = closest(ref, (p.stem for p in folder.glob("*.yaml")))
    hint = f"是不是 {close}?" if close else "用 run_training.py list 查看全部场景"
    raise NotFound(f"没有 id 为 {ref!r} 的场景 - {hint}")
