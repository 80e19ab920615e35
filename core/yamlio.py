"""Safe YAML loading that remembers the line of every value.

Scenario and guide errors must name ``file:line``; PyYAML's plain ``safe_load`` forgets
where a value came from, so we compose nodes and build plain Python values ourselves,
recording the 1-based line of each path. Only YAML's standard tags are accepted: a
document that asks to construct an object (``!!python/object``) is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import Problem

Path_ = tuple[str | int, ...]

_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}
_SEQ_TAG = "tag:yaml.org,2002:seq"
# Bounds on what a file may make us do: a scenario is a few kB, the guide under 200 kB. A 478-byte "billion laughs"
# of nested aliases would otherwise expand without end.
MAX_FILE_BYTES = 2_000_000
MAX_VALUES = 200_000


class _TooManyValues(Exception):
    pass


_MAP_TAG = "tag:yaml.org,2002:map"


@dataclass
class Document:
    """A loaded YAML document: its data and the line of every path in it."""

    path: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)

    def line(self, where: Path_) -> int:
        """Line of ``where``, or of its nearest ancestor that has one."""
        where = tuple(where)
        while where:
            if ("key",) + where in self.lines:
                return self.lines[("key",) + where]
            if where in self.lines:
                return self.lines[where]
            where = where[:-1]
        return self.lines.get((), 1)

    def problem(self, where: Path_, what: str, fix: str = "") -> Problem:
        return Problem(self.path, self.line(where), dotted(where), what, fix)

    def unknown_keys(self, where: Path_, data: dict, known: set[str]) -> list[Problem]:
        """A problem for each key of the mapping ``data`` (at ``where``) that is not ``known``, with a did-you-mean."""
        from core.suggest import did_you_mean

        return [
            self.problem(tuple(where) + (key,), f"未知的键 {key!r}", did_you_mean(key, known))
            for key in data
            if key not in known
        ]


def dotted(where: Path_) -> str:
    """``("turns", "t2", "next", 0, "goto")`` -> ``turns.t2.next[0].goto``."""
    out = ""
    for part in where:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def load_text(text: str, path: str) -> tuple[Document | None, list[Problem]]:
    """Parse ``text``; return the document or the problems that stop it loading."""
    import yaml

    try:
        try:  # libyaml composes a large file several times faster; a broken one is read again by the Python loader
            node = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except yaml.YAMLError:  # whose messages are the ones authors see (and the tests pin)
            node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        found = _structural_character(text)
        if found:  # name the real cause: PyYAML blames the next line with a message about something else
            return None, [Problem(path, *found)]
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        what = f"YAML 语法错误: {exc.problem or exc.context}"
        return None, [Problem(path, line, "", what, _syntax_fix(text, line))]
    except yaml.YAMLError as exc:  # e.g. reader errors on control characters
        return None, [Problem(path, 1, "", f"YAML 无法读取: {exc}", "请保存为 UTF-8 纯文本")]
    except RecursionError:
        return None, [Problem(path, 1, "", "YAML 嵌套过深", "减少嵌套层数")]
    doc = Document(path, None)
    if node is None:
        return doc, []
    problems: list[Problem] = []
    budget = [MAX_VALUES]
    try:
        doc.data = _build(node, (), doc, problems, depth=0, budget=budget)
    except RecursionError:
        return None, [Problem(path, 1, "", "YAML 嵌套过深", "减少嵌套层数")]
    except _TooManyValues:
        what = f"YAML 展开后超过 {MAX_VALUES:,} 个值 (别名 *… 层层引用)"
        return None, [Problem(path, 1, "", what, "不要嵌套引用别名, 把内容直接写出来")]
    if problems:
        return None, problems
    return doc, []


_FULL_WIDTH_KEY = re.compile(r"^[ \t\u3000]*-?[ \u3000]*[A-Za-z_][A-Za-z0-9_-]*[ \u3000]*：")


def _structural_character(text: str) -> tuple[int, str, str, str] | None:
    """A character YAML cannot take where structure goes: a tab or a full-width space (U+3000) in the
    indentation, a full-width colon after a key. Returns (line, where, what, fix)."""
    for number, line in enumerate(text.splitlines(), 1):
        indent = line[: len(line) - len(line.lstrip(" \t\u3000"))]
        if "\u3000" in indent:
            return number, "", "缩进里有全角空格 (U+3000)", "把这一行开头的全角空格换成普通空格"
        if "\t" in indent:
            return number, "", "缩进里有 Tab", "YAML 不允许用 Tab 缩进, 请改用空格"
        if _FULL_WIDTH_KEY.match(line):
            key = line.split("：", 1)[0].strip(" -\t\u3000")
            return number, "", f"键 {key} 后面是全角冒号「：」", f"改成半角冒号加空格: {key}: "
    return None


def _syntax_fix(text: str, line: int) -> str:
    lines = text.splitlines()
    nearby = " ".join(lines[max(0, line - 2) : line])
    if "{" in nearby and ("[" in nearby or nearby.count("{") > 1):
        return '在 [ ] 或 { } 里, 含 {变量} 或逗号的文字要加引号, 例如 ["案号是{case_no}"]'
    if "\t" in nearby:
        return "YAML 不允许用 Tab 缩进, 请改用空格"
    return "检查该行及上一行的缩进、冒号和引号"


def load_file(path: str | Path) -> tuple[Document | None, list[Problem]]:
    shown = _shown(path)
    try:
        size = Path(path).stat().st_size
        if size > MAX_FILE_BYTES:
            what = f"文件有 {size:,} 字节, 超过上限 {MAX_FILE_BYTES:,}"
            return None, [Problem(shown, 1, "", what, "场景文件通常只有几 KB: 检查是不是选错了文件")]
        raw = Path(path).read_bytes()
    except OSError as exc:
        return None, [Problem(shown, 1, "", f"无法读取文件: {exc.strerror}", "检查路径是否正确")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [Problem(shown, line, "", "文件不是 UTF-8 编码", "请用 UTF-8 编码保存")]
    return load_text(text, shown)


def _shown(path: str | Path) -> str:
    """Paths relative to the working directory read better in error lines."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


def _build(node: Any, where: Path_, doc: Document, problems: list[Problem], depth: int, budget: list[int]) -> Any:
    import yaml

    budget[0] -= 1
    if budget[0] < 0:
        raise _TooManyValues

    line = node.start_mark.line + 1
    doc.lines.setdefault(where, line)
    if depth > 60:
        problems.append(Problem(doc.path, line, dotted(where), "YAML 嵌套过深", "减少嵌套层数"))
        return None
    if isinstance(node, yaml.ScalarNode):
        if node.tag not in _SCALAR_TAGS:
            problems.append(_refused(doc, line, where, node.tag))
            return None
        try:
            return yaml.SafeLoader(" ").construct_object(node, deep=True)
        except (yaml.constructor.ConstructorError, ValueError, OverflowError) as exc:
            problems.append(Problem(doc.path, line, dotted(where), f"无法解析的值: {exc}", "改为普通文本"))
            return None
    if isinstance(node, yaml.SequenceNode):
        if node.tag != _SEQ_TAG:
            problems.append(_refused(doc, line, where, node.tag))
            return None
        return [_build(item, where + (i,), doc, problems, depth + 1, budget) for i, item in enumerate(node.value)]
    if isinstance(node, yaml.MappingNode):
        if node.tag != _MAP_TAG:
            problems.append(_refused(doc, line, where, node.tag))
            return None
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(
                    Problem(
                        doc.path, key_node.start_mark.line + 1, dotted(where), "键必须是简单文本", "把键改为一个名称"
                    )
                )
                continue
            if key_node.tag == "tag:yaml.org,2002:merge":
                problems.append(
                    Problem(
                        doc.path,
                        key_node.start_mark.line + 1,
                        dotted(where),
                        "不支持 YAML 合并键 <<",
                        "把内容直接写出来",
                    )
                )
                continue
            key = _build(key_node, where + ("<key>",), doc, problems, depth + 1, budget)
            key = str(key) if key is not None else "null"
            key_line = key_node.start_mark.line + 1
            if key in out:
                problems.append(
                    Problem(doc.path, key_line, dotted(where + (key,)), f"重复的键 {key!r}", "删除或重命名其中一个")
                )
            doc.lines[("key",) + where + (key,)] = key_line
            out[key] = _build(value_node, where + (key,), doc, problems, depth + 1, budget)
        doc.lines.pop(where + ("<key>",), None)
        return out
    return None  # pragma: no cover - composer yields only the three node kinds


def _refused(doc: Document, line: int, where: Path_, tag: str) -> Problem:
    return Problem(doc.path, line, dotted(where), f"不允许的 YAML 标签 {tag}", "只使用普通的文本、数字、列表和映射")
