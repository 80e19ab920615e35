"""The real session engine and scorer saving into the real store: calls typed or spoken, complete or cut
off, appear in history and progress."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.engines.base import Heard
from simulator.engines.scripted_listener import ScriptedListener
from simulator.history import reports
from simulator.history.store import HistoryStore
from simulator.library import LIBRARY_DIR, find_scenario
from simulator.record import COMPLETE, INCOMPLETE, INTERRUPTED, REPLIES_EXHAUSTED
from simulator.scenario import fill
from simulator.session import Session, SessionOptions, SilentUI

REPLIES = LIBRARY_DIR / "replies" / "wrong-courtroom.txt"


class RecordedReplies:
    """Replies as a microphone session hands them over: recognized text with the kept recording.

    Recognition itself is tested in the voice tests; here only what the store keeps of it matters.
    """

    def __init__(self, texts: list[str], folder: Path, interrupt_after: int | None = None):
        self.texts, self.folder, self.interrupt_after, self.used = texts, folder, interrupt_after, 0

    def listen(self, prompt: str) -> Heard | None:
        if self.interrupt_after is not None and self.used == self.interrupt_after:
            raise KeyboardInterrupt  # the trainee pressed Ctrl-C
        if self.used >= len(self.texts):
            return None
        text = self.texts[self.used]
        self.used += 1
        return Heard(text, "voice", confidence=0.91, audio_path=str(self.folder / f"reply-{self.used}.wav"),
                     duration_s=3.2, metrics={"chars_per_min": 128.0})  # fmt: skip


@pytest.fixture(scope="module")
def scenario():
    return find_scenario("wrong-courtroom")


def run_call(store, scenario, listener, trainee="王小明"):
    session = Session(scenario, _scorer(), listener, ui=SilentUI(), sink=store,
                      options=SessionOptions(trainee=trainee, mentor="李老师", seed=1))  # fmt: skip
    return session.run()


def _scorer():
    from scoring.scorer import Scorer

    return Scorer.default()


def test_typed_and_spoken_complete_and_cut_off_calls(tmp_path, scenario, db_url):
    scripted = ScriptedListener.from_file(REPLIES)
    # a trainee who speaks says the drawn facts themselves (您找的是陆法官), not the replies file's {placeholders}
    spoken_texts = [fill(t, scenario.draw(1)) for t in ScriptedListener.from_file(REPLIES)._replies]
    with HistoryStore(db_url) as store:
        typed = run_call(store, scenario, scripted)
        spoken = run_call(store, scenario, RecordedReplies(spoken_texts, tmp_path))
        ran_out = run_call(store, scenario, ScriptedListener(spoken_texts[:1]))
        ctrl_c = run_call(store, scenario, RecordedReplies(spoken_texts, tmp_path, interrupt_after=2))

        assert [(c.status, c.end_reason) for c in (typed, spoken, ran_out, ctrl_c)] == [
            (COMPLETE, "end"), (COMPLETE, "end"), (INCOMPLETE, REPLIES_EXHAUSTED), (INCOMPLETE, INTERRUPTED),
        ]  # fmt: skip
        listed = {r["call_id"]: r for r in reports.history_rows(store, reports.pseudonymizer(store, False))}
        assert set(listed) == {typed.call_id, spoken.call_id, ran_out.call_id, ctrl_c.call_id}
        for call in (typed, spoken, ran_out, ctrl_c):
            row = listed[call.call_id]
            assert (row["status"], row["turn_count"], row["score"]) == (
                call.status, len(call.turns), call.scorecard["score"])  # fmt: skip
            assert [t.to_json() for t in store.get_call(call.call_id).turns] == [t.to_json() for t in call.turns]

        saved = store.get_call(spoken.call_id).turns
        assert {t.source for t in saved} == {"voice"}
        assert saved[0].audio_path == str(tmp_path / "reply-1.wav") and saved[0].speech == {"chars_per_min": 128.0}
        assert len(store.get_call(ctrl_c.call_id).turns) == 2  # the two answered turns survive Ctrl-C

        progress = reports.progress(store, "王小明")
        assert (progress.calls, progress.complete, progress.incomplete) == (4, 2, 2)
        assert [p.call_id for p in progress.points] == [typed.call_id, spoken.call_id]
        assert progress.best == max(typed.scorecard["score"], spoken.scorecard["score"])
