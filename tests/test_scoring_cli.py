"""``score-reply`` as a user meets it: exact exit codes, the --json object, --batch, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from io import StringIO

from conftest import ROOT, run_cli


def test_json_object(tmp_path) -> None:
    result = run_cli("score-reply", "您好,请讲。不知道。", "--json", "--expect", "greeting", "hold")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)  # exactly one JSON object
    assert data["categories"] == ["greeting"]
    assert data["forbidden"] == [
        {
            "phrase": "不知道",
            "span": [6, 9],
            "suggest": "这个问题我帮您查询一下,请您稍等。",
            "id": "dont_know",
            "severity": "major",
            "source": "guide",
        }
    ]
    assert {"category": "greeting", "span": [0, 2], "guide_phrase": "您好", "source": "guide"} in data["matches"]
    assert data["suggestions"][0]["category"] == "hold"
    assert data["judgeable"] is True and data["score"] == 25.0
    assert sum(r["delta"] for r in data["reasons"]) == data["score"]


def test_unjudgeable_reply_has_no_score() -> None:
    result = run_cli("score-reply", "嗯", "--json")
    assert result.returncode == 0
    data = json.loads(result.stdout)
    assert data["judgeable"] is False and data["score"] is None and data["why_not_judgeable"] == "没有听到内容"


def test_text_from_stdin() -> None:
    result = run_cli("score-reply", "-", "--json", stdin="请您稍等")
    assert result.returncode == 0 and json.loads(result.stdout)["categories"] == ["hold"]


def test_table_highlights_the_reply() -> None:
    result = run_cli("score-reply", "您好,请讲。你自己去查。", "--expect", "greeting", "ask_case_info")
    assert result.returncode == 0, result.stderr
    assert "问候开场" in result.stdout and "你自己去查" in result.stdout and "询问案件信息" in result.stdout
    assert "本轮得分: 25" in result.stdout


GOLDEN_TABLE = """\
回复: 您好,急什么。
┏━━━━━━━━┳━━━━━━━━━━━┳━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━┓
┃ 结果   ┃ 类别/禁语 ┃ 回复中的原话 ┃ 规范用语 / 应改说    ┃
┡━━━━━━━━╇━━━━━━━━━━━╇━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━┩
│ ✓ 命中 │ 问候开场  │ 您好         │ 您好                 │
│ ✗ 禁语 │ 急什么    │ 急什么       │ 请您别着急,我马上帮  │
│        │           │              │ 您处理。             │
└────────┴───────────┴──────────────┴──────────────────────┘
本轮得分: 75
"""


def test_table_golden_render() -> None:
    """The rich rendering itself, on a fixed-width console (no colours), compared exactly."""
    from rich.console import Console

    from scoring.scorer import Scorer
    from simulator.cli.scoring_cmds import reply_json, show

    scorer = Scorer.default()
    out = StringIO()
    text = "您好,急什么。"
    show(scorer, text, reply_json(scorer, text, ["greeting"]), Console(file=out, width=60, color_system=None))
    assert out.getvalue() == GOLDEN_TABLE


def test_batch(tmp_path) -> None:
    path = tmp_path / "replies.jsonl"
    lines = [{"id": "a", "text": "您好,请讲"}, {"id": 2, "text": "不知道", "expect": ["hold"]}, {"id": "c", "text": ""}]
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n\n", encoding="utf-8")
    result = run_cli("score-reply", "--batch", str(path))
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a", 2, "c"]
    assert out[0]["categories"] == ["greeting"] and out[0]["score"] == 100.0
    assert out[1]["forbidden"][0]["id"] == "dont_know" and out[1]["suggestions"][0]["category"] == "hold"
    assert out[2]["judgeable"] is False


def test_batch_bad_line_names_the_line(tmp_path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": 1, "text": "您好"}\n{"id": 2, "text": 不是JSON}\n', encoding="utf-8")
    result = run_cli("score-reply", "--batch", str(path))
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith(f"错误: {path}:2: 不是有效的 JSON")
    assert "Traceback" not in result.stderr


def test_batch_line_without_text(tmp_path) -> None:
    path = tmp_path / "notext.jsonl"
    path.write_text('{"id": 1}\n', encoding="utf-8")
    result = run_cli("score-reply", "--batch", str(path))
    assert result.returncode == 1 and f'{path}:1: 缺少文本字段 "text"' in result.stderr


def test_errors_are_one_line_with_exit_1(tmp_path) -> None:
    missing = run_cli("score-reply", "--batch", str(tmp_path / "nope.jsonl"))
    assert missing.returncode == 1 and "无法读取" in missing.stderr and len(missing.stderr.splitlines()) == 1
    unknown = run_cli("score-reply", "您好", "--expect", "greetings")
    assert unknown.returncode == 1 and "未知的类别 'greetings'" in unknown.stderr
    neither = run_cli("score-reply")
    assert neither.returncode == 1 and "缺少回复文本" in neither.stderr
    both = run_cli("score-reply", "您好", "--batch", str(tmp_path / "x.jsonl"))
    assert both.returncode == 1 and "只能二选一" in both.stderr


def test_usage_errors_exit_2() -> None:
    assert run_cli("score-reply", "--expect").returncode == 2


def test_custom_guide_and_its_errors(tmp_path) -> None:
    bad = tmp_path / "guide.yaml"
    bad.write_text("categories: {}\nforbidden: []\n", encoding="utf-8")
    result = run_cli("score-reply", "您好", "--guide", str(bad))
    assert result.returncode == 1 and "categories" in result.stderr and "Traceback" not in result.stderr


def test_help_does_not_import_the_scoring_engines() -> None:
    code = (
        "import sys, runpy; sys.argv=['run_training.py','score-reply','--help']\n"
        "try:\n    runpy.run_path('run_training.py', run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "print([m for m in ('rich','pypinyin','rapidfuzz','opencc','scoring.scorer') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_score_reply_at_a_scenario_turn_shows_points_wrong_facts_and_the_branch() -> None:
    from conftest import run_cli

    result = run_cli(
        "score-reply",
        "开庭地点在第十一法庭",
        "--scenario",
        "wrong-courtroom",
        "--turn",
        "waiting",
        "--seed",
        "1",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["scenario"], data["turn"], data["next"]) == ("wrong-courtroom", "waiting", "where_again")
    assert data["points_missed"] == ["tell_room"] and data["score"] == 0
    assert [(c["said"], c["right"]) for c in data["contradictions"]] == [("第十一法庭", "第十二法庭")]
    shown = run_cli(
        "score-reply", "开庭地点在第十二法庭", "--scenario", "wrong-courtroom", "--turn", "waiting", "--seed", "1"
    )
    assert "✓ 要点 告诉她正确的开庭地点" in shown.stdout and "会走到: " in shown.stdout
    wrong = run_cli("score-reply", "好的", "--scenario", "wrong-courtroom", "--turn", "waitng")
    assert (
        wrong.returncode == 1
        and wrong.stderr == "错误: 场景 wrong-courtroom 没有轮次 'waitng' - 是不是想写 'waiting'?\n"
    )
