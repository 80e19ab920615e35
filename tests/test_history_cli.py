"""The history commands through the real CLI entry point: exact exit codes, JSON fields, messages."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest
from test_history_store import NO_IDEA, ROOT, new_call, play, turn

from simulator.cli import main
from simulator.history.store import HistoryStore
from simulator.record import INCOMPLETE, INTERRUPTED


@pytest.fixture
def db(db_url):
    """Two trainees; one call each typed and spoken, complete and cut off (on each backend)."""
    with HistoryStore(db_url) as s:
        play(
            s,
            new_call("王小明", "wrong-courtroom", "2026-10-01T09:00:00Z", call_id="aaaa00000001", mentor="李老师"),
            [
                turn(0, expected=("greeting", "empathy"), missed=("empathy",), score=50),
                turn(1, forbidden=[NO_IDEA], score=70, source="voice", audio_path="/audio/a1.wav", confidence=0.9),
            ],
            score=60,
            passed=False,
        )
        play(
            s,
            new_call("王小明", "online-filing", "2026-10-08T09:00:00Z", call_id="aaaa00000002"),
            [turn(0, score=90)],
            score=90,
            passed=True,
        )
        play(
            s,
            new_call("王小明", "wrong-courtroom", "2026-10-09T09:00:00Z", call_id="bbbb00000003"),
            [turn(0, score=30, source="voice", audio_path="/audio/b3.wav")],
            status=INCOMPLETE,
            reason=INTERRUPTED,
        )
        play(s, new_call("李华", "online-filing", "2026-10-02T09:00:00Z", call_id="cccc00000004"),
             [turn(0, score=80)], score=80, passed=True)  # fmt: skip
    return db_url


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv: str):
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def test_history_json_lists_typed_spoken_complete_and_cut_off(capsys, db):
    rows = run_json(capsys, "history", "--db", str(db))
    assert [(r["call_id"], r["trainee"], r["status"], r["score"]) for r in rows] == [
        ("bbbb00000003", "王小明", "incomplete", 30),
        ("aaaa00000002", "王小明", "complete", 90),
        ("cccc00000004", "李华", "complete", 80),
        ("aaaa00000001", "王小明", "complete", 60),
    ]
    assert set(rows[0]) >= {"call_id", "started_at", "trainee", "mentor", "scenario_id", "status", "end_reason",
                            "score", "reviewed_score", "effective_score", "passed", "turn_count", "call_s"}  # fmt: skip
    assert rows[0]["end_reason"] == "interrupted"


def test_history_filters(capsys, db):
    ids = lambda *a: [r["call_id"] for r in run_json(capsys, "history", "--db", str(db), *a)]  # noqa: E731
    assert ids("--trainee", "李华") == ["cccc00000004"]
    assert ids("--scenario", "wrong-courtroom", "--status", "incomplete") == ["bbbb00000003"]
    assert ids("--since", "2026-10-08T00:00:00Z") == ["bbbb00000003", "aaaa00000002"]
    assert ids("--limit", "1") == ["bbbb00000003"]


def test_history_csv(capsys, db):
    code, out, _ = run(capsys, "history", "--db", str(db), "--csv", "--trainee", "李华")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["call_id"], r["trainee"], r["score"], r["passed"]) for r in rows] == [
        ("cccc00000004", "李华", "80.0", "true")  # booleans as the JSON writes them
    ]


def test_history_bad_date_is_one_line_exit_1(capsys, db):
    code, out, err = run(capsys, "history", "--db", str(db), "--since", "10/01/2026")
    assert (code, out) == (1, "")
    assert err == "错误: 无法识别的时间 '10/01/2026' - 请用 YYYY-MM-DD 或 ISO 8601 格式\n"


def test_history_show_json(capsys, db):
    detail = run_json(capsys, "history", "show", "aaaa00000001", "--db", str(db))
    assert detail["call_id"] == "aaaa00000001" and detail["mentor"] == "李老师"
    assert [(t["n"], t["source"], t["audio_path"], t["score"]) for t in detail["turns"]] == [
        (1, "typed", None, 50),
        (2, "voice", "/audio/a1.wav", 70),
    ]
    assert detail["turns"][1]["forbidden"][0]["suggest"] == "我帮您查询一下"


def test_history_show_db_before_subcommand(capsys, db):
    code, out, _ = run(capsys, "history", "--db", str(db), "show", "cccc")
    assert code == 0 and "cccc00000004" in out and "李华" in out


def test_history_show_ambiguous_and_unknown(capsys, db):
    code, _, err = run(capsys, "history", "show", "aaaa", "--db", str(db))
    assert code == 1
    assert err == "错误: 编号前缀 'aaaa' 对应多个通话 (aaaa00000001, aaaa00000002…) - 请多输入几位\n"
    code, _, err = run(capsys, "history", "show", "ffff", "--db", str(db))
    assert (code, err) == (1, "错误: 没有编号以 'ffff' 开头的通话 - 用 history 查看编号\n")


def test_review_override_keeps_original(capsys, db):
    result = run_json(capsys, "review", "aaaa00000001", "--db", str(db), "--turn", "1", "--score", "90",
                      "--reason", "其实已经安抚", "--mentor", "李老师")  # fmt: skip
    assert (result["score"], result["reviewed_score"]) == (60, 80)  # 60 + (90 - 50) / 2
    (review,) = result["reviews"]
    assert (review["kind"], review["turn_index"], review["original_score"], review["new_score"], review["mentor"]) == (
        "override", 0, 50, 90, "李老师")  # fmt: skip
    detail = run_json(capsys, "history", "show", "aaaa00000001", "--db", str(db))
    first = detail["turns"][0]
    assert (first["original_score"], first["override_score"], first["effective_score"]) == (50, 90, 90)
    assert first["reviews"][0]["reason"] == "其实已经安抚"
    rows = run_json(capsys, "history", "--db", str(db), "--trainee", "王小明", "--scenario", "wrong-courtroom",
                    "--status", "complete")  # fmt: skip
    assert [(r["score"], r["reviewed_score"]) for r in rows] == [(60, 80)]


def test_review_without_reason_is_refused(capsys, db):
    code, out, err = run(capsys, "review", "aaaa00000001", "--db", str(db), "--turn", "1", "--score", "90")
    assert (code, out) == (1, "")
    assert err == "错误: 改分必须写明理由 - 请加上 --reason 理由 (原分会保留)\n"
    with HistoryStore(db) as s:
        assert s.reviews("aaaa00000001") == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--score", "90", "--reason", "x"], "错误: 改分要指明第几轮 - 请加上 --turn N (history show 里的 #N)\n"),
        (["--turn", "9", "--score", "90", "--reason", "x"],
         "错误: 通话 aaaa00000001 没有第 9 轮 - 这通电话共 2 轮, 用 history show 查看\n"),
        (["--turn", "0", "--comment", "x"], "错误: 没有第 0 轮 - 轮次从 1 开始, 见 history show 里的 #N\n"),
        ([], "错误: 没有要记录的内容 - 用 --turn N --score S --reason 理由 改分, 或 --comment 评语\n"),
        (["--turn", "1", "--score", "120", "--reason", "x"], "错误: 分数 120 超出范围 - 请给 0 到 100 之间的分数\n"),
    ],
)  # fmt: skip
def test_review_errors(capsys, db, argv, message):
    code, _, err = run(capsys, "review", "aaaa00000001", "--db", str(db), *argv)
    assert (code, err) == (1, message)


def test_review_comment(capsys, db):
    result = run_json(capsys, "review", "cccc", "--db", str(db), "--comment", "开场规范", "--turn", "1")
    assert [(r["kind"], r["turn_index"], r["text"]) for r in result["reviews"]] == [("comment", 0, "开场规范")]
    code, out, _ = run(capsys, "review", "cccc", "--db", str(db), "--comment", "整体很好")
    assert code == 0 and "已记录评语: 通话 cccc00000004 整通电话: 整体很好" in out


def test_progress_json(capsys, db):
    p = run_json(capsys, "progress", "王小明", "--db", str(db))
    assert (p["calls"], p["complete"], p["incomplete"], p["latest"], p["best"], p["trend"]) == (3, 2, 1, 90, 90, 30)
    assert [pt["score"] for pt in p["points"]] == [60, 90]
    assert p["categories"][0]["category"] == "empathy"
    assert [f["phrase"] for f in p["forbidden_still_used"]] == ["不知道"]
    assert "wrong-courtroom" in [s["scenario_id"] for s in p["scenarios_not_passed"]]
    assert 1 <= len(p["practise_next"]) <= 3


def test_progress_unknown_trainee(capsys, db):
    code, out, err = run(capsys, "progress", "张三", "--db", str(db))
    assert (code, out, err) == (1, "", "错误: 没有学员 '张三' 的通话记录 - 用 team 查看学员名单\n")


def test_team_json_csv_and_sort(capsys, db):
    rows = run_json(capsys, "team", "--db", str(db), "--sort", "best")
    assert [(r["trainee"], r["calls"], r["latest"], r["best"], r["pass_rate"]) for r in rows] == [
        ("王小明", 3, 90, 90, 0.5),
        ("李华", 1, 80, 80, 1.0),
    ]
    code, out, _ = run(capsys, "team", "--db", str(db), "--csv", "--sort", "pass_rate")
    assert code == 0
    assert [r["trainee"] for r in csv.DictReader(io.StringIO(out))] == ["李华", "王小明"]


def test_team_bad_sort_is_argparse_exit_2(capsys, db):
    with pytest.raises(SystemExit) as exit_info:
        main(["team", "--db", str(db), "--sort", "age"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'age'" in capsys.readouterr().err


def test_anonymize_exports(capsys, db):
    rows = run_json(capsys, "history", "--db", str(db), "--anonymize")
    names = {r["trainee"] for r in rows}
    assert len(names) == 2 and all(n.startswith("学员-") for n in names)
    assert {r["mentor"] for r in rows} - {""} and all(m.startswith("导师-") for m in {r["mentor"] for r in rows} - {""})
    again = run_json(capsys, "team", "--db", str(db), "--anonymize")
    assert {r["trainee"] for r in again} == names  # stable across commands and runs
    code, out, _ = run(capsys, "team", "--db", str(db), "--anonymize", "--csv")
    assert "王小明" not in out and "李华" not in out


def test_report_json(capsys, db, tmp_path):
    target = tmp_path / "out" / "report.html"
    summary = run_json(capsys, "report", "--db", str(db), "--html", str(target))
    assert summary == {"path": str(target), "bytes": target.stat().st_size, "trainees": 2, "calls": 4}
    one = run_json(capsys, "report", "--db", str(db), "--html", str(target), "--trainee", "李华")
    assert (one["trainees"], one["calls"]) == (1, 1)


def test_report_without_html_is_exit_2(capsys, db):
    with pytest.raises(SystemExit) as exit_info:
        main(["report", "--db", str(db)])
    assert exit_info.value.code == 2


def test_env_var_chooses_the_database(capsys, db, monkeypatch):
    monkeypatch.setenv("HOTLINE_TRAINER_DB", str(db))
    rows = run_json(capsys, "history", "--trainee", "李华")
    assert [r["call_id"] for r in rows] == ["cccc00000004"]


def test_table_output(capsys, db):
    code, out, _ = run(capsys, "history", "--db", str(db))
    assert code == 0 and "通话记录 (4 通, 最新在前)" in out and "bbbb00000003" in out


def test_help_does_not_load_sqlite_or_the_store():
    code = (
        "import sys; from simulator.cli import build_parser; build_parser(); "
        "print(sorted(m for m in ('sqlite3', 'simulator.history.store') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "sqlite3" not in out and "simulator.history.store" not in out
