"""Substance: a drawn fact stated in any form, a wrong one caught as a contradiction, must-not rules with the
guide's guards, the hotline's boundaries in the guide, and what a turn and a call make of them (issue 10)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scoring.normalize import normalize
from scoring.scorer import PENALTY, Scorer
from scoring.types import KeyPoint, MustNot
from scoring.values import ValueFinder, ValueRule, canonical, judge_mentions

DATA = Path(__file__).resolve().parent / "data"
ROOMS = ("第十一法庭", "第十二法庭", "第十六法庭")


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return Scorer.default()


def room_point(right: str = "第十二法庭", elsewhere: tuple[str, ...] = ("第三法庭",)) -> KeyPoint:
    return KeyPoint("tell_room", "告诉她正确的开庭地点", (), "right_room", right,
                    tuple(r for r in ROOMS if r != right), elsewhere)  # fmt: skip


def stated(value: str, others: tuple[str, ...], text: str, elsewhere: tuple[str, ...] = ()) -> tuple[bool, list[str]]:
    right, wrong = judge_mentions(ValueFinder(ValueRule(value, others, elsewhere)), normalize(text))
    return right, [m.said for m in wrong]


# -- the forms of a value ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("第12号法庭", ["1", "2", "法", "庭"]),
        ("十二号庭", ["1", "2", "法", "庭"]),
        ("第十法庭", ["1", "0", "法", "庭"]),
        ("下午两点半", ["T14:30a"]),
        ("9:30", ["T09:30?"]),
        ("14点", ["T14:00a"]),
        ("十二月十日", ["D-12-10"]),
        ("12月10号", ["D-12-10"]),
        ("1,300元", ["M1300"]),
        ("两千五百块钱", ["M2500"]),
        ("2022年沪0105民初1234号", list("2022沪0105民初1234号")),
    ],
)
def test_spoken_and_written_forms_meet_in_one_canonical_form(text: str, units: list[str]) -> None:
    assert [u.text for u in canonical(normalize(text))] == units


def test_commas_between_clauses_do_not_make_a_time_or_a_decimal() -> None:
    assert [u.text for u in canonical(normalize("十四点，十一号法庭"))] == ["T14:00a", "1", "1", "法", "庭"]
    assert "T02:00?" not in [u.text for u in canonical(normalize("按百分之二点五算"))]
    assert [u.text for u in canonical(normalize("您说慢一点"))][-2:] == ["1", "点"]  # "a little", not 1 o'clock


def test_spoken_short_forms_of_numbers() -> None:
    assert normalize("两千五").text == "二五零零"
    assert normalize("一万二").text == "一二零零零"
    assert normalize("两千零五").text == "二零零五"


@pytest.mark.parametrize(
    ("value", "others", "text"),
    [
        ("第十二法庭", ROOMS, "开庭地点是第12号法庭"),
        ("第十二法庭", ROOMS, "在十二庭"),
        ("第十二法庭", ROOMS, "地十二法庭"),  # a recognizer's 地 for 第
        ("陆法官", ("王法官", "张法官"), "您找的是路法官"),  # homophone
        ("陆法官", ("王法官", "张法官"), "法官姓陆"),
        ("下午两点", ("上午九点", "上午九点半"), "两点钟开庭"),
        ("下午两点", ("上午九点", "上午九点半"), "14:00"),
        ("十二月十七日", ("十二月十日", "一月八日"), "十七号"),
        ("五百五十元", ("一百元", "一千三百元"), "大约550块钱"),
        ("一千三百元", ("一百元", "五百五十元"), "估计一千三左右"),
        ("十五天", ("十天",), "判决书送达之日起十五日内可以上诉"),  # 十五日内 = 15 days
        ("十五天", ("十天",), "从签收的第二天开始算，十五天内上诉"),  # 第二天 is a day, not a span
        ("五月十五日", ("五月十六日",), "您5月15日以后再来"),  # …日以后 after a month is still a date
    ],
)
def test_the_right_value_in_any_common_form(value: str, others: tuple[str, ...], text: str) -> None:
    assert stated(value, others, text) == (True, [])


@pytest.mark.parametrize(
    ("value", "others", "text", "said"),
    [
        ("第十二法庭", ROOMS, "开庭地点在第十一法庭", "第十一法庭"),
        ("第十二法庭", ROOMS, "地点在第五法庭", "第五法庭"),  # the same kind, not in the list
        ("第十二法庭", ROOMS, "第十二法庭，哦不对，是第十一法庭", "第十一法庭"),  # corrected to a wrong one
        ("陆法官", ("王法官", "张法官"), "是何法官承办的", "何法官"),
        ("下午两点", ("上午九点", "上午九点半"), "下午三点", "下午三点"),
        ("下午两点", ("上午九点", "上午九点半"), "下午两点半", "下午两点半"),
        ("五百五十元", ("一百元", "一千三百元"), "要交八百元", "八百元"),
        ("十二月十七日", ("十二月十日", "一月八日"), "十二月二十四号", "十二月二十四号"),
        ("长宁区人民法院", ("闵行区人民法院",), "您得到闵行区人民法院起诉", "闵行区人民法院"),  # 起诉 is no range
        ("十五天", ("十天",), "上诉期限是十日内", "十日"),  # 十日内 is a number of days
    ],
)
def test_another_value_of_the_kind_instead_is_a_contradiction(value, others, text, said) -> None:
    assert stated(value, others, text) == (False, [said])


@pytest.mark.parametrize(
    "text",
    [
        "不是第十一法庭，是第十二法庭",  # denied, then right
        "是第十一法庭吗？",  # a question
        "开庭地点我帮您问问",  # no value at all
        "您现在在第三法庭对吧",  # the caller's wrong room: another variable
        "一万以内交五十元，超过的部分按百分之二点五",  # a scale, not the fee
    ],
)
def test_what_is_no_contradiction(text: str) -> None:
    assert stated("第十二法庭", ROOMS, text, elsewhere=("第三法庭",))[1] == []
    assert stated("五百五十元", ("一百元", "一千三百元"), text)[1] == []


def test_a_contradiction_misses_the_point_and_halves_the_turn(scorer: Scorer) -> None:
    point = room_point()
    right = scorer.score_turn(
        scorer.analyze("让您久等了，开庭地点是第十二法庭。", ["hold"], [point]), ["hold"], [point]
    )
    analysis = scorer.analyze("让您久等了，开庭地点是第十一法庭。", ["hold"], [point])
    wrong = scorer.score_turn(analysis, ["hold"], [point])
    assert right.score == 100.0 and right.points_hit == ["tell_room"]
    assert wrong.points_missed == ["tell_room"] and wrong.score == 25.0  # 50 for the hold, then halved
    assert [(c.point, c.said, c.right) for c in wrong.contradictions] == [("tell_room", "第十一法庭", "第十二法庭")]
    assert wrong.score == round(sum(r.delta for r in wrong.reasons), 1)
    assert any("第十一法庭" in r.why and "第十二法庭" in r.why for r in wrong.reasons)
    assert analysis.to_json()["contradictions"] == [
        {"point": "tell_room", "said": "第十一法庭", "right": "第十二法庭", "span": [11, 16]}
    ]


def test_any_and_value_combined_and_a_contradiction_wins(scorer: Scorer) -> None:
    point = KeyPoint("tell_room", "告诉她开庭地点", ("开庭地点…(换|改)到",), "right_room", "第十二法庭",
                     ("第十一法庭",))  # fmt: skip
    assert [p.id for p in scorer.analyze("开庭地点换到了隔壁", key_points=[point]).points] == ["tell_room"]
    analysis = scorer.analyze("开庭地点换到了第十一法庭", key_points=[point])
    assert analysis.points == [] and [c.point for c in analysis.contradictions] == ["tell_room"]


# -- must-not rules -----------------------------------------------------------------------------------

PREDICT = MustNot("predict_outcome", "对案件结果作判断", ("(肯定|一定)(能|会)(赢|胜诉)",), "critical",
                  "案件结果要以法院的裁判为准。")  # fmt: skip


@pytest.mark.parametrize(
    ("text", "broken"),
    [
        ("您放心，这官司您肯定能赢。", True),
        ("您放心，这官司您肯定能营。", True),  # a recognizer's homophone
        ("我们不能说您肯定能赢，要以判决为准。", False),  # negated
        ("您是说律师跟您讲“肯定能赢”？", False),  # quoted
    ],
)
def test_must_not_uses_the_guides_matcher_and_guards(scorer: Scorer, text: str, broken: bool) -> None:
    assert bool(scorer.analyze(text, must_not=[PREDICT]).must_not) is broken


def test_a_breach_costs_by_severity_fails_the_turn_and_says_what_to_say(scorer: Scorer) -> None:
    rule = MustNot("promise_refund", "承诺退款时间", ("周末(前|之前)…退",), "major", "有了结果法院会通知您。")
    analysis = scorer.analyze("周末前会退给您的。", must_not=[rule])
    assert analysis.forbidden == []  # the guide's own promise_result needs a 一定/保证; this rule does not
    turn = scorer.score_turn(analysis, [])
    assert [m.id for m in turn.must_not] == ["promise_refund"] and not turn.critical
    assert turn.score <= 100 - PENALTY["major"]
    assert analysis.to_json()["must_not"][0]["suggest"] == "有了结果法院会通知您。"
    critical = MustNot("promise_refund", "承诺退款时间", rule.any, "critical", rule.suggest)
    assert scorer.score_turn(scorer.analyze("周末前会退给您的。", must_not=[critical]), []).critical


def test_one_stretch_of_words_is_charged_once(scorer: Scorer) -> None:
    """The guide's promise_result and a scenario's refund rule on the same words cost the larger penalty only."""
    rule = MustNot("promise_refund", "承诺退款时间", ("下个月…(一定|肯定)…退",), "critical", "有了结果法院会通知您。")
    analysis = scorer.analyze("钱下个月一定能退到您手上。", must_not=[rule])
    assert {f.id for f in analysis.forbidden} == {"promise_result"} and analysis.must_not
    assert scorer.score_turn(analysis, []).score == 100 - PENALTY["critical"]


# -- the guide's boundaries --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "forbidden"),
    [
        ("阿姨您放心，钱已经追回来了，下个月之前一定能退到您手上", {"promise_result"}),
        ("您这个官司稳赢的。", {"predict_outcome"}),
        ("我把陆法官的手机号告诉您。", {"judge_private_phone"}),
        ("您这个证据很充分，对方明显不占理。", {"discuss_merits"}),
        ("我不会帮你转告的，这种话跟我说没用", {"refuse_message"}),
        ("跟你解释了你也弄不明白", {"cant_understand"}),
        ("好的我帮您登记，说了你也不懂", {"cant_understand"}),
        ("你要查法官电话？那你打114去吧", {"ask_someone_else"}),
        ("这事儿甭找我们，找区里去", {"not_our_business", "ask_someone_else"}),
        ("这个案子不归我们长宁法院管辖，是浦东法院受理的，我把浦东法院的电话告诉您", set()),
        ("我们不能对案件结果作判断，要以法院的判决为准。", set()),
        ("法官的私人手机我们不能提供，我把他办公室的座机告诉您。", set()),
        ("您的诉求我会登记成工单，法官会在规定时间内答复您。", set()),
        # refusals that name whose number it is, the caller's own phone, a named office, 书面, a denied premise
        ("法官的私人手机是不能提供的。", set()),
        ("他的手机号码不方便告诉您，我帮您转接办公室。", set()),
        ("您稍等，十二月三号已经给您手机发过短信了。", set()),
        ("您去徐汇区法律援助中心问问，他们可以帮您申请。", set()),
        ("您可以到长宁区法律援助中心申请法律援助。", set()),
        ("是否批准会书面通知您。", set()),
        ("上诉不代表一定会改判，要以二审法院的裁判为准。", set()),
        ("这个官司您准会输。", {"predict_outcome"}),
        ("法官的手机号我给您，您记一下。", {"judge_private_phone"}),
    ],
)
def test_boundaries_and_own_words_rudeness(scorer: Scorer, text: str, forbidden: set[str]) -> None:
    assert {f.id for f in scorer.analyze(text).forbidden} == forbidden


@pytest.mark.parametrize("text", ["我保证下个月一定给您退回来", "阿姨您放心，追回来的钱月底前肯定退给您，我跟您保证。"])
def test_a_false_promise_earns_no_commitment(scorer: Scorer, text: str) -> None:
    analysis = scorer.analyze(text)
    assert "promise_result" in {f.id for f in analysis.forbidden} and "commitment" not in analysis.categories


def test_reassurance_still_counts_beside_a_real_promise(scorer: Scorer) -> None:
    analysis = scorer.analyze("您放心，我会把您的情况转告法官，规定时间内给您答复。")
    assert "commitment" in analysis.categories and not analysis.forbidden


# -- the measured floor on the tuning part -------------------------------------------------------------


def test_key_point_tuning_part_meets_the_floor(scorer: Scorer) -> None:
    """The key-point set's tuning part (tests/data/KEYPOINTS.md) through the library's scenarios: points,
    contradictions and must-not F1 above 0.95 (measured 0.99 / 1.00 / 0.96 after tuning; 0.89 / 0.89 / 0.47
    before). The held-out part is for bench/scoring.py only."""
    from simulator.library import load_library
    from simulator.session import judge_reply

    parts = json.loads((DATA / "parts.json").read_text(encoding="utf-8"))["keypoints"]["tuning"]
    library = {s.id: s for s in load_library()}
    counts = {"points": [0, 0, 0], "contradictions": [0, 0, 0], "must_not": [0, 0, 0]}
    for part in parts:
        for line in (DATA / f"keypoint_eval_{part}.jsonl").read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            analysis, _, _ = judge_reply(library[row["scenario"]], row["turn"], row["reply"], scorer, row["values"])
            for name, got, want in (
                ("points", {p.id for p in analysis.points}, set(row["points"])),
                (
                    "contradictions",
                    {c.point for c in analysis.contradictions},
                    {c["point"] for c in row["contradictions"]},
                ),
                ("must_not", {m.id for m in analysis.must_not}, set(row["must_not"])),
            ):
                counts[name][0] += len(got & want)
                counts[name][1] += len(got - want)
                counts[name][2] += len(want - got)
    for name, (tp, fp, fn) in counts.items():
        f1 = 2 * tp / (2 * tp + fp + fn)
        assert f1 >= 0.95, f"{name} F1 on the key-point tuning part fell to {f1:.3f}"


# -- the call: scorecard, practice --json, history, the trainee's screen ---------------------------------


def _scored(scorer: Scorer, turn_id: str, reply: str, point: KeyPoint):
    from scoring.scorecard import ScoredTurn

    analysis = scorer.analyze(reply, [], [point])
    return ScoredTurn(turn_id, reply, scorer.score_turn(analysis, [], [point]), 2.0, [point.id], {point.id: point.text})


def test_a_wrong_fact_left_standing_fails_the_call_and_a_corrected_one_does_not(scorer: Scorer) -> None:
    from scoring.scorecard import build_scorecard

    point = room_point()
    wrong = _scored(scorer, "waiting", "开庭地点在第十一法庭。", point)
    fixed = _scored(scorer, "where_again", "不好意思说错了，是第十二法庭。", point)
    fine = _scored(scorer, "thanks", "不用谢。", KeyPoint("x", "x", ("不用谢",)))
    left = build_scorecard([wrong, fine], time_limit_s=180, call_s=60, completed=True, guide=scorer.guide)
    assert not left.passed and left.contradictions == [
        {"turn": "waiting", "point": "tell_room", "text": "告诉她正确的开庭地点", "said": "第十一法庭",
         "right": "第十二法庭", "corrected": False}
    ]  # fmt: skip
    assert any("第十二法庭" in p and "第十一法庭" in p for p in left.practise_next)
    corrected = build_scorecard([wrong, fixed, fine] * 3, time_limit_s=180, call_s=60, completed=True,
                                guide=scorer.guide)  # fmt: skip
    assert corrected.contradictions[0]["corrected"] and corrected.passed


def test_linked_variables_are_drawn_at_the_same_position() -> None:
    from simulator.library import find_scenario

    scenario = find_scenario("litigation-fee")
    for seed in range(20):
        values = scenario.draw(seed)
        position = scenario.variables["amount"].index(values["amount"])
        assert values["fee"] == scenario.variables["fee"][position]


def test_practice_json_shows_contradictions_and_must_not_per_turn(tmp_path) -> None:
    from conftest import run_cli

    replies = tmp_path / "r.txt"
    replies.write_text("阿姨您好，请讲。您是哪个案子？\n阿姨您放心，钱下个月之前一定能退到您手上。\n", encoding="utf-8")
    result = run_cli("practice", "fraud-victim-refund", "--exam", "--seed", "1", "--replies", str(replies), "--json",
                     "--db", str(tmp_path / "h.db"))  # fmt: skip
    data = json.loads(result.stdout)
    breach = data["turns"][1]["must_not"]
    assert [m["id"] for m in breach] == ["promise_refund"] and {"id", "span", "text", "suggest"} <= set(breach[0])
    assert data["turns"][0]["contradictions"] == [] and not data["passed"]
    assert data["variables"]["case_no"] and data["scorecard"]["must_not"][0]["id"] == "promise_refund"

    replies.write_text("您好，请讲。请您报一下案号和承办法官的姓名。\n好的，您找的是{judge}，请您稍等。\n"
                       "让您久等了，开庭地点在第五法庭。\n", encoding="utf-8")  # fmt: skip
    result = run_cli("practice", "wrong-courtroom", "--seed", "1", "--replies", str(replies), "--json",
                     "--db", str(tmp_path / "h.db"), "--trainee", "小王")  # fmt: skip
    data = json.loads(result.stdout)
    right = data["variables"]["right_room"]
    wrong = [{k: c[k] for k in ("point", "said", "right")} for c in data["turns"][2]["contradictions"]]
    assert wrong == [{"point": "tell_room", "said": "第五法庭", "right": right}]

    shown = run_cli("progress", "小王", "--db", str(tmp_path / "h.db"), "--json")
    gaps = {(g["kind"], g["item_id"]): g["uses"] for g in json.loads(shown.stdout)["substance"]}
    assert gaps[("contradiction", "tell_room")] == 1
    team = json.loads(run_cli("team", "--db", str(tmp_path / "h.db"), "--json").stdout)
    assert {t["trainee"]: t["contradictions"] for t in team} == {"学员": 0, "小王": 1}


def test_the_feedback_panel_says_what_was_said_and_what_is_right(scorer: Scorer) -> None:
    from io import StringIO

    from rich.console import Console

    from simulator.record import TurnRecord
    from simulator.scenario import Turn
    from simulator.ui import RichUI

    point = room_point()
    rule = MustNot("blame", "责怪来电人", ("您自己(看错|走错)",), "minor", "没关系，我马上帮您确认。")
    reply = "您自己看错了，开庭地点在第十一法庭。"
    analysis = scorer.analyze(reply, [], [point], [rule])
    score = scorer.score_turn(analysis, [], [point])
    record = TurnRecord(0, "waiting", "法官怎么说?", reply, "typed", 1.0, analysis=analysis.to_json())
    out = StringIO()
    RichUI(Console(file=out, width=100, color_system=None), interactive=False).feedback(
        Turn("waiting", "…", key_points=(point,)), record, analysis, score
    )
    text = out.getvalue()
    assert "✗ 说错了 告诉她正确的开庭地点: 您说「第十一法庭」, 正确的是「第十二法庭」" in text
    assert "✗ 不能说「您自己看错」(责怪来电人)  应改说: 「没关系，我马上帮您确认。」" in text
    assert "✗ 要点 告诉她正确的开庭地点" not in text  # said once, as the contradiction
