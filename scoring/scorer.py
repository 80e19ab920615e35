"""Judge one reply against the phrasing guide, and score a turn.

    scorer = Scorer.default()                      # loads and compiles scoring/guide.yaml once
    analysis = scorer.analyze(text, expect, key_points)
    if analysis.judgeable:
        turn = scorer.score_turn(analysis, expect, key_points)
    else:                                          # empty or garbled: ask the trainee to repeat
        print(analysis.why_not_judgeable)          # (score_turn would score it as saying nothing)

How a category is decided (docs/scoring.md): a guide variant matches (exact, homophone or near
homophone, see ``scoring.matcher``), no negator stands just before it in the same clause (我不会
转告法官), and it does not sit inside one of the category's ``exclude`` phrases (您好像). A
forbidden phrase counts unless it sits inside an ``allowed`` phrase (不知道您是否方便), follows
不是/并非 (不是不知道), or quotes someone else: inside quotation marks, or after a ``reported_speech``
phrase of the same clause (您是说书记员让您自己去查?). Everything is deterministic: the same text always
gives the same result.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from core.paths import default_cache_root
from scoring.guide import GUIDE_PATH, Category, Forbidden, Guide, load_guide
from scoring.matcher import NEGATION_BARRIERS, Hit, Matcher, Pattern, SyntaxProblem, compile_literal
from scoring.matcher import compile_phrase as _compile_phrase
from scoring.normalize import Normalized, is_cjk, normalize
from scoring.reply_model import MODEL_PATH, ReplyModel
from scoring.types import (
    CategoryMatch,
    Contradiction,
    ForbiddenUse,
    KeyPoint,
    MustNot,
    MustNotUse,
    PointMatch,
    Reason,
    ReplyAnalysis,
    Suggestion,
    TurnScore,
)
from scoring.values import ValueFinder, ValueRule, judge_mentions

# Points taken off a turn for each forbidden phrase, by severity. A critical one also fails the call.
PENALTY = {"minor": 10.0, "major": 25.0, "critical": 50.0}
_SEVERITY_RANK = {"minor": 0, "major": 1, "critical": 2}
POINT_WEIGHT = 1.0  # a scenario key point weighs as much as a category of weight 1
# Whisper's well-known inventions on silence or noise: a transcript made of these is not a reply.
NOISE_TRANSCRIPTS = ("字幕由", "请不吝点赞", "谢谢观看", "明镜与点点", "独播剧场", "字幕志愿者", "订阅我的频道")
# 不是不知道: a negation just before a negative forbidden phrase cancels it.
_DOUBLE_NEGATIVE = re.compile(r"(不是|并非|并不是|并不|不会|也不是|又不是|倒不是)(我们|我|您)?$")


@dataclass(frozen=True)
class _CompiledCategory:
    category: Category
    patterns: tuple[Pattern, ...]
    exclude: tuple[Pattern, ...]
    other_actor: tuple[Pattern, ...] = ()
    hollow: tuple[Pattern, ...] = ()


@dataclass(frozen=True)
class _CompiledForbidden:
    forbidden: Forbidden
    patterns: tuple[Pattern, ...]
    allowed: tuple[Pattern, ...]


class Scorer:
    """The guide, compiled once; ``analyze`` and ``score_turn`` are then pure functions of their input."""

    def __init__(self, guide: Guide, model: ReplyModel | None = None):
        self.guide = guide
        self.model = model
        words = guide.words

        def compile_phrase(source: str, *, negative_ok: bool = False) -> Pattern:
            return _compile_phrase(source, negative_ok=negative_ok, words=words)

        self._categories = [
            _CompiledCategory(
                category,
                tuple(
                    [compile_literal(category.standard)]
                    + [compile_phrase(v) for v in category.variants]
                    + [compile_phrase(v, negative_ok=True) for v in category.negative_ok]
                ),
                tuple(compile_phrase(v) for v in category.exclude),
                tuple(compile_phrase(v) for v in category.other_actor),
                tuple(compile_phrase(v) for v in category.hollow),
            )
            for category in guide.categories.values()
        ]
        self._categories = [
            _CompiledCategory(
                c.category, tuple(p for p in c.patterns if p is not None), c.exclude, c.other_actor, c.hollow
            )
            for c in self._categories
        ]
        shared_allowed = tuple(compile_phrase(a) for a in guide.allowed)
        # each forbidden phrase's own allowed wordings also keep the reply model from charging it (see below)
        self._allowed_by_id = {f.id: tuple(compile_phrase(a) for a in f.allowed) for f in guide.forbidden}
        self._forbidden = [
            _CompiledForbidden(
                f,
                tuple(p for p in [compile_literal(f.phrase)] + [compile_phrase(v) for v in f.variants] if p),
                shared_allowed + self._allowed_by_id[f.id],
            )
            for f in guide.forbidden
        ]
        # Phrases whose own 不/没 does not negate what follows (没问题, 您别着急): shield them from the guard.
        self._shields = tuple(compile_phrase(p) for p in guide.not_negation) + tuple(
            p for c in self._categories for p in c.patterns if p.negative_ok
        )
        self._reported_speech = tuple(compile_phrase(p) for p in guide.reported_speech)
        self._point_patterns: dict[str, Pattern | None] = {}
        self._value_finders: dict[ValueRule, ValueFinder] = {}
        for pattern in self._all_patterns():  # compile every regex now, not on the first reply
            pattern.regex  # noqa: B018

    def _all_patterns(self):
        for c in self._categories:
            yield from c.patterns
            yield from c.exclude
            yield from c.other_actor
            yield from c.hollow
        for f in self._forbidden:
            yield from f.patterns
            yield from f.allowed
        yield from self._shields
        yield from self._reported_speech

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, guide_path: str | Path | None = None, model_path: str | Path | None = MODEL_PATH) -> Scorer:
        """Load, check and compile a guide (raises ``ValidationError`` listing every problem), with the reply
        model beside it (``model_path=None``: the guide alone)."""
        guide = load_guide(guide_path or GUIDE_PATH)
        return cls(guide, ReplyModel.load(model_path) if model_path else None)

    @classmethod
    def default(cls) -> Scorer:
        """The bundled guide, compiled once per process."""
        return _default_scorer()

    # ------------------------------------------------------------------ analysis
    def analyze(
        self,
        text: str,
        expect: Sequence[str] = (),
        key_points: Sequence[KeyPoint] = (),
        must_not: Sequence[MustNot] = (),
    ) -> ReplyAnalysis:
        """What the reply does: categories, forbidden phrases, key points and the facts it states (right or
        contradicted), the scenario's must-not rules it breaks, suggestions for misses."""
        text = text if isinstance(text, str) else str(text)
        if len(text) > MAX_REPLY_CHARS:  # bounds the work of one reply, whatever it holds
            return ReplyAnalysis(text, judgeable=False, why_not_judgeable=TOO_LONG)
        norm = normalize(text)
        why = why_not_judgeable(norm)
        if why:
            return ReplyAnalysis(text, judgeable=False, why_not_judgeable=why)
        matcher = Matcher(norm)
        shields = [(h.start, h.end) for p in self._shields for h in matcher.find(p, fuzzy=False)]
        analysis = ReplyAnalysis(text)
        quotes = _quotes(matcher, self._reported_speech)
        guarded: set[str] = set()  # labels whose words the guide found but its guards turned down
        found = []
        for c in self._forbidden:
            hit, seen = self._forbidden_hit(matcher, c, quotes, shields)
            if hit:
                found.append((hit, c.forbidden))
            elif seen:
                guarded.add(c.forbidden.id)
        # one stretch of words is one forbidden phrase: the longest reading wins, then the most severe
        # (有意见你找领导去 is complain_to_boss, not also ask_someone_else for its 你找…去)
        found.sort(key=lambda x: (-x[0].length, -_SEVERITY_RANK.get(x[1].severity, 1), x[0].start))
        forbidden_hits: list[Hit] = []
        found_ids: list[str] = []
        for hit, f in found:
            if any(hit.start < h.end and h.start < hit.end for h in forbidden_hits):
                continue
            forbidden_hits.append(hit)
            found_ids.append(f.id)
            analysis.forbidden.append(
                ForbiddenUse(f.id, f.phrase, norm.span(hit.start, hit.end), f.instead, f.severity)
            )
        analysis.forbidden.sort(key=lambda f: f.span)
        breaches = self._must_not_hits(matcher, must_not, shields, quotes)
        broken = {rule.id for rule, _ in breaches}
        for rule in must_not:  # the guide's own phrases for the same boundary break the rule too
            hit = next((h for h, f in zip(forbidden_hits, found_ids, strict=True) if f in rule.forbidden), None)
            if hit is not None and rule.id not in broken:
                breaches.append((rule, hit))
                broken.add(rule.id)
        for rule, hit in breaches:
            analysis.must_not.append(
                MustNotUse(rule.id, rule.text, norm.span(hit.start, hit.end), rule.suggest, rule.severity)
            )
        blocked = forbidden_hits + [hit for _, hit in breaches]
        charged_ids = {f.id for f in analysis.forbidden}
        for compiled in self._categories:
            hits, seen = self._category_hits(matcher, compiled, shields)
            # words inside quotation marks are someone else's (法官跟您说“稍等一下”): not the agent's act
            hits = [h for h in hits if not any(quotes.marked[h.start : h.end])]
            # words that are part of a forbidden phrase or a must-not breach do not also earn a category
            # (案号你自己查一下; 钱下个月一定退给您 is no commitment)
            hits = [h for h in hits if not any(h.start < f.end and f.start < h.end for f in blocked)]
            if hits and compiled.hollow and charged_ids & set(compiled.category.hollow_with):
                hollow = [h for p in compiled.hollow for h in matcher.find(p, fuzzy=False)]
                hits = [h for h in hits if not any(h.start < o.end and o.start < h.end for o in hollow)]
            if hits:
                analysis.categories.append(compiled.category.id)
                analysis.matches.extend(
                    CategoryMatch(compiled.category.id, norm.span(h.start, h.end), h.phrase) for h in hits
                )
            elif seen:
                guarded.add(compiled.category.id)
        if self.model is not None:
            self._add_model_labels(matcher, analysis, guarded)
            for rule in must_not:  # what the model found of a linked boundary breaks the rule as well
                use = next((f for f in analysis.forbidden if f.id in rule.forbidden), None)
                if use is not None and rule.id not in broken:
                    analysis.must_not.append(MustNotUse(rule.id, rule.text, use.span, rule.suggest, rule.severity))
                    broken.add(rule.id)
        analysis.matches.sort(key=lambda m: (m.span, m.category))
        for point in key_points:
            self._judge_point(matcher, point, shields, quotes, analysis)
        for cid in dict.fromkeys(expect):
            if cid not in analysis.categories and cid in self.guide.categories:
                analysis.suggestions.append(Suggestion(cid, self.guide.categories[cid].standard))
        return analysis

    def _add_model_labels(self, matcher: Matcher, analysis: ReplyAnalysis, guarded: set[str]) -> None:
        """What the guide has no phrase for but the reply model is sure of; never what a guard turned down, nor a
        forbidden phrase whose ``allowed`` wording the reply uses (a referral to a named office is routing)."""
        norm = matcher.norm
        model = self.model
        probabilities = model.probabilities(norm)
        threshold = model.thresholds
        for cid, category in self.guide.categories.items():
            if cid in analysis.categories or cid in guarded or probabilities.get(cid, 0.0) < threshold["category"]:
                continue
            start, end = model.evidence(norm, cid)
            analysis.categories.append(cid)
            analysis.matches.append(CategoryMatch(cid, norm.span(start, end), category.standard, source="model"))
        order = list(self.guide.categories)
        analysis.categories.sort(key=order.index)
        charged = {f.id for f in analysis.forbidden}
        for f in self.guide.forbidden:
            if f.id in charged or f.id in guarded or probabilities.get(f.id, 0.0) < threshold["forbidden"]:
                continue
            if any(matcher.find(p, fuzzy=False, same_clause=True) for p in self._allowed_by_id.get(f.id, ())):
                continue
            start, end = model.evidence(norm, f.id)
            analysis.forbidden.append(
                ForbiddenUse(f.id, f.phrase, norm.span(start, end), f.instead, f.severity, source="model")
            )
        analysis.forbidden.sort(key=lambda f: f.span)

    def _category_hits(self, matcher: Matcher, compiled: _CompiledCategory, shields) -> tuple[list[Hit], bool]:
        """The category's hits that survive the guards, and whether any of its phrases was found at all."""
        found = [h for p in compiled.patterns for h in matcher.find(p)]
        hits = [h for h in found if not matcher.negated(h, shields)]
        if hits and compiled.exclude:
            excluded = [
                (h.start, h.end) for p in compiled.exclude for h in matcher.find(p, fuzzy=False, same_clause=True)
            ]
            # overlap, not containment: 我理解 is undone by 理解错 (我理解错了)
            hits = [h for h in hits if not any(h.start < e and s < h.end for s, e in excluded)]
        if hits and compiled.other_actor:
            others = [h for p in compiled.other_actor for h in matcher.find(p, fuzzy=False, same_clause=True)]
            hits = [h for h in hits if not _someone_elses(matcher.norm, h, others)]
        return _non_overlapping(hits), bool(found)

    def _forbidden_hit(
        self, matcher: Matcher, compiled: _CompiledForbidden, quotes: _Quotes, shields
    ) -> tuple[Hit | None, bool]:
        """The forbidden phrase's best hit that survives the allow-lists, and whether its words were found."""
        hits = [h for p in compiled.patterns for h in matcher.find(p)]
        if not hits:
            return None, False
        if compiled.forbidden.negatable:
            hits = [h for h in hits if not matcher.negated(h, shields)]
        text = matcher.norm.text
        hits = [h for h in hits if not _DOUBLE_NEGATIVE.search(text[max(0, h.start - 5) : h.start])]
        hits = [h for h in hits if not quotes.covers(h)]
        if hits and compiled.allowed:
            allowed = [
                (h.start, h.end) for p in compiled.allowed for h in matcher.find(p, fuzzy=False, same_clause=True)
            ]
            hits = [h for h in hits if not _inside(h, allowed)]
        best = _non_overlapping(hits)
        return (best[0] if best else None), True

    def _judge_point(self, matcher: Matcher, point: KeyPoint, shields, quotes: _Quotes, analysis) -> None:
        """Credit the point (a phrase of ``any``, or the drawn value stated), or record the wrong value stated
        instead; a contradiction always wins over a phrase."""
        norm = matcher.norm
        if point.value:
            rule = ValueRule(point.value, point.others, point.elsewhere)
            finder = self._value_finders.get(rule)
            if finder is None:
                finder = self._value_finders[rule] = ValueFinder(rule)
            stated, wrong = judge_mentions(finder, norm)
            if wrong:
                for mention in wrong:
                    span = norm.span(mention.start, mention.end)
                    analysis.contradictions.append(Contradiction(point.id, mention.said, point.value, span))
                return
            if stated:
                mention = next(m for m in finder.mentions(norm) if m.right and m.affirmed)
                analysis.points.append(PointMatch(point.id, norm.span(mention.start, mention.end), point.value))
                return
        for phrase in point.any:
            pattern = self._phrase(phrase)
            if pattern is None:
                continue
            for hit in matcher.find(pattern):
                if not matcher.negated(hit, shields) and not any(quotes.marked[hit.start : hit.end]):
                    analysis.points.append(PointMatch(point.id, norm.span(hit.start, hit.end), hit.phrase))
                    return

    def _must_not_hits(
        self, matcher: Matcher, rules: Sequence[MustNot], shields, quotes: _Quotes
    ) -> list[tuple[MustNot, Hit]]:
        """The first hit of each must-not rule that is the agent's own and not negated (我们不能说您肯定能赢)."""
        out = []
        for rule in rules:
            for phrase in rule.any:
                pattern = self._phrase(phrase)
                hit = None
                if pattern is not None:
                    hit = next(
                        (h for h in matcher.find(pattern) if not matcher.negated(h, shields) and not quotes.covers(h)),
                        None,
                    )
                if hit is not None:
                    out.append((rule, hit))
                    break
        return out

    def _phrase(self, phrase: str) -> Pattern | None:
        """A scenario phrase (key point or must-not) compiled once with the guide's word groups. A phrase with no
        choice, gap or word group is taken literally, so a long one keeps its tolerance for an inserted 年; the
        validator has checked the markup of the others."""
        if phrase not in self._point_patterns:
            pattern = None
            if any(mark in phrase for mark in _MARKUP):  # else literal: (2022)沪0105民初1234号 is no choice
                try:
                    pattern = _compile_phrase(phrase, words=self.guide.words)
                except SyntaxProblem:
                    pattern = None
            self._point_patterns[phrase] = pattern or compile_literal(phrase)
        return self._point_patterns[phrase]

    # ------------------------------------------------------------------ scoring
    def score_turn(
        self, analysis: ReplyAnalysis, expect: Sequence[str] = (), key_points: Sequence[KeyPoint] = ()
    ) -> TurnScore:
        """0-100: the expected categories (by guide weight) and key points met, minus forbidden phrases and
        must-not breaches, halved for each fact stated wrong.

        Each expected item is worth ``100 * weight / total weight``; each forbidden phrase or must-not breach
        costs ``PENALTY[severity]`` (one stretch of words is charged once, at its most severe); each
        contradiction misses its point and then halves what is left. With nothing expected a turn starts from
        100. Every gain and loss is a ``Reason``; the reasons add up to the score before it is clamped to 0..100.
        """
        expect = list(dict.fromkeys(expect))
        categories = self.guide.categories
        weights = {cid: (categories[cid].weight if cid in categories else 1.0) for cid in expect}
        total = sum(weights.values()) + POINT_WEIGHT * len(key_points)
        result = TurnScore(score=0.0)
        gained = 0.0
        if not analysis.judgeable:  # callers ask for a repeat first; if they still score it, it said nothing
            result.reasons.append(Reason(0.0, f"回复无法识别({analysis.why_not_judgeable}),按什么都没说计分"))
        if total == 0:
            gained = 100.0
            result.reasons.append(Reason(100.0, "本轮没有规定的要点,起评 100 分"))
        for cid in expect:
            share = round(100.0 * weights[cid] / total, 1)
            title = categories[cid].title if cid in categories else cid
            if cid in analysis.categories:
                result.hit.append(cid)
                gained += share
                phrase = next((m.guide_phrase for m in analysis.matches if m.category == cid), "")
                by_model = all(m.source == "model" for m in analysis.matches if m.category == cid)
                how = "意思与标准说法相近,模型判断" if by_model else "说了"
                result.reasons.append(Reason(share, f"做到「{title}」({how}「{_shown(analysis, cid) or phrase}」)"))
            else:
                result.missed.append(cid)
                hint = categories[cid].standard if cid in categories else ""
                result.reasons.append(Reason(0.0, f"缺少「{title}」,本项 {share:g} 分未得;可以说:{hint}"))
        covered = {p.id: p for p in analysis.points}
        wrong = {c.point: c for c in analysis.contradictions}
        for point in key_points:
            share = round(100.0 * POINT_WEIGHT / total, 1)
            if point.id in covered:
                result.points_hit.append(point.id)
                gained += share
                result.reasons.append(Reason(share, f"问到/说到要点「{point.text}」"))
            elif point.id in wrong:
                result.points_missed.append(point.id)
                result.reasons.append(Reason(0.0, f"要点「{point.text}」说错了,本项 {share:g} 分未得"))
            else:
                result.points_missed.append(point.id)
                example = point.value or (point.any[0] if point.any else "")
                example = f",例如说到「{example}」" if example else ""
                result.reasons.append(Reason(0.0, f"漏了要点「{point.text}」,本项 {share:g} 分未得{example}"))
        if total and not result.missed and not result.points_missed:
            gained = 100.0  # rounding of the shares must not cost a perfect reply a point
        charged: list[tuple[tuple[int, int], float]] = []  # spans already penalised, so one stretch costs once
        for use in analysis.forbidden:
            penalty = PENALTY.get(use.severity, PENALTY["major"])
            result.forbidden.append(use)
            result.critical = result.critical or use.severity == "critical"
            note = ",属于严重禁语,本次通话不合格" if use.severity == "critical" else ""
            said = analysis.text[use.span[0] : use.span[1]]
            what = (
                f"禁语「{use.phrase}」"
                if use.source == "guide"
                else f"类似禁语「{use.phrase}」的说法「{said}」(模型判断)"
            )
            result.reasons.append(Reason(-penalty, f"使用{what}{note};应改说:{use.suggest}"))
            gained -= penalty
            charged.append((use.span, penalty))
        for use in analysis.must_not:
            penalty = PENALTY.get(use.severity, PENALTY["major"])
            already = max((p for span, p in charged if span[0] < use.span[1] and use.span[0] < span[1]), default=0.0)
            penalty = max(0.0, penalty - already)
            result.must_not.append(use)
            result.critical = result.critical or use.severity == "critical"
            note = ",属于严重违规,本次通话不合格" if use.severity == "critical" else ""
            said = analysis.text[use.span[0] : use.span[1]]
            result.reasons.append(
                Reason(-penalty or 0.0, f"说了本场景不能说的话「{said}」({use.text}){note};应改说:{use.suggest}")
            )
            gained -= penalty
            charged.append((use.span, penalty))
        for c in analysis.contradictions:
            result.contradictions.append(c)
            cut = round(max(0.0, gained) / 2, 1)
            title = next((p.text for p in key_points if p.id == c.point), c.point)
            result.reasons.append(
                Reason(-cut, f"说错了事实「{title}」:说成了「{c.said}」,正确的是「{c.right}」,本轮得分减半")
            )
            gained -= cut
        result.score = round(min(100.0, max(0.0, gained)), 1)
        return result


def _shown(analysis: ReplyAnalysis, cid: str) -> str:
    """The words of the reply that satisfied ``cid``, as the trainee said them."""
    for m in analysis.matches:
        if m.category == cid:
            return analysis.text[m.span[0] : m.span[1]]
    return ""


# One reply of a call: 1,000 characters is eight minutes of speech at the hotline's pace of 120 a minute.
MAX_REPLY_CHARS = 1000
TOO_LONG = f"回答超过 {MAX_REPLY_CHARS} 字, 请分几句说"


def why_not_judgeable(norm: Normalized) -> str:
    """Why the reply should be repeated rather than scored, or "" when it can be judged."""
    if not norm.text:
        return "没有听到内容"
    if not any(is_cjk(c) for c in norm.text):
        return "没有识别出中文"
    if any(noise in norm.text for noise in NOISE_TRANSCRIPTS):
        return "识别结果像是杂音"
    if len(norm.text) >= 8 and len(set(norm.text)) <= 0.2 * len(norm.text):
        return "识别结果在重复同几个字,像是识别出错"
    return ""


_OPEN_QUOTES, _CLOSE_QUOTES = "“「『‘《", "”」』’》"
_NOT_SPEECH_AFTER = "的得"  # 您说的那些…, 您说得对: not a quote of what someone said
_NOT_SPEECH_BEFORE = "跟和给对同向与"  # 跟您讲过三遍了: 您 is spoken to, not speaking


@dataclass(frozen=True)
class _Quotes:
    """Which normalised characters are someone else's words: ``marked`` inside quotation marks
    (“不归我们管”), ``reported`` after a ``reported_speech`` phrase in the same clause (您是说书记员让您
    自己去查?)."""

    marked: list[int]
    reported: list[int]

    def covers(self, hit: Hit) -> bool:
        # touching a quotation is quoting (您“找别人去”: the 您 is outside); reported speech starts after its phrase
        return any(self.marked[hit.start : hit.end]) or bool(self.reported[hit.start])


def _quotes(matcher: Matcher, reported_speech: Sequence[Pattern]) -> _Quotes:
    norm = matcher.norm
    marked = [0] * len(norm)
    reported = [0] * len(norm)
    depth, straight = 0, 0
    pos = 0
    for i, start in enumerate(norm.starts):  # quotation marks are dropped by normalising: read the original
        for ch in norm.original[pos:start]:
            depth += (ch in _OPEN_QUOTES) - (ch in _CLOSE_QUOTES)
            straight ^= ch == '"'
        pos = start
        marked[i] = int(depth > 0 or straight == 1)
    for pattern in reported_speech:
        for hit in matcher.find(pattern, fuzzy=False):
            if hit.end < len(norm) and norm.text[hit.end] in _NOT_SPEECH_AFTER:
                continue
            if hit.start > 0 and norm.text[hit.start - 1] in _NOT_SPEECH_BEFORE:
                continue
            clause = norm.clauses[hit.end - 1]
            k = hit.end
            while k < len(norm) and norm.clauses[k] == clause:
                reported[k] = 1
                k += 1
    return _Quotes(marked, reported)


_MARKUP = ("|", "｜", "…", "...", "【")
OTHER_ACTOR_REACH = 10  # characters from an other_actor phrase to the act it hands to someone else
# The agent taking the act back after an other_actor phrase: 您需要的材料我会转给法官.
_SELF = re.compile(r"我|咱|这边")


def _someone_elses(norm: Normalized, hit: Hit, others: list[Hit]) -> bool:
    """Whether an ``other_actor`` phrase (您需要…, 法官说…, 一般…) earlier in the hit's clause makes the act
    someone else's or a general rule: 您需要把证据交给法官, 法官说下周会给您打电话, 一般七个工作日内会有人联系您.
    Not when 我/我们/这边 comes between (您要是着急,我帮您催一下) or a contrast ends its reach (但是我会…)."""
    text = norm.text
    for other in others:
        # before the act, or opening it (法官…会给您回电: the 法官说 of 法官说下周会给您回电 is inside the match)
        if other.start > hit.start or other.end >= hit.end:
            continue
        if norm.clauses[other.start] == norm.clauses[hit.start]:
            if hit.start - other.end > OTHER_ACTOR_REACH:  # one run-on recognizer line holds several sentences
                continue
        elif not _leads_into(norm, other, hit):
            continue
        if other.start > 0 and text[other.start - 1] in _NOT_SPEECH_BEFORE:  # 跟法官说: the agent speaks to him
            continue
        between = text[other.end : hit.start] + text[hit.start : hit.start + 1]
        if _SELF.search(between) or any(b in between for b in NEGATION_BARRIERS):
            continue
        return True
    return False


def _leads_into(norm: Normalized, other: Hit, hit: Hit) -> bool:
    """An other_actor phrase that is a whole clause (一般来说，…; 按规定，…) governs the clause after it."""
    clause = norm.clauses[other.start]
    whole = (other.start == 0 or norm.clauses[other.start - 1] != clause) and (
        other.end == len(norm) or norm.clauses[other.end] != clause
    )
    return whole and norm.clauses[hit.start] == clause + 1


def _inside(hit: Hit, spans: list[tuple[int, int]]) -> bool:
    return any(s <= hit.start and hit.end <= e for s, e in spans)


def _non_overlapping(hits: list[Hit]) -> list[Hit]:
    """The best hits that do not overlap: longest first, then most exact, then leftmost."""
    chosen: list[Hit] = []
    for hit in sorted(hits, key=lambda h: (-h.length, -h.quality, h.start)):
        if all(hit.end <= c.start or hit.start >= c.end for c in chosen):
            chosen.append(hit)
    return sorted(chosen, key=lambda h: h.start)


@lru_cache(maxsize=1)
def _default_scorer() -> Scorer:
    return load_compiled()


def compiled_key(guide_path: Path = GUIDE_PATH, model_path: Path = MODEL_PATH) -> str:
    """What a compiled scorer depends on: the guide, the reply model, the scoring code, the pinyin and
    Traditional->Simplified tables, and the Python version."""
    from importlib.metadata import version

    digest = hashlib.sha256(sys.version.encode())
    for package in ("pypinyin", "opencc-python-reimplemented"):  # their tables give every character its codes
        digest.update(f"{package}={version(package)}".encode())
    for path in (guide_path, model_path, *sorted(Path(__file__).parent.glob("*.py"))):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:32]


def load_compiled(guide_path: Path = GUIDE_PATH, model_path: Path = MODEL_PATH) -> Scorer:
    """The scorer for the guide and model, from the user's cache when it was compiled before (0.2 s instead of
    about 1 s: compiling the guide's phrases is most of a practice call's start). The cache is keyed by
    ``compiled_key``, so an edited guide, a retrained model or new code compiles afresh; a missing, unreadable or
    stale file is rebuilt, and a cache that cannot be written only costs the time."""
    folder = default_cache_root() / "scorer"
    path = folder / f"{compiled_key(guide_path, model_path)}.pickle"
    try:
        with path.open("rb") as file:
            scorer = pickle.load(file)  # our own file in the user's private cache, written below
        if isinstance(scorer, Scorer):
            return scorer
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, TypeError, ValueError):
        pass
    scorer = Scorer.load(guide_path, model_path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, suffix=".tmp", delete=False) as tmp:
            pickle.dump(scorer, tmp, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp.name, path)  # atomic: two processes compiling at once never leave half a file
        for old in folder.glob("*.pickle"):  # compiled for an older guide or code: never read again
            if old != path:
                old.unlink(missing_ok=True)
    except OSError:
        pass
    return scorer
