"""``practice --save-example NAME``: a finished call becomes an example of its scenario, for authors who would rather
play a run than write one.

The example keeps the call's seed (so the same values are drawn), the trainee's replies, the turns it visited, whether
it passed, and a score range of ±10 around the score it got. It is appended to the scenario file when the file ends
with its ``examples:`` list (as every library scenario does, comments kept); the file is validated again and put back
as it was if the result does not load.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from core.errors import TrainerError, ValidationError
from simulator.record import CallRecord
from simulator.scenario import Scenario

SCORE_MARGIN = 10
_LAST_TOP_KEY = re.compile(r"^([A-Za-z_]+):", re.MULTILINE)


def check_example_name(scenario: Scenario, name: str) -> None:
    """Refuse a name the scenario already uses (before the call, so no practice is wasted)."""
    if any(e.name == name for e in scenario.examples):
        raise TrainerError(f"场景 {scenario.id} 已有名为 {name!r} 的示例 - 换一个名字")


def example_from_call(call: CallRecord, name: str) -> dict:
    turns = [t for t in call.turns if t.counted and not t.asked_repeat]
    score = float(call.scorecard.get("score") or 0.0)
    example = {
        "name": name,
        "seed": call.seed,
        "replies": [t.reply for t in turns],
        "score": [max(0, round(score - SCORE_MARGIN)), min(100, round(score + SCORE_MARGIN))],
        "path": [t.turn_id for t in turns],
    }
    if call.scorecard.get("passed") is not None:
        example["passed"] = bool(call.scorecard["passed"])
    order = call.scorecard.get("work_order")
    if order and order.get("filled"):
        filled = order["filled"]
        example["work_order"] = {k: v for k, v in filled.items() if v}
    return example


def append_example(scenario: Scenario, call: CallRecord, name: str) -> Path:
    """Append the call as an example to the scenario's file; refuse a name already used or a file whose last
    top-level key is not ``examples``."""
    from simulator.validate import load_scenario

    check_example_name(scenario, name)
    if call.seed is None:
        raise TrainerError("这通电话没有种子, 无法重现 - 加上 --seed N 再练一遍")
    path = Path(scenario.source)
    text = path.read_text(encoding="utf-8-sig")
    keys = _LAST_TOP_KEY.findall(text)
    if not keys or keys[-1] != "examples":
        raise TrainerError(f"{path} 的最后一个顶层键不是 examples - 把 examples: 移到文件末尾, 或手工粘贴示例")
    item = yaml.safe_dump(
        [example_from_call(call, name)], allow_unicode=True, sort_keys=False, width=1000, default_flow_style=None
    )
    block = "".join("  " + line + "\n" for line in item.splitlines())
    path.write_text(text.rstrip("\n") + "\n" + block, encoding="utf-8")
    try:
        load_scenario(path)
    except ValidationError as exc:
        path.write_text(text, encoding="utf-8")
        raise TrainerError(f"示例写进去后场景无法加载, 已恢复原文件: {exc.problems[0]}") from exc
    return path
