"""The scorer on the bundled guide: categories with spans, negation, allow-lists, double negatives,
recognizer errors, key points, suggestions, turn scores and their reasons."""

from __future__ import annotations

import pytest
from conftest import ROOT

from scoring.scorer import PENALTY, Scorer
from scoring.types import KeyPoint

DATA = ROOT / "tests" / "data"


@pytest.fixture(scope="session")
def scorer() -> Scorer:
    return Scorer.default()


def categories(scorer: Scorer, text: str) -> list[str]:
    return scorer.analyze(text).categories


def forbidden(scorer: Scorer, text: str) -> list[str]:
    return [f.id for f in scorer.analyze(text).forbidden]


# -- spans -------------------------------------------------------------------------------------


def test_matches_point_at_the_words_in_the_reply_as_given(scorer: Scorer) -> None:
    text = "嗯，你好，請講。請您報一下案號。"
    analysis = scorer.analyze(text)
    assert analysis.categories == ["greeting", "ask_case_info"]
    shown = {m.category: text[m.span[0] : m.span[1]] for m in analysis.matches}
    assert shown["greeting"] in ("你好", "請講")
    assert text[slice(*[m for m in analysis.matches if m.category == "ask_case_info"][0].span)] == "報一下案號"


def test_forbidden_span_and_suggestion(scorer: Scorer) -> None:
    text = "这个我不知道。"
    (use,) = scorer.analyze(text).forbidden
    assert (use.id, use.phrase, text[use.span[0] : use.span[1]]) == ("dont_know", "不知道", "不知道")
    assert "您" in use.suggest and use.severity == "major"


def test_json_shape_of_an_analysis(scorer: Scorer) -> None:
    data = scorer.analyze("您好,请讲。不知道。", expect=["greeting", "hold"]).to_json()
    assert data["categories"] == ["greeting"]
    assert data["forbidden"][0]["phrase"] == "不知道" and data["forbidden"][0]["span"] == [6, 9]
    assert {"category", "span", "guide_phrase"} <= set(data["matches"][0])
    assert data["suggestions"] == [{"category": "hold", "phrase": scorer.guide.categories["hold"].standard}]


# -- short forms need boundaries ---------------------------------------------------------------


@pytest.mark.parametrize("text", ["您好像记错了时间。", "您好好想一想。", "再见到法官的时候我当面说。"])
def test_short_forms_inside_other_words_do_not_count(scorer: Scorer, text: str) -> None:
    assert "greeting" not in categories(scorer, text) and "closing" not in categories(scorer, text)


# -- negation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "我不会转告法官的。",
        "我现在没法给您登记工单。",
        "我没有办法帮您转告法官。",
        "我不能保证法官今天一定回复您。",
        "您不用提供案号。",
        "这个不需要您提供身份证号。",
        "不用等了,系统今天查不到。",
    ],
)
def test_negated_phrases_earn_nothing(scorer: Scorer, text: str) -> None:
    assert categories(scorer, text) == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("您不用着急,慢慢说。", "empathy"),  # negative in form, still empathy
        ("你先不要着急嘛慢慢说", "empathy"),
        ("请您不要挂机。", "hold"),
        ("不用谢。", "closing"),
        ("没问题,我会转告法官。", "commitment"),  # 没问题 negates nothing after it
        ("我不能保证法官今天回复,但我会把您的情况转告他。", "commitment"),  # a contrast ends the negation
        ("您不用说当事人姓名,报一下案号就可以。", "ask_case_info"),
        ("请问你是不是当事人本人?", "verify_identity"),  # 是不是 is a question, not a negation
    ],
)
def test_negative_forms_that_still_count(scorer: Scorer, text: str, category: str) -> None:
    assert category in categories(scorer, text)


# -- forbidden phrases: allow-lists and double negatives ----------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "不知道您是否方便留一个联系电话?",
        "不清楚的地方您可以再打过来问。",
        "如果您不清楚怎么网上立案,可以看一下网站上的操作指引。",
        "电话里信号不好,我听得不太清楚,麻烦您大声一点。",
        "我不是不知道,是系统里暂时查不到这条记录。",  # double negative
        "这不是不归我们管,是要先去立案庭立案。",
        "您也可以登录上海法院12368网站自助查询案件进度。",
        "陆法官今天已经下班了,我帮您登记一下。",
        "我没听懂,麻烦您再说一遍好吗?",
        "您刚才说过的情况我都记下来了。",
        "不管怎样,我都会帮您把情况转给法官。",
    ],
)
def test_acceptable_phrases_with_forbidden_words(scorer: Scorer, text: str) -> None:
    assert forbidden(scorer, text) == []


def test_punctuation_keeps_an_allowed_phrase_from_covering_a_forbidden_one(scorer: Scorer) -> None:
    assert forbidden(scorer, "我不知道,你自己去查吧。") == ["dont_know", "check_yourself"]
    assert forbidden(scorer, "不知道您是否方便") == []


def test_overlapping_forbidden_readings_count_once(scorer: Scorer) -> None:
    assert forbidden(scorer, "有意见你找领导去") == ["complain_to_boss"]


# -- recognizer errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("你好请将", "greeting"),
        ("嗯那个请你报一下按号和发官的名字", "ask_case_info"),
        ("你的暗号是多少", "ask_case_info"),
        ("案后是多少你知道吗", "ask_case_info"),
        ("请你收等我帮你差一下", "hold"),
        ("我会专告发官请放心", "commitment"),
        ("幺二三六八你好请讲", "greeting"),
        ("請您稍等", "hold"),
    ],
)
def test_recognizer_errors_are_not_the_trainees_fault(scorer: Scorer, text: str, category: str) -> None:
    assert category in categories(scorer, text)


@pytest.mark.parametrize(
    ("text", "fid"),
    [("嗯那个我布知道", "dont_know"), ("这部归我们馆", "not_our_business"), ("你听不动吗", "cant_understand")],
)
def test_recognizer_errors_do_not_hide_forbidden_phrases(scorer: Scorer, text: str, fid: str) -> None:
    assert fid in forbidden(scorer, text)


def test_a_homophone_alone_is_not_enough_for_a_short_phrase(scorer: Scorer) -> None:
    # 遍好 sounds like 编号, but a two-character phrase needs one character right
    assert "ask_case_info" not in categories(scorer, "麻烦您再说一遍好吗")


def test_words_inside_a_forbidden_phrase_earn_no_category(scorer: Scorer) -> None:
    assert categories(scorer, "案号你自己查一下嘛。") == []


# -- judgeable ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "没有听到内容"),
        ("嗯…", "没有听到内容"),
        ("okay okay", "没有识别出中文"),
        ("字幕由Amara.org社区提供", "杂音"),
    ],
)
def test_empty_or_garbled_replies_are_not_judged(scorer: Scorer, text: str, why: str) -> None:
    analysis = scorer.analyze(text, expect=["greeting"])
    assert not analysis.judgeable and why in analysis.why_not_judgeable
    assert analysis.suggestions == [] and analysis.categories == []


def test_a_repeating_recognizer_loop_is_garbled(scorer: Scorer) -> None:
    assert not scorer.analyze("啊啊啊啊啊啊啊啊啊啊").judgeable


# -- key points --------------------------------------------------------------------------------

CASE = KeyPoint("case_no", "核对案号", ("(2022)沪0105民初1234号",))


@pytest.mark.parametrize(
    "text",
    ["您的案号是(2022)沪0105民初1234号吗", "二零二二年沪零一零五民初一二三四号对吧", "2022沪0105民初一千二百三十四号"],
)
def test_key_point_case_number_in_any_writing(scorer: Scorer, text: str) -> None:
    (point,) = scorer.analyze(text, key_points=[CASE]).points
    assert point.id == "case_no"


def test_key_point_other_case_number_does_not_count(scorer: Scorer) -> None:
    assert scorer.analyze("您的案号是(2023)沪0105民初5678号吗", key_points=[CASE]).points == []


def test_key_point_phrases_use_the_same_matcher(scorer: Scorer) -> None:
    point = KeyPoint("ask_case_no", "询问案号", ("案号", "哪个案子"))
    assert [p.id for p in scorer.analyze("你的按号是多少", key_points=[point]).points] == ["ask_case_no"]
    assert scorer.analyze("您不用提供案号", key_points=[point]).points == []  # negated


def test_key_point_with_markup_from_a_scenario_author(scorer: Scorer) -> None:
    point = KeyPoint("judge", "问法官", ("法官…名字",))
    assert scorer.analyze("负责的法官叫什么名字", key_points=[point]).points[0].phrase == "法官…名字"


# -- turn scores -------------------------------------------------------------------------------


def test_full_marks_for_every_expected_category(scorer: Scorer) -> None:
    expect = ["greeting", "ask_case_info"]
    turn = scorer.score_turn(scorer.analyze("您好,请讲。请您报一下案号。", expect), expect)
    assert turn.score == 100.0 and turn.hit == expect and turn.missed == [] and not turn.critical


def test_a_missed_category_costs_its_share_and_says_what_to_say(scorer: Scorer) -> None:
    expect = ["greeting", "ask_case_info"]
    turn = scorer.score_turn(scorer.analyze("您好,请讲。", expect), expect)
    assert turn.score == 50.0 and turn.missed == ["ask_case_info"]
    assert any(scorer.guide.categories["ask_case_info"].standard in r.why for r in turn.reasons)


def test_key_points_count_beside_categories(scorer: Scorer) -> None:
    point = KeyPoint("ask_case_no", "询问案号", ("案号",))
    analysis = scorer.analyze("您好", ["greeting"], [point])
    turn = scorer.score_turn(analysis, ["greeting"], [point])
    assert turn.score == 50.0 and turn.points_missed == ["ask_case_no"] and turn.points_hit == []


def test_forbidden_phrases_cost_by_severity(scorer: Scorer) -> None:
    turn = scorer.score_turn(scorer.analyze("不知道。"), [])
    assert turn.score == 100 - PENALTY["major"] and not turn.critical
    turn = scorer.score_turn(scorer.analyze("你听不懂吗?"), [])
    assert turn.score == 100 - PENALTY["critical"] and turn.critical


def test_reasons_add_up_to_the_score(scorer: Scorer) -> None:
    expect = ["greeting", "ask_case_info", "hold"]
    turn = scorer.score_turn(scorer.analyze("您好,急什么,请您稍等。", expect), expect)
    assert turn.score == round(sum(r.delta for r in turn.reasons), 1)
    assert all(r.why for r in turn.reasons)


def test_score_never_goes_below_zero(scorer: Scorer) -> None:
    turn = scorer.score_turn(scorer.analyze("我怎么知道,你听不懂吗,有意见找领导去,不要再说了"), ["greeting"])
    assert turn.score == 0.0 and turn.critical


def test_an_unjudgeable_reply_scores_as_saying_nothing(scorer: Scorer) -> None:
    analysis = scorer.analyze("", ["greeting"])
    assert scorer.score_turn(analysis, ["greeting"]).score == 0.0
    assert scorer.score_turn(analysis, []).score == 100.0


def test_unknown_categories_in_expect_do_not_crash(scorer: Scorer) -> None:
    turn = scorer.score_turn(scorer.analyze("您好", ["greeting", "nonexistent"]), ["greeting", "nonexistent"])
    assert turn.score == 50.0 and turn.missed == ["nonexistent"]


def test_deterministic(scorer: Scorer) -> None:
    text = "您好请讲 你先别着急 我帮你查一下 请稍等 不知道"
    first = scorer.analyze(text, ["greeting", "hold"]).to_json()
    assert all(scorer.analyze(text, ["greeting", "hold"]).to_json() == first for _ in range(5))
    assert Scorer.load().analyze(text, ["greeting", "hold"]).to_json() == first


# -- quotes, reported speech, 别, tones ------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "您是说前面的同事跟您讲“不归我们管”？",  # inside quotation marks
        "他告诉您“找别人去”？这样说确实不对。",  # the 您 before the quote is outside it: still a quote
        "您说书记员让您自己上网查,是吧?",  # reported after 您说, same clause
        "法官说这事不归他管,您可以去执行局问。",
    ],
)
def test_quoting_someone_else_is_not_using_a_forbidden_phrase(scorer: Scorer, text: str) -> None:
    assert forbidden(scorer, text) == []


@pytest.mark.parametrize(
    ("text", "fid"),
    [
        ("跟你讲过三遍了,强制执行要先立案。", "said_already"),  # 跟您讲: 您 is spoken to, not speaking
        ("您说的那些我不管。", "i_dont_care"),  # 您说的: not a quote
        ("不知道,您自己去查。", "dont_know"),
    ],
)
def test_what_looks_like_reported_speech_but_is_the_agent(scorer: Scorer, text: str, fid: str) -> None:
    assert fid in forbidden(scorer, text)


def test_bie_negates_what_follows(scorer: Scorer) -> None:
    assert "verify_identity" not in categories(scorer, "您先别告诉我密码，这里用不上。")
    assert "empathy" in categories(scorer, "我特别理解您的心情。")  # 特别 is not 别
    assert "commitment" in categories(scorer, "你别急我这边帮你跟法官说")  # 您别 belongs to 别急


def test_tone_tells_which_from_that(scorer: Scorer) -> None:
    assert "ask_case_info" in categories(scorer, "您的案子是哪个法官在办？")
    assert "ask_case_info" not in categories(scorer, "您说的那个法官我不认识。")


def test_near_homophones_do_not_merge_an_and_ang(scorer: Scorer) -> None:
    assert "closing" not in categories(scorer, "我刚才没讲清楚,我换个说法再讲一遍。")  # 再讲 is not 再见
    assert "empathy" not in categories(scorer, "电话先别放下，我看看系统。")  # 别放 is not 别烦
    assert "hold" in categories(scorer, "收等一下我查查")  # ou/ao still merge


@pytest.mark.parametrize(
    ("text", "fid"),
    [
        ("阿拉勿晓得。", "dont_know"),
        ("侬自家去查。", "check_yourself"),
        ("有意见去寻领导。", "complain_to_boss"),
    ],
)
def test_shanghainese_forbidden_phrases(scorer: Scorer, text: str, fid: str) -> None:
    assert [f.id for f in scorer.analyze(text).forbidden] == [fid]


def test_a_clause_end_phrase_only_counts_at_the_end_of_a_clause(scorer: Scorer) -> None:
    assert [f.id for f in scorer.analyze("这么简单，您听得懂吗？").forbidden] == ["cant_understand"]
    assert scorer.analyze("您听得懂上海话吗？").forbidden == []


def test_words_in_quotation_marks_earn_no_category(scorer: Scorer) -> None:
    assert "hold" not in scorer.analyze("书记员跟您说“请稍等”，然后电话就断了？").categories
    assert "hold" in scorer.analyze("书记员跟您说的情况我知道了，请您稍等。").categories


def test_a_lead_in_clause_makes_the_next_clause_a_general_rule(scorer: Scorer) -> None:
    assert "commitment" not in scorer.analyze("按规定，法官会在三个工作日内答复。").categories
    # …but not when the agent takes the act back
    assert "commitment" in scorer.analyze("按规定，我会在三个工作日内给您答复。").categories


def test_a_short_phrase_is_not_read_across_punctuation(scorer: Scorer) -> None:
    assert "greeting" not in scorer.analyze("我给您，后面再说。").categories
    assert "greeting" in scorer.analyze("王先生您好。").categories


def test_a_surname_before_the_judge_is_still_the_judge(scorer: Scorer) -> None:
    assert "commitment" in scorer.analyze("您的意思我明白了，我原话转告给钱法官。").categories


def test_if_not_is_not_a_negation(scorer: Scorer) -> None:
    assert "commitment" in scorer.analyze("还有别的事吗？没有的话我这就去催法官。").categories


def test_a_negated_ba_reaches_the_verb(scorer: Scorer) -> None:
    assert "commitment" not in scorer.analyze("我不会把您的情况转告法官。").categories
    assert "commitment" in scorer.analyze("我会把您的情况转告法官。").categories


def test_the_compiled_scorer_is_cached_by_content_and_rebuilt_when_stale_or_damaged(tmp_path, monkeypatch) -> None:
    import shutil

    from scoring.guide import GUIDE_PATH
    from scoring.reply_model import MODEL_PATH
    from scoring.scorer import compiled_key, load_compiled

    monkeypatch.setenv("HOTLINE_TRAINER_CACHE", str(tmp_path / "cache"))
    first = load_compiled()
    files = list((tmp_path / "cache" / "scorer").glob("*.pickle"))
    assert [f.stem for f in files] == [compiled_key()]
    again = load_compiled()
    reply = "您好，请讲。您别着急，请您报一下案号，我帮您转告法官。"
    assert again.analyze(reply) == first.analyze(reply)
    assert again is not first  # read from the file, not the same object

    files[0].write_bytes(b"not a pickle")  # damaged: rebuilt, not an error
    assert load_compiled().analyze(reply) == first.analyze(reply)

    guide = tmp_path / "guide.yaml"
    shutil.copy(GUIDE_PATH, guide)
    guide.write_text(guide.read_text(encoding="utf-8") + "\n# an edit\n", encoding="utf-8")
    assert compiled_key(guide, MODEL_PATH) != compiled_key()
    load_compiled(guide, MODEL_PATH)
    assert [f.stem for f in (tmp_path / "cache" / "scorer").glob("*.pickle")] == [compiled_key(guide, MODEL_PATH)]


def test_a_scorer_cached_by_one_process_judges_like_a_fresh_one_in_another(tmp_path) -> None:
    """Character codes must not depend on the process: a cached scorer read by a new process must match the same
    phrases (homophones, near homophones and all) as one compiled there."""
    import json
    import os
    import subprocess
    import sys

    lines = [json.loads(x)["text"] for x in (DATA / "scoring_eval_dev6.jsonl").read_text(encoding="utf-8").splitlines()]
    script = (
        "import json, sys\n"
        "from scoring.scorer import load_compiled\n"
        "s = load_compiled()\n"
        "lines = json.loads(sys.stdin.read())\n"
        "print(json.dumps([[s.analyze(t).categories, [f.id for f in s.analyze(t).forbidden]] for t in lines]))\n"
    )
    env = {**os.environ, "HOTLINE_TRAINER_CACHE": str(tmp_path / "cache")}
    runs = [
        subprocess.run(
            [sys.executable, "-c", script],
            input=json.dumps(lines),
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            check=True,
        ).stdout  # fmt: skip
        for _ in range(2)  # the first compiles and writes the cache; the second reads it
    ]
    assert list((tmp_path / "cache" / "scorer").glob("*.pickle"))
    assert json.loads(runs[1]) == json.loads(runs[0])
