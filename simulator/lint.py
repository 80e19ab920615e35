"""Warnings for a scenario that validates: what is legal but likely a mistake (``validate --strict``).

Problems (``simulator.validate``) stop a scenario from loading; warnings do not, but a library kept clean of them is
easier to trust: examples too few to show a trainee the difference, variables nobody uses, a branch that can never
be taken, an example path the graph cannot walk, a replies-file ``{变量}`` the scenario does not define (it would stay
in the reply literally), a service name outside the usual list (reports group by it).
"""

from __future__ import annotations

from pathlib import Path

from core.errors import Problem
from core.yamlio import load_file
from simulator.scenario import END, PLACEHOLDER, Scenario

SERVICES = ("联系法官", "案件查询", "诉讼咨询", "网上办理", "执行咨询", "庭审", "投诉建议", "信访", "特殊事务")
MIN_EXAMPLES = 3  # the standard answer, a common weakness, a forbidden or out-of-bounds answer


def scenario_warnings(scenario: Scenario) -> list[Problem]:
    doc, _ = load_file(scenario.source)
    text = Path(scenario.source).read_text(encoding="utf-8-sig")

    def at(where: tuple, what: str, fix: str) -> Problem:
        line = doc.line(where) if doc else 1
        return Problem(scenario.source, line, ".".join(str(w) for w in where), f"警告: {what}", fix)

    out: list[Problem] = []
    if len(scenario.examples) < MIN_EXAMPLES:
        out.append(
            at(
                ("examples",),
                f"只有 {len(scenario.examples)} 条示例",
                f"至少写 {MIN_EXAMPLES} 条: 规范应答、常见的不足、禁语或越界 (docs/scenario-format.md 第 8 节)",
            )
        )
    for name in scenario.variables:
        used = "{" + name + "}" in text or f"value: {name}" in text or any(name in group for group in scenario.linked)
        if not used:
            out.append(at(("variables", name), f"变量 {name} 没有被用到", f"在台词里写 {{{name}}}, 或删掉这个变量"))
    for turn in scenario.turns.values():
        seen = []
        for k, branch in enumerate(turn.next):
            if branch.when is not None and branch.when in seen:
                out.append(
                    at(
                        ("turns", turn.id, "next", k),
                        f"这个分支的条件和前面的一样, 永远走不到 {branch.goto}",
                        "改条件或删掉它",
                    )
                )
            seen.append(branch.when)
    for k, example in enumerate(scenario.examples):
        steps = [p for p in example.path if p != END]
        for a, b in zip(steps, steps[1:], strict=False):
            if b not in scenario.successors(a):
                out.append(
                    at(
                        ("examples", k, "path"),
                        f"示例「{example.name}」的路径里 {a} 后面不能接 {b} (没有这条分支)",
                        "按 show 列出的分支改 path",
                    )
                )
                break
    if scenario.service not in SERVICES:
        out.append(at(("service",), f"业务 {scenario.service!r} 不在常用列表里", "取 " + "、".join(SERVICES) + " 之一"))
    replies = Path(scenario.source).parent / "replies" / f"{scenario.id}.txt"
    if replies.is_file():
        for number, line in enumerate(replies.read_text(encoding="utf-8-sig").splitlines(), 1):
            for match in PLACEHOLDER.finditer(line):
                if match.group(1) not in scenario.variables:
                    out.append(
                        Problem(
                            str(replies),
                            number,
                            "",
                            f"警告: 回答里的 {{{match.group(1)}}} 不是场景的变量, 会原样留在回答里",
                            "改成场景 variables 里的名字",
                        )
                    )
    return out
