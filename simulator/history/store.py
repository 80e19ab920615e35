"""The score-history store: ``HistoryStore`` opens the database and writes calls, turns and reviews.

SQLite by default (one file in the user's data folder), or a training centre's PostgreSQL server (``--db
postgresql://…``). The rest of the code calls the methods of ``HistoryStore`` and receives plain dataclasses,
never a cursor. Its reads are in ``queries.py``; the schema and migrations in ``schema.py``, the summary tables in
``summaries.py``, the row types in ``rows.py``, where a store lives in ``dialect.py`` and what differs between the
backends in their adapters (``sqlite_dialect.py``, ``postgres_dialect.py``). No other module holds SQL.

Concurrency: every write is one transaction holding the backend's write lock (SQLite: ``BEGIN IMMEDIATE`` with
a busy timeout; PostgreSQL: an advisory lock), so practice sessions writing one store wait for each other
instead of failing or losing a turn.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from core.errors import NotFound, TrainerError
from simulator.history import dialect, summaries
from simulator.history.location import DB_ENV, Location, locate
from simulator.history.queries import REVIEW_SELECT, HistoryQueries
from simulator.history.rows import (
    CALL_COLUMNS,
    TURN_COLUMNS,
    TURN_KEY,
    Assignment,
    Review,
    User,
    call_values,
    dumps,
    from_rows,
    turn_values,
    utc_iso,
    without_nul,
)
from simulator.history.schema import applied_versions, migrate
from simulator.record import ABANDONED, COMPLETE, IN_PROGRESS, INCOMPLETE, CallRecord, TurnRecord, new_call_id

__all__ = ["DB_ENV", "HistoryStore", "Location", "default_db_path", "open_store"]

_INSERT_CALL = dialect.insert("calls", CALL_COLUMNS)
_INSERT_CALL_IF_NEW = dialect.insert_or_ignore("calls", CALL_COLUMNS)
_UPSERT_TURN = dialect.upsert("turns", TURN_COLUMNS, key=TURN_KEY)
# turn_count: the turns the database holds for the call, whatever the record lists.
_END_CALL = (
    "UPDATE calls SET ended_at = :ended_at, status = :status, end_reason = :end_reason, call_s = :call_s, "
    "score = :score, passed = :passed, scorecard = :scorecard, work_order_score = :work_order_score, "
    "turn_count = (SELECT COUNT(*) FROM turns WHERE call_id = :call_id) WHERE call_id = :call_id"
)


_UPSERT_CALL = dialect.upsert("calls", CALL_COLUMNS, key=("call_id",))
_INSERT_REVIEW = dialect.insert(
    "reviews", ("call_id", "turn_idx", "kind", "mentor", "original_score", "new_score", "reason", "text", "created_at")
)
# Each turn's cached override: the latest override of it, by time.
_LATEST_OVERRIDES = (
    "UPDATE turns SET override_score = (SELECT r.new_score FROM reviews r WHERE r.call_id = turns.call_id "
    "AND r.turn_idx = turns.idx AND r.kind = 'override' ORDER BY r.created_at DESC, r.id DESC LIMIT 1) "
    "WHERE call_id = ?"
)


@dataclass
class ImportSummary:
    """What ``merge_from`` did (``db import``)."""

    calls_added: int = 0
    turns_added: int = 0
    calls_updated: int = 0  # here already, with fewer turns or still in progress
    calls_unchanged: int = 0
    reviews_added: int = 0

    def to_json(self) -> dict:
        return asdict(self)


def _holds_more(call: CallRecord, here) -> bool:
    """The imported call has turns this store lacks, or ended where this store has it still in progress."""
    return len(call.turns) > here["turn_count"] or (here["status"] == IN_PROGRESS and call.status != IN_PROGRESS)


def _review_key(review: Review) -> tuple:
    return (review.call_id, review.turn_index, review.kind, review.mentor, review.new_score, review.reason,
            review.text, review.created_at)  # fmt: skip


def _review_values(review: Review) -> dict:
    return {
        "call_id": review.call_id, "turn_idx": review.turn_index, "kind": review.kind, "mentor": review.mentor,
        "original_score": review.original_score, "new_score": review.new_score, "reason": review.reason,
        "text": review.text, "created_at": review.created_at,
    }  # fmt: skip


# A call still in progress this long after its time limit was left by a process that died (kill -9, power cut).
ABANDON_AFTER_S = 3600
_MARK_ABANDONED = f"UPDATE calls SET status = '{INCOMPLETE}', end_reason = '{ABANDONED}' WHERE call_id = ?"


def default_db_path() -> Location:
    """``$HOTLINE_TRAINER_DB`` (or ``$HOTLINE_DB``), else ``$XDG_DATA_HOME/hotline-trainer/history.db``."""
    return locate(None)


def open_store(db: str | Path | None = None, *, create: bool = True) -> HistoryStore:
    """The store ``--db`` names (a SQLite path or a PostgreSQL URL), else ``default_db_path()``; ``create=False`` for
    commands that only read or review: a mistyped path is an error, not a new empty database."""
    return HistoryStore(db, create=create)


@dataclass
class SourceCopy:
    original: Path
    store: HistoryStore


@contextmanager
def read_only_copy(source: str | Path) -> Iterator[SourceCopy]:
    """A SQLite history file opened through a temporary copy, so reading it (and migrating an older one) never
    changes the trainee's file."""
    location = locate(source)
    if location.kind != dialect.SQLITE:
        raise TrainerError(f"db import 读的是一个 SQLite 成绩文件, 不是 {location} - 给出文件路径")
    original = Path(location.target)
    if not original.is_file():
        raise TrainerError(f"没有文件 {original} - 检查路径 (笔记本上默认是 ~/.local/share/hotline-trainer/history.db)")
    with tempfile.TemporaryDirectory(prefix="hotline-import-") as folder:
        copy = Path(folder) / "history.db"
        for suffix in ("", "-wal"):  # committed turns may still be in the write-ahead log
            if Path(f"{original}{suffix}").is_file():
                shutil.copyfile(f"{original}{suffix}", f"{copy}{suffix}")
        with HistoryStore(copy, create=False) as store:
            yield SourceCopy(original, store)


def _final_status(call: CallRecord) -> str:
    # A call still marked in progress when it ends was cut off before the session could say why.
    return call.status if call.status in (COMPLETE, INCOMPLETE) else INCOMPLETE


def _call_score(call: CallRecord) -> tuple[float | None, bool | None]:
    """The scorer's overall score and verdict; for a call cut off without a scorecard, the mean of its turns."""
    score = call.scorecard.get("score") if call.scorecard else None
    passed = call.scorecard.get("passed") if call.scorecard else None
    if score is None:
        scored = [t.score for t in call.turns if t.counted and t.score is not None]
        score = round(sum(scored) / len(scored), 1) if scored else None
    return (None if score is None else float(score)), passed


class HistoryStore(HistoryQueries):
    """The history of practice calls in one database file. Implements ``simulator.record.CallSink``.

    A session calls ``call_started`` once, ``turn_scored`` after each scored reply (each turn is
    committed at once, so Ctrl-C or a crash loses nothing already answered; calling it again for
    the same index updates the turn, e.g. after the mentor's comment) and ``call_ended`` once.
    """

    def __init__(self, db: str | Path | Location | None = None, *, create: bool = True):
        self.location = db if isinstance(db, Location) else locate(db)
        self._d = dialect.backend(self.location)
        self._conn = self._d.connect(self.location, create=create)
        self._lock = threading.Lock()  # one connection; a session may score on a worker thread
        try:
            self.migrated_now = migrate(self._conn, self._d)  # the versions this opening applied
            self._conn.execute(self._d.ddl(summaries.CREATE_REFRESH_IDS))
            self._close_abandoned_calls()
        except self._d.DatabaseError as exc:
            self._conn.close()
            raise self._error(exc) from exc
        except BaseException:
            self._conn.close()
            raise

    @property
    def path(self) -> Path | None:
        """The SQLite file; None on a server."""
        return self.location.path

    def _close_abandoned_calls(self) -> None:
        """Calls a killed process left in progress, long past their time limit, become incomplete (abandoned).
        Only a store with such calls is written to; a read-only file is read as it is."""
        abandoned = (
            f"SELECT call_id FROM calls WHERE status = '{IN_PROGRESS}' "
            f"AND {self._d.older_than('started_at', f'time_limit_s + {ABANDON_AFTER_S}')}"
        )
        if not self._conn.execute(abandoned).fetchone():
            return
        try:
            with self._d.write_transaction(self._conn) as conn:
                ids = [r["call_id"] for r in conn.execute(abandoned)]
                conn.executemany(_MARK_ABANDONED, [(i,) for i in ids])
                summaries.refresh(conn, self._d, ids, trainees=True)
        except self._d.DatabaseError as exc:
            if "readonly" not in str(exc):
                raise

    def _error(self, exc: Exception) -> TrainerError:
        fix = "用 --db 指定另一个文件" if self.path else "检查服务器, 或用 --db 指定另一个库"
        return TrainerError(f"成绩数据库 {self.location} 无法使用: {self._d.describe(exc)} - {fix}")

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator:
        try:
            with self._lock, self._d.write_transaction(self._conn) as conn:
                yield conn
        except self._d.DatabaseError as exc:  # damaged, read-only, disk full: one line, never a traceback
            raise self._error(exc) from exc

    def _read(self, sql: str, params: tuple | list | dict = ()) -> list:
        try:
            with self._lock:
                return self._conn.execute(sql, params).fetchall()
        except self._d.DatabaseError as exc:
            raise self._error(exc) from exc

    def checkpoint(self) -> None:
        """SQLite: copy the write-ahead log into the database without waiting for readers."""
        with self._lock:
            self._d.checkpoint(self._conn)

    def size_bytes(self) -> int:
        """The space the store takes (the file and its log, or the server's database)."""
        with self._lock:
            return self._d.size_bytes(self._conn, self.location)

    def schema_versions(self) -> list[int]:
        with self._lock:
            return applied_versions(self._conn, self._d)

    # ---- CallSink ----------------------------------------------------------------------------

    def call_started(self, call: CallRecord) -> None:
        if not call.call_id:
            call.call_id = new_call_id()
        if not call.started_at:
            call.started_at = utc_iso()
        with self._write() as conn:
            conn.execute(_INSERT_CALL, call_values(call, IN_PROGRESS, None, None))
            summaries.refresh(conn, self._d, [call.call_id], calls=False, trainees=True)

    def turn_scored(self, call: CallRecord, turn: TurnRecord) -> None:
        with self._write() as conn:
            self._ensure_call(conn, call)
            conn.execute(_UPSERT_TURN, turn_values(call.call_id, turn))
            superseded = [(call.call_id, t.index) for t in call.turns if not t.counted and t.index != turn.index]
            if turn.retry_of is not None:
                superseded.append((call.call_id, turn.retry_of))
            if superseded:
                conn.executemany("UPDATE turns SET counted = 0 WHERE call_id = ? AND idx = ?", superseded)
            conn.execute(
                "UPDATE calls SET turn_count = (SELECT COUNT(*) FROM turns WHERE call_id = ?), call_s = ? "
                "WHERE call_id = ?",
                (call.call_id, float(call.call_s or 0.0), call.call_id),
            )
            summaries.refresh(conn, self._d, [call.call_id])

    def call_ended(self, call: CallRecord) -> None:
        status = _final_status(call)
        score, passed = _call_score(call)
        if not call.ended_at:
            call.ended_at = utc_iso()
        with self._write() as conn:
            self._ensure_call(conn, call)
            # Turns may have changed after they were scored (a mentor's comment, a retry): store them all.
            conn.executemany(_UPSERT_TURN, [turn_values(call.call_id, t) for t in call.turns])
            conn.execute(_END_CALL, call_values(call, status, score, passed))
            summaries.refresh(conn, self._d, [call.call_id])
            self._refresh_reviewed_score(conn, call.call_id)
            summaries.refresh(conn, self._d, [call.call_id], calls=False, trainees=True)
        self.checkpoint()

    def _ensure_call(self, conn, call: CallRecord) -> None:
        """A session that skipped ``call_started`` (or whose first write failed) still loses nothing."""
        if not call.call_id:
            call.call_id = new_call_id()
        if not call.started_at:
            call.started_at = utc_iso()
        conn.execute(_INSERT_CALL_IF_NEW, call_values(call, IN_PROGRESS, None, None))

    # ---- bulk ------------------------------------------------------------------------------------

    def import_calls(self, calls: Iterable[CallRecord]) -> int:
        """Save finished calls in one transaction (merging another database, the benchmark's fill)."""
        calls = list(calls)
        with self._write() as conn:
            call_rows, turn_rows = [], []
            for call in calls:
                if not call.call_id:
                    call.call_id = new_call_id()
                score, passed = _call_score(call)
                status = call.status if call.status in (COMPLETE, INCOMPLETE, IN_PROGRESS) else INCOMPLETE
                call_rows.append(call_values(call, status, score, passed))
                turn_rows.extend(turn_values(call.call_id, t) for t in call.turns)
            conn.executemany(_INSERT_CALL, call_rows)
            conn.executemany(_UPSERT_TURN, turn_rows)
            summaries.refresh(conn, self._d, [c.call_id for c in calls], trainees=True, new=True)
        self.checkpoint()
        return len(calls)

    def merge_from(
        self, source: HistoryStore, *, chunk: int = 500, actor: str = "", source_name: str = ""
    ) -> ImportSummary:
        """Copy every call, turn and review of ``source`` that this store lacks (a laptop's history into the
        centre's). Idempotent: a call already here is left as it is unless ``source`` holds more of it (more turns,
        or it ended); a review already here (same call, turn, kind, mentor, time and content) is not added again."""
        summary = ImportSummary()
        ids = source.call_ids()
        for start in range(0, len(ids), chunk):
            batch = ids[start : start + chunk]
            calls = [source.get_call(call_id) for call_id in batch]
            reviews = {call_id: source.reviews(call_id) for call_id in batch}
            marks = ", ".join("?" * len(batch))
            with self._write() as conn:
                have = {
                    r["call_id"]: r
                    for r in conn.execute(
                        f"SELECT call_id, status, turn_count FROM calls WHERE call_id IN ({marks})", batch
                    )
                }
                known = {
                    _review_key(r)
                    for r in from_rows(
                        Review,
                        conn.execute(
                            f"SELECT {REVIEW_SELECT} FROM reviews WHERE call_id IN ({marks})", batch
                        ).fetchall(),
                    )
                }
                touched = []
                for call in calls:
                    old = have.get(call.call_id)
                    if old is None or _holds_more(call, old):
                        score, passed = _call_score(call)
                        conn.execute(_UPSERT_CALL, call_values(call, call.status, score, passed))
                        conn.executemany(_UPSERT_TURN, [turn_values(call.call_id, t) for t in call.turns])
                        if old is None:
                            summary.calls_added += 1
                            summary.turns_added += len(call.turns)
                        else:
                            summary.calls_updated += 1
                            summary.turns_added += max(0, len(call.turns) - old["turn_count"])
                        touched.append(call.call_id)
                    else:
                        summary.calls_unchanged += 1
                    new_reviews = [r for r in reviews[call.call_id] if _review_key(r) not in known]
                    conn.executemany(_INSERT_REVIEW, [_review_values(r) for r in new_reviews])
                    summary.reviews_added += len(new_reviews)
                    if new_reviews and call.call_id not in touched:
                        touched.append(call.call_id)
                for call_id in touched:
                    conn.execute(_LATEST_OVERRIDES, (call_id,))
                    self._refresh_reviewed_score(conn, call_id)
                summaries.refresh(conn, self._d, touched, trainees=True)
        with self._write() as conn:
            self._audit(conn, actor, "db.import", source_name or str(source.location), summary.to_json())
        self.checkpoint()
        return summary

    def rebuild_summaries(self) -> None:
        """Recompute every summary table from the turns (after a manual edit of the database)."""
        with self._write() as conn:
            summaries.rebuild(conn, self._d)
        self.checkpoint()

    # ---- reviews ---------------------------------------------------------------------------------

    def add_override(self, call_id: str, turn_index: int, score: float, reason: str, mentor: str = "") -> Review:
        """Override a turn's score. The scorer's score stays in the turn; every override is kept."""
        if not reason or not reason.strip():
            raise TrainerError("改分必须写明理由 - 请加上 --reason 理由")
        if not 0 <= score <= 100:
            raise TrainerError(f"分数 {score:g} 超出范围 - 请给 0 到 100 之间的分数")
        with self._write() as conn:
            found = conn.execute("SELECT score FROM turns WHERE call_id = ? AND idx = ?", (call_id, turn_index))
            turn = found.fetchone()
            if turn is None:
                count = conn.execute("SELECT COUNT(*) AS turns FROM turns WHERE call_id = ?", (call_id,)).fetchone()
                raise NotFound(
                    f"通话 {call_id} 没有第 {turn_index + 1} 轮 - 这通电话共 {count['turns']} 轮, 用 history show 查看"
                )
            original = turn["score"]
            if original is None:
                raise TrainerError(f"第 {turn_index + 1} 轮没有评分(系统请学员重说) - 只能给已评分的轮次改分")
            review_id = conn.execute(
                "INSERT INTO reviews (call_id, turn_idx, kind, mentor, original_score, new_score, reason, created_at) "
                "VALUES (?, ?, 'override', ?, ?, ?, ?, ?) RETURNING id",
                (
                    call_id,
                    turn_index,
                    without_nul(mentor or ""),
                    original,
                    float(score),
                    without_nul(reason.strip()),
                    utc_iso(),
                ),
            ).fetchone()["id"]
            conn.execute(
                "UPDATE turns SET override_score = ? WHERE call_id = ? AND idx = ?", (float(score), call_id, turn_index)
            )
            summaries.refresh(conn, self._d, [call_id], calls=False, trainees=True)  # the best score may move
            self._audit(conn, mentor, "review.override", call_id, {
                "turn": turn_index + 1, "from": original, "to": float(score), "reason": reason.strip(),
            })  # fmt: skip
            self._refresh_reviewed_score(conn, call_id)
        return self._review(review_id)

    def add_comment(self, call_id: str, text: str, mentor: str = "", turn_index: int | None = None) -> Review:
        if not text or not text.strip():
            raise TrainerError("评语是空的 - 请在 --comment 后写上内容")
        with self._write() as conn:
            if turn_index is not None:
                found = conn.execute("SELECT 1 FROM turns WHERE call_id = ? AND idx = ?", (call_id, turn_index))
                if found.fetchone() is None:
                    raise NotFound(f"通话 {call_id} 没有第 {turn_index + 1} 轮 - 用 history show 查看轮次")
            review_id = conn.execute(
                "INSERT INTO reviews (call_id, turn_idx, kind, mentor, text, created_at) "
                "VALUES (?, ?, 'comment', ?, ?, ?) RETURNING id",
                (call_id, turn_index, without_nul(mentor or ""), without_nul(text.strip()), utc_iso()),
            ).fetchone()["id"]
            self._audit(conn, mentor, "review.comment", call_id, {
                "turn": None if turn_index is None else turn_index + 1, "text": text.strip(),
            })  # fmt: skip
        return self._review(review_id)

    # ---- people, assignments, audit -----------------------------------------------------------

    def add_user(
        self, name: str, role: str, *, mentor: str = "", cohort: str = "", password_hash: str | None = None,
        actor: str = "",
    ) -> User:  # fmt: skip
        """A new person; names are unique (a name already taken is an error, the existing user is unchanged)."""
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise TrainerError(f"已有名为 {name} 的用户 - 换一个名字 (姓名必须唯一), 或用 users list 查看")
            conn.execute(
                "INSERT INTO users (name, role, mentor, cohort, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (name, role, mentor, cohort, password_hash, utc_iso()),
            )
            self._audit(conn, actor, "users.add", name, {"role": role, "mentor": mentor, "cohort": cohort})
        return self.user(name)

    def set_password(self, name: str, password_hash: str, *, actor: str = "") -> None:
        with self._write() as conn:
            if not conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise NotFound(f"没有名为 {name} 的用户 - 先用 users add 添加")
            conn.execute("UPDATE users SET password_hash = ? WHERE name = ?", (password_hash, name))
            self._audit(conn, actor, "users.password", name, {})

    def add_assignments(
        self, scenarios: list[str], trainees: list[str], *, due: str, exam: bool, min_score: float, cohort: str = "",
        actor: str = "",
    ) -> list[Assignment]:  # fmt: skip
        """One assignment per scenario and trainee, in one transaction."""
        created_at = utc_iso()
        with self._write() as conn:
            ids = []
            for trainee in trainees:
                for scenario in scenarios:
                    ids.append(
                        conn.execute(
                            "INSERT INTO assignments (scenario_id, trainee, cohort, due, exam, min_score, assigned_by, "
                            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                            (scenario, trainee, cohort, due, int(exam), float(min_score), actor, created_at),
                        ).fetchone()["id"]
                    )
                    self._audit(conn, actor, "assign", trainee, {
                        "assignment": ids[-1], "scenario": scenario, "due": due, "exam": exam, "min_score": min_score,
                    })  # fmt: skip
        return [self.assignment(i) for i in ids]

    def _audit(self, conn, actor: str, action: str, subject: str, detail: dict) -> None:
        conn.execute(
            "INSERT INTO audit (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)",
            (utc_iso(), without_nul(actor or ""), action, without_nul(subject), dumps(detail)),
        )

    def _refresh_reviewed_score(self, conn, call_id: str) -> None:
        """The call score with overrides: the scorer's call score moved by the mean change of its counted turns.

        The scorer's call score is kept as it was; this is shown beside it.
        """
        turns = conn.execute(
            "SELECT COUNT(*) AS counted, SUM(COALESCE(override_score, score) - score) AS delta, "
            "COUNT(override_score) AS overrides "
            "FROM turns WHERE call_id = ? AND counted = 1 AND score IS NOT NULL",
            (call_id,),
        ).fetchone()
        reviewed = None
        if turns["overrides"]:
            call = conn.execute("SELECT score FROM calls WHERE call_id = ?", (call_id,)).fetchone()
            if call["score"] is not None:
                reviewed = round(min(100.0, max(0.0, call["score"] + turns["delta"] / turns["counted"])), 1)
        conn.execute("UPDATE calls SET reviewed_score = ? WHERE call_id = ?", (reviewed, call_id))
