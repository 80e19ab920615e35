"""Score histories: the store (every SQL statement), progress/team computations, reports, pseudonyms.

The session saves calls through ``HistoryStore`` (a ``simulator.record.CallSink``); commands read
them back through ``simulator.history.reports``. Nothing heavy is imported here.
"""

from __future__ import annotations

from simulator.history.store import DB_ENV, HistoryStore, default_db_path, new_call_id

__all__ = ["DB_ENV", "HistoryStore", "default_db_path", "new_call_id"]
