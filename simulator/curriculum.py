"""A learning path as data (``curricula/*.yaml``): stages of scenarios with pass marks, and where a trainee stands.

    id: new-agent
    title: 新座席入门
    stages:
      - id: week-1
        title: 第一周 问候开场与联系法官
        pass_score: 80
        scenarios: [wrong-courtroom, remote-hearing]

A stage is passed when the trainee's best score (a mentor's override counts) on each of its scenarios reaches the
stage's pass mark. The trainee stands at the first stage not passed; what to practise next comes from that stage's
scenarios not yet passed, those that exercise the trainee's weakest categories and missed key points first.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import NotFound, Problem, ValidationError
from core.yamlio import load_file

CURRICULA_DIR = Path(os.environ.get("HOTLINE_TRAINER_CURRICULA", Path(__file__).resolve().parent.parent / "curricula"))
DEFAULT_CURRICULUM = "new-agent"


@dataclass(frozen=True)
class Stage:
    id: str
    title: str
    pass_score: float
    scenarios: tuple[str, ...]


@dataclass(frozen=True)
class Curriculum:
    id: str
    title: str
    stages: tuple[Stage, ...]
    path: str = ""


@dataclass
class StageStanding:
    stage: Stage
    best: dict[str, float | None]  # scenario -> best score (None: never completed)

    @property
    def passed(self) -> list[str]:
        return [s for s in self.stage.scenarios if (self.best.get(s) or 0) >= self.stage.pass_score]

    @property
    def done(self) -> bool:
        return len(self.passed) == len(self.stage.scenarios)


@dataclass
class Standing:
    curriculum: Curriculum
    stages: list[StageStanding]
    next_scenarios: list[str] = field(default_factory=list)

    @property
    def current(self) -> StageStanding | None:
        """The first stage not passed; None when the whole path is done."""
        return next((s for s in self.stages if not s.done), None)

    def to_json(self) -> dict:
        current = self.current
        return {
            "id": self.curriculum.id,
            "title": self.curriculum.title,
            "current_stage": current.stage.id if current else None,
            "finished": current is None,
            "stages": [
                {
                    "id": s.stage.id,
                    "title": s.stage.title,
                    "pass_score": s.stage.pass_score,
                    "done": s.done,
                    "passed": len(s.passed),
                    "total": len(s.stage.scenarios),
                    "scenarios": [
                        {"id": sid, "best": s.best.get(sid), "passed": sid in s.passed} for sid in s.stage.scenarios
                    ],
                }
                for s in self.stages
            ],
            "next": self.next_scenarios,
        }


def load_curriculum(ref: str = DEFAULT_CURRICULUM, *, known_scenarios: Iterable[str] | None = None) -> Curriculum:
    """A curriculum by id (``curricula/<id>.yaml``) or path; every problem reported as ``file:line``."""
    path = Path(ref)
    if path.suffix not in (".yaml", ".yml"):
        path = CURRICULA_DIR / f"{ref}.yaml"
    if not path.is_file():
        available = sorted(p.stem for p in CURRICULA_DIR.glob("*.yaml"))
        raise NotFound(f"没有学习路径 {ref!r} - 可用的: {', '.join(available) or '无'} (放在 curricula/ 下)")
    doc, problems = load_file(path)
    if doc is None:
        raise ValidationError(problems)
    data = doc.data if isinstance(doc.data, dict) else {}
    if not isinstance(doc.data, dict):
        problems.append(doc.problem((), "学习路径应是一个映射", "写 id, title, stages"))
    problems.extend(doc.unknown_keys((), data, {"id", "title", "stages"}))
    known = set(known_scenarios) if known_scenarios is not None else None
    stages: list[Stage] = []
    raw_stages = data.get("stages")
    if not isinstance(raw_stages, list) or not raw_stages:
        problems.append(doc.problem(("stages",), "缺少 stages (阶段列表)", "至少写一个阶段"))
        raw_stages = []
    seen_ids: set[str] = set()
    for i, raw in enumerate(raw_stages):
        where = ("stages", i)
        if not isinstance(raw, dict):
            problems.append(doc.problem(where, "阶段应是一个映射", "写 id, title, pass_score, scenarios"))
            continue
        problems.extend(doc.unknown_keys(where, raw, {"id", "title", "pass_score", "scenarios"}))
        stage_id = str(raw.get("id") or f"stage-{i + 1}")
        if stage_id in seen_ids:
            problems.append(doc.problem(where + ("id",), f"重复的阶段 id {stage_id!r}", "每个阶段用不同的 id"))
        seen_ids.add(stage_id)
        score = raw.get("pass_score", 80)
        if isinstance(score, bool) or not isinstance(score, int | float) or not 0 < score <= 100:
            problems.append(doc.problem(where + ("pass_score",), f"及格线 {score!r} 无效", "写 1 到 100 之间的数"))
            score = 80
        scenarios = raw.get("scenarios")
        if not isinstance(scenarios, list) or not scenarios:
            problems.append(doc.problem(where + ("scenarios",), "这个阶段没有场景", "列出场景 id"))
            scenarios = []
        for j, sid in enumerate(scenarios):
            if known is not None and str(sid) not in known:
                problems.append(
                    doc.problem(where + ("scenarios", j), f"没有 id 为 {sid!r} 的场景", "用 run_training.py list 查看")
                )
        stages.append(Stage(stage_id, str(raw.get("title") or stage_id), float(score), tuple(map(str, scenarios))))
    if problems:
        raise ValidationError(problems)
    return Curriculum(str(data.get("id") or path.stem), str(data.get("title") or path.stem), tuple(stages), str(path))


def standing(
    curriculum: Curriculum,
    best_scores: Mapping[str, float | None],
    *,
    weak_categories: Iterable[str] = (),
    missed_points: Mapping[str, int] | None = None,
    scenario_categories: Mapping[str, Iterable[str]] | None = None,
    limit: int = 3,
) -> Standing:
    """Where a trainee stands, from their best score per scenario, and what to practise next.

    ``weak_categories``: the trainee's weakest categories, weakest first; ``missed_points``: scenario -> key points
    missed there; ``scenario_categories``: the categories each scenario exercises.
    """
    stages = [StageStanding(stage, {s: best_scores.get(s) for s in stage.scenarios}) for stage in curriculum.stages]
    result = Standing(curriculum, stages)
    current = result.current
    if current is None:
        return result
    weak = list(weak_categories)
    missed_points = missed_points or {}
    scenario_categories = scenario_categories or {}

    def priority(sid: str) -> tuple:
        exercised = set(scenario_categories.get(sid, ()))
        weakness = min((weak.index(c) for c in exercised if c in weak), default=len(weak))
        tried = current.best.get(sid) is not None
        # Tried but below the mark first (closest to done), then those exercising the weakest categories.
        return (not tried, -missed_points.get(sid, 0), weakness, current.stage.scenarios.index(sid))

    open_ = [s for s in current.stage.scenarios if s not in current.passed]
    result.next_scenarios = sorted(open_, key=priority)[:limit]
    return result


def problems_of(path: Path, known_scenarios: Iterable[str]) -> list[Problem]:
    """Every problem of a curriculum file (for validation commands and tests)."""
    try:
        load_curriculum(str(path), known_scenarios=known_scenarios)
    except ValidationError as exc:
        return exc.problems
    return []
