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
        # One pass, longest name first (王小明 before 王小), so a pseudonym is never rewritten.
        by_length = sorted(self._roles, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, by_length))) if by_length else None

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
        return printable(self._pattern.sub(lambda m: self.name(m.group(0), self._roles[m.group(0)]), text))


class Identity:
    """Names as they are, used when the export is not anonymized (control characters written out, as everywhere a
    name or free text is shown)."""

    def name(self, name: str, role: str = TRAINEE) -> str:
        return printable(name)

    def scrub(self, text: str) -> str:
        return printable(text)
