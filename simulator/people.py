"""The people of a training centre and the work set for them: roles, passwords, assignments and their state.

The store keeps users, assignments and the audit trail (``simulator.history``); this module holds the rules: the
roles, how a password is hashed (argon2id), what a due date may be, and when an assignment is done or overdue.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from core.errors import TrainerError
from core.text import printable

ROLES = {"trainee": "学员", "mentor": "导师", "supervisor": "主管"}
ACTOR_ENV = "HOTLINE_TRAINER_USER"  # who is at the keyboard, for the audit trail
MAX_NAME = 40
MIN_PASSWORD = 8
STATE_TITLES = {"done": "已完成", "late": "逾期完成", "open": "待完成", "overdue": "已逾期"}


def check_name(name: str) -> str:
    """A person's name as stored: trimmed, printable, not empty, not too long."""
    cleaned = (name or "").strip()
    if not cleaned:
        raise TrainerError("姓名是空的 - 写上姓名, 如 小王")
    if printable(cleaned) != cleaned or "," in cleaned or "，" in cleaned:
        raise TrainerError(f"姓名 {printable(cleaned)} 含控制字符或逗号 - 只用文字、字母和数字")
    if len(cleaned) > MAX_NAME:
        raise TrainerError(f"姓名太长 ({len(cleaned)} 字) - 最多 {MAX_NAME} 字")
    return cleaned


def current_actor(given: str | None = None) -> str:
    """Who is doing this: ``--by``, else ``$HOTLINE_TRAINER_USER``, else the login name."""
    if given:
        return given.strip()
    if os.environ.get(ACTOR_ENV):
        return os.environ[ACTOR_ENV].strip()
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


def hash_password(password: str) -> str:
    """argon2id with the library's defaults (64 MiB, 3 passes): a stolen database gives no password back."""
    if len(password) < MIN_PASSWORD:
        raise TrainerError(f"密码太短 - 至少 {MIN_PASSWORD} 个字符")
    from argon2 import PasswordHasher

    return PasswordHasher().hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Constant work whether the user exists or not, so timing does not tell names apart."""
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return PasswordHasher().verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    """A hash of a random string: checking a name that has no password costs what a real check costs."""
    import secrets

    from argon2 import PasswordHasher

    return PasswordHasher().hash(secrets.token_hex(16))


def parse_due(text: str, *, today: date | None = None) -> str:
    """A due date as YYYY-MM-DD; today or later (work set for the past could never be on time)."""
    today = today or date.today()
    try:
        due = datetime.strptime(text.strip(), "%Y-%m-%d").date()
    except ValueError as exc:
        raise TrainerError(f"截止日期 {text!r} 无法识别 - 用 YYYY-MM-DD, 如 {today.isoformat()}") from exc
    if due < today:
        raise TrainerError(f"截止日期 {due.isoformat()} 已经过去了 - 给今天 ({today.isoformat()}) 或以后的日期")
    return due.isoformat()


def check_min_score(value: float) -> float:
    if not 0 < value <= 100:
        raise TrainerError(f"最低分 {value:g} 超出范围 - 给 1 到 100 之间的分数")
    return float(value)


@dataclass(frozen=True)
class AssignmentState:
    key: str  # done | late | open | overdue

    @property
    def title(self) -> str:
        return STATE_TITLES[self.key]


def assignment_state(due: str, done_at: str | None, *, today: date | None = None) -> AssignmentState:
    """Done (on time or late) once a call reached the minimum score; otherwise overdue after the due day."""
    today = today or date.today()
    if done_at:
        done_day = datetime.fromisoformat(done_at.replace("Z", "+00:00")).astimezone().date()
        return AssignmentState("late" if done_day.isoformat() > due else "done")
    return AssignmentState("overdue" if today.isoformat() > due else "open")


def todo_rows(store, trainee: str) -> list[dict]:
    """A trainee's assignments with their state, as ``todo --json`` prints them (``store``: a HistoryStore)."""
    from dataclasses import asdict

    rows = []
    for a in store.assignment_statuses(trainee):
        state = assignment_state(a.due, a.done_at)
        rows.append({**asdict(a), "state": state.key, "state_title": state.title})
    return rows
