"""Score histories: the store, progress/team computations, reports, pseudonyms.

A session saves calls through ``store.HistoryStore`` (a ``simulator.record.CallSink``, opened with
``store.open_store(args.db)``); the commands read them back through ``reports``. Every SQL statement
is in the store's files: ``store.py`` (opening, writes), ``queries.py`` (reads), ``schema.py``
(migrations), ``summaries.py`` (summary tables), ``rows.py`` (row types) and ``dialect.py`` (what is
SQLite-only). This package imports nothing at import time, so command modules can name it without
slowing ``--help``.
"""

# The columns ``team --sort`` accepts, with the names the team table gives them; here, in a module with no imports, so
# the CLI can offer them without loading the reports.
TEAM_SORT_TITLES = {
    "name": "姓名", "calls": "通话数", "latest": "最新成绩", "best": "最好成绩", "trend": "趋势", "pass_rate": "通过率",
    "weakest": "最弱类别", "last": "最后练习", "contradictions": "说错事实", "must_not": "违规", "work_order": "工单",
    "overdue": "逾期作业", "points_missed": "漏要点",
}  # fmt: skip
TEAM_SORTS = tuple(TEAM_SORT_TITLES)
