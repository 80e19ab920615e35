"""The phrasing guide: categories of standard phrases, forbidden phrases (服务禁语), allowed look-alikes.

Format: ``docs/guide-format.md``. The category ids greeting, ask_case_info, verify_identity,
empathy, hold, commitment and closing are fixed: scenarios, reports and tools depend on them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from core.errors import Problem, ValidationError
from core.yamlio import Document, load_file

GUIDE_PATH = Path(__file__).with_name("guide.yaml")
FIXED_CATEGORIES = ("greeting", "ask_case_info", "verify_identity", "empathy", "hold", "commitment", "closing")
SEVERITIES = ("minor", "major", "critical")


@dataclass(frozen=True)
class Category:
    id: str
    title: str
    standard: str  # the phrase the guide teaches; offered as the suggestion when missed
    variants: tuple[str, ...]  # accepted paraphrases, including short core forms
    weight: float = 1.0
    negative_ok: tuple[str, ...] = ()  # variants negative in form that still satisfy (您不用着急)
    exclude: tuple[str, ...] = ()  # phrases in which a variant does not count (您好 inside 您好像)
    # phrases that hand the rest of their clause to someone else or to the general case (您需要…, 法官说…,
    # 一般…): a variant after one, in the same clause, is not the trainee's own act unless 我/我们 comes between
    other_actor: tuple[str, ...] = ()
    # words that only back up what else the reply says (您放心, 我保证): when the reply breaks one of
    # ``hollow_with`` (a promised refund date), they back a false promise and earn nothing
    hollow: tuple[str, ...] = ()
    hollow_with: tuple[str, ...] = ()


@dataclass(frozen=True)
class Forbidden:
    id: str
    phrase: str
    variants: tuple[str, ...]
    instead: str  # the standard phrase to say instead
    severity: str = "major"
    allowed: tuple[str, ...] = ()  # acceptable phrases containing this one (不清楚的地方…)
    # a positive phrase that a negation before it cancels (我们不能说您肯定能赢 is no prediction); the guide's
    # negative phrases (不知道) are never negatable
    negatable: bool = False


@dataclass(frozen=True)
class Guide:
    categories: dict[str, Category]
    forbidden: tuple[Forbidden, ...]
    allowed: tuple[str, ...] = ()  # acceptable phrases that merely contain a forbidden word
    source: str = ""
    content_hash: str = ""
    extra: dict = field(default_factory=dict)
    not_negation: tuple[str, ...] = ()  # phrases whose 不/没 negates nothing after them (没问题, 不客气)
    words: dict[str, tuple[str, ...]] = field(default_factory=dict)  # word groups used as {名称} in phrases
    # phrases that introduce someone else's words (您是说…, 法官说…): a forbidden phrase after one, in the same
    # clause, or inside quotation marks, is a quote, not the trainee's own words
    reported_speech: tuple[str, ...] = ()


_TOP_KEYS = {"version", "words", "categories", "forbidden", "allowed", "not_negation", "reported_speech"}
_CATEGORY_KEYS = {
    "title", "standard", "variants", "weight", "negative_ok", "exclude", "other_actor", "hollow", "hollow_with",
}  # fmt: skip
_FORBIDDEN_KEYS = {"id", "phrase", "variants", "instead", "severity", "allowed", "negatable"}


@lru_cache(maxsize=1)
def _bundled() -> Guide | None:
    try:
        return load_guide()
    except (ValidationError, OSError):
        return None


def category_title(category: str) -> str:
    """The guide's Chinese title of a category id (the id itself if the guide cannot load): the one name a
    trainee and a supervisor see everywhere."""
    guide = _bundled()
    found = guide.categories.get(category) if guide else None
    return found.title if found and found.title else category


def category_standard(category: str) -> str:
    """The guide's standard phrase of a category ("" if unknown)."""
    guide = _bundled()
    found = guide.categories.get(category) if guide else None
    return found.standard if found else ""


def load_guide(path: str | Path = GUIDE_PATH) -> Guide:
    """Load and check the guide; raise ``ValidationError`` listing every problem."""
    guide, problems = check_guide(path)
    if problems or guide is None:
        raise ValidationError(problems)
    return guide


def check_guide(path: str | Path = GUIDE_PATH) -> tuple[Guide | None, list[Problem]]:
    doc, problems = load_file(path)
    if doc is None:
        return None, problems
    guide = _check(doc, problems)
    if guide is not None and not problems:
        guide = Guide(
            guide.categories,
            guide.forbidden,
            guide.allowed,
            doc.path,
            hashlib.sha256(Path(path).read_bytes()).hexdigest(),
            not_negation=guide.not_negation,
            words=guide.words,
            reported_speech=guide.reported_speech,
        )
    return (guide if not problems else None), problems


def _strings(
    doc: Document,
    where: tuple,
    value: object,
    problems: list[Problem],
    *,
    required: bool,
    words: dict[str, tuple[str, ...]] | None = None,
    plain: bool = False,
) -> tuple[str, ...]:
    if value is None and not required:
        return ()
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        problems.append(doc.problem(where, "应为非空的文本列表", "写成 [短语一, 短语二]"))
        return ()
    for i, v in enumerate(value):
        if plain:
            if any(c in v for c in "()【】|…"):
                problems.append(doc.problem(where + (i,), f"词组里的词 {v!r} 不能带标记", "只写普通文字"))
        else:
            _phrase_ok(doc, where + (i,), v, problems, words)
    return tuple(v.strip() for v in value)


def _phrase_ok(doc: Document, where: tuple, phrase: str, problems: list[Problem], words=None) -> None:
    """Guide phrases may use (甲|乙) alternatives, … gaps and {词组} (docs/guide-format.md); check that syntax."""
    from scoring.matcher import phrase_syntax_problem

    problem = phrase_syntax_problem(phrase, words)
    if problem:
        problems.append(
            doc.problem(where, f"短语 {phrase!r} 写法有误: {problem}", "参见 docs/guide-format.md 的短语写法")
        )


def _unknown(doc: Document, where: tuple, data: dict, known: set[str], problems: list[Problem]) -> None:
    problems.extend(doc.unknown_keys(where, data, known))


def _check(doc: Document, problems: list[Problem]) -> Guide | None:
    data = doc.data
    if not isinstance(data, dict):
        problems.append(doc.problem((), "规范用语文件应是一个映射", "顶层写 categories: 与 forbidden:"))
        return None
    _unknown(doc, (), data, _TOP_KEYS, problems)
    words: dict[str, tuple[str, ...]] = {}
    raw_words = data.get("words", {})
    if not isinstance(raw_words, dict):
        problems.append(doc.problem(("words",), "words 应是一个映射", "写成 words: {转告: [转告, 转达]}"))
        raw_words = {}
    for name, raw in raw_words.items():
        words[str(name)] = _strings(doc, ("words", name), raw, problems, required=True, plain=True)
    categories: dict[str, Category] = {}
    raw_categories = data.get("categories")
    if not isinstance(raw_categories, dict) or not raw_categories:
        problems.append(
            doc.problem(("categories",), "缺少 categories 或格式不对", "写成 categories: {greeting: {...}}")
        )
        raw_categories = {}
    for cid, raw in raw_categories.items():
        where = ("categories", cid)
        if not isinstance(raw, dict):
            problems.append(doc.problem(where, "类别应是一个映射", "写出 title、standard、variants"))
            continue
        _unknown(doc, where, raw, _CATEGORY_KEYS, problems)
        for key in ("title", "standard"):
            if not isinstance(raw.get(key), str) or not raw[key].strip():
                problems.append(doc.problem(where + (key,), f"缺少 {key}", f"为类别 {cid} 写上 {key}"))
        weight = raw.get("weight", 1.0)
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 < weight <= 10:
            problems.append(doc.problem(where + ("weight",), "weight 应是 0 到 10 之间的数", "例如 weight: 1"))
            weight = 1.0
        categories[cid] = Category(
            id=cid,
            title=str(raw.get("title", cid)),
            standard=str(raw.get("standard", "")),
            variants=_strings(doc, where + ("variants",), raw.get("variants"), problems, required=True, words=words),
            weight=float(weight),
            negative_ok=_strings(
                doc, where + ("negative_ok",), raw.get("negative_ok"), problems, required=False, words=words
            ),
            exclude=_strings(doc, where + ("exclude",), raw.get("exclude"), problems, required=False, words=words),
            other_actor=_strings(
                doc, where + ("other_actor",), raw.get("other_actor"), problems, required=False, words=words
            ),
            hollow=_strings(doc, where + ("hollow",), raw.get("hollow"), problems, required=False, words=words),
            hollow_with=_strings(
                doc, where + ("hollow_with",), raw.get("hollow_with"), problems, required=False, plain=True
            ),
        )
    for cid in FIXED_CATEGORIES:
        if raw_categories and cid not in raw_categories:
            problems.append(doc.problem(("categories",), f"缺少固定类别 {cid}", f"加上 categories.{cid}"))
    forbidden: list[Forbidden] = []
    raw_forbidden = data.get("forbidden")
    if not isinstance(raw_forbidden, list):
        problems.append(doc.problem(("forbidden",), "缺少 forbidden 列表", "写成 forbidden: [{id: ..., phrase: ...}]"))
        raw_forbidden = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_forbidden):
        where = ("forbidden", i)
        if not isinstance(raw, dict):
            problems.append(doc.problem(where, "禁语应是一个映射", "写出 id、phrase、instead"))
            continue
        _unknown(doc, where, raw, _FORBIDDEN_KEYS, problems)
        fid = raw.get("id")
        if not isinstance(fid, str) or not fid:
            problems.append(doc.problem(where + ("id",), "缺少 id", "例如 id: dont_know"))
            fid = f"forbidden_{i}"
        elif fid in seen:
            problems.append(doc.problem(where + ("id",), f"重复的 id {fid!r}", "每条禁语用不同的 id"))
        seen.add(fid)
        for key in ("phrase", "instead"):
            if not isinstance(raw.get(key), str) or not raw[key].strip():
                problems.append(doc.problem(where + (key,), f"缺少 {key}", f"为禁语 {fid} 写上 {key}"))
        severity = raw.get("severity", "major")
        if severity not in SEVERITIES:
            problems.append(
                doc.problem(where + ("severity",), f"未知的严重程度 {severity!r}", "取 minor、major 或 critical")
            )
        negatable = raw.get("negatable", False)
        if not isinstance(negatable, bool):
            problems.append(doc.problem(where + ("negatable",), "negatable 应是 true 或 false", "写成 negatable: true"))
            negatable = False
        forbidden.append(
            Forbidden(
                id=fid,
                phrase=str(raw.get("phrase", "")),
                variants=_strings(
                    doc, where + ("variants",), raw.get("variants"), problems, required=False, words=words
                ),
                instead=str(raw.get("instead", "")),
                severity=str(severity),
                allowed=_strings(doc, where + ("allowed",), raw.get("allowed"), problems, required=False, words=words),
                negatable=negatable,
            )
        )
    allowed = _strings(doc, ("allowed",), data.get("allowed"), problems, required=False, words=words)
    not_negation = _strings(doc, ("not_negation",), data.get("not_negation"), problems, required=False, words=words)
    reported_speech = _strings(
        doc, ("reported_speech",), data.get("reported_speech"), problems, required=False, words=words
    )
    return Guide(
        categories, tuple(forbidden), allowed, not_negation=not_negation, words=words, reported_speech=reported_speech
    )
