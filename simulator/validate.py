"""Check scenarios against the format in ``docs/scenario-format.md`` and report every problem at once.

Each problem reads ``path:line: where.in.document: what is wrong - how to fix it``. The checks
cover YAML syntax, unknown keys (with "did you mean"), types and ranges, missing fields,
``goto`` targets, unreachable turns, turns that cannot reach ``end``, undefined
``{variables}``, unknown guide categories and key points, and duplicate ids.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import Problem, ValidationError
from core.suggest import did_you_mean
from core.yamlio import Document, load_file
from scoring.work_order import FIELD_TITLES, WORK_ORDER_TYPES, WorkOrder, WorkOrderSpec
from simulator.scenario import (
    END,
    MOODS,
    PLACEHOLDER,
    Branch,
    Caller,
    Condition,
    Example,
    KeyPoint,
    MustNot,
    Scenario,
    Turn,
    Voice,
)

if TYPE_CHECKING:
    from scoring.guide import Guide

KEBAB = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
TURN_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
VARIANT = re.compile(r"^(?:[fm][1-9]|[a-z][a-z0-9_-]{0,30})$")

TOP_KEYS = {
    "id", "title", "service", "difficulty", "time_limit_s", "brief", "hidden", "caller",
    "variables", "start", "turns", "examples", "tags", "author", "notes", "must_not", "linked",
    "work_order",
}  # fmt: skip
REQUIRED_TOP = ("id", "title", "service", "difficulty", "time_limit_s", "brief", "caller", "start", "turns")
CALLER_KEYS = {"name", "persona", "mood", "voice"}
VOICE_KEYS = {"variant", "rate", "pitch", "volume"}
TURN_KEYS = {"say", "expect", "key_points", "next", "hint", "must_not"}
POINT_KEYS = {"id", "text", "any", "value"}
MUST_NOT_KEYS = {"id", "text", "any", "severity", "suggest", "forbidden"}
SEVERITIES = ("minor", "major", "critical")  # as the guide's forbidden phrases (scoring/guide.py)
BRANCH_KEYS = {"if", "goto"}
CONDITION_KEYS = {
    "hit", "missed", "point", "missed_point", "forbidden", "must_not", "contradiction", "score_below", "score_at_least",
}  # fmt: skip
EXAMPLE_KEYS = {"name", "replies", "score", "path", "seed", "passed", "work_order"}
WORK_ORDER_KEYS = {"type", "fields", "summary", "reply_within"}


class _Checker:
    """Collects problems for one scenario document while building its dataclasses."""

    def __init__(
        self,
        doc: Document,
        categories: set[str] | None,
        words: dict[str, tuple[str, ...]] | None = None,
        forbidden_ids: set[str] | None = None,
    ):
        self.doc = doc
        self.categories = categories  # None when the guide itself failed to load
        self.words = words or {}  # the guide's word groups, usable as 【名称】 in scenario phrases
        self.forbidden_ids = forbidden_ids  # the guide's forbidden ids a must_not rule may name (None: unchecked)
        self.problems: list[Problem] = []
        self.placeholders: list[tuple[tuple, str]] = []  # (where, text) to check against variables
        self.value_refs: list[tuple[tuple, str]] = []  # (where, variable) named by a key point's value

    def add(self, where: tuple, what: str, fix: str = "") -> None:
        self.problems.append(self.doc.problem(where, what, fix))

    def unknown_keys(self, where: tuple, data: dict, known: set[str]) -> None:
        for key in data:
            if key not in known:
                self.add(where + (key,), f"未知的键 {key!r}", did_you_mean(key, known))

    def mapping(self, where: tuple, value: Any, fix: str) -> dict | None:
        if isinstance(value, dict):
            return value
        self.add(where, f"应是一个映射 (键: 值), 而不是 {_kind(value)}", fix)
        return None

    def text(self, where: tuple, value: Any, *, required: bool = True, placeholders: bool = True) -> str:
        if value is None:
            if required:
                self.add(where, "缺少必填项", f"写上 {where[-1]}: ...")
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.add(where, f"应是文本, 而不是 {_kind(value)}", "写成一行文字")
            return ""
        text = str(value).strip()
        if not text and required:
            self.add(where, "不能为空", "写上内容")
        if placeholders:
            self.placeholders.append((where, text))
        return text

    def integer(self, where: tuple, value: Any, low: int, high: int, default: int | None = None) -> int:
        if value is None and default is not None:
            return default
        if value is None:
            self.add(where, "缺少必填项", f"写上 {where[-1]}: 一个 {low} 到 {high} 之间的整数")
            return low
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(where, f"应是整数, 而不是 {_kind(value)} {value!r}", f"写一个 {low} 到 {high} 之间的整数")
            return low
        if not low <= value <= high:
            self.add(where, f"{value} 超出范围 {low}..{high}", f"写一个 {low} 到 {high} 之间的整数")
            return min(max(value, low), high)
        return value

    def number(self, where: tuple, value: Any, low: float, high: float) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.add(where, f"应是数字, 而不是 {_kind(value)} {value!r}", f"写一个 {low:g} 到 {high:g} 之间的数")
            return low
        if not low <= value <= high:
            self.add(where, f"{value} 超出范围 {low:g}..{high:g}", f"写一个 {low:g} 到 {high:g} 之间的数")
            return min(max(float(value), low), high)
        return float(value)

    def text_list(self, where: tuple, value: Any, *, allow_empty: bool = False) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.add(where, f"应是列表, 而不是 {_kind(value)}", "写成 [第一项, 第二项]")
            return ()
        if not value and not allow_empty:
            self.add(where, "列表不能为空", "至少写一项, 或删除这个键")
        return tuple(self.text(where + (i,), item) for i, item in enumerate(value))

    # -- sections -------------------------------------------------------------------------

    def scenario(self) -> Scenario | None:
        data = self.doc.data
        if not isinstance(data, dict):
            self.add(
                (), f"场景文件应是一个映射, 而不是 {_kind(data)}", "参照 docs/scenario-format.md 的示例, 以 id: 开头"
            )
            return None
        self.unknown_keys((), data, TOP_KEYS)
        for key in REQUIRED_TOP:
            if key not in data:
                self.add((), f"缺少必填键 {key!r}", f"在文件顶层加上 {key}: ...")
        sid = self.text(("id",), data.get("id"), placeholders=False) if "id" in data else ""
        if sid and not KEBAB.match(sid):
            self.add(("id",), f"id {sid!r} 不是 kebab-case", "只用小写字母、数字和连字符, 例如 wrong-courtroom")
        stem = Path(self.doc.path).stem
        if sid and KEBAB.match(sid) and stem != sid and not self.doc.path.startswith("<"):
            self.add(("id",), f"id {sid!r} 与文件名 {stem!r} 不一致", f"把文件改名为 {sid}.yaml, 或把 id 改为 {stem}")
        title = self.text(("title",), data.get("title"), placeholders=False) if "title" in data else ""
        service = self.text(("service",), data.get("service"), placeholders=False) if "service" in data else ""
        difficulty = self.integer(("difficulty",), data.get("difficulty"), 1, 5) if "difficulty" in data else 1
        limit = self.integer(("time_limit_s",), data.get("time_limit_s"), 30, 3600) if "time_limit_s" in data else 180
        brief = self.text(("brief",), data.get("brief")) if "brief" in data else ""
        hidden = self.text_list(("hidden",), data.get("hidden"), allow_empty=True)
        tags = self.text_list(("tags",), data.get("tags"), allow_empty=True)
        for key in ("author", "notes"):
            if key in data:
                self.text((key,), data[key], required=False, placeholders=False)
        caller = self.caller(data.get("caller")) if "caller" in data else None
        variables = self.variables(data.get("variables"))
        linked = self.linked(data.get("linked"), variables)
        must_not = self.must_not(("must_not",), data.get("must_not"))
        turns = self.turns(data.get("turns"), {m.id for m in must_not}) if "turns" in data else {}
        start = self.text(("start",), data.get("start"), placeholders=False) if "start" in data else ""
        if start and turns and start not in turns:
            self.add(("start",), f"start 指向不存在的轮次 {start!r}", _choose_turn(start, turns))
        examples = self.examples(data.get("examples"), turns, start)
        work_order = self.work_order(data.get("work_order"))
        self.graph(turns, start)
        self.check_placeholders(variables)
        self.check_values(variables)
        if self.problems or caller is None:
            return None
        return Scenario(
            id=sid,
            title=title,
            service=service,
            difficulty=difficulty,
            time_limit_s=limit,
            brief=brief,
            caller=caller,
            start=start,
            turns=turns,
            hidden=hidden,
            variables=variables,
            examples=examples,
            tags=tags,
            must_not=must_not,
            linked=linked,
            work_order=work_order,
            source=self.doc.path,
        )

    def caller(self, value: Any) -> Caller | None:
        where = ("caller",)
        raw = self.mapping(where, value, "写成 caller: {name: ..., persona: ..., mood: calm}")
        if raw is None:
            return None
        self.unknown_keys(where, raw, CALLER_KEYS)
        name = self.text(where + ("name",), raw.get("name"), placeholders=False)
        persona = self.text(where + ("persona",), raw.get("persona"), placeholders=False)
        mood = raw.get("mood", "calm")
        if mood not in MOODS:
            self.add(where + ("mood",), f"未知的情绪 {mood!r}", f"取 {' | '.join(MOODS)} 之一")
            mood = "calm"
        voice = Voice()
        if "voice" in raw:
            voice = self.voice(raw["voice"]) or voice
        return Caller(name=name, persona=persona, mood=mood, voice=voice)

    def voice(self, value: Any) -> Voice | None:
        where = ("caller", "voice")
        raw = self.mapping(where, value, "写成 voice: {variant: f3, rate: 170, pitch: 50, volume: 0.9}")
        if raw is None:
            return None
        self.unknown_keys(where, raw, VOICE_KEYS)
        variant = raw.get("variant")
        if variant is not None and (not isinstance(variant, str) or not VARIANT.match(variant)):
            self.add(
                where + ("variant",), f"无效的音色 {variant!r}", "写 espeak-ng 的音色, 例如 f3 (女声) 或 m3 (男声)"
            )
            variant = None
        return Voice(
            variant=variant,
            rate=self.integer(where + ("rate",), raw.get("rate"), 80, 450, default=170),
            pitch=self.integer(where + ("pitch",), raw.get("pitch"), 0, 99, default=50),
            volume=self.number(where + ("volume",), raw.get("volume", 0.9), 0.0, 1.0),
        )

    def variables(self, value: Any) -> dict[str, tuple[str, ...]]:
        if value is None:
            return {}
        raw = self.mapping(("variables",), value, "写成 variables: {case_no: [值一, 值二]}")
        if raw is None:
            return {}
        out: dict[str, tuple[str, ...]] = {}
        for name, values in raw.items():
            where = ("variables", name)
            if not VARIABLE.match(name):
                self.add(where, f"变量名 {name!r} 无效", "只用字母、数字和下划线, 以字母开头, 例如 case_no")
                continue
            if not isinstance(values, list) or not values:
                self.add(where, "变量的取值应是非空列表", f"写成 {name}: [值一, 值二]")
                continue
            items = []
            for i, item in enumerate(values):
                if isinstance(item, bool) or not isinstance(item, str | int | float) or not str(item).strip():
                    self.add(where + (i,), "取值应是非空文本", "用引号括起来")
                elif PLACEHOLDER.search(str(item)):
                    self.add(where + (i,), "变量的取值里不能再引用变量", "写出具体的值")
                else:
                    items.append(str(item).strip())
            out[name] = tuple(items)
        return out

    def linked(self, value: Any, variables: dict[str, tuple[str, ...]]) -> tuple[tuple[str, ...], ...]:
        """Groups of variables drawn at the same position: linked: [[amount, fee]]."""
        if value is None:
            return ()
        fix = "写成 linked: [[amount, fee]] (同一组变量按相同位置一起抽取)"
        if not isinstance(value, list):
            self.add(("linked",), f"应是列表, 而不是 {_kind(value)}", fix)
            return ()
        groups: list[tuple[str, ...]] = []
        seen: set[str] = set()
        for i, group in enumerate(value):
            where = ("linked", i)
            if not isinstance(group, list) or len(group) < 2 or not all(isinstance(n, str) for n in group):
                self.add(where, "每一组应是至少两个变量名的列表", fix)
                continue
            for name in group:
                if name not in variables:
                    fix_name = _closest(name, variables, "变量") if variables else f"在 variables 里定义 {name}"
                    self.add(where, f"未定义的变量 {name!r}", fix_name)
                elif name in seen:
                    self.add(where, f"变量 {name!r} 出现在两个 linked 组里", "每个变量最多属于一组")
                seen.add(name)
            sizes = {len(variables[n]) for n in group if n in variables}
            if len(sizes) > 1:
                counts = "、".join(f"{n} {len(variables[n])} 个" for n in group if n in variables)
                self.add(where, f"同一组变量的取值个数不同 ({counts})", "让每个变量的取值一一对应, 个数相同")
            groups.append(tuple(group))
        return tuple(groups)

    def must_not(self, where: tuple, value: Any, outer: set[str] = frozenset()) -> tuple[MustNot, ...]:
        """What the agent must never say: [{id, text, any, severity, suggest}], ids unique in the scenario."""
        if value is None:
            return ()
        example = (
            "写成 - {id: predict_outcome, text: 对案件结果作判断, any: [肯定能赢], severity: critical, suggest: ...}"
        )
        if not isinstance(value, list):
            self.add(where, f"应是列表, 而不是 {_kind(value)}", example)
            return ()
        rules: list[MustNot] = []
        seen: set[str] = set()
        for i, raw in enumerate(value):
            rw = where + (i,)
            raw = self.mapping(rw, raw, example)
            if raw is None:
                continue
            self.unknown_keys(rw, raw, MUST_NOT_KEYS)
            rid = self.text(rw + ("id",), raw.get("id"), placeholders=False)
            if rid and not TURN_ID.match(rid):
                self.add(rw + ("id",), f"must_not 的 id {rid!r} 无效", "用字母、数字和下划线, 例如 promise_refund")
            if rid and (rid in seen or rid in outer):
                where_else = "场景级的 must_not 里已有" if rid in outer else "同一个列表里已有"
                self.add(rw + ("id",), f"重复的 must_not id {rid!r} ({where_else})", "每条 must_not 用不同的 id")
            seen.add(rid)
            text = self.text(rw + ("text",), raw.get("text"))
            phrases = self.phrases(rw + ("any",), raw.get("any"))
            if "any" not in raw:
                self.add(rw, "缺少 any", "写上 any: [违反这条规定的说法, ...]")
            severity = raw.get("severity", "major")
            if severity not in SEVERITIES:
                self.add(rw + ("severity",), f"未知的严重程度 {severity!r}", "取 minor、major 或 critical")
                severity = "major"
            suggest = self.text(rw + ("suggest",), raw.get("suggest"))
            linked = self.text_list(rw + ("forbidden",), raw.get("forbidden"))
            for i, fid in enumerate(linked):
                if self.forbidden_ids is not None and fid and fid not in self.forbidden_ids:
                    self.add(
                        rw + ("forbidden", i), f"规范用语中没有禁语 {fid!r}", _closest(fid, self.forbidden_ids, "禁语")
                    )
            rules.append(MustNot(rid, text, phrases, str(severity), suggest, linked))
        return tuple(rules)

    def work_order(self, value: Any) -> WorkOrderSpec | None:
        """The work order a good call ends with: {type, fields: {name: value}, summary: [key points], reply_within}."""
        if value is None:
            return None
        where = ("work_order",)
        raw = self.mapping(
            where, value, '写成 work_order: {type: 联系法官, fields: {case_no: "{case_no}"}, reply_within: 2个工作日}'
        )
        if raw is None:
            return None
        self.unknown_keys(where, raw, WORK_ORDER_KEYS)
        kind, fields = self.work_order_type_and_fields(where, raw, required=True)
        summary = self.key_points(where + ("summary",), raw.get("summary"))
        reply_within = self.text(where + ("reply_within",), raw.get("reply_within"), required=False)
        if not fields and not summary and not reply_within:
            self.add(where, "工单没有可评分的内容", "至少写上 fields、summary 或 reply_within 之一")
        return WorkOrderSpec(kind, fields, summary, reply_within)

    def work_order_type_and_fields(self, where: tuple, raw: dict, *, required: bool) -> tuple[str, dict[str, str]]:
        """The type (one of the hotline's work-order types) and the fields (known names) of a work order."""
        kind = self.text(where + ("type",), raw.get("type"), required=required, placeholders=False)
        if kind and kind not in WORK_ORDER_TYPES:
            self.add(where + ("type",), f"未知的工单类型 {kind!r}", _closest(kind, WORK_ORDER_TYPES, "工单类型"))
        fields: dict[str, str] = {}
        if "fields" in raw:
            body = self.mapping(
                where + ("fields",), raw["fields"], '写成 fields: {case_no: "{case_no}", judge: "{judge}"}'
            )
            for name, text in (body or {}).items():
                if name not in FIELD_TITLES:
                    self.add(
                        where + ("fields", name), f"未知的工单字段 {name!r}", _closest(str(name), FIELD_TITLES, "字段")
                    )
                fields[str(name)] = self.text(where + ("fields", name), text, required=required)
        return kind, fields

    def filled_work_order(self, where: tuple, value: Any) -> WorkOrder | None:
        """An example's work order, as a trainee would fill it in: {type, fields, summary, reply_within}."""
        raw = self.mapping(
            where, value, '写成 work_order: {type: 联系法官, fields: {case_no: "{case_no}"}, summary: ...}'
        )
        if raw is None:
            return None
        self.unknown_keys(where, raw, WORK_ORDER_KEYS)
        kind, fields = self.work_order_type_and_fields(where, raw, required=False)
        summary = self.text(where + ("summary",), raw.get("summary"), required=False)
        reply_within = self.text(where + ("reply_within",), raw.get("reply_within"), required=False)
        return WorkOrder(kind, fields, summary, reply_within)

    def phrases(self, where: tuple, value: Any) -> tuple[str, ...]:
        """A list of phrases in the guide's markup, checked as the guide's own are (docs/guide-format.md)."""
        from scoring.matcher import phrase_syntax_problem

        items = self.text_list(where, value)
        for i, phrase in enumerate(items):
            problem = phrase_syntax_problem(PLACEHOLDER.sub("某", phrase), self.words) if phrase else None
            if problem:
                self.add(where + (i,), f"短语 {phrase!r} 写法有误: {problem}", "参见 docs/guide-format.md 的短语写法")
        return items

    def turns(self, value: Any, scenario_rules: set[str] = frozenset()) -> dict[str, Turn]:
        raw = self.mapping(("turns",), value, "写成 turns: {opening: {say: ..., next: [...]}}")
        if raw is None:
            return {}
        if not raw:
            self.add(("turns",), "至少需要一个轮次", "加上 start 所指的轮次")
        turn_ids = set(raw)
        turns: dict[str, Turn] = {}
        for tid, body in raw.items():
            where = ("turns", tid)
            if tid == END or not TURN_ID.match(tid):
                self.add(where, f"轮次 id {tid!r} 无效", "用字母、数字、下划线或连字符, 且不能叫 end")
                continue
            body = self.mapping(where, body, "写成 {say: ..., expect: [...], next: [...]}")
            if body is None:
                continue
            self.unknown_keys(where, body, TURN_KEYS)
            say = self.text(where + ("say",), body.get("say"))
            expect = self.expect(where + ("expect",), body.get("expect"))
            points = self.key_points(where + ("key_points",), body.get("key_points"))
            hint = self.text(where + ("hint",), body.get("hint"), required=False)
            rules = self.must_not(where + ("must_not",), body.get("must_not"), scenario_rules)
            branches = self.branches(where + ("next",), body.get("next"), turn_ids, {p.id for p in points})
            turns[tid] = Turn(tid, say, expect, points, branches, hint, rules)
        return turns

    def expect(self, where: tuple, value: Any) -> tuple[str, ...]:
        items = self.text_list(where, value, allow_empty=True)
        for i, cid in enumerate(items):
            if self.categories is not None and cid and cid not in self.categories:
                self.add(where + (i,), f"规范用语中没有类别 {cid!r}", _closest(cid, self.categories, "类别"))
        if len(set(items)) != len(items):
            self.add(where, "类别重复", "每个类别只写一次")
        return items

    def key_points(self, where: tuple, value: Any) -> tuple[KeyPoint, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.add(where, f"应是列表, 而不是 {_kind(value)}", "写成 - {id: ask_case_no, text: 询问案号, any: [案号]}")
            return ()
        points: list[KeyPoint] = []
        seen: set[str] = set()
        for i, raw in enumerate(value):
            pw = where + (i,)
            raw = self.mapping(pw, raw, "写成 {id: ask_case_no, text: 询问案号, any: [案号, 哪个案子]}")
            if raw is None:
                continue
            self.unknown_keys(pw, raw, POINT_KEYS)
            pid = self.text(pw + ("id",), raw.get("id"), placeholders=False)
            if pid and not TURN_ID.match(pid):
                self.add(pw + ("id",), f"要点 id {pid!r} 无效", "用字母、数字和下划线, 例如 ask_case_no")
            if pid in seen:
                self.add(pw + ("id",), f"重复的要点 id {pid!r}", "同一轮次的要点 id 不能重复")
            seen.add(pid)
            text = self.text(pw + ("text",), raw.get("text"))
            phrases = self.phrases(pw + ("any",), raw.get("any"))
            variable = ""
            if "value" in raw:
                variable = self.text(pw + ("value",), raw.get("value"), placeholders=False)
                if variable.startswith("{") and variable.endswith("}"):
                    self.add(
                        pw + ("value",),
                        f"value 写变量名本身, 不带花括号: {variable!r}",
                        f"写成 value: {variable[1:-1]}",
                    )
                    variable = variable[1:-1]
                self.value_refs.append((pw + ("value",), variable))
            if "any" not in raw and "value" not in raw:
                self.add(pw, "缺少 any 或 value", "写上 any: [能体现这个要点的说法, ...], 或 value: 变量名")
            points.append(KeyPoint(pid, text, phrases, variable))
        return tuple(points)

    def branches(self, where: tuple, value: Any, turn_ids: set[str], point_ids: set[str]) -> tuple[Branch, ...]:
        if value is None:
            return (Branch(END),)  # a turn without `next` ends the call
        if not isinstance(value, list) or not value:
            self.add(where, "next 应是非空的分支列表", "写成 next: [{if: {hit: greeting}, goto: t2}, {goto: t3}]")
            return ()
        out: list[Branch] = []
        for i, raw in enumerate(value):
            bw = where + (i,)
            raw = self.mapping(bw, raw, "写成 {if: {...}, goto: 轮次id} 或 {goto: end}")
            if raw is None:
                continue
            self.unknown_keys(bw, raw, BRANCH_KEYS)
            goto = raw.get("goto")
            if not isinstance(goto, str) or not goto:
                self.add(bw + ("goto",), "缺少 goto", "写上 goto: 轮次id 或 goto: end")
                goto = END
            elif goto != END and goto not in turn_ids:
                self.add(bw + ("goto",), f"goto 指向不存在的轮次 {goto!r}", _choose_turn(goto, turn_ids))
            when = self.condition(bw + ("if",), raw["if"], point_ids) if "if" in raw else None
            last = i == len(value) - 1
            if when is None and not last:
                self.add(bw, "没有 if 的分支之后的分支永远不会被选中", "把没有 if 的分支放到最后")
            if when is not None and last:
                self.add(bw, "最后一个分支必须没有 if, 否则通话可能无路可走", "在末尾加上 {goto: ...} 作为默认分支")
            out.append(Branch(goto, when))
        return tuple(out)

    def condition(self, where: tuple, value: Any, point_ids: set[str]) -> Condition | None:
        raw = self.mapping(where, value, "写成 if: {hit: ask_case_info} 或 if: {forbidden: true}")
        if raw is None:
            return Condition()
        if not raw:
            self.add(where, "条件为空", "写上 " + "、".join(sorted(CONDITION_KEYS)) + " 中的一个")
        self.unknown_keys(where, raw, CONDITION_KEYS)
        fields: dict[str, Any] = {}
        for key in ("hit", "missed"):
            if key in raw:
                cid = self.text(where + (key,), raw[key], placeholders=False)
                if self.categories is not None and cid and cid not in self.categories:
                    self.add(where + (key,), f"规范用语中没有类别 {cid!r}", _closest(cid, self.categories, "类别"))
                fields[key] = cid
        for key in ("point", "missed_point"):
            if key in raw:
                pid = self.text(where + (key,), raw[key], placeholders=False)
                if pid and pid not in point_ids:
                    fix = _closest(pid, point_ids, "要点") if point_ids else "先在本轮 key_points 里定义这个要点"
                    self.add(where + (key,), f"本轮没有要点 {pid!r}", fix)
                fields[key] = pid
        for key in ("forbidden", "must_not", "contradiction"):
            if key in raw:
                if not isinstance(raw[key], bool):
                    self.add(where + (key,), f"{key} 应是 true 或 false, 而不是 {raw[key]!r}", f"写 {key}: true")
                else:
                    fields[key] = raw[key]
        for key in ("score_below", "score_at_least"):
            if key in raw:
                fields[key] = self.number(where + (key,), raw[key], 0, 100)
        return Condition(**fields)

    def examples(self, value: Any, turns: dict[str, Turn], start: str) -> tuple[Example, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.add(
                ("examples",),
                f"应是列表, 而不是 {_kind(value)}",
                "写成 - {name: ..., replies: [...], score: [80, 100]}",
            )
            return ()
        out: list[Example] = []
        names: set[str] = set()
        for i, raw in enumerate(value):
            where = ("examples", i)
            raw = self.mapping(where, raw, "写成 {name: 规范应答, replies: [...], score: [80, 100]}")
            if raw is None:
                continue
            self.unknown_keys(where, raw, EXAMPLE_KEYS)
            name = self.text(where + ("name",), raw.get("name"), placeholders=False)
            if name in names:
                self.add(where + ("name",), f"重复的示例名 {name!r}", "每个示例起不同的名字")
            names.add(name)
            replies = self.text_list(where + ("replies",), raw.get("replies"))
            if "replies" not in raw:
                self.add(where, "缺少 replies", "写上 replies: [第一句回答, 第二句回答]")
            score = raw.get("score")
            low = high = 0.0
            if (
                not isinstance(score, list)
                or len(score) != 2
                or not all(isinstance(s, int | float) and not isinstance(s, bool) for s in score)
            ):
                self.add(where + ("score",), "score 应是 [最低分, 最高分]", "例如 score: [80, 100]")
            else:
                low, high = float(score[0]), float(score[1])
                if not 0 <= low <= high <= 100:
                    self.add(where + ("score",), f"分数范围 {score} 无效", "写成 [低, 高], 0 <= 低 <= 高 <= 100")
            path = self.text_list(where + ("path",), raw.get("path"))
            for j, tid in enumerate(path):
                if tid and tid != END and tid not in turns:
                    self.add(where + ("path", j), f"path 中的轮次 {tid!r} 不存在", _choose_turn(tid, turns))
            if path and start and path[0] != start:
                self.add(where + ("path", 0), f"path 应从 start 轮次 {start!r} 开始", f"把第一项改为 {start}")
            seed = self.integer(where + ("seed",), raw.get("seed"), 0, 2**31 - 1, default=0)
            passed = raw.get("passed")
            if passed is not None and not isinstance(passed, bool):
                self.add(
                    where + ("passed",), f"passed 应是 true 或 false, 而不是 {_kind(passed)}", "写成 passed: false"
                )
                passed = None
            order = self.filled_work_order(where + ("work_order",), raw["work_order"]) if "work_order" in raw else None
            out.append(Example(name, replies, (low, high), path, seed, passed, order))
        return tuple(out)

    def graph(self, turns: dict[str, Turn], start: str) -> None:
        if not turns or start not in turns:
            return
        reachable: set[str] = set()
        frontier = [start]
        while frontier:
            tid = frontier.pop()
            if tid in reachable or tid not in turns:
                continue
            reachable.add(tid)
            frontier.extend(b.goto for b in turns[tid].next)
        for tid in turns:
            if tid not in reachable:
                self.add(("turns", tid), f"轮次 {tid!r} 从 start 无法到达", "从其他轮次的 next 里 goto 它, 或删除它")
        # turns that can reach `end`: walk the branches backwards from it, once each (linear in the branches)
        callers: dict[str, list[str]] = {}
        for tid, turn in turns.items():
            for branch in turn.next:
                callers.setdefault(branch.goto, []).append(tid)
        ends: set[str] = set()
        frontier = list(callers.get(END, ()))
        while frontier:
            tid = frontier.pop()
            if tid not in ends:
                ends.add(tid)
                frontier.extend(callers.get(tid, ()))
        for tid in turns:
            if tid in reachable and tid not in ends and turns[tid].next:
                self.add(("turns", tid, "next"), f"从轮次 {tid!r} 出发永远到不了 end", "让某个分支最终 goto: end")

    def check_values(self, variables: dict[str, tuple[str, ...]]) -> None:
        for where, name in self.value_refs:
            if name and name not in variables:
                fix = _closest(name, variables, "变量") if variables else f"在 variables 里定义 {name}"
                self.add(where, f"value 指向未定义的变量 {name!r}", fix)

    def check_placeholders(self, variables: dict[str, tuple[str, ...]]) -> None:
        for where, text in self.placeholders:
            for match in PLACEHOLDER.finditer(text):
                name = match.group(1)
                if name not in variables:
                    fix = _closest(name, variables, "变量") if variables else f"在 variables 里定义 {name}"
                    self.add(where, f"未定义的变量 {{{name}}}", fix)


def _kind(value: Any) -> str:
    return {
        dict: "映射",
        list: "列表",
        str: "文本",
        int: "整数",
        float: "数字",
        bool: "布尔值",
        type(None): "空值",
    }.get(type(value), type(value).__name__)


def _closest(name: str, known: Iterable[str], noun: str) -> str:
    return did_you_mean(name, known, noun, cutoff=0.5)


def _choose_turn(name: str, turns: Iterable[str]) -> str:
    return _closest(name, list(turns) + [END], "轮次")


def _guide():
    from scoring.guide import check_guide

    return check_guide()


def check_scenario_file(
    path: str | Path, categories: set[str] | None, guide=None
) -> tuple[Scenario | None, list[Problem]]:
    """Check one scenario file against the guide's categories (and, with ``guide``, its word groups and forbidden ids)."""
    doc, problems = load_file(path)
    if doc is None:
        return None, problems
    forbidden_ids = {f.id for f in guide.forbidden} if guide else None
    checker = _Checker(doc, categories, guide.words if guide else None, forbidden_ids)
    scenario = checker.scenario()
    if scenario is not None:
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        scenario = _with_hash(scenario, digest)
    return scenario, checker.problems


def _with_hash(scenario: Scenario, digest: str) -> Scenario:
    from dataclasses import replace

    return replace(scenario, content_hash=digest)


def load_scenario(path: str | Path, guide: Guide | None = None) -> Scenario:
    """Load one scenario file, raising ``ValidationError`` with every problem in it. ``guide``: one already loaded
    and checked (the scorer's); else the bundled guide is read and checked."""
    guide, guide_problems = (guide, []) if guide is not None else _guide()
    scenario, problems = check_scenario_file(path, set(guide.categories) if guide else None, guide)
    if guide_problems or problems or scenario is None:
        raise ValidationError(guide_problems + problems)
    return scenario


def scenario_files(paths: Iterable[str | Path]) -> list[Path]:
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files.extend(sorted(f for f in p.rglob("*.yaml") if f.is_file()))
            files.extend(sorted(f for f in p.rglob("*.yml") if f.is_file()))
        else:
            files.append(p)
    return files


def validate_paths(
    paths: Iterable[str | Path], *, guide: str | Path | None = None
) -> tuple[list[Scenario], list[Problem]]:
    """Validate scenario files/folders (and the guide); return the good scenarios and every problem."""
    from scoring.guide import GUIDE_PATH, check_guide

    guide_obj, problems = check_guide(guide or GUIDE_PATH)
    categories = set(guide_obj.categories) if guide_obj else None
    scenarios: list[Scenario] = []
    first_seen: dict[str, str] = {}
    for path in scenario_files(paths):
        if guide is None and path.resolve() == GUIDE_PATH.resolve():
            continue  # the guide was checked above
        scenario, found = check_scenario_file(path, categories, guide_obj)
        problems.extend(found)
        if scenario is None:
            continue
        if scenario.id in first_seen:
            doc, _ = load_file(path)
            line = doc.line(("id",)) if doc else 1
            problems.append(
                Problem(
                    scenario.source,
                    line,
                    "id",
                    f"id {scenario.id!r} 与 {first_seen[scenario.id]} 重复",
                    "每个场景用不同的 id",
                )
            )
            continue
        first_seen[scenario.id] = scenario.source
        scenarios.append(scenario)
    return scenarios, sorted(set(problems))
