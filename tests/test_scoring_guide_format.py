"""The guide format: phrase markup, word groups, and the file:line messages an author gets for mistakes."""

from __future__ import annotations

import pytest

from core.errors import ValidationError
from scoring.guide import FIXED_CATEGORIES, GUIDE_PATH, check_guide, load_guide
from scoring.matcher import SyntaxProblem, compile_phrase, expand_words
from scoring.scorer import Scorer

MINIMAL = "\n".join(
    ["words:", "  转告: [转告, 转达]", "categories:"]
    + [f"  {cid}:\n    title: t\n    standard: 您好\n    variants: [您好]" for cid in FIXED_CATEGORIES]
    + ["forbidden:", "  - {id: dont_know, phrase: 不知道, instead: 我帮您查一下}"]
)


def write(tmp_path, text: str):
    path = tmp_path / "guide.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_bundled_guide_is_valid_and_complete() -> None:
    guide = load_guide(GUIDE_PATH)
    assert set(FIXED_CATEGORIES) <= set(guide.categories)
    ids = {f.id for f in guide.forbidden}
    assert ids == {
        "dont_know", "not_clear", "not_our_business", "i_dont_care", "ask_someone_else", "check_yourself",
        "how_would_i_know", "why_hurry", "said_already", "cant_understand", "complain_to_boss", "off_duty",
        "rules_are_rules", "stop_talking",
        # the hotline's boundaries (issue 10)
        "predict_outcome", "promise_result", "judge_private_phone", "discuss_merits", "refuse_message",
    }  # fmt: skip
    assert all("您" in c.standard for c in guide.categories.values())
    assert all("您" in f.instead for f in guide.forbidden)
    assert {f.id for f in guide.forbidden if f.severity == "critical"} >= {
        "cant_understand",
        "complain_to_boss",
        "how_would_i_know",
        "predict_outcome",
        "promise_result",
        "judge_private_phone",
    }


def test_minimal_guide_loads(tmp_path) -> None:
    guide = load_guide(write(tmp_path, MINIMAL))
    assert guide.words == {"转告": ("转告", "转达")}
    assert Scorer(guide).analyze("您好").categories == list(FIXED_CATEGORIES)


@pytest.mark.parametrize(
    ("variant", "message"),
    [
        ("(请|麻烦(您|))稍等", "括号不能嵌套"),
        ("(新|对方…|)证据", "省略号 … 不能写在括号里;带 … 的说法单独写成一条短语"),
        ("(请|麻烦稍等", "括号没有闭合"),
        ("请)稍等", "多了一个右括号"),
        ("请|麻烦稍等", "竖线 | 只能写在括号里"),
        ("…稍等", "省略号 … 两边都要有文字"),
        ("我会…【转交】", "未定义的词组 【转交】"),
        ("我(会【转告】)", "要单独作为一个选项"),
        ("会^转告", "^ 只能写在短语的最前面"),
        ("听懂$吗", "$ 只能写在短语的最后面"),
    ],
)
def test_phrase_mistakes_name_file_and_line(tmp_path, variant: str, message: str) -> None:
    text = MINIMAL.replace("    variants: [您好]", f"    variants: [您好, '{variant}']", 1)
    guide, problems = check_guide(write(tmp_path, text))
    assert guide is None and len(problems) == 1
    (problem,) = problems
    assert problem.line == 7 and problem.where == "categories.greeting.variants[1]" and message in problem.what


def test_unknown_keys_and_missing_categories_are_reported_together(tmp_path) -> None:
    text = MINIMAL.replace("    title: t\n", "    title: t\n    variant: [x]\n", 1).replace("  closing:", "  closings:")
    with pytest.raises(ValidationError) as err:
        load_guide(write(tmp_path, text))
    whats = [p.what for p in err.value.problems]
    assert any("未知的键 'variant'" in w for w in whats) and any("缺少固定类别 closing" in w for w in whats)


def test_word_groups_expand_inside_and_outside_parentheses() -> None:
    words = {"转告": ("转告", "转达")}
    assert expand_words("我会【转告】法官", words) == "我会(转告|转达)法官"
    assert expand_words("(帮您|【转告】)", words) == "(帮您|转告|转达)"
    with pytest.raises(SyntaxProblem):
        expand_words("【没有】", words)


def test_alternatives_and_gaps_compile_to_slots() -> None:
    pattern = compile_phrase("(请|麻烦)您稍(等|候)…谢谢")
    assert len(pattern.parts) == 2 and len(pattern.parts[0]) == 3  # (请|麻烦) 您稍 (等|候)
    assert sorted(pattern.expansions()) == []  # two parts: no single concrete phrase
    assert sorted(compile_phrase("(请|麻烦)您稍(等|候)").expansions()) == [
        "请您稍候",
        "请您稍等",
        "麻烦您稍候",
        "麻烦您稍等",
    ]


def test_a_clause_start_phrase_counts_only_at_the_start_of_a_clause(tmp_path) -> None:
    pattern = compile_phrase("^会(转告|转给)")
    assert pattern.clause_start and compile_phrase("＾会转告").clause_start  # full-width ＾ too
    text = MINIMAL.replace(
        "  commitment:\n    title: t\n    standard: 您好\n    variants: [您好]",
        "  commitment:\n    title: t\n    standard: 我会转告\n    variants: ['^会(转告|转给)']",
    )
    scorer = Scorer(load_guide(write(tmp_path, text)))
    assert "commitment" in scorer.analyze("我记下了，会转给法官的。").categories
    assert "commitment" not in scorer.analyze("法官说会转给书记员。").categories


def test_a_clause_end_phrase_counts_only_at_the_end_of_a_clause(tmp_path) -> None:
    pattern = compile_phrase("听得懂(吗|么)$")
    assert pattern.clause_end and not pattern.clause_start and compile_phrase("听懂了吧＄").clause_end
    text = MINIMAL.replace("    variants: [您好]", "    variants: [您好, '^您(先|)等着(吧|)$']", 1)
    scorer = Scorer(load_guide(write(tmp_path, text)))
    assert "greeting" in scorer.analyze("行，您先等着吧。").categories
    assert "greeting" not in scorer.analyze("您先等着吧结果出来再说。").categories
    assert "greeting" not in scorer.analyze("行吧您先等着吧。").categories


def test_reported_speech_is_a_guide_key(tmp_path) -> None:
    text = MINIMAL + "\nreported_speech: ['您(是|)说']"
    scorer = Scorer(load_guide(write(tmp_path, text)))
    assert scorer.guide.reported_speech == ("您(是|)说",)
    assert [f.id for f in scorer.analyze("不知道。").forbidden] == ["dont_know"]
    assert scorer.analyze("您是说法官不知道?").forbidden == []
