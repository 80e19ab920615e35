"""Traditional -> Simplified Chinese with OpenCC's t2s table: Whisper writes Traditional characters about half the time,
and the guide's phrases are Simplified."""

from __future__ import annotations

import re
from typing import Any

from core.errors import EngineMissing

_t2s: Any = None  # the OpenCC converter, built on first use (it reads its dictionaries then)

# OpenCC keeps 著 (it is also a Simplified character), but Whisper writes the Traditional 著 for 着 as
# in 著急 -> 着急, which the guide's empathy phrases need. Simplified keeps 著 only in these words.
_ZHU_WORDS = re.compile(r"著(?=名|作|称|述|录|书|者)|(?<=[显土卓昭论名专原巨编译遗合撰拙新大])著")


def to_simplified(text: str) -> str:
    global _t2s
    if _t2s is None:
        try:
            from opencc import OpenCC
        except ImportError as exc:
            raise EngineMissing("繁简转换 (OpenCC)", "pip install opencc-python-reimplemented") from exc
        _t2s = OpenCC("t2s")
    simplified = _t2s.convert(text)
    if "著" not in simplified:
        return simplified
    keep = {m.start() for m in _ZHU_WORDS.finditer(simplified)}
    return "".join("着" if ch == "著" and i not in keep else ch for i, ch in enumerate(simplified))
