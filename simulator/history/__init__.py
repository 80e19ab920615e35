"""Score histories: the store (every SQL statement), progress/team computations, reports, pseudonyms.

A session saves calls through ``store.HistoryStore`` (a ``simulator.record.CallSink``, opened with
``store.open_store(args.db)``); the commands read them back through ``reports``. This package
imports nothing at import time, so command modules can name it without slowing ``--help``.
"""
