"""Normalise a Chinese reply for matching, keeping a map back to the text as given.

What speech recognition and typing put between a trainee and the guide: full-width forms,
Traditional characters, punctuation or none, fillers (嗯, 那个), 你 for 您, Arabic digits or
Chinese numerals, homophones. ``normalize`` removes the first ones and gives every kept
character three codes of increasing tolerance:

- ``text``: the character itself (after NFKC, Traditional->Simplified, 你->您, digits unified);
- ``py``: its toneless pinyin syllable, one code point per syllable, so 按号/暗号 equal 案号;
- ``coarse``: the syllable with the usual near-homophone confusions merged (zh/z, ch/c, sh/s,
  n/l, en/eng, in/ing, ou/ao), so 收等 equals 稍等 and 案后 equals 案号 at this level. 哪 and 那 keep their
  tone at every level: only the tone tells 哪个法官 (a question) from 那个法官.

All three strings have the same length, so ``str.find`` on any of them gives positions in the
normalised text, and ``starts``/``ends`` turn those into spans of the original reply.
The pinyin table (pypinyin) and the Traditional table (opencc) load on first use, once.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from core.errors import EngineMissing

# Always noise in a transcript; never part of a guide phrase.
FILLERS = frozenset("嗯呃唔")
# Noise only at the start of a clause (额 is also the 额 of 金额).
CLAUSE_FILLERS = ("那个", "这个", "就是说", "额", "啊", "哦", "喔", "诶", "欸", "哎")
DIGITS = "零一二三四五六七八九"
_DIGIT_VALUE = {c: i for i, c in enumerate(DIGITS)} | {"〇": 0, "两": 2, "幺": 1, "壹": 1, "贰": 2, "叁": 3}
_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10_000}
_YOU = {"你": "您", "妳": "您", "侬": "您"}  # 侬: Shanghainese "you"
_DIALECT = {"覅": "不要", "嫑": "不要"}  # Shanghainese / northern contractions of 不要 (覅急 = 不要急)
# Shanghainese-flavoured Mandarin read as Mandarin, so one guide phrase covers both (侬个事体阿拉记牢了 =
# 您的事情我们记下了). Whole words only, longest first; each replacement points at the words it replaces.
# 著 is the Traditional 着 (別著急, 等著) except in the words below that keep it.
DIALECT_WORDS = {
    "勿晓得": "不知道",
    "晓得": "知道",
    "勿清爽": "不清楚",
    "清爽": "清楚",
    "勿要": "不要",
    "勿是": "不是",
    "勿会": "不会",
    "阿拉": "我们",
    "自家": "自己",
    "事体": "事情",
    "明朝": "明天",
    "今朝": "今天",
    "记牢": "记下",
    "拨您": "给您",
    "号头": "号码",
    "您个事体": "您的事情",
    "阿拉个": "我们的",
    "您个事": "您的事",
    "您个案": "您的案",
    "寻": "找",
    "勿归": "不归",
    "勿": "不",
    "搿": "这",
    "落班": "下班",
    "您呐": "您",
    "是伐": "是吗",
    "对伐": "对吗",
    "好伐": "好吗",
    "著名": "著名",
    "著作": "著作",
    "显著": "显著",
    "土著": "土著",
    "名著": "名著",
    "著": "着",
}
_DIALECT_LONGEST = max(len(w) for w in DIALECT_WORDS)
# 伐 closes a Shanghainese question (侬是本人伐 = 您是本人吗)
_CLAUSE_END_WORDS = {"伐": "吗"}

# Only the tone tells these apart, and it carries the meaning: 哪个法官 asks, 那个法官 points.
_TONE_KEPT = {"哪": "na3", "那": "na4"}
_INITIALS = tuple("zh ch sh b p m f d t n l g k h j q x r z c s y w".split())
_COARSE_INITIAL = {"zh": "z", "ch": "c", "sh": "s", "n": "l"}


@dataclass(frozen=True)
class Normalized:
    """A reply ready for matching. All strings have one entry per kept character."""

    original: str
    text: str
    py: str
    coarse: str
    starts: tuple[int, ...]  # offset in ``original`` where each kept character comes from
    ends: tuple[int, ...]
    clauses: tuple[int, ...] = ()  # clause number of each character (punctuation or a space ends a clause)

    def __len__(self) -> int:
        return len(self.text)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Normalised [start, end) -> [start, end) in the original reply."""
        if start >= end or not self.text:
            return (0, 0)
        return (self.starts[start], self.ends[end - 1])


def is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" or ch == "〇"


def normalize(text: str, *, drop_leading_fillers: bool = True) -> Normalized:
    """Normalise ``text``; see the module docstring. Never raises on any string."""
    kept = _numbers(_clean(text, drop_leading_fillers))
    tables = _tables()
    chars = [k[0] for k in kept]
    py = "".join(tables.py_code(c) for c in chars)
    coarse = "".join(tables.coarse_code(c) for c in chars)
    return Normalized(
        text,
        "".join(chars),
        py,
        coarse,
        tuple(k[1] for k in kept),
        tuple(k[2] for k in kept),
        tuple(k[3] for k in kept),
    )


Kept = tuple[str, int, int, int]  # character, start and end in the original, clause number


def normalize_phrase(phrase: str) -> str:
    """The normalised text of a guide phrase (no spans needed)."""
    return normalize(phrase).text


def _clean(text: str, drop_leading_fillers: bool = True) -> list[Kept]:
    """NFKC, Traditional->Simplified, 你->您, keep letters/digits/CJK, drop fillers; record offsets."""
    t2s = _tables().t2s
    kept: list[Kept] = []
    clause = 0
    run: list[Kept] = []
    drop = drop_leading_fillers
    for i, raw in enumerate(text):
        for ch in unicodedata.normalize("NFKC", raw):
            ch = t2s.get(ch, ch)
            ch = _YOU.get(ch, ch)
            if ch in FILLERS or ch == "、":  # 、 joins the items of a list inside one clause
                continue
            if ch in _DIALECT:  # one character read as two (覅 = 不要), both pointing at it
                run.extend((sub, i, i + 1, clause) for sub in _DIALECT[ch])
            elif is_cjk(ch) or ch.isdigit() and ch.isascii():
                run.append((ch, i, i + 1, clause))
            elif ch.isascii() and ch.isalpha():
                run.append((ch.lower(), i, i + 1, clause))
            elif run:
                _flush(run, kept, drop)
                run = []
                clause += 1
                drop = True
    _flush(run, kept, drop)
    return kept


def _flush(run: list[Kept], kept: list[Kept], drop_leading_fillers: bool = True) -> None:
    """Append one clause, dropping fillers at its start (repeatedly: 那个那个, 额那个)."""
    run = _dialect(run)
    text = "".join(k[0] for k in run)
    skip = 0
    changed = drop_leading_fillers
    while changed:
        changed = False
        for filler in CLAUSE_FILLERS:
            if text.startswith(filler, skip):
                skip += len(filler)
                changed = True
    kept.extend(run[skip:])


def _dialect(run: list[Kept]) -> list[Kept]:
    """Replace the dialect words of one clause (``DIALECT_WORDS``), longest first."""
    if not run:
        return run
    text = "".join(k[0] for k in run)
    out: list[Kept] = []
    i = 0
    while i < len(run):
        for size in range(min(_DIALECT_LONGEST, len(run) - i), 0, -1):
            target = DIALECT_WORDS.get(text[i : i + size])
            if target is None and size == 1 and i == len(run) - 1:
                target = _CLAUSE_END_WORDS.get(text[i])
            if target is None:
                continue
            first, last = run[i], run[i + size - 1]
            if len(target) == size:  # character for character: each keeps its own place
                out.extend((t, k[1], k[2], k[3]) for t, k in zip(target, run[i : i + size], strict=True))
            else:
                out.extend((t, first[1], last[2], first[3]) for t in target)
            i += size
            break
        else:
            out.append(run[i])
            i += 1
    return out


def _numbers(chars: list[Kept]) -> list[Kept]:
    """Write every number as Chinese digits, one per figure: 24, 二十四 and 二四 all become 二四.

    Runs of two or more Chinese digits keep their digits one by one (零一零五 stays 零一零五,
    where a numeral parser would drop the zeros); runs with 十/百/千/万 are read as a value.
    """
    out: list[Kept] = []
    i, n = 0, len(chars)
    while i < n:
        ch = chars[i][0]
        if ch.isascii() and ch.isdigit():
            out.append((DIGITS[int(ch)],) + chars[i][1:])
            i += 1
            continue
        j = i
        while j < n and (chars[j][0] in _DIGIT_VALUE or chars[j][0] in _UNITS) and chars[j][3] == chars[i][3]:
            j += 1
        run = [k[0] for k in chars[i:j]]
        if len(run) >= 2 and (run[0] in _DIGIT_VALUE or run[0] == "十" and run[1] in _DIGIT_VALUE):
            value = _numeral_value(run) if any(c in _UNITS for c in run) else None
            if value is not None:
                # every figure maps to the whole numeral in the original
                out.extend((DIGITS[int(d)], chars[i][1], chars[j - 1][2], chars[i][3]) for d in str(value))
            else:
                out.extend((DIGITS[_DIGIT_VALUE[k[0]]] if k[0] in _DIGIT_VALUE else k[0],) + k[1:] for k in chars[i:j])
            i = j
            continue
        out.append(chars[i])
        i += 1
    return out


def _numeral_value(run: list[str]) -> int | None:
    """二十四 -> 24, 一百零五 -> 105, 两千零二十二 -> 2022; None when it does not read as one number."""
    total, section, digit = 0, 0, None
    last_unit, after_zero = 0, False
    for ch in run:
        if ch in _DIGIT_VALUE:
            if digit is not None and digit != 0 and _DIGIT_VALUE[ch] != 0:
                return None  # 二三十: two digits in a row inside a unit numeral
            digit = _DIGIT_VALUE[ch]
            after_zero = after_zero or digit == 0
        elif ch == "万":
            section += digit or 0
            total += (section or 1) * 10_000
            section, digit, last_unit, after_zero = 0, None, 10_000, False
        else:
            section += (1 if digit is None else digit) * _UNITS[ch]
            digit, last_unit, after_zero = None, _UNITS[ch], False
    if digit and last_unit >= 100 and not after_zero:
        digit *= last_unit // 10  # spoken short form: 两千五 = 2500, 一万二 = 12000 (两千零五 = 2005)
    return total + section + (digit or 0)


@dataclass
class _Tables:
    t2s: dict[str, str]
    pinyin: dict[int, str]
    syllables: dict[str, str] = field(default_factory=dict)  # syllable -> one private-use code point
    coarse: dict[str, str] = field(default_factory=dict)
    _py_memo: dict[str, str] = field(default_factory=dict)
    _coarse_memo: dict[str, str] = field(default_factory=dict)

    def py_code(self, ch: str) -> str:
        code = self._py_memo.get(ch)
        if code is None:
            syllable = self.syllable(ch)
            code = self._py_memo[ch] = self._code(self.syllables, syllable) if syllable else ch
        return code

    def coarse_code(self, ch: str) -> str:
        code = self._coarse_memo.get(ch)
        if code is None:
            syllable = self.syllable(ch)
            code = self._coarse_memo[ch] = self._code(self.coarse, coarse_syllable(syllable)) if syllable else ch
        return code

    def syllable(self, ch: str) -> str:
        if ch in _TONE_KEPT:
            return _TONE_KEPT[ch]
        readings = self.pinyin.get(ord(ch))
        if not readings:
            return ""
        return strip_tone(readings.split(",", 1)[0])

    @staticmethod
    def _code(table: dict[str, str], key: str) -> str:
        code = table.get(key)
        if code is None:
            code = table[key] = chr(0xE000 + len(table))
        return code


def py_code(ch: str) -> str:
    """The toneless-pinyin code of one character (the character itself when it has no reading)."""
    return _tables().py_code(ch)


@lru_cache(maxsize=8192)
def coarse_key(ch: str) -> str:
    """A readable name for a character's near-homophone class (its coarse syllable, e.g. 案/按 -> "an"), or the
    character itself: what the reply model's features are built from."""
    tables = _tables()
    syllable = tables.syllable(ch)
    return coarse_syllable(syllable) if syllable else ch


def strip_tone(syllable: str) -> str:
    plain = "".join(c for c in unicodedata.normalize("NFD", syllable) if not unicodedata.combining(c))
    return plain.replace("ü", "v").replace("u\u0308", "v").lower()


def split_syllable(syllable: str) -> tuple[str, str]:
    for initial in _INITIALS:
        if syllable.startswith(initial) and len(syllable) > len(initial):
            return initial, syllable[len(initial) :]
    return "", syllable


def coarse_syllable(syllable: str) -> str:
    """Merge the confusions speech recognisers and southern accents make most: zh/z, n/l, en/eng, in/ing, ou/ao.

    an/ang (and ian/iang, uan/uang) stay apart: merged, they made 再讲 a 再见 and 别放 a 别烦."""
    initial, final = split_syllable(syllable)
    initial = _COARSE_INITIAL.get(initial, initial)
    if final in ("eng", "ing"):  # en/eng, in/ing; an/ang stays apart (再讲 is not 再见, 别放 is not 别烦)
        final = final[:-1]
    if final == "ou":
        final = "ao"
    return initial + final


@lru_cache(maxsize=1)
def _tables() -> _Tables:
    pinyin = _load_pinyin()
    # Codes numbered from the sorted list of every syllable, not in the order syllables are met: the same character
    # gets the same code in every process, so a compiled scorer can be cached on disk (scoring.scorer.load_compiled).
    toned = {readings.split(",", 1)[0] for readings in pinyin.values()}
    syllables = sorted({strip_tone(r) for r in toned} | set(_TONE_KEPT.values()))
    coarse = sorted({coarse_syllable(s) for s in syllables})
    return _Tables(
        _load_t2s(),
        pinyin,
        syllables={s: chr(0xE000 + i) for i, s in enumerate(syllables)},
        coarse={s: chr(0xE000 + i) for i, s in enumerate(coarse)},
    )


def _load_pinyin() -> dict[int, str]:
    try:
        from pypinyin.pinyin_dict import pinyin_dict
    except ImportError as exc:
        raise EngineMissing("拼音表 pypinyin", ".venv/bin/pip install pypinyin") from exc
    return pinyin_dict


def _load_t2s() -> dict[str, str]:
    """Single characters of OpenCC's Traditional->Simplified table (first choice of each)."""
    try:
        import opencc
    except ImportError as exc:
        raise EngineMissing("繁简转换表 opencc", ".venv/bin/pip install opencc-python-reimplemented") from exc
    from pathlib import Path

    table: dict[str, str] = {}
    path = Path(opencc.__file__).with_name("dictionary") / "TSCharacters.txt"
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) == 2 and len(parts[0]) == 1:
            first = parts[1].split(" ")[0]
            if len(first) == 1 and first != parts[0]:
                table[parts[0]] = first
    return table
