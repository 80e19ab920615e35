"""The command line as a user meets it: exact exit codes and output, one-line errors, instant --help."""

from __future__ import annotations

import json
import subprocess
import sys

import yaml
from conftest import ROOT, run_cli

HEAVY = ("rich", "pyttsx3", "speech_recognition", "faster_whisper", "pypinyin", "rapidfuzz", "numpy", "yaml")


def test_help_imports_nothing_heavy():
    code = (
        "import sys, runpy; sys.argv=['run_training.py','--help']\n"
        "try:\n    runpy.run_path('run_training.py', run_name='__main__')\nexcept SystemExit:\n    pass\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_every_command_is_in_help_and_documented():
    result = run_cli("--help")
    assert result.returncode == 0
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for command in (
        "list",
        "show",
        "validate",
        "new",
        "render",
        "test",
        "practice",
        "score-reply",
        "transcribe",
        "history",
        "progress",
        "team",
        "review",
        "report",
    ):
        assert command in result.stdout, command
        assert command in readme, f"README does not mention {command}"


def test_list_json_has_every_scenario():
    result = run_cli("list", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    ids = {r["id"] for r in rows}
    assert {"wrong-courtroom", "fraud-victim-refund", "death-declaration-revoke"} <= ids
    assert all(1 <= r["difficulty"] <= 5 for r in rows)
    assert [r["difficulty"] for r in rows] == sorted(r["difficulty"] for r in rows)


def test_list_table_shows_titles():
    result = run_cli("list", env={"COLUMNS": "160"})
    assert result.returncode == 0
    assert "律师走错了开庭地点" in result.stdout


def test_show_prints_the_turn_tree():
    result = run_cli("show", "wrong-courtroom", env={"COLUMNS": "160"})
    assert result.returncode == 0, result.stderr
    assert "用了禁语" in result.stdout and "结束" in result.stdout and "opening" in result.stdout


def test_unknown_scenario_is_one_line_error_with_suggestion():
    result = run_cli("show", "wrong-courtrom")
    assert result.returncode == 1
    assert result.stderr.strip() == "错误: 没有 id 为 'wrong-courtrom' 的场景 - 是不是 wrong-courtroom?"
    assert result.stdout == ""


def test_debug_shows_the_traceback():
    result = run_cli("--debug", "show", "no-such-scenario", process=True)  # the traceback reaches the terminal
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "NotFound" in result.stderr


def test_new_writes_a_scenario_that_validates_and_tests(tmp_path):
    result = run_cli("new", "hearing-date-change", "--dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    path = tmp_path / "hearing-date-change.yaml"
    assert yaml.safe_load(path.read_text(encoding="utf-8"))["id"] == "hearing-date-change"
    assert run_cli("validate", str(path)).returncode == 0
    played = run_cli("test", str(path), "--json", "--min-coverage", "80")
    assert played.returncode == 0, played.stdout
    results = json.loads(played.stdout)
    assert {r["example"] for r in results} == {"规范应答", "漏问案号", "使用禁语"}
    assert results[0]["coverage"]["turns"] == [5, 5]
    text = path.read_text(encoding="utf-8")
    # the template keeps the docs' own rules: numbers spoken in Chinese, full-width punctuation in dialogue
    assert "1001" not in text and "（二零二四）沪零一零五民初一零零一号" in text
    assert all("," not in line and "?" not in line for line in text.splitlines() if line.strip().startswith("say:"))
    assert yaml.safe_load(text)["examples"][0]["score"] == [85, 100]
    again = run_cli("new", "hearing-date-change", "--dir", str(tmp_path))
    assert again.returncode == 1 and "已存在" in again.stderr


def test_new_refuses_a_bad_id(tmp_path):
    result = run_cli("new", "Bad Id", "--dir", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr.startswith("错误: id 'Bad Id' 不是 kebab-case")


LIBRARY_COVERAGE_FLOOR = 80  # % of each scenario's turns its examples reach (README, docs/scenario-format.md §8)


def test_test_command_plays_every_bundled_example_and_meets_the_coverage_floor():
    result = run_cli("test", "--json", "--min-coverage", str(LIBRARY_COVERAGE_FLOOR))
    assert result.returncode == 0, result.stdout + result.stderr
    results = json.loads(result.stdout)
    assert len(results) >= 72 and all(r["ok"] for r in results)
    by_scenario = {r["scenario"]: r for r in results}
    assert len(by_scenario) >= 24
    for sid, r in by_scenario.items():
        reached, total = r["coverage"]["turns"]
        assert reached * 100 >= LIBRARY_COVERAGE_FLOOR * total, (sid, r["coverage"]["unreached_turns"])
        assert sum(x["scenario"] == sid for x in results) >= 3, f"{sid}: fewer than three examples"


def test_test_command_fails_below_the_coverage_floor_and_names_what_to_add(tmp_path):
    data = yaml.safe_load((ROOT / "scenarios" / "wrong-courtroom.yaml").read_text(encoding="utf-8"))
    data["examples"] = [e for e in data["examples"] if "waiting_unsure" not in e.get("path", [])]
    path = tmp_path / "wrong-courtroom.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = run_cli("test", str(path), "--min-coverage", "80")
    assert result.returncode == 1
    assert "错误: 场景 wrong-courtroom 的示例只走到 78% 的轮次, 低于 80% - 为没走到的轮次补示例" in result.stderr
    result = run_cli("test", str(path), "--coverage")
    assert result.returncode == 0
    assert "示例覆盖" in result.stdout and "7/9" in result.stdout and "waiting_unsure、where_again" in result.stdout
    assert "通过 3 个示例, 失败 0 个" in result.stdout


def test_a_scenario_without_examples_fails_the_test_command(tmp_path):
    text = (ROOT / "scenarios" / "wrong-courtroom.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    del data["examples"]
    (tmp_path / "wrong-courtroom.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = run_cli("test", str(tmp_path / "wrong-courtroom.yaml"))
    assert result.returncode == 1
    assert "错误: 场景 wrong-courtroom 没有示例" in result.stderr


def test_test_command_reports_an_example_out_of_range(tmp_path):
    text = (ROOT / "scenarios" / "wrong-courtroom.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    data["examples"][0]["score"] = [0, 10]  # the standard run scores high: the author's range is wrong
    (tmp_path / "wrong-courtroom.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = run_cli("test", str(tmp_path / "wrong-courtroom.yaml"), "--json")
    assert result.returncode == 1
    first = json.loads(result.stdout)[0]
    assert not first["ok"] and first["why"].startswith("得分 ") and "不在 0-10 之间" in first["why"]


def test_scenario_ids_are_never_cut_in_an_80_column_table():
    from simulator.library import load_library

    ids = [s.id for s in load_library()]
    listed = run_cli("list", env={"COLUMNS": "80"})
    assert listed.returncode == 0
    assert all(sid in listed.stdout for sid in ids), [sid for sid in ids if sid not in listed.stdout]
    assert max(len(line) for line in listed.stdout.splitlines()) <= 80
    tested = run_cli("test", "death-declaration-revoke", "judge-urgent-transfer", "--coverage", env={"COLUMNS": "80"})
    assert "death-declaration-revoke" in tested.stdout and "judge-urgent-transfer" in tested.stdout


def test_a_failing_example_says_where_its_path_left_the_expected_one_and_why(tmp_path):
    data = yaml.safe_load((ROOT / "scenarios" / "wrong-courtroom.yaml").read_text(encoding="utf-8"))
    data["examples"][0]["replies"][0] = "您好。"  # no case number asked: the caller gets confused
    path = tmp_path / "wrong-courtroom.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = run_cli("test", str(path), "--json")
    assert result.returncode == 1
    why = json.loads(result.stdout)[0]["why"]
    assert why == (
        "路径在第 2 轮走到 confused, 预期 give_details: 上一轮 opening 的回答「您好。」做到 问候开场; "
        "漏了 询问案件信息、询问案号、询问承办法官"
    )


def test_show_lists_each_turn_once_and_draws_the_graph():
    from simulator.library import find_scenario

    scenario = find_scenario("death-declaration-revoke")
    shown = run_cli("show", scenario.id, env={"COLUMNS": "200"})  # no wrapped line mistaken for a header
    assert shown.returncode == 0
    headers = [line for line in shown.stdout.splitlines() if line.split("  ")[0] in scenario.turns]
    assert sorted(h.split("  ")[0] for h in headers) == sorted(scenario.turns)  # each turn once, none repeated
    assert len(shown.stdout.splitlines()) < 250  # was 1,312 lines with shared turns expanded under every branch
    assert "ask_case_info" not in shown.stdout  # category titles, not ids
    edges = sum(len(t.next) for t in scenario.turns.values())
    mermaid = run_cli("show", scenario.id, "--graph", "mermaid").stdout
    assert mermaid.startswith("flowchart TD\n") and mermaid.count(" -->|") == edges
    assert "call_end([" in mermaid and " end[" not in mermaid  # 'end' is a Mermaid keyword
    dot = run_cli("show", scenario.id, "--graph", "dot").stdout
    assert dot.startswith(f'digraph "{scenario.id}" {{') and dot.count(" -> ") == edges and dot.rstrip().endswith("}")
