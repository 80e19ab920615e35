"""Stable pseudonyms for anonymized exports: the same name always gets the same pseudonym in one database.

HMAC-SHA256 of the name with a secret kept in the database (``meta.pseudonym_secret``), so a
pseudonym cannot be reversed by hashing a list of likely names without that database.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable

from core.text import printable

TRAINEE = "学员"
MENTOR = "导师"
SHORT = 4  # hex digits: 学员-3F2A
LONG = 8  # used instead when two names of the database would share the short form


class Pseudonymizer:
    """Maps names to pseudonyms. Knowing every name of the database lets it avoid two names sharing
    one pseudonym, and find the names inside free text."""

    def __init__(self, secret: bytes, trainees: Iterable[str] = (), mentors: Iterable[str] = ()):
        self._secret = secret
        self._cache: dict[tuple[str, str], str] = {}
        self._roles = {n: MENTOR for n in mentors if n}
        self._roles.update({n: TRAINEE for n in trainees if n})
        seen: dict[str, str] = {}
        self._long: set[str] = set()
        for name in sorted(self._roles):
            short = self._digest(name)[:SHORT]
            if short in seen:
                self._long.update({name, seen[short]})
            seen[short] = name
        # Every form of a name that free text may use points at the name: 王小明's given name 小明, its pinyin
        # (Wang Xiaoming, wangxiaoming, Xiaoming), 王老师 for a mentor 王…
        self._forms: dict[str, str] = {}
        for name in sorted(self._roles):
            for form in name_forms(name, self._roles[name]):
                self._forms.setdefault(form.lower(), name)
        # One pass, longest form first (王小明 before 小明), so a pseudonym is never rewritten.
        by_length = sorted(self._forms, key=len, reverse=True)
        parts = [_part(form) for form in by_length]
        self._pattern = re.compile("|".join(parts), re.IGNORECASE) if parts else None

    def _digest(self, name: str) -> str:
        return hmac.new(self._secret, name.encode("utf-8"), hashlib.sha256).hexdigest().upper()

    def name(self, name: str, role: str = TRAINEE) -> str:
        if not name:
            return name
        key = (name, role)
        if key not in self._cache:
            digest = self._digest(name)
            self._cache[key] = f"{role}-{digest[: LONG if name in self._long else SHORT]}"
        return self._cache[key]

    def scrub(self, text: str) -> str:
        """Replace every known name inside free text (comments, reasons, replies)."""
        if not text or self._pattern is None:
            return printable(text)

        def pseudonym(match: re.Match) -> str:
            name = self._forms[match.group(0).lower()]
            return self.name(name, self._roles[name])

        return printable(self._pattern.sub(pseudonym, text))


_TITLES = ("老师", "师傅", "同学")  # how colleagues name a mentor or a trainee by surname in a comment


def name_forms(name: str, role: str) -> list[str]:
    """The forms of a person's name free text may use: the name, a Chinese given name of two characters or more,
    the pinyin written together, apart and capitalised, and for a mentor the surname with a title (王老师)."""
    forms = [name]
    if all("\u4e00" <= ch <= "\u9fff" for ch in name) and len(name) >= 2:
        given = name[1:]
        if len(given) >= 2:
            forms.append(given)
        if role == MENTOR:
            forms += [name[0] + title for title in _TITLES]
        try:
            from pypinyin import lazy_pinyin
        except ImportError:  # the pinyin forms are a bonus; the Chinese ones are always replaced
            return forms
        syllables = lazy_pinyin(name)
        surname, rest = syllables[0], "".join(syllables[1:])
        forms += [surname + rest, f"{surname} {rest}"]
        if len(syllables) >= 3:  # a given name of two syllables or more (xiaoming); one syllable is a common word
            forms.append(rest)
    return [f for f in forms if len(f) >= 2]


def _part(form: str) -> str:
    """A form as a regex: pinyin only as a whole word (jing is not inside Beijing)."""
    escaped = re.escape(form)
    return f"(?<![A-Za-z]){escaped}(?![A-Za-z])" if form.isascii() else escaped


class Identity:
    """Names as they are, used when the export is not anonymized (control characters written out, as everywhere a
    name or free text is shown)."""

    def name(self, name: str, role: str = TRAINEE) -> str:
        return printable(name)

    def scrub(self, text: str) -> str:
        return printable(text)
