"""Find guide phrases in a normalised reply: exact, homophone, near-homophone, with gaps.

A guide phrase is compiled once into a ``Pattern``: parts separated by ``…`` (each part must
follow the previous one within ``MAX_GAP`` characters); a part is a row of slots, each slot
either literal text or a set of alternatives written ``(请|麻烦)您稍(等|候)``. Every alternative
is an ``Atom`` with its three codes (see ``scoring.normalize``). The whole pattern becomes one
regular expression over the near-homophone codes of the reply, so one C-level scan finds every
candidate; each part of a candidate is then graded per character (same character 1.0, same
pinyin 0.9, near homophone 0.7) and kept when the average reaches the threshold for its length,
so a homophone can stand in for a character but a two-character phrase still needs one
character right. A single long literal (>= ``FUZZY_MIN`` characters) may also match with a small
insertion or deletion (rapidfuzz alignment on the codes), which covers 二零二二年 for 二零二二.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import cached_property

from scoring.normalize import DIGITS, Normalized, normalize

MAX_GAP = 10  # characters allowed between the parts of a 法官…名字 pattern
FUZZY_MIN = 6  # literals this long may match with an insertion/deletion
FUZZY_CUTOFF = 88.0  # rapidfuzz partial-alignment score needed for such a match
SAME_CHAR, SAME_PINYIN, NEAR_PINYIN = 1.0, 0.9, 0.7
# (written, phrase) characters that sound alike but are never one heard as the other: a place name's 区 is not 去
# (徐汇区法律援助中心 is no 去【部门】, 长宁区 no 您去).
NOT_CONFUSED = frozenset({("区", "去")})
# Negation words that undo a phrase when they stand just before it (我不会转告法官) or in a gap.
NEGATORS = tuple(
    "不是 不会 不用 不能 没法 没有 无法 不必 不需要 不要 不可以 没办法 不给 不再 不想 不帮 不予 不该"
    " 先别 您别 请别 也别 就别 可别 千万别 甭".split()
)
# A bare negator right before the phrase: 不转告, 没登记, 别告诉我密码 (别 alone would also hit 别的, so only adjacent).
ADJACENT_NEGATORS = "不没未别勿"
NEGATION_WINDOW = 6  # normalised characters before a match searched for a negator (same clause)
# These reach over the whole clause, not just a few characters: 我不能保证法官今天一定回复您.
WIDE_NEGATORS = (
    "不能保证", "无法保证", "没法保证", "不敢保证", "不保证", "保证不了", "不一定", "不见得",
    # refusing to speak for someone else reaches over what follows: 我没法替法官答应您一定能改期
    "没法替", "不能替", "不敢替", "没法答应", "不能答应", "不敢答应", "不敢说", "不能说", "没法说", "不好说",
    "打不了包票", "不能打包票", "不敢打包票", "没法打包票", "没说", "我没说",
    # a premise denied: 上诉不代表一定会改判
    "不代表", "并不代表", "不等于", "并不等于", "不意味着", "并不意味着",
)  # fmt: skip
# After a verb, inside a gap: 登记不了工单 (cannot register a work order).
INSIDE_NEGATORS = ("不了", "不成")
# A negated 把 reaches over its object to the verb, however long the object: 我不会把您的情况转告法官.
_NEGATED_BA = re.compile("(不会|不能|不要|不用|不必|不想|不再|没有|没法|无法|别|没)(再|)(帮您|给您|替您|)把")
# A contrast ends the reach of a negation: 我不能保证……但我会转告他.
NEGATION_BARRIERS = ("但是", "但", "不过", "可是", "而是", "只是")
# 不是不 / 并非不 / 不会不: a double negative affirms (我不是不知道您着急 is empathy).
_DOUBLE_NEGATIVE = re.compile(r"(不是|并非|并不是|不会|没有|不能|不可能)不")
_SPLIT_PARTS = re.compile(r"…+|\.{3,}")
_GROUP = re.compile(r"\(([^()]*)\)")


@dataclass(frozen=True)
class Atom:
    text: str  # normalised characters ("" for the empty alternative of (您|))
    py: str
    coarse: str


Slot = tuple[Atom, ...]  # one literal, or the alternatives of a ( | ) group
Part = tuple[Slot, ...]


@dataclass(frozen=True)
class Pattern:
    source: str  # as written in the guide
    parts: tuple[Part, ...]
    negative_ok: bool = False  # a negative form on purpose (您不用着急): no negation guard
    clause_start: bool = False  # written ^…: only at the start of a clause (会转给他的, after 我记下了,)
    clause_end: bool = False  # written …$: only at the end of a clause (听得懂吗$, not 听得懂上海话吗)

    @cached_property
    def regex(self) -> re.Pattern:
        """One regular expression over the near-homophone codes: every slot a group, gaps ``.{0,MAX_GAP}?``.

        Alternatives are tried longest first, so (您|) prefers 您."""
        parts = []
        for part in self.parts:
            slots = []
            for slot in part:
                alternatives = sorted({a.coarse for a in slot}, key=lambda c: (-len(c), c))
                slots.append("(" + "|".join(re.escape(a) for a in alternatives) + ")")
            parts.append("".join(slots))
        return re.compile(f"(?:.{{0,{MAX_GAP}}}?)".join(parts), re.DOTALL)

    @cached_property
    def by_coarse(self) -> tuple[tuple[dict[str, tuple[Atom, ...]], ...], ...]:
        """Per part, per slot: the alternatives behind each near-homophone code (to grade what the regex found)."""
        out = []
        for part in self.parts:
            tables = []
            for slot in part:
                table: dict[str, list[Atom]] = {}
                for atom in slot:
                    table.setdefault(atom.coarse, []).append(atom)
                tables.append({k: tuple(v) for k, v in table.items()})
            out.append(tuple(tables))
        return tuple(out)

    @property
    def fuzzy_atom(self) -> Atom | None:
        """A single long literal may also match with an insertion or deletion."""
        if len(self.parts) == 1 and len(self.parts[0]) == 1 and len(self.parts[0][0]) == 1:
            atom = self.parts[0][0][0]
            if len(atom.text) >= FUZZY_MIN:
                return atom
        return None

    def expansions(self, limit: int = 5000) -> list[str]:
        """The concrete phrases of a one-part pattern (for baselines and tests), at most ``limit``."""
        if len(self.parts) != 1:
            return []
        out = []
        for combo in itertools.product(*self.parts[0]):
            out.append("".join(a.text for a in combo))
            if len(out) >= limit:
                break
        return [t for t in dict.fromkeys(out) if t]


@dataclass(frozen=True)
class Hit:
    pattern: Pattern
    start: int
    end: int
    quality: float
    phrase: str  # the concrete alternatives matched, parts joined by …
    fuzzy: bool = False

    @property
    def length(self) -> int:
        return self.end - self.start


class SyntaxProblem(ValueError):
    """A guide phrase that cannot be compiled; the message says why."""


_WORD = re.compile(r"【([^【】()|…]*)】")


_FULL_WIDTH_MARKUP = str.maketrans({"（": "(", "）": ")", "｜": "|", "＾": "^", "＄": "$"})
CLAUSE_START = "^"
CLAUSE_END = "$"
SHORT_PHRASE = 3  # characters: a phrase this short is never split by punctuation


def canonical_markup(source: str) -> str:
    """Authors type with a Chinese input method: （甲｜乙） means (甲|乙)."""
    return source.translate(_FULL_WIDTH_MARKUP)


def expand_words(source: str, words: dict[str, tuple[str, ...]] | None) -> str:
    """Put the guide's word groups into a phrase: ``【转告】`` -> ``(转告|转达|转给)``.

    Inside ( ) a group must be a whole alternative, ``(我|【我们】)``, and is spliced in without
    its own parentheses (groups do not nest). 【】 rather than {} because YAML reads a leading {
    as a mapping, and {name} already means a scenario variable."""
    if "【" not in source and "】" not in source:
        return source
    out, pos, depth = [], 0, 0
    for m in _WORD.finditer(source):
        chunk = source[pos : m.start()]
        depth += chunk.count("(") - chunk.count(")")
        name = m.group(1).strip()
        if not words or name not in words:
            known = "、".join(words or {}) or "(没有定义词组)"
            raise SyntaxProblem(f"未定义的词组 【{name}】 - 在 words: 里定义它;已有: {known}")
        alternatives = "|".join(words[name])
        if depth:
            before = source[m.start() - 1] if m.start() else ""
            after = source[m.end()] if m.end() < len(source) else ""
            if before not in "(|" or after not in ")|":
                raise SyntaxProblem(f"词组 【{name}】 写在括号里时要单独作为一个选项,如 (我|【{name}】)")
            out.append(chunk + alternatives)
        else:
            out.append(chunk + "(" + alternatives + ")")
        pos = m.end()
    out.append(source[pos:])
    expanded = "".join(out)
    if "【" in expanded or "】" in expanded:
        raise SyntaxProblem("【 】 只能用来写词组名,如 【转告】")
    return expanded


_REGEX_ONLY = "?*+[]\\"  # regular-expression habits that mean nothing in a phrase (normalising drops them)


def phrase_syntax_problem(source: str, words: dict[str, tuple[str, ...]] | None = None) -> str | None:
    """Why ``source`` is not a valid guide phrase, or None. Kept free of heavy imports for the validator."""
    source = canonical_markup(source)
    regex_like = [c for c in _REGEX_ONLY if c in source]
    if regex_like:
        return f"{' '.join(regex_like)} 不是短语写法(这里不是正则表达式);可省略的部分写成 (的|),任意几个字写成 …"
    if CLAUSE_START in source[1:]:
        return "^ 只能写在短语的最前面(表示只在分句开头算)"
    if CLAUSE_END in source[:-1]:
        return "$ 只能写在短语的最后面(表示只在分句末尾算)"
    source = source.removeprefix(CLAUSE_START).removesuffix(CLAUSE_END)
    try:
        source = expand_words(source, words)
    except SyntaxProblem as exc:
        return str(exc)
    depth = 0
    for ch in source:
        if ch == "(":
            depth += 1
            if depth > 1:
                return "括号不能嵌套"
        elif ch == ")":
            depth -= 1
            if depth < 0:
                return "多了一个右括号 )"
        elif ch == "|" and depth == 0:
            return "竖线 | 只能写在括号里,如 (稍等|稍候)"
        elif ch == "…" and depth:
            return "省略号 … 不能写在括号里;带 … 的说法单独写成一条短语"
    if depth:
        return "括号没有闭合"
    parts = _SPLIT_PARTS.split(source)
    if any(not p.strip() for p in parts):
        return "省略号 … 两边都要有文字"
    return None


def compile_phrase(
    source: str, *, negative_ok: bool = False, words: dict[str, tuple[str, ...]] | None = None
) -> Pattern:
    problem = phrase_syntax_problem(source, words)
    if problem:
        raise SyntaxProblem(f"{source!r}: {problem}")
    parts = []
    markup = canonical_markup(source)
    clause_start = markup.startswith(CLAUSE_START)
    clause_end = markup.endswith(CLAUSE_END)
    markup = markup.removeprefix(CLAUSE_START).removesuffix(CLAUSE_END)
    for raw_part in _SPLIT_PARTS.split(expand_words(markup, words)):
        slots: list[Slot] = []
        pos = 0
        for m in _GROUP.finditer(raw_part):
            if raw_part[pos : m.start()]:
                slots.append((_atom(raw_part[pos : m.start()], first=not slots),))
            slots.append(tuple(dict.fromkeys(_atom(alt, first=not slots) for alt in m.group(1).split("|"))))
            pos = m.end()
        if raw_part[pos:]:
            slots.append((_atom(raw_part[pos:], first=not slots),))
        slots = [slot for slot in slots if any(a.text for a in slot)]  # punctuation-only pieces vanish
        if not slots or all(any(not a.text for a in slot) for slot in slots):
            raise SyntaxProblem(f"{source!r}: 这一段可能什么都不用说(只有标点、语气词或可省略的部分)")
        parts.append(tuple(slots))
    return Pattern(source, tuple(parts), negative_ok, clause_start, clause_end)


def _atom(text: str, *, first: bool) -> Atom:
    """Normalise one piece of a phrase. Only the first piece may lose a leading filler (那个), as a whole
    phrase would; inside a phrase 那个 stays what it is."""
    norm = normalize(text, drop_leading_fillers=first)
    return Atom(norm.text, norm.py, norm.coarse)


def compile_literal(text: str) -> Pattern | None:
    """A phrase taken as written (a standard phrase, a scenario key point): no markup, no gaps."""
    norm = normalize(text)
    if not norm.text:
        return None
    return Pattern(text, (((Atom(norm.text, norm.py, norm.coarse),),),))


def _splits_a_number(text: str, start: int, end: int) -> bool:
    """A match that begins or ends with a figure must not cut a longer number in two."""
    if text[start] in DIGITS and start > 0 and text[start - 1] in DIGITS:
        return True
    return text[end - 1] in DIGITS and end < len(text) and text[end] in DIGITS


def _threshold(n: int) -> float:
    if n <= 1:
        return SAME_CHAR  # one character: only itself
    if n == 2:
        return 0.85  # one character right, the other at least a near homophone
    return 0.8


class Matcher:
    """Finds patterns in one normalised reply."""

    def __init__(self, norm: Normalized):
        self.norm = norm

    def find(self, pattern: Pattern, *, fuzzy: bool = True, same_clause: bool = False) -> list[Hit]:
        """Every non-overlapping place the pattern matches, leftmost first.

        ``same_clause``: only matches that punctuation does not cut (for allow-lists and
        exclusions: "不知道,您自己去查" must not read as the polite "不知道您…")."""
        norm = self.norm
        coarse = norm.coarse
        hits: list[Hit] = []
        if not coarse:
            return hits
        regex = pattern.regex
        pos = 0
        while pos < len(coarse):
            m = regex.search(coarse, pos)
            if m is None:
                break
            graded = self._grade_match(pattern, m)
            # the parts of a …-pattern do not reach across punctuation (when the reply has any)
            # nor does a short phrase (您,后 is not 您好); a long literal may (a case number's brackets)
            crossing_ok = not same_clause and len(pattern.parts) == 1 and m.end() - m.start() > SHORT_PHRASE
            if graded is not None and not crossing_ok:
                if norm.clauses[m.start()] != norm.clauses[m.end() - 1]:
                    graded = None
            if graded is not None and _splits_a_number(norm.text, m.start(), m.end()):
                graded = None  # 五十元 is not inside 五百五十元, nor 12 inside 112
            if graded is not None and pattern.clause_start and m.start() > 0:
                if norm.clauses[m.start() - 1] == norm.clauses[m.start()]:
                    graded = None
            if graded is not None and pattern.clause_end and m.end() < len(coarse):
                if norm.clauses[m.end()] == norm.clauses[m.end() - 1]:
                    graded = None
            if graded is None:
                pos = m.start() + 1
                continue
            hits.append(graded)
            pos = max(m.end(), m.start() + 1)
        if not hits and fuzzy and not pattern.clause_start and not pattern.clause_end:
            atom = pattern.fuzzy_atom
            if atom is not None:
                hit = self._fuzzy(pattern, atom)
                if hit:
                    hits.append(hit)
        return hits

    def _grade_match(self, pattern: Pattern, m: re.Match) -> Hit | None:
        coarse, text, py = self.norm.coarse, self.norm.text, self.norm.py
        phrases = []
        weighted = 0.0
        total_length = 0
        group = 1
        for tables in pattern.by_coarse:
            part_score = 0.0
            part_length = 0
            exact = 0
            best_exact = 0
            words = []
            for table in tables:
                start, end = m.span(group)
                group += 1
                if start == end:  # the empty alternative of (您|)
                    continue
                best, best_text = -1.0, ""
                for atom in table.get(coarse[start:end], ()):
                    score = 0.0
                    for k, ch in enumerate(atom.text):
                        if (text[start + k], ch) in NOT_CONFUSED:
                            score = -1.0  # not this reading at all
                            break
                        if text[start + k] == ch:
                            score += SAME_CHAR
                        elif py[start + k] == atom.py[k]:
                            score += SAME_PINYIN
                        else:
                            score += NEAR_PINYIN
                    if score > best:
                        best, best_text = score, atom.text
                        best_exact = sum(text[start + k] == ch for k, ch in enumerate(atom.text))
                part_score += best
                exact += best_exact
                part_length += end - start
                words.append(best_text)
            if not part_length or part_score / part_length < _threshold(part_length):
                return None
            if part_length <= 3 and exact == 0:
                return None  # a short phrase needs one character right: 遍好 is not 编号
            phrases.append("".join(words))
            weighted += part_score
            total_length += part_length
        return Hit(pattern, m.start(), m.end(), weighted / total_length, "…".join(phrases))

    def _fuzzy(self, pattern: Pattern, atom: Atom) -> Hit | None:
        from rapidfuzz import fuzz

        if len(self.norm) < len(atom.text) - 2:
            return None
        result = fuzz.partial_ratio_alignment(atom.coarse, self.norm.coarse, score_cutoff=FUZZY_CUTOFF)
        if result is None or result.dest_end <= result.dest_start:
            return None
        return Hit(pattern, result.dest_start, result.dest_end, result.score / 100 * NEAR_PINYIN, atom.text, True)

    def negated(self, hit: Hit, shields: list[tuple[int, int]] = ()) -> bool:
        """A negator shortly before the match in the same clause, in a gap of a …-pattern, or inside a
        fuzzy match. Negators inside ``shields`` (spans of 没问题, 您别着急 …) negate nothing after them."""
        if hit.pattern.negative_ok:
            return False
        norm = self.norm
        text = norm.text
        lo = max(0, hit.start - NEGATION_WINDOW)
        if norm.clauses:
            while lo < hit.start and norm.clauses[lo] != norm.clauses[hit.start]:
                lo += 1
        for barrier in NEGATION_BARRIERS:
            pos = text.rfind(barrier, lo, hit.start)
            if pos >= 0:
                lo = pos + len(barrier)
        double = _DOUBLE_NEGATIVE.search(text, lo, hit.start)
        if double:  # 我不是不知道您着急: two negations cancel; only what follows the second one counts
            lo = double.end()
            if not self._negator_in(lo, hit.start, shields, allow_single=False) and not any(
                text.find(neg, lo, hit.start) >= 0 for neg in WIDE_NEGATORS
            ):
                return False
        if self._negator_in(lo, hit.start, shields, allow_single=True):
            return True
        clause_start = hit.start
        if norm.clauses:
            while clause_start > 0 and norm.clauses[clause_start - 1] == norm.clauses[hit.start]:
                clause_start -= 1
        for barrier in NEGATION_BARRIERS:
            pos = text.rfind(barrier, clause_start, hit.start)
            if pos >= 0:
                clause_start = max(clause_start, pos + len(barrier))
        if any(text.find(neg, clause_start, hit.start) >= 0 for neg in WIDE_NEGATORS):
            return True
        if _NEGATED_BA.search(text, clause_start, hit.start):
            return True
        if len(hit.pattern.parts) > 1 or hit.fuzzy:
            inside = text[hit.start : hit.end]
            literal = hit.phrase.replace("…", "")
            return any(neg in inside and neg not in literal for neg in NEGATORS + INSIDE_NEGATORS)
        return False

    def _negator_in(self, lo: int, hi: int, shields, *, allow_single: bool) -> bool:
        text = self.norm.text
        for neg in NEGATORS:
            pos = text.find(neg, lo, hi)
            while pos >= 0:
                # a negator touching a shield is the shield's (您别急: 您别 is part of 别急)
                if not any(s < pos + len(neg) and pos < e for s, e in shields):
                    return True
                pos = text.find(neg, pos + 1, hi)
        # a bare 不/没/未/别 right before the phrase: 不转告, 没登记, 别告诉
        if allow_single and hi > lo and text[hi - 1] in ADJACENT_NEGATORS:
            return not any(s <= hi - 1 < e for s, e in shields)
        return False
