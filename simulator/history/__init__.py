"""Score histories: the store, progress/team computations, reports, pseudonyms.

A session saves calls through ``store.HistoryStore`` (a ``simulator.record.CallSink``, opened with
``store.open_store(args.db)``); the commands read them back through ``reports``. Every SQL statement
is in the store's files: ``store.py`` (opening, writes), ``queries.py`` (reads), ``schema.py``
(migrations), ``summaries.py`` (summary tables), ``rows.py`` (row types) and ``dialect.py`` (what is
SQLite-only). This package imports nothing at import time, so command modules can name it without
slowing ``--help``.
"""

# The columns ``team --sort`` accepts; here, in a module with no imports, so the CLI can offer them without loading
# the reports.
TEAM_SORTS = ("name", "calls", "latest", "best", "trend", "pass_rate", "weakest", "last", "contradictions", "must_not",
              "work_order")  # fmt: skip
