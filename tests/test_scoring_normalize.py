"""Normalisation: what recognizers and keyboards vary, made equal; spans still point into the original."""

from __future__ import annotations

import pytest

from scoring.normalize import coarse_syllable, normalize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("您好，请讲。", "您好请讲"),  # full-width punctuation
        ("您好,请讲!", "您好请讲"),  # ASCII punctuation
        ("你好 请将", "您好请将"),  # 你 counts as 您; spaces go
        ("您好,請講", "您好请讲"),  # Traditional characters
        ("嗯 那个 你好", "您好"),  # fillers
        ("那个那个您好", "您好"),  # repeated clause-start filler
        ("金额", "金额"),  # 额 is only a filler at the start of a clause
        ("那个", ""),  # a filler alone says nothing
        ("这个问题", "问题"),
        ("ＡＢＣ１２", "abc一二"),  # full-width letters and digits (NFKC)
        ("12368", "一二三六八"),
        ("幺二三六八", "一二三六八"),  # 幺 reads as 一 in a digit run
        ("二十四小时", "二四小时"),  # a numeral with a unit is read as a value
        ("24小时", "二四小时"),
        ("两千零二十二年", "二零二二年"),
        ("一百零五", "一零五"),
        ("零一零五", "零一零五"),  # leading zeros of a court code survive
        ("十分感谢", "十分感谢"),  # a lone 十 is a word, not a number
        ("万一", "万一"),
        ("", ""),
        ("，。！？", ""),
    ],
)
def test_normalized_text(raw: str, expected: str) -> None:
    assert normalize(raw).text == expected


def test_codes_have_one_entry_per_character() -> None:
    norm = normalize("嗯,你好!案號是(2022)滬0105民初1234號")
    assert len(norm.text) == len(norm.py) == len(norm.coarse) == len(norm.starts) == len(norm.ends) == len(norm.clauses)


def test_spans_map_back_to_the_original_text() -> None:
    raw = "嗯，那個你好，請講。"
    norm = normalize(raw)
    start = norm.text.index("请讲")
    s, e = norm.span(start, start + 2)
    assert raw[s:e] == "請講"
    s, e = norm.span(0, 2)
    assert raw[s:e] == "你好"


def test_a_numeral_maps_to_its_whole_original_span() -> None:
    raw = "二十四小时内"
    norm = normalize(raw)
    assert norm.text == "二四小时内"
    assert norm.span(0, 2) == (0, 3)


def test_homophones_share_a_pinyin_code() -> None:
    assert normalize("按号").py == normalize("案号").py == normalize("暗号").py
    assert normalize("发官").py == normalize("法官").py
    assert normalize("请将").py == normalize("请讲").py
    assert normalize("收等").py != normalize("稍等").py  # not the same syllable…
    assert normalize("收等").coarse == normalize("稍等").coarse  # …but a near homophone


@pytest.mark.parametrize(
    ("syllable", "coarse"),
    [
        ("zhang", "zang"),  # zh/z merge, but an/ang stay apart: 再讲 is not 再见, 别放 is not 别烦
        ("jiang", "jiang"),
        ("shao", "sao"),
        ("shou", "sao"),
        ("ning", "lin"),
        ("nin", "lin"),
        ("zheng", "zen"),
        ("hong", "hong"),
    ],
)
def test_near_homophone_merges(syllable: str, coarse: str) -> None:
    assert coarse_syllable(syllable) == coarse


def test_tone_keeps_which_apart_from_that() -> None:
    assert normalize("哪个").coarse != normalize("那个").coarse  # 哪个法官 asks, 那个法官 points
    assert normalize("哪").py != normalize("那").py


def test_shanghainese_you_is_you() -> None:
    assert normalize("侬好").text == "您好"


def test_clauses_split_at_punctuation() -> None:
    norm = normalize("不知道,您自己去查")
    assert norm.clauses[0] == norm.clauses[2] != norm.clauses[3]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("阿拉晓得了", "我们知道了"),
        ("我勿晓得", "我不知道"),
        ("侬自家去看", "您自己去看"),
        ("侬个事体阿拉记牢了", "您的事情我们记下了"),
        ("侬明朝再来", "您明天再来"),
        ("侬是本人伐", "您是本人吗"),  # 伐 closes a question only at the end of a clause
        ("伐木", "伐木"),
        ("您別著急", "您别着急"),  # the Traditional 着
        ("著名律师", "著名律师"),  # …but not in the words that keep 著
        ("搞不清爽", "搞不清楚"),
    ],
)
def test_shanghainese_words_read_as_mandarin(raw: str, expected: str) -> None:
    assert normalize(raw).text == expected


def test_a_dialect_word_of_another_length_points_at_the_words_it_replaced() -> None:
    text = "这事我勿晓得"
    norm = normalize(text)
    assert norm.text == "这事我不知道"
    assert norm.span(3, 6) == (3, 6)  # 不知道 -> 勿晓得, all three characters
    assert text[slice(*norm.span(0, 2))] == "这事"
