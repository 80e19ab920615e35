"""The work order a call ends with: field matching in common forms, the score, the replies-file section, JSON."""

from __future__ import annotations

import json

import pytest

from core.errors import TrainerError
from scoring.scorer import Scorer
from scoring.types import KeyPoint
from scoring.work_order import TYPE_WEIGHT, WorkOrder, WorkOrderSpec, same_value, score_work_order
from simulator.work_order_form import ask, filled_with, load_json, parse_section, split_section

SPEC = WorkOrderSpec(
    "联系法官",
    {"case_no": "（二零二四）沪零一零五民初二零九三号", "judge": "陆法官", "phone": "13812345678"},
    (KeyPoint("wants_evidence", "想看对方的新证据", ("证据",)),),
    "2个工作日",
)


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return Scorer.load()


@pytest.mark.parametrize(
    ("want", "got"),
    [
        ("（二零二四）沪零一零五民初二零九三号", "(2024)沪0105民初2093号"),
        ("（二零二四）沪零一零五民初二零九三号", "2024沪0105民初2093"),
        ("陆法官", "陆"),
        ("陆法官", "陆法官（民一庭）"),
        ("13812345678", "138 1234 5678"),
        ("13812345678", "一三八一二三四五六七八"),
        ("2个工作日", "两个工作日"),
        ("第十二法庭", "12号法庭"),
        ("二十万", "20万"),  # written 万 amounts, with or without 元, with a decimal point
        ("十三万元", "13万"),
        ("二十一万五千元", "21.5万元"),
    ],
)
def test_a_field_matches_its_value_in_common_forms(want: str, got: str) -> None:
    assert same_value(want, got)


@pytest.mark.parametrize(
    ("want", "got"),
    [
        ("（二零二四）沪零一零五民初二零九三号", "(2024)沪0105民初2094号"),
        ("（二零二四）沪零一零五民初二零九三号", "(2024)沪0105民初209"),
        ("陆法官", "王法官"),
        ("13812345678", "13812345679"),
        ("2个工作日", "三个工作日"),
        ("13812345678", ""),
        ("二十万", "21万"),
        ("二十一万五千元", "2.15万元"),
    ],
)
def test_a_wrong_or_empty_field_does_not_match(want: str, got: str) -> None:
    assert not same_value(want, got)


def test_a_right_work_order_scores_100(scorer: Scorer) -> None:
    filled = WorkOrder(
        "联系法官",
        {"case_no": "(2024)沪0105民初2093号", "judge": "陆", "phone": "138 1234 5678"},
        "当事人想尽快看到对方提交的新证据",
        "两个工作日",
    )
    result = score_work_order(SPEC, filled, scorer)
    assert result.score == 100.0
    assert result.type_ok
    assert result.mistakes() == []
    assert result.to_json()["fields"]["judge"] == {"want": "陆法官", "got": "陆", "ok": True}


def test_each_wrong_part_costs_its_share_and_is_named(scorer: Scorer) -> None:
    filled = WorkOrder(
        "咨询", {"case_no": "(2024)沪0105民初2093号", "judge": "王法官", "phone": "13812345678"}, "催一下", ""
    )
    result = score_work_order(SPEC, filled, scorer)
    total = TYPE_WEIGHT + 3 + 1 + 1
    assert result.score == round(100 * (2) / total, 1)  # case number and phone right; type, judge, summary, time wrong
    assert not result.type_ok
    mistakes = result.mistakes()
    assert mistakes[0] == "工单类型应为「联系法官」,填成了「咨询」"
    assert "承办法官应为「陆法官」,填成了「王法官」" in mistakes
    assert "诉求摘要漏了: 想看对方的新证据" in mistakes
    assert "答复时限应为「2个工作日」,填成了「(空)」" in mistakes
    data = result.to_json()
    assert data["type_ok"] is False and data["fields"]["phone"]["ok"] is True


def test_no_work_order_scores_zero(scorer: Scorer) -> None:
    result = score_work_order(SPEC, None, scorer)
    assert result.score == 0.0
    assert result.filled.empty


def test_the_replies_section_is_split_and_parsed_with_line_numbers() -> None:
    lines = [
        "# 脚本",
        "您好，请讲。",
        "",
        "[工单]",
        "工单类型: 联系法官",
        "案号：{case_no}",
        "judge: {judge}",
        "诉求摘要: 想看证据",
    ]
    replies, section = split_section(lines)
    assert replies == ["# 脚本", "您好，请讲。", ""]
    assert section is not None and section[0] == (5, "工单类型: 联系法官")
    order = filled_with(parse_section(section, "r.txt"), {"case_no": "（2024）沪0105民初1号", "judge": "陆法官"})
    assert order == WorkOrder("联系法官", {"case_no": "（2024）沪0105民初1号", "judge": "陆法官"}, "想看证据", "")


def test_a_bad_section_line_names_file_and_line() -> None:
    _, section = split_section(["好的。", "[工单]", "工单类型: 投诉", "法官名字 陆法官"])
    with pytest.raises(TrainerError, match=r"^r\.txt:4: 工单一行应写成「标签: 内容」"):
        parse_section(section or [], "r.txt")


def test_json_work_order_and_its_errors(tmp_path) -> None:
    good = tmp_path / "wo.json"
    good.write_text(json.dumps({"type": "投诉", "fields": {"phone": "139"}, "summary": "态度差"}), encoding="utf-8")
    assert load_json(good) == WorkOrder("投诉", {"phone": "139"}, "态度差", "")
    bad = tmp_path / "bad.json"
    bad.write_text('{"type": "投诉",\n "fields": }', encoding="utf-8")
    with pytest.raises(TrainerError, match=r"bad\.json:2: 工单文件不是有效的 JSON"):
        load_json(bad)
    with pytest.raises(TrainerError, match="无法读取工单文件"):
        load_json(tmp_path / "missing.json")


def test_the_terminal_form_asks_type_by_number_then_each_field() -> None:
    answers = iter(["9", "1", "(2024)沪0105民初2093号", "陆", "13812345678", "想看证据", "2个工作日"])
    asked: list[str] = []

    def prompt(label: str) -> str:
        asked.append(label)
        return next(answers)

    order = ask(SPEC, prompt)
    assert order.type == "联系法官"
    assert asked[0] == asked[1]  # an out-of-range number asks again
    assert asked[2:] == ["案号", "承办法官", "联系电话", "诉求摘要", "答复时限"]
    assert order.fields == {"case_no": "(2024)沪0105民初2093号", "judge": "陆", "phone": "13812345678"}


# -- end to end: a scenario's work order through the session, the scorecard and practice --json ------------------


def _judge_no_answer():
    from simulator.library import find_scenario

    return find_scenario("judge-no-answer")


def test_the_work_order_counts_its_share_of_the_call_score(scorer: Scorer) -> None:
    from scoring.scorecard import WORK_ORDER_SHARE
    from simulator.session import play

    scenario = _judge_no_answer()
    example = scenario.examples[0]
    values = scenario.draw(example.seed)
    replies = [r.replace("{judge}", values["judge"]) for r in example.replies]
    good = play(scenario, replies, seed=example.seed, scorer=scorer, work_order=example.work_order)
    empty = play(scenario, replies, seed=example.seed, scorer=scorer)
    assert good.scorecard.work_order is not None and good.scorecard.work_order.score == 100.0
    assert empty.scorecard.work_order is not None and empty.scorecard.work_order.score == 0.0
    assert round(good.scorecard.score - empty.scorecard.score, 1) == round(100 * WORK_ORDER_SHARE, 1)
    assert any("工单类型应为「联系法官」" in r.why for r in empty.scorecard.reasons)
    assert empty.scorecard.practise_next[0].startswith("挂断后把工单填完整")


def test_a_scenario_without_a_work_order_scores_as_before(scorer: Scorer) -> None:
    from simulator.library import find_scenario
    from simulator.session import play

    scenario = find_scenario("wrong-courtroom")
    assert scenario.work_order is None
    session = play(
        scenario,
        list(scenario.examples[0].replies),
        seed=scenario.examples[0].seed,
        scorer=scorer,
        work_order=WorkOrder("咨询"),
    )
    assert session.scorecard.work_order is None
    assert session.scorecard.to_json()["work_order"] is None


def test_practice_reads_the_replies_file_section_and_reports_the_work_order(tmp_path) -> None:
    from tests.conftest import run_cli

    replies = tmp_path / "r.txt"
    text = open("scenarios/replies/judge-no-answer.txt", encoding="utf-8").read()
    replies.write_text(text.replace("联系电话: {phone}", "联系电话: 110"), encoding="utf-8")
    result = run_cli(
        "practice", "judge-no-answer", "--replies", str(replies), "--no-audio", "--no-save", "--seed", "2", "--json"
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    order = data["work_order"]
    assert order == data["scorecard"]["work_order"]
    assert order["type_ok"] is True
    assert order["fields"]["phone"] == {"want": data["variables"]["phone"], "got": "110", "ok": False}
    assert order["fields"]["case_no"]["ok"] is True
    assert "联系电话应为" in result.stderr  # the scorecard's table and reasons show the wrong field


def test_practice_refuses_a_broken_work_order_file_before_the_call(tmp_path) -> None:
    from tests.conftest import run_cli

    bad = tmp_path / "wo.json"
    bad.write_text("{not json", encoding="utf-8")
    result = run_cli(
        "practice",
        "judge-no-answer",
        "--replies",
        "scenarios/replies/judge-no-answer.txt",
        "--no-audio",
        "--no-save",
        "--work-order",
        str(bad),
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"{bad}:1: 工单文件不是有效的 JSON" in result.stderr


def test_the_work_order_is_stored_shown_and_averaged_for_supervisors(tmp_path, capsys) -> None:
    from simulator.cli import main

    db = str(tmp_path / "h.db")
    replies = tmp_path / "r.txt"
    text = open("scenarios/replies/judge-no-answer.txt", encoding="utf-8").read()
    replies.write_text(text.replace("工单类型: 联系法官", "工单类型: 咨询"), encoding="utf-8")
    for trainee, path in (("王小明", "scenarios/replies/judge-no-answer.txt"), ("李华", str(replies))):
        assert (
            main(
                [
                    "practice",
                    "judge-no-answer",
                    "--replies",
                    path,
                    "--no-audio",
                    "--seed",
                    "1",
                    "--trainee",
                    trainee,
                    "--db",
                    db,
                ]
            )
            == 0
        )
    capsys.readouterr()

    assert main(["team", "--db", db, "--json", "--sort", "work_order"]) == 0
    team = json.loads(capsys.readouterr().out)
    by_name = {t["trainee"]: t["work_order"] for t in team}
    assert by_name["王小明"] > by_name["李华"]  # 咨询 instead of 联系法官 costs the type's share
    assert [t["trainee"] for t in team] == ["王小明", "李华"]

    assert main(["history", "--db", db, "--json"]) == 0
    call_id = next(r["call_id"] for r in json.loads(capsys.readouterr().out) if r["trainee"] == "李华")
    assert main(["history", "show", call_id, "--db", db, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["work_order"]["type"] == {"want": "联系法官", "got": "咨询"}
    assert shown["work_order"]["type_ok"] is False
    assert main(["history", "show", call_id, "--db", db]) == 0
    out = capsys.readouterr().out
    assert "工单" in out and "咨询" in out and "联系法官" in out
