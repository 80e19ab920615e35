"""Find guide phrases in a normalised reply: exact, homophone, near-homophone, with gaps.

A guide phrase is compiled once into a ``Pattern``: parts separated by ``…`` (each part must
follow the previous one within ``MAX_GAP`` characters), each part a set of alternatives written
``(请|麻烦)您稍(等|候)``. Every alternative is an ``Atom`` with its three codes (see
``scoring.normalize``). An atom is found where its near-homophone code occurs in the reply;
the occurrence is then graded per character (same character 1.0, same pinyin 0.9, near
homophone 0.7) and kept when the average reaches the threshold for its length, so a
homophone can stand in for a character but a two-character phrase still needs one character
right. Long atoms (>= ``FUZZY_MIN`` characters) may also match with a small insertion or
deletion (rapidfuzz alignment on the near-homophone codes), which covers 二零二二年 for 二零二二.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import cached_property

from scoring.normalize import Normalized, normalize

MAX_GAP = 8  # characters allowed between the parts of a 法官…名字 pattern
FUZZY_MIN = 6  # atoms this long may match with an insertion/deletion
FUZZY_CUTOFF = 88.0  # rapidfuzz partial-alignment score needed for such a match
SAME_CHAR, SAME_PINYIN, NEAR_PINYIN = 1.0, 0.9, 0.7
# Negation words that undo a phrase when they stand just before it (我不会转告法官) or in a gap.
NEGATORS = tuple(
    "不是 不会 不用 不能 没法 没有 无法 不必 不需要 不要 不可以 没办法 不给 不再 不想 不帮 不予 不该".split()
)
NEGATION_WINDOW = 5  # normalised characters before a match searched for a negator (same clause)
_SPLIT_PARTS = re.compile(r"…+|\.{3,}")
_GROUP = re.compile(r"\(([^()]*)\)")


@dataclass(frozen=True)
class Atom:
    text: str  # normalised characters
    py: str
    coarse: str


@dataclass(frozen=True)
class Pattern:
    source: str  # as written in the guide
    parts: tuple[tuple[Atom, ...], ...]
    negative_ok: bool = False  # a negative form on purpose (您不用着急): no negation guard

    @property
    def length(self) -> int:
        return sum(min(len(a.text) for a in part) for part in self.parts)

    @cached_property
    def regex(self) -> re.Pattern:
        """One regular expression over the near-homophone codes: parts as groups, gaps as ``.{0,MAX_GAP}?``.

        Alternatives are tried longest first, so (您|) prefers 您. Matching on the coarsest code
        finds every candidate in one C-level scan; ``Matcher`` then grades each part."""
        groups = []
        for part in self.parts:
            alternatives = sorted({a.coarse for a in part}, key=lambda c: (-len(c), c))
            groups.append("(" + "|".join(re.escape(a) for a in alternatives) + ")")
        return re.compile(f"(?:.{{0,{MAX_GAP}}}?)".join(groups), re.DOTALL)

    @cached_property
    def by_coarse(self) -> tuple[dict[str, tuple[Atom, ...]], ...]:
        """Per part: which alternatives share a near-homophone code (to grade the one the regex found)."""
        out = []
        for part in self.parts:
            table: dict[str, list[Atom]] = {}
            for atom in part:
                table.setdefault(atom.coarse, []).append(atom)
            out.append({k: tuple(v) for k, v in table.items()})
        return tuple(out)

    @property
    def fuzzy_atom(self) -> Atom | None:
        """A single long literal may also match with an insertion or deletion."""
        if len(self.parts) == 1 and len(self.parts[0]) == 1 and len(self.parts[0][0].text) >= FUZZY_MIN:
            return self.parts[0][0]
        return None


@dataclass(frozen=True)
class Hit:
    pattern: Pattern
    start: int
    end: int
    quality: float
    phrase: str  # the concrete alternatives matched, joined by …
    fuzzy: bool = False

    @property
    def length(self) -> int:
        return self.end - self.start


class SyntaxProblem(ValueError):
    """A guide phrase that cannot be compiled; the message says why."""


def phrase_syntax_problem(source: str) -> str | None:
    """Why ``source`` is not a valid guide phrase, or None. Kept free of heavy imports for the validator."""
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
    if depth:
        return "括号没有闭合"
    parts = _SPLIT_PARTS.split(source)
    if any(not p.strip() for p in parts):
        return "省略号 … 两边都要有文字"
    return None


def compile_phrase(source: str, *, negative_ok: bool = False) -> Pattern:
    problem = phrase_syntax_problem(source)
    if problem:
        raise SyntaxProblem(f"{source!r}: {problem}")
    parts = []
    for raw_part in _SPLIT_PARTS.split(source):
        alternatives = []
        for text in _expand(raw_part):
            norm = normalize(text)
            if norm.text:
                alternatives.append(Atom(norm.text, norm.py, norm.coarse))
        if not alternatives:
            raise SyntaxProblem(f"{source!r}: 规范化后没有可匹配的文字(只有标点或语气词)")
        parts.append(tuple(dict.fromkeys(alternatives)))
    return Pattern(source, tuple(parts), negative_ok)


def compile_literal(text: str) -> Pattern | None:
    """A phrase taken as written (a standard phrase, a scenario key point): no markup, no gaps."""
    norm = normalize(text)
    if not norm.text:
        return None
    return Pattern(text, ((Atom(norm.text, norm.py, norm.coarse),),))


def compile_loose(text: str) -> Pattern | None:
    """Markup if it parses (scenario authors may write 法官…名字), otherwise the literal text."""
    try:
        return compile_phrase(text)
    except SyntaxProblem:
        return compile_literal(text)


def _expand(part: str) -> list[str]:
    """``(请|麻烦)您稍(等|候)`` -> the four concrete phrases."""
    pieces: list[list[str]] = []
    pos = 0
    for m in _GROUP.finditer(part):
        pieces.append([part[pos : m.start()]])
        pieces.append(m.group(1).split("|"))
        pos = m.end()
    pieces.append([part[pos:]])
    return ["".join(combo) for combo in itertools.product(*pieces)]


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
            if graded is not None and same_clause and norm.clauses[m.start()] != norm.clauses[m.end() - 1]:
                graded = None
            if graded is None:
                pos = m.start() + 1
                continue
            hits.append(graded)
            pos = max(m.end(), m.start() + 1)
        if not hits and fuzzy:
            atom = pattern.fuzzy_atom
            if atom is not None:
                hit = self._fuzzy(pattern, atom)
                if hit:
                    hits.append(hit)
        return hits

    def _grade_match(self, pattern: Pattern, m: re.Match) -> Hit | None:
        coarse = self.norm.coarse
        phrase = []
        weighted = 0.0
        length = 0
        for i, table in enumerate(pattern.by_coarse):
            start, end = m.span(i + 1)
            atoms = table.get(coarse[start:end], ())
            if start == end:  # an empty alternative, (您|)
                continue
            best = max((self._grade(a, start) for a in atoms), default=(0.0, ""))
            if best[0] < _threshold(end - start):
                return None
            phrase.append(best[1])
            weighted += best[0] * (end - start)
            length += end - start
        if not length:
            return None
        return Hit(pattern, m.start(), m.end(), weighted / length, "…".join(phrase))

    def _grade(self, atom: Atom, pos: int) -> tuple[float, str]:
        text, py = self.norm.text, self.norm.py
        total = 0.0
        for k, ch in enumerate(atom.text):
            if text[pos + k] == ch:
                total += SAME_CHAR
            elif py[pos + k] == atom.py[k]:
                total += SAME_PINYIN
            else:
                total += NEAR_PINYIN
        return total / len(atom.text), atom.text

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
        if self._negator_in(lo, hit.start, shields, allow_single=True):
            return True
        if len(hit.pattern.parts) > 1 or hit.fuzzy:
            inside = text[hit.start : hit.end]
            literal = hit.phrase.replace("…", "")
            return any(neg in inside and neg not in literal for neg in NEGATORS)
        return False

    def _negator_in(self, lo: int, hi: int, shields, *, allow_single: bool) -> bool:
        text = self.norm.text
        for neg in NEGATORS:
            pos = text.find(neg, lo, hi)
            while pos >= 0:
                if not any(s <= pos < e for s, e in shields):
                    return True
                pos = text.find(neg, pos + 1, hi)
        # a bare 不/没/未 right before the phrase: 不转告, 没登记
        if allow_single and hi > lo and text[hi - 1] in "不没未":
            return not any(s <= hi - 1 < e for s, e in shields)
        return False
