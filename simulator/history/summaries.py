"""The summary tables behind progress, team and the report, and the statements that keep them up to date.

Per-call tables (``call_category``, ``call_forbidden``, ``call_substance``) are recomputed from the turns of the
calls listed in the temporary table ``refresh_ids``; the per-trainee running totals (``trainee_*``) are moved by the
difference. The same statements serve one turn (the practice path, inside its transaction) and a million (an
import, a migration's backfill), so ``progress`` and ``team`` never scan the turns. SQLite's JSON functions
(``json_each``) or PostgreSQL's (``jsonb_array_elements``) read the turns' lists and analysis, through the adapter.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from types import ModuleType

from simulator.history import dialect

_SUBTRACT_TRAINEE_CATEGORY = """
UPDATE trainee_category
   SET expected = trainee_category.expected - old.expected, missed = trainee_category.missed - old.missed
  FROM (SELECT c.trainee, cc.category, SUM(cc.expected) AS expected, SUM(cc.missed) AS missed
          FROM call_category cc JOIN calls c ON c.call_id = cc.call_id
         WHERE cc.call_id IN (SELECT call_id FROM refresh_ids)
         GROUP BY c.trainee, cc.category) AS old
 WHERE trainee_category.trainee = old.trainee AND trainee_category.category = old.category"""
_SUBTRACT_TRAINEE_FORBIDDEN = """
UPDATE trainee_forbidden
   SET uses = trainee_forbidden.uses - old.uses
  FROM (SELECT c.trainee, cf.phrase_id, SUM(cf.uses) AS uses
          FROM call_forbidden cf JOIN calls c ON c.call_id = cf.call_id
         WHERE cf.call_id IN (SELECT call_id FROM refresh_ids)
         GROUP BY c.trainee, cf.phrase_id) AS old
 WHERE trainee_forbidden.trainee = old.trainee AND trainee_forbidden.phrase_id = old.phrase_id"""
_DELETE_CALL_CATEGORY = "DELETE FROM call_category WHERE call_id IN (SELECT call_id FROM refresh_ids)"
_DELETE_CALL_FORBIDDEN = "DELETE FROM call_forbidden WHERE call_id IN (SELECT call_id FROM refresh_ids)"
# Only counted, judged turns: an attempt superseded by a retry, or a reply the scorer asked to
# repeat, does not count against the trainee.
# The three statements below read the turns' JSON through the backend's functions ({each}, {element}, {field}
# of the adapter); ``statements`` fills them in.
_INSERT_CALL_CATEGORY = """
INSERT INTO call_category (call_id, category, expected, missed)
SELECT t.call_id, {e}, COUNT(*),
       SUM(CASE WHEN EXISTS (SELECT 1 FROM {each_missed} WHERE {m} = {e}) THEN 1 ELSE 0 END)
  FROM turns t CROSS JOIN {each_expected}
 WHERE t.call_id IN (SELECT call_id FROM refresh_ids) AND t.counted = 1 AND t.score IS NOT NULL
 GROUP BY t.call_id, {e}"""
_INSERT_CALL_FORBIDDEN = """
INSERT INTO call_forbidden (call_id, phrase_id, phrase, suggest, severity, uses)
SELECT t.call_id, COALESCE({f_id}, {f_phrase}),
       MAX(COALESCE({f_phrase}, '')), MAX(COALESCE({f_suggest}, '')), MAX(COALESCE({f_severity}, '')), COUNT(*)
  FROM turns t CROSS JOIN {each_forbidden}
 WHERE t.call_id IN (SELECT call_id FROM refresh_ids) AND t.counted = 1
 GROUP BY t.call_id, 2"""
_ADD_TRAINEE_CATEGORY = """
INSERT INTO trainee_category (trainee, category, expected, missed)
SELECT c.trainee, cc.category, SUM(cc.expected), SUM(cc.missed)
  FROM call_category cc JOIN calls c ON c.call_id = cc.call_id
 WHERE cc.call_id IN (SELECT call_id FROM refresh_ids)
 GROUP BY c.trainee, cc.category
ON CONFLICT (trainee, category) DO UPDATE
   SET expected = trainee_category.expected + excluded.expected, missed = trainee_category.missed + excluded.missed"""
_ADD_TRAINEE_FORBIDDEN = """
INSERT INTO trainee_forbidden (trainee, phrase_id, phrase, suggest, severity, uses)
SELECT c.trainee, cf.phrase_id, MAX(cf.phrase), MAX(cf.suggest), MAX(cf.severity), SUM(cf.uses)
  FROM call_forbidden cf JOIN calls c ON c.call_id = cf.call_id
 WHERE cf.call_id IN (SELECT call_id FROM refresh_ids)
 GROUP BY c.trainee, cf.phrase_id
ON CONFLICT (trainee, phrase_id) DO UPDATE
   SET uses = trainee_forbidden.uses + excluded.uses, phrase = excluded.phrase, suggest = excluded.suggest,
       severity = excluded.severity"""
REFRESH_CATEGORIES_AND_FORBIDDEN = (
    _SUBTRACT_TRAINEE_CATEGORY,
    _SUBTRACT_TRAINEE_FORBIDDEN,
    _DELETE_CALL_CATEGORY,
    _DELETE_CALL_FORBIDDEN,
    _INSERT_CALL_CATEGORY,
    _INSERT_CALL_FORBIDDEN,
    _ADD_TRAINEE_CATEGORY,
    _ADD_TRAINEE_FORBIDDEN,
)
# Substance (migration 5): per call and per trainee, the key points missed (not said at all), the contradictions
# (a drawn fact stated wrong) and the must-not breaches, each by scenario and id. Contradictions and breaches are
# read from the turn's analysis, where the scorer keeps them.
SUBSTANCE_KINDS = ("missed", "contradiction", "must_not")
_SUBTRACT_TRAINEE_SUBSTANCE = """
UPDATE trainee_substance
   SET uses = trainee_substance.uses - old.uses
  FROM (SELECT c.trainee, cs.kind, cs.scenario_id, cs.item_id, SUM(cs.uses) AS uses
          FROM call_substance cs JOIN calls c ON c.call_id = cs.call_id
         WHERE cs.call_id IN (SELECT call_id FROM refresh_ids)
         GROUP BY c.trainee, cs.kind, cs.scenario_id, cs.item_id) AS old
 WHERE trainee_substance.trainee = old.trainee AND trainee_substance.kind = old.kind
   AND trainee_substance.scenario_id = old.scenario_id AND trainee_substance.item_id = old.item_id"""
_DELETE_CALL_SUBSTANCE = "DELETE FROM call_substance WHERE call_id IN (SELECT call_id FROM refresh_ids)"
_INSERT_CALL_SUBSTANCE = """
INSERT INTO call_substance (call_id, kind, scenario_id, item_id, uses)
SELECT call_id, kind, scenario_id, item_id, COUNT(*) FROM (
    SELECT t.call_id, 'missed' AS kind, c.scenario_id, {p} AS item_id
      FROM turns t JOIN calls c ON c.call_id = t.call_id CROSS JOIN {each_points_missed}
     WHERE t.call_id IN (SELECT call_id FROM refresh_ids) AND t.counted = 1 AND t.score IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM {each_contradictions} WHERE {x_point} = {p})
    UNION ALL
    SELECT t.call_id, 'contradiction', c.scenario_id, {x_point}
      FROM turns t JOIN calls c ON c.call_id = t.call_id CROSS JOIN {each_contradictions}
     WHERE t.call_id IN (SELECT call_id FROM refresh_ids) AND t.counted = 1 AND t.score IS NOT NULL
    UNION ALL
    SELECT t.call_id, 'must_not', c.scenario_id, {m_id}
      FROM turns t JOIN calls c ON c.call_id = t.call_id CROSS JOIN {each_must_not}
     WHERE t.call_id IN (SELECT call_id FROM refresh_ids) AND t.counted = 1 AND t.score IS NOT NULL) AS found
 GROUP BY call_id, kind, scenario_id, item_id"""
_ADD_TRAINEE_SUBSTANCE = """
INSERT INTO trainee_substance (trainee, kind, scenario_id, item_id, uses)
SELECT c.trainee, cs.kind, cs.scenario_id, cs.item_id, SUM(cs.uses)
  FROM call_substance cs JOIN calls c ON c.call_id = cs.call_id
 WHERE cs.call_id IN (SELECT call_id FROM refresh_ids)
 GROUP BY c.trainee, cs.kind, cs.scenario_id, cs.item_id
ON CONFLICT (trainee, kind, scenario_id, item_id) DO UPDATE SET uses = trainee_substance.uses + excluded.uses"""
REFRESH_SUBSTANCE = (
    _SUBTRACT_TRAINEE_SUBSTANCE,
    _DELETE_CALL_SUBSTANCE,
    _INSERT_CALL_SUBSTANCE,
    _ADD_TRAINEE_SUBSTANCE,
)
REFRESH_SUMMARIES = REFRESH_CATEGORIES_AND_FORBIDDEN + REFRESH_SUBSTANCE
# Per trainee (migration 8): what team lists, recomputed from the trainee's calls when a call starts or ends, a
# score is overridden or calls are imported; not on each turn, which changes none of it.
_OF_THE_TRAINEES = "trainee IN (SELECT trainee FROM calls WHERE call_id IN (SELECT call_id FROM refresh_ids))"
_TRAINEE_TOTALS = """INSERT INTO trainee_calls (trainee, calls, complete, passed, best, last_at, work_order_sum, work_order_n)
SELECT trainee, COUNT(*), COUNT(CASE WHEN status = 'complete' THEN 1 END),
       COUNT(CASE WHEN status = 'complete' AND passed = 1 THEN 1 END),
       MAX(CASE WHEN status = 'complete' THEN COALESCE(reviewed_score, score) END), MAX(started_at),
       SUM(CASE WHEN status = 'complete' THEN work_order_score END),
       COUNT(CASE WHEN status = 'complete' THEN work_order_score END)
  FROM calls WHERE {calls} GROUP BY trainee"""
REFRESH_TRAINEE_CALLS = (
    f"DELETE FROM trainee_calls WHERE {_OF_THE_TRAINEES}",
    _TRAINEE_TOTALS.replace("{calls}", _OF_THE_TRAINEES),
)
# New calls only (a bulk import of calls not yet saved): their totals are added, no trainee's calls rescanned.
_LARGER = (
    "CASE WHEN excluded.{c} IS NULL THEN trainee_calls.{c} "
    "WHEN trainee_calls.{c} IS NULL OR excluded.{c} > trainee_calls.{c} THEN excluded.{c} ELSE trainee_calls.{c} END"
)
ADD_TRAINEE_CALLS = (
    _TRAINEE_TOTALS.replace("{calls}", "call_id IN (SELECT call_id FROM refresh_ids)")
    + f"""
ON CONFLICT (trainee) DO UPDATE SET
   calls = trainee_calls.calls + excluded.calls, complete = trainee_calls.complete + excluded.complete,
   passed = trainee_calls.passed + excluded.passed, best = {_LARGER.format(c="best")},
   last_at = {_LARGER.format(c="last_at")},
   work_order_sum = COALESCE(trainee_calls.work_order_sum, 0) + COALESCE(excluded.work_order_sum, 0),
   work_order_n = trainee_calls.work_order_n + excluded.work_order_n""",
)
SUMMARY_TABLES = (
    "call_category", "call_forbidden", "trainee_category", "trainee_forbidden", "call_substance", "trainee_substance",
    "trainee_calls",
)  # fmt: skip

# refresh_ids: the calls whose summaries a transaction recomputes (one per connection, emptied after use).
CREATE_REFRESH_IDS = "CREATE TEMP TABLE IF NOT EXISTS refresh_ids (call_id TEXT PRIMARY KEY)"
_LIST_FOR_REFRESH = dialect.insert_or_ignore("refresh_ids", ("call_id",))
_CLEAR = "DELETE FROM refresh_ids"


_LISTED = "IN (SELECT call_id FROM refresh_ids)"


@cache
def statements(d: ModuleType, group: tuple[str, ...] = REFRESH_SUMMARIES, *, one_call: bool = False) -> tuple[str, ...]:
    """The statements of ``group`` in the SQL of the backend adapter ``d``; ``one_call``: for the call ``:call_id``
    alone (a practice turn), found by its key whatever the planner guesses about ``refresh_ids``."""
    json_sql = {
        "e": d.element("e.value"),
        "m": d.element("m.value"),
        "p": d.element("p.value"),
        "each_expected": d.each("t.expected", "e"),
        "each_missed": d.each("t.missed", "m"),
        "each_forbidden": d.each("t.forbidden", "f"),
        "each_points_missed": d.each("t.points_missed", "p"),
        "each_contradictions": d.each("t.analysis", "x", "contradictions"),
        "each_must_not": d.each("t.analysis", "m", "must_not"),
        "x_point": d.field("x.value", "point"),
        "m_id": d.field("m.value", "id"),
        **{f"f_{key}": d.field("f.value", key) for key in ("id", "phrase", "suggest", "severity")},
    }
    rendered = tuple(statement.format(**json_sql) if "{" in statement else statement for statement in group)
    if one_call:
        rendered = tuple(s.replace(_LISTED, "= :call_id") for s in rendered)
    return rendered


def backfill(d: ModuleType, group: tuple[str, ...]) -> tuple[str, ...]:
    """``group`` run over every call already saved (a migration that adds summaries)."""
    return (
        d.ddl(CREATE_REFRESH_IDS),
        "DELETE FROM refresh_ids",
        "INSERT INTO refresh_ids SELECT call_id FROM calls",
        *statements(d, group),
        "DELETE FROM refresh_ids",
    )


def refresh(
    conn, d: ModuleType, call_ids: Iterable[str], *, calls: bool = True, trainees: bool = False, new: bool = False
) -> None:
    """Recompute, inside the caller's transaction, the per-call summaries of these calls (``calls``) and the
    per-trainee call totals of their trainees (``trainees``; ``new``: the calls were not in the store before this
    transaction, so their totals are added instead of each trainee's calls being counted again)."""
    call_ids = list(call_ids)
    trainee_group = (ADD_TRAINEE_CALLS if new else REFRESH_TRAINEE_CALLS) if trainees else ()
    group = (REFRESH_SUMMARIES if calls else ()) + trainee_group
    if not call_ids or not group:
        return
    if len(call_ids) == 1:
        for statement in statements(d, group, one_call=True):
            conn.execute(statement, {"call_id": call_ids[0]})
        return
    conn.execute(_CLEAR)
    conn.executemany(_LIST_FOR_REFRESH, [{"call_id": c} for c in call_ids])
    d.update_statistics(conn, "refresh_ids")
    for statement in statements(d, group):
        conn.execute(statement)
    conn.execute(_CLEAR)


def rebuild(conn, d: ModuleType) -> None:
    """Recompute every summary from the turns (after a manual edit of the database)."""
    for table in SUMMARY_TABLES:
        conn.execute(f"DELETE FROM {table}")
    refresh(conn, d, [row["call_id"] for row in conn.execute("SELECT call_id FROM calls")], trainees=True)
