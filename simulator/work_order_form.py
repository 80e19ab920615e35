"""Where a trainee's work order (工单) comes from: the terminal form, a replies file's ``[工单]`` section, or JSON.

The replies-file section is one ``label: value`` line per part, after the replies:

    [工单]
    工单类型: 联系法官
    案号: {case_no}
    承办法官: {judge}
    诉求摘要: 当事人想知道对方新证据什么时候能看到
    答复时限: 2个工作日

Labels are the form's Chinese labels (``scoring.work_order.FIELD_TITLES`` and the type, summary and reply-time
titles) or the YAML names (``case_no``); ``{placeholders}`` are filled with the call's drawn values, as in replies.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path

from core.errors import TrainerError
from scoring.work_order import (
    FIELD_TITLES,
    REPLY_WITHIN_TITLE,
    SUMMARY_TITLE,
    TYPE_TITLE,
    WORK_ORDER_TYPES,
    WorkOrder,
    WorkOrderSpec,
)
from simulator.scenario import fill

SECTION = "[工单]"
_TYPE, _SUMMARY, _REPLY_WITHIN = "type", "summary", "reply_within"
# every label a line may start with -> the part it fills
LABELS: dict[str, str] = {
    TYPE_TITLE: _TYPE,
    "类型": _TYPE,
    _TYPE: _TYPE,
    SUMMARY_TITLE: _SUMMARY,
    "摘要": _SUMMARY,
    _SUMMARY: _SUMMARY,
    REPLY_WITHIN_TITLE: _REPLY_WITHIN,
    _REPLY_WITHIN: _REPLY_WITHIN,
    **{title: name for name, title in FIELD_TITLES.items()},
    **{name: name for name in FIELD_TITLES},
}


def split_section(lines: list[str]) -> tuple[list[str], list[tuple[int, str]] | None]:
    """The replies before ``[工单]``, and the section's (line number, text) lines (None when there is none)."""
    for k, line in enumerate(lines):
        if line.strip() == SECTION:
            return lines[:k], [(k + 1 + j + 1, text) for j, text in enumerate(lines[k + 1 :])]
    return lines, None


def parse_section(numbered: Iterable[tuple[int, str]], where: str) -> WorkOrder:
    """``label: value`` lines into a work order; a line that is not one names ``file:line`` and the labels."""
    parts: dict[str, str] = {}
    fields: dict[str, str] = {}
    for number, raw in numbered:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        label, sep, value = line.replace("：", ":").partition(":")
        name = LABELS.get(label.strip())
        if not sep or name is None:
            known = "、".join([TYPE_TITLE, *FIELD_TITLES.values(), SUMMARY_TITLE, REPLY_WITHIN_TITLE])
            raise TrainerError(f"{where}:{number}: 工单一行应写成「标签: 内容」, 标签取 {known} - 改正这一行: {line}")
        if name in (_TYPE, _SUMMARY, _REPLY_WITHIN):
            parts[name] = value.strip()
        else:
            fields[name] = value.strip()
    return WorkOrder(parts.get(_TYPE, ""), fields, parts.get(_SUMMARY, ""), parts.get(_REPLY_WITHIN, ""))


def filled_with(order: WorkOrder, values: dict[str, str]) -> WorkOrder:
    """The work order with ``{placeholders}`` replaced by the call's drawn values (scripted runs and examples)."""
    return WorkOrder(
        fill(order.type, values),
        {k: fill(v, values) for k, v in order.fields.items()},
        fill(order.summary, values),
        fill(order.reply_within, values),
    )


def load_json(path: str | Path) -> WorkOrder:
    """``--work-order FILE.json``: {"type": ..., "fields": {"case_no": ...}, "summary": ..., "reply_within": ...}."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise TrainerError(f"无法读取工单文件 {path}: {exc.strerror} - 检查路径") from None
    except UnicodeDecodeError:
        raise TrainerError(f"工单文件 {path} 不是 UTF-8 编码 - 请用 UTF-8 保存") from None
    except json.JSONDecodeError as exc:
        raise TrainerError(
            f"{path}:{exc.lineno}: 工单文件不是有效的 JSON ({exc.msg}) - 参照 docs/scenario-format.md 的示例"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("fields", {}), dict):
        raise TrainerError(
            f'{path}: 工单应是 JSON 对象, fields 也是对象 - 写成 {{"type": "联系法官", "fields": {{"case_no": "..."}}}}'
        )
    return WorkOrder.from_json(data)


def ask(spec: WorkOrderSpec, prompt: Callable[[str], str]) -> WorkOrder:
    """The terminal form: the type from a numbered list, then each field the scenario asks for, the summary and the
    reply time. ``prompt`` shows a label and returns what the trainee typed (Rich's Prompt in the terminal UI)."""
    choices = "  ".join(f"{k}.{t}" for k, t in enumerate(WORK_ORDER_TYPES, 1))
    kind = ""
    while not kind:
        answer = prompt(f"{TYPE_TITLE} ({choices})").strip()
        if answer.isdigit() and 1 <= int(answer) <= len(WORK_ORDER_TYPES):
            kind = WORK_ORDER_TYPES[int(answer) - 1]
        elif answer in WORK_ORDER_TYPES:
            kind = answer
        elif not answer:
            break  # an empty type is allowed: the trainee moves on and loses the type's points
    fields = {name: prompt(FIELD_TITLES.get(name, name)).strip() for name in spec.fields}
    summary = prompt(SUMMARY_TITLE).strip() if spec.summary else ""
    reply_within = prompt(REPLY_WITHIN_TITLE).strip() if spec.reply_within else ""
    return WorkOrder(kind, fields, summary, reply_within)
