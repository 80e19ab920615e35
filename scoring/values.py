"""Find a drawn fact in a reply: a courtroom, a judge, a date, a time, a fee, a case number, in any common form.

A scenario key point written ``value: right_room`` is met when the reply states the value drawn for
``{right_room}`` (第十二法庭) however it is said: 第12法庭, 十二法庭, 12号庭; a date as 12月10号 or 十二月十日;
a time as 9:30, 九点半 or 上午九点三十分 (上午/下午 may be left out when the hour alone is clear); a fee as
550块钱 or 五百五十元. Stating another value of the same kind instead (第十一法庭, 第五法庭, 王法官) is a
*contradiction*: the trainee told the caller something wrong.

How: the reply and the value are both rewritten into ``Unit``\\ s: digits as ASCII figures, times, dates and sums
of money as one token each (``T``, ``D``, ``M``), the usual spoken variants folded (日 -> 号, 礼拜/星期 -> 周,
块钱 -> 元, 第 dropped before a number, 号庭 -> 法庭). A value is then found as a run of units (characters compare
by toneless pinyin, so a recognizer's 路法官 still states 陆法官; figures compare exactly). The *kind* of a value
decides what else counts as a statement of it: a time token for a time, a date token for a date, the same
characters around other figures for 第十二法庭 or a case number, a known surname before 法官 for a judge.
A mention does not count when it is negated (不是第十一法庭) or asked as a question (是第十一法庭吗?).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from scoring.normalize import DIGITS, Normalized, normalize, py_code

_FIGURE = {c: str(i) for i, c in enumerate(DIGITS)}
# Common surnames that may stand before 法官 (characters that are also everyday words, such as 万 方 向 于 和, left out).
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔"
    "钟谭陆汪范金石廖贾夏韦傅付白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵钱严覃武戴莫孔汤庞殷柳詹虞倪"
)
_PERIODS = {
    "凌晨": "am",
    "早上": "am",
    "早晨": "am",
    "上午": "am",
    "中午": "pm",
    "下午": "pm",
    "傍晚": "pm",
    "晚上": "pm",
}
# Words before a mention that deny it: 不是第十一法庭, 并不在第三法庭.
_DENIALS = ("不是", "不在", "并非", "并不是", "而不是", "不去", "别去", "不要去", "没在")
# Words between a right and a later wrong mention that make the later one a correction: 第十二…不对，是第十一.
_CORRECTIONS = ("不对", "说错", "搞错", "更正", "口误", "哦不", "噢不", "纠正")
_QUESTION_END = "吗么"
_TWO_CHAR_SWAPS = {"星期": "周", "礼拜": "周", "块钱": "元", "元钱": "元", "点钟": "点", "点整": "点"}
_MEASURES_AFTER_TWO = set("点千百万个元块号日月年周天位次楼层分")


@dataclass(frozen=True)
class Unit:
    """One canonical piece of a reply or a value: a character, a figure, or a token (T/D/M)."""

    text: str  # "陆", "1", or a token such as "T14:00", "D12-10", "M550"
    start: int  # [start, end) in the normalised reply
    end: int
    clause: int

    @property
    def is_figure(self) -> bool:
        return len(self.text) == 1 and self.text.isdigit()

    @property
    def is_token(self) -> bool:
        return len(self.text) > 1


@dataclass(frozen=True)
class Mention:
    """A stretch of the reply that states a value of the point's kind."""

    start: int  # normalised positions
    end: int
    right: bool  # states the drawn value
    affirmed: bool  # not negated, not a question
    said: str  # the reply's own words


def canonical(norm: Normalized) -> list[Unit]:
    """The reply as units; see the module docstring."""
    units = [Unit(_FIGURE.get(c, c), i, i + 1, norm.clauses[i] if norm.clauses else 0) for i, c in enumerate(norm.text)]
    units = _join_split_numbers(norm, units)
    units = _wan_amounts(norm, units)
    units = _lone_numerals(units)
    units = _swap_words(units)
    return _tokens(units)


def _join_split_numbers(norm: Normalized, units: list[Unit]) -> list[Unit]:
    """9:30 and 1,300 lose their punctuation to normalising (which ends a clause there): put it back as 点 / nothing."""
    out: list[Unit] = []
    for k, unit in enumerate(units):
        out.append(unit)
        if k + 1 >= len(units) or not (unit.is_figure and units[k + 1].is_figure):
            continue
        between = norm.original[norm.ends[unit.start] : norm.starts[units[k + 1].start]]
        figures_after = 1  # the figures written together after the mark: 9:30 has two, 1,300 three
        while k + 1 + figures_after < len(units) and units[k + 1 + figures_after].is_figure:
            last = units[k + figures_after]
            if norm.original[norm.ends[last.start] : norm.starts[units[k + 1 + figures_after].start]]:
                break
            figures_after += 1
        if between in (":", "：") and figures_after == 2:
            out.append(Unit("点", unit.end, unit.end, unit.clause))
        if between in (":", "：", ",", "，") and figures_after in (2, 3):
            later = units[k + 1].clause  # one clause again: 9:30 is one time, 1,300元 one sum
            for j in range(k + 1, len(units)):
                if units[j].clause != later:
                    break
                units[j] = Unit(units[j].text, units[j].start, units[j].end, unit.clause)
    return out


def _wan_amounts(norm: Normalized, units: list[Unit]) -> list[Unit]:
    """20万 and 21.5万 in figures, as 二十万 already is (normalising reads Chinese numerals but leaves a written 20万
    as the figures 2 0 and 万, and drops the decimal point, ending a clause there)."""
    units = list(units)
    out: list[Unit] = []
    k = 0
    while k < len(units):
        end = k
        point = None  # index of the first figure after a decimal point
        while end < len(units) and units[end].is_figure:
            if end > k and norm.original[norm.ends[units[end - 1].start] : norm.starts[units[end].start]] in (
                ".",
                "．",
            ):
                point = end
            end += 1
        if end == k or end >= len(units) or units[end].text != "万" or (point or end) - k > 4:
            out.extend(units[k : max(end, k + 1)])
            k = max(end, k + 1)
            continue
        whole = "".join(u.text for u in units[k : point or end])
        fraction = "".join(u.text for u in units[point:end]) if point else "0"
        value = round(float(f"{whole}.{fraction}") * 10_000)
        first, wan = units[k], units[end]
        out.extend(Unit(d, first.start, wan.end, first.clause) for d in str(value))
        later = wan.clause  # the decimal point ended a clause: 21.5万元 is one sum again
        j = end + 1
        while point and j < len(units) and units[j].clause == later:
            units[j] = Unit(units[j].text, units[j].start, units[j].end, first.clause)
            j += 1
        k = end + 1
    return out


def _lone_numerals(units: list[Unit]) -> list[Unit]:
    """A 十 or 两 that normalising left alone: 第十法庭 = 第10法庭, 两点 = 2点 (两 only before a measure)."""
    out: list[Unit] = []
    for k, unit in enumerate(units):
        before = units[k - 1].text if k else ""
        after = units[k + 1].text if k + 1 < len(units) else ""
        if unit.text == "十" and not before.isdigit() and not after.isdigit():
            out.append(Unit("1", unit.start, unit.end, unit.clause))
            out.append(Unit("0", unit.start, unit.end, unit.clause))
        elif unit.text in "两俩" and after in _MEASURES_AFTER_TWO:
            out.append(Unit("2", unit.start, unit.end, unit.clause))
        else:
            out.append(unit)
    return out


def _swap_words(units: list[Unit]) -> list[Unit]:
    """Fold spoken variants: 日 -> 号 after a figure, 礼拜/星期 -> 周, 块钱/块 -> 元, 点钟 -> 点, 第 and 年 around
    figures dropped where they only decorate (第12法庭 = 12法庭; 2022年沪… = 2022沪…), 号庭/号法庭/庭 -> 法庭."""
    out: list[Unit] = []
    k = 0
    n = len(units)
    while k < n:
        unit = units[k]
        pair = unit.text + units[k + 1].text if k + 1 < n else ""
        prev = out[-1].text if out else ""
        nxt = units[k + 1].text if k + 1 < n else ""
        if pair in _TWO_CHAR_SWAPS:
            out.append(Unit(_TWO_CHAR_SWAPS[pair], unit.start, units[k + 1].end, unit.clause))
            k += 2
            continue
        if prev.isdigit() and unit.text == "日" and nxt in _AFTER_A_SPAN and not _month_before(out):
            out.append(Unit("天", unit.start, unit.end, unit.clause))  # 十五日内 is fifteen days, not the 15th
        elif prev.isdigit() and unit.text == "日":
            out.append(Unit("号", unit.start, unit.end, unit.clause))
        elif prev.isdigit() and unit.text == "块":
            out.append(Unit("元", unit.start, unit.end, unit.clause))
        elif unit.text == "第" and nxt.isdigit() and not _ordinal_day(units, k + 1):
            pass  # 第12法庭 = 12法庭; but 第二天 (the next day) is no span of two days
        elif unit.text == "年" and _figures_before(out) == 4 and nxt and not nxt.isdigit() and nxt != "度":
            pass
        elif (
            prev.isdigit() and pair in ("号庭", "号法") and (pair == "号庭" or k + 2 < n and units[k + 2].text == "庭")
        ):
            size = 2 if pair == "号庭" else 3
            out.append(Unit("法", unit.start, units[k + size - 1].end, unit.clause))
            out.append(Unit("庭", unit.start, units[k + size - 1].end, unit.clause))
            k += size
            continue
        elif prev.isdigit() and unit.text == "庭":
            out.append(Unit("法", unit.start, unit.end, unit.clause))
            out.append(unit)
        else:
            out.append(unit)
        k += 1
    return out


def _ordinal_day(units: list[Unit], k: int) -> bool:
    """Whether the figures from ``k`` are followed by 天 or 日: 第二天, 第十五日 count days, they are not spans."""
    while k < len(units) and units[k].is_figure:
        k += 1
    return k < len(units) and units[k].text in ("天", "日")


_AFTER_A_SPAN = ("内", "以", "之", "后")  # 十五日内 / 十日以内 / 七日之内 / 三日后: a number of days


def _month_before(units: list[Unit]) -> bool:
    """Whether the figures at the end of ``units`` follow 月 (5月15日以后 is a date)."""
    k = len(units) - 1
    while k >= 0 and units[k].is_figure:
        k -= 1
    return k >= 0 and units[k].text == "月"


def _figures_before(units: list[Unit]) -> int:
    count = 0
    for unit in reversed(units):
        if not unit.is_figure:
            break
        count += 1
    return count


# Over the units' texts joined with one character per unit (tokens do not exist yet at this stage).
_TIME = re.compile(r"(凌晨|早上|早晨|上午|中午|下午|傍晚|晚上)?(\d{1,2})点(?:(\d{2})分?|(\d)分|半)?")
_DATE = re.compile(r"(?:(\d{4})年)?(?:(\d{1,2})月)(\d{1,2})号|(?<![\d月])(\d{1,2})号(?!法庭|庭|楼|线|室|窗口)")
_MONEY = re.compile(r"(\d+)(?:万(\d*))?元")


def _clause_matches(pattern: re.Pattern, units: list[Unit]) -> Iterable[re.Match]:
    """``pattern`` over the units' characters, one clause at a time (十四点，十一号法庭 is not 14:11)."""
    text = "".join(u.text if len(u.text) == 1 else "\x00" for u in units)
    start = 0
    while start < len(units):
        end = start
        while end < len(units) and units[end].clause == units[start].clause:
            end += 1
        yield from pattern.finditer(text, start, end)
        start = end


def _tokens(units: list[Unit]) -> list[Unit]:
    """Times, dates and sums of money become one token each, so 下午2点 and 14点 compare as one thing."""
    text = "".join(u.text if len(u.text) == 1 else "\x00" for u in units)
    spans: list[tuple[int, int, str]] = []
    for m in _clause_matches(_TIME, units):
        period, hour, minutes, minute_one = _PERIODS.get(m.group(1) or ""), int(m.group(2)), m.group(3), m.group(4)
        bare = not period and not minutes and not minute_one and not m.group(0).endswith("半")
        if bare and hour == 1 and (m.start(2) == 0 or not text[m.start(2) - 1].isdigit()):
            continue  # 慢一点, 快一点: "a little", not one o'clock
        if (
            bare
            and m.end() < len(text)
            and text[m.end()].isdigit()
            and units[m.end()].clause == units[m.start()].clause
        ):
            continue  # 二点五: a decimal, not a time
        if hour > 24:
            continue
        minute = int(minutes) if minutes else int(minute_one) if minute_one else 30 if m.group(0).endswith("半") else 0
        if period == "am":
            hour24, tag = hour % 12, "a"
        elif period == "pm":
            hour24, tag = hour % 12 + 12, "a"
        else:
            hour24 = hour
            tag = "a" if hour > 12 or hour == 0 else "?"
        spans.append((m.start(), m.end(), f"T{hour24:02d}:{minute:02d}{tag}"))
    for m in _clause_matches(_DATE, units):
        if m.group(4):
            token = f"D--{int(m.group(4)):02d}"
        else:
            year = m.group(1) or ""
            token = f"D{year}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
        spans.append((m.start(), m.end(), token))
    for m in _clause_matches(_MONEY, units):
        amount = int(m.group(1)) * (10_000 if "万" in m.group(0) else 1) + int(m.group(2) or 0)
        spans.append((m.start(), m.end(), f"M{amount}"))
    if not spans:
        return units
    spans.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    out: list[Unit] = []
    k = 0
    for start, end, token in spans:
        if start < k:
            continue  # overlapping reading: the earlier, longer one stands
        out.extend(units[k:start])
        out.append(Unit(token, units[start].start, units[end - 1].end, units[start].clause))
        k = end
    out.extend(units[k:])
    return out


def same(a: Unit, b: Unit, ambiguous_hours: frozenset[int] = frozenset()) -> bool:
    """Whether two units say the same thing: figures exactly, characters by toneless pinyin, tokens by meaning."""
    if a.text == b.text:
        return True
    if a.is_token or b.is_token:
        return a.is_token and b.is_token and _same_token(a.text, b.text, ambiguous_hours)
    if a.is_figure or b.is_figure:
        return False
    return py_code(a.text) == py_code(b.text) and py_code(a.text) != a.text


def _same_token(a: str, b: str, ambiguous_hours: frozenset[int]) -> bool:
    if a[0] != b[0]:
        return False
    if a[0] == "T":
        ha, ma, sure_a = int(a[1:3]), a[4:6], a[6] == "a"
        hb, mb, sure_b = int(b[1:3]), b[4:6], b[6] == "a"
        if ma != mb:
            return False
        if sure_a and sure_b:
            return ha == hb
        # one side without 上午/下午: the hour on the clock face decides, unless the variable has that hour twice
        return ha % 12 == hb % 12 and ha % 12 not in ambiguous_hours
    if a[0] == "D":
        ya, ma_, da = a[1:].split("-")
        yb, mb_, db = b[1:].split("-")
        return da == db and (not ma_ or not mb_ or ma_ == mb_) and (not ya or not yb or ya == yb)
    return a == b


@dataclass(frozen=True)
class ValueRule:
    """How to find one variable's values: its drawn value, the other values it could have taken, and the words
    of the call's other variables (a mention equal to one of those is about that other fact)."""

    value: str
    others: tuple[str, ...] = ()
    elsewhere: tuple[str, ...] = ()


class ValueFinder:
    """Finds one drawn value, and other values of its kind, in normalised replies."""

    def __init__(self, rule: ValueRule):
        self.rule = rule
        self.forms = [_units(form) for form in _forms(rule.value)]
        self.others = [_units(v) for v in rule.others if value_key(v) != value_key(rule.value)]
        self.elsewhere = [_units(v) for v in rule.elsewhere if v and value_key(v) != value_key(rule.value)]
        self.kind = _kind(self.forms[0]) if self.forms and self.forms[0] else ""
        self.shape = _shape(self.forms[0]) if self.kind == "figures" else None
        hours: dict[int, set[int]] = {}
        for units in [self.forms[0]] + self.others if self.forms else []:
            for u in units:
                if u.text.startswith("T") and u.text[6] == "a":
                    hours.setdefault(int(u.text[1:3]) % 12, set()).add(int(u.text[1:3]))
        self.ambiguous_hours = frozenset(h for h, full in hours.items() if len(full) > 1)

    def mentions(self, norm: Normalized, units: list[Unit] | None = None) -> list[Mention]:
        """Every statement of this value or of another value of its kind, leftmost first."""
        units = canonical(norm) if units is None else units
        found: list[tuple[int, int, bool]] = []  # unit index range, right
        for form in self.forms:
            found += [(s, e, True) for s, e in _find(units, form, self.ambiguous_hours)]
        for other in self.others:
            found += [(s, e, False) for s, e in _find(units, other, self.ambiguous_hours)]
        found += [(s, e, False) for s, e in self._same_kind(units)]
        taken: list[tuple[int, int, bool]] = []
        for s, e, right in sorted(found, key=lambda f: (f[0], -(f[1] - f[0]), not f[2])):
            if any(s < te and ts < e for ts, te, _ in taken):
                continue
            if not right and any(_find(units[s:e], other, self.ambiguous_hours) for other in self.elsewhere):
                continue  # the caller's wrong room, read back: another variable's value
            taken.append((s, e, right))
        out = []
        for s, e, right in taken:
            start, end = units[s].start, units[e - 1].end
            if not right and _part_of_a_rule(norm, start, end):
                continue
            if start > 0 and norm.text[start - 1] == "第":  # shown as said: 第十一法庭
                start -= 1
            span = norm.span(start, end)
            out.append(Mention(start, end, right, _affirmed(norm, start, end), norm.original[span[0] : span[1]]))
        return out

    def _same_kind(self, units: list[Unit]) -> Iterable[tuple[int, int]]:
        if self.kind in ("T", "D", "M"):
            for k, unit in enumerate(units):
                if unit.text.startswith(self.kind) and unit.is_token:
                    yield k, k + 1
        elif self.kind == "judge":
            for k in range(len(units) - 2):
                if units[k].text in SURNAMES and units[k + 1].text == "法" and units[k + 2].text == "官":
                    yield k, k + 3
                elif units[k].text == "姓" and units[k + 1].text in SURNAMES and _judge_near(units, k):
                    yield k, k + 2
        elif self.shape is not None:
            text = "".join(u.text if len(u.text) == 1 else "\x00" for u in units)
            for m in self.shape.finditer(text):
                yield m.start(), m.end()


def _judge_near(units: list[Unit], k: int) -> bool:
    """姓陆 speaks of the judge only with 法官 in the same clause (您姓孙 is the caller)."""
    clause = units[k].clause
    return any(
        u.clause == clause and u.text == "法" and i + 1 < len(units) and units[i + 1].text == "官"
        for i, u in enumerate(units)
    )


# A sum or a date inside a rule is not a statement of the fact: 一万元以下的部分五十元, 超过十万元的部分.
_RULE_BEFORE = ("超过", "不超过", "不足", "低于", "高于", "每件", "最低", "最高", "至")
_RULE_AFTER = ("以下", "以上", "以内", "之内", "的部分", "部分", "起", "至")
_NOT_A_RULE_AFTER = ("起诉",)  # 到闵行区人民法院起诉: 起 starts a verb here, not a range (一万元起)


# A clause that states a scale rather than a fact: 一万以内交五十元, 每件五十元, 按百分之二点五.
_RULE_CLAUSE = ("以内", "以下", "以上", "超过", "部分", "每件", "每档", "分段", "百分之")


def _part_of_a_rule(norm: Normalized, start: int, end: int) -> bool:
    text = norm.text
    if any(text.endswith(w, 0, start) for w in _RULE_BEFORE):
        return True
    if any(text.startswith(w, end) for w in _RULE_AFTER) and not text.startswith(_NOT_A_RULE_AFTER, end):
        return True
    clause = norm.clauses[start] if norm.clauses else 0
    lo, hi = start, end
    while lo > 0 and norm.clauses[lo - 1] == clause:
        lo -= 1
    while hi < len(text) and norm.clauses[hi] == clause:
        hi += 1
    return any(w in text[lo:hi] for w in _RULE_CLAUSE)


def _affirmed(norm: Normalized, start: int, end: int) -> bool:
    text = norm.text
    clause = norm.clauses[start] if norm.clauses else 0
    lo = start
    while lo > 0 and norm.clauses[lo - 1] == clause:
        lo -= 1
    before = text[max(lo, start - 5) : start]
    if any(d in before for d in _DENIALS):
        return False
    hi = end
    while hi < len(text) and norm.clauses[hi] == clause:
        hi += 1
    tail = norm.original[norm.ends[hi - 1] : norm.ends[hi - 1] + 1] if hi else ""
    return not (text[hi - 1] in _QUESTION_END or tail in ("?", "？"))


def judge_mentions(finder: ValueFinder, norm: Normalized) -> tuple[bool, list[Mention]]:
    """Whether the right value is stated, and the wrong values stated instead (empty when it is right)."""
    mentions = finder.mentions(norm)
    rights = [m for m in mentions if m.right and m.affirmed]
    wrongs = [m for m in mentions if not m.right and m.affirmed]
    if rights:
        last_right = rights[-1]
        later = [w for w in wrongs if w.start > last_right.end]
        between = norm.text[last_right.end : later[0].start] if later else ""
        if later and any(c in between for c in _CORRECTIONS):
            return False, later
        return True, []
    return False, wrongs


def _find(units: Sequence[Unit], form: Sequence[Unit], ambiguous_hours: frozenset[int]) -> list[tuple[int, int]]:
    """Where ``form`` stands in ``units``, whole numbers only (12 is not found inside 112)."""
    size = len(form)
    if not size or size > len(units):
        return []
    out = []
    for s in range(len(units) - size + 1):
        if not all(same(units[s + j], form[j], ambiguous_hours) for j in range(size)):
            continue
        if form[0].is_figure and s > 0 and units[s - 1].is_figure:
            continue
        if form[-1].is_figure and s + size < len(units) and units[s + size].is_figure:
            continue
        out.append((s, s + size))
    return out


@lru_cache(maxsize=4096)
def _units(text: str) -> tuple[Unit, ...]:
    return tuple(canonical(normalize(text)))


def value_key(text: str) -> str:
    """The value in canonical units as one string: two ways of writing the same value give the same key."""
    return "".join(u.text for u in _units(text))


def _forms(value: str) -> list[str]:
    """The value as written, and the other ways people say it: 陆法官 -> 姓陆 (with 法官 in the clause);
    a date with its year -> without."""
    forms = [value]
    units = _units(value)
    texts = [u.text for u in units]
    if len(units) == 1 and texts[0].startswith("M"):
        forms.append(texts[0][1:])  # 一千三 for 一千三百元: a bare sum states the fee (never a wrong one)
    if 3 <= len(texts) <= 4 and texts[-2:] == ["法", "官"]:
        forms.append("姓" + "".join(texts[:-2]))
    return forms


def _kind(units: Sequence[Unit]) -> str:
    tokens = [u.text[0] for u in units if u.is_token]
    if tokens:
        return tokens[0]
    texts = [u.text for u in units]
    if len(texts) >= 3 and texts[-2:] == ["法", "官"] and texts[0] in SURNAMES:
        return "judge"
    if any(u.is_figure for u in units):
        return "figures"
    return ""


def _shape(units: Sequence[Unit]) -> re.Pattern | None:
    """第十二法庭 -> any number followed by 法庭; a case number -> the same letters around any figures. A bare
    number has no shape (any figure would match it)."""
    pieces: list[str] = []
    letters = 0
    k = 0
    while k < len(units):
        if units[k].is_figure:
            while k < len(units) and units[k].is_figure:
                k += 1
            pieces.append(r"\d+")
            continue
        if units[k].is_token:
            return None
        pieces.append(re.escape(units[k].text))
        letters += 1
        k += 1
    if not letters:
        return None
    return re.compile("(?<![\\d第])" + "".join(pieces))  # 第二天 is a day, not a count of two days
