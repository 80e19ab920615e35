"""The validator: every broken fixture yields its exact message with file:line; the library validates."""

from __future__ import annotations

import json

import pytest
import yaml
from conftest import FIXTURES, ROOT, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import ValidationError
from core.yamlio import load_text
from simulator.validate import check_scenario_file, load_scenario, validate_paths

GUIDE = str(FIXTURES / "guide-min.yaml")
B = "tests/fixtures/broken"

EXPECTED = {
    "syntax.yaml": [
        f"{B}/syntax.yaml:3: YAML 语法错误: expected ',' or ']', but got '{{' - "
        '在 [ ] 或 { } 里, 含 {变量} 或逗号的文字要加引号, 例如 ["案号是{case_no}"]',
    ],
    "unknown-key.yaml": [
        f"{B}/unknown-key.yaml:1: 缺少必填键 'title' - 在文件顶层加上 title: ...",
        f"{B}/unknown-key.yaml:2: titel: 未知的键 'titel' - 是不是想写 'title'?",
        f"{B}/unknown-key.yaml:12: turns.opening.expct: 未知的键 'expct' - 是不是想写 'expect'?",
    ],
    "graph.yaml": [
        f"{B}/graph.yaml:12: turns.opening.expect[1]: 规范用语中没有类别 'ask_case_infoo' - 是不是想写 'ask_case_info'?",
        f"{B}/graph.yaml:14: turns.opening.next[0].goto: goto 指向不存在的轮次 'detials' - 是不是想写 'details'?",
        f"{B}/graph.yaml:15: turns.opening.next[1].if.point: 本轮没有要点 'ask_case_no' - 先在本轮 key_points 里定义这个要点",
        f"{B}/graph.yaml:17: turns.details: 轮次 'details' 从 start 无法到达 - 从其他轮次的 next 里 goto 它, 或删除它",
        f"{B}/graph.yaml:18: turns.details.say: 未定义的变量 {{judge}} - 在 variables 里定义 judge",
        f"{B}/graph.yaml:22: turns.loop.next: 从轮次 'loop' 出发永远到不了 end - 让某个分支最终 goto: end",
    ],
    "types.yaml": [
        f"{B}/types.yaml:1: id: id 'Bad_Types' 不是 kebab-case - 只用小写字母、数字和连字符, 例如 wrong-courtroom",
        f"{B}/types.yaml:4: difficulty: 应是整数, 而不是 文本 'hard' - 写一个 1 到 5 之间的整数",
        f"{B}/types.yaml:5: time_limit_s: 5 超出范围 30..3600 - 写一个 30 到 3600 之间的整数",
        f"{B}/types.yaml:10: caller.mood: 未知的情绪 'furious' - 取 calm | anxious | distressed | angry 之一",
        f"{B}/types.yaml:11: caller.voice.rate: 1000 超出范围 80..450 - 写一个 80 到 450 之间的整数",
        f"{B}/types.yaml:11: caller.voice.volume: 2 超出范围 0..1 - 写一个 0 到 1 之间的数",
        f"{B}/types.yaml:17: turns.opening.next[0]: 最后一个分支必须没有 if, 否则通话可能无路可走 - 在末尾加上 {{goto: ...}} 作为默认分支",
        f"{B}/types.yaml:17: turns.opening.next[0].if.forbidden: forbidden 应是 true 或 false, 而不是 'yes please' - 写 forbidden: true",
        f"{B}/types.yaml:19: examples[0].score: 分数范围 [90, 10] 无效 - 写成 [低, 高], 0 <= 低 <= 高 <= 100",
    ],
    "substance.yaml": [
        f"{B}/substance.yaml:11: linked[0]: 同一组变量的取值个数不同 (room 2 个、fee 1 个) - 让每个变量的取值一一对应, 个数相同",
        f"{B}/substance.yaml:13: must_not[0].severity: 未知的严重程度 'fatal' - 取 minor、major 或 critical",
        f"{B}/substance.yaml:14: must_not[1].any[0]: 短语 '包赢的?' 写法有误: ? 不是短语写法(这里不是正则表达式);"
        "可省略的部分写成 (的|),任意几个字写成 … - 参见 docs/guide-format.md 的短语写法",
        f"{B}/substance.yaml:14: must_not[1].id: 重复的 must_not id 'promise' (同一个列表里已有) - 每条 must_not 用不同的 id",
        f"{B}/substance.yaml:20: turns.opening.key_points[0].value: value 指向未定义的变量 'rooom' - 是不是想写 'room'?",
        f"{B}/substance.yaml:21: turns.opening.key_points[1].any[0]: 短语 '(案号|哪个案子' 写法有误: 括号没有闭合 - "
        "参见 docs/guide-format.md 的短语写法",
        f"{B}/substance.yaml:22: turns.opening.key_points[2]: 缺少 any 或 value - "
        "写上 any: [能体现这个要点的说法, ...], 或 value: 变量名",
        f"{B}/substance.yaml:24: turns.opening.must_not[0].id: 重复的 must_not id 'promise' (场景级的 must_not 里已有) - "
        "每条 must_not 用不同的 id",
    ],
    "work-order.yaml": [
        f"{B}/work-order.yaml:11: work_order.type: 未知的工单类型 '联系法宫' - 是不是想写 '联系法官'?",
        f"{B}/work-order.yaml:12: work_order.fields.judge_name: 未定义的变量 {{judge}} - 可用的变量: case_no",
        f"{B}/work-order.yaml:12: work_order.fields.judge_name: 未知的工单字段 'judge_name' - 是不是想写 'judge'?",
        f"{B}/work-order.yaml:14: work_order.summary[0]: 缺少 any 或 value - "
        "写上 any: [能体现这个要点的说法, ...], 或 value: 变量名",
        f"{B}/work-order.yaml:15: work_order.deadline: 未知的键 'deadline' - 可用的键: fields, reply_within, summary, type",
    ],
    "unsafe.yaml": [
        f"{B}/unsafe.yaml:2: title: 不允许的 YAML 标签 tag:yaml.org,2002:python/object/apply:os.system - 只使用普通的文本、数字、列表和映射",
    ],
    "missing.yaml": [
        f"{B}/missing.yaml:1: 缺少必填键 'brief' - 在文件顶层加上 brief: ...",
        f"{B}/missing.yaml:1: 缺少必填键 'start' - 在文件顶层加上 start: ...",
        f"{B}/missing.yaml:8: turns.opening.say: 缺少必填项 - 写上 say: ...",
    ],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_fixture_reports_exact_messages(name):
    result = run_cli("validate", f"{B}/{name}", "--guide", GUIDE)
    assert result.returncode == 1
    assert result.stdout.splitlines() == EXPECTED[name]
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == f"发现 {len(EXPECTED[name])} 个问题。"


def test_all_problems_of_a_folder_are_reported_in_one_run():
    result = run_cli("validate", B, "--guide", GUIDE)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [line for name in sorted(EXPECTED) for line in EXPECTED[name]]


def test_duplicate_ids_across_folders():
    result = run_cli("validate", "tests/fixtures/dup", "--guide", GUIDE)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "tests/fixtures/dup/b/dup.yaml:1: id: id 'dup' 与 tests/fixtures/dup/a/dup.yaml 重复 - 每个场景用不同的 id"
    ]


def test_unsafe_yaml_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"
    bad = tmp_path / "bad.yaml"
    bad.write_text(f'id: bad\ntitle: !!python/object/apply:os.system ["touch {marker}"]\n', encoding="utf-8")
    _, problems = check_scenario_file(bad, None)
    assert problems and "不允许的 YAML 标签" in problems[0].what
    assert not marker.exists()


def test_valid_minimal_scenario_loads_into_dataclasses():
    scenario, problems = check_scenario_file(FIXTURES / "valid-min.yaml", {"greeting", "empathy", "closing"})
    assert problems == []
    assert scenario.id == "valid-min"
    assert scenario.turns["upset"].next[0].goto == "end"  # a turn without `next` ends the call
    assert scenario.turns["opening"].next[1].when.point == "ask_case_no"
    assert scenario.examples[0].path == ("opening", "thanks")
    assert len(scenario.content_hash) == 64
    assert scenario.draw(3) == scenario.draw(3)
    assert {scenario.draw(s)["case_no"] for s in range(20)} == set(scenario.variables["case_no"])


def test_bundled_library_and_guide_validate():
    result = run_cli("validate")
    assert result.returncode == 0, result.stdout + result.stderr
    scenarios, problems = validate_paths([ROOT / "scenarios"])
    assert problems == []
    assert len(scenarios) >= 8
    assert len({s.service for s in scenarios}) >= 6
    assert {s.difficulty for s in scenarios} == {1, 2, 3, 4, 5}
    for s in scenarios:
        assert len(s.turns) >= 3, s.id
        assert any(len(t.next) > 1 for t in s.turns.values()), f"{s.id} does not branch"
        assert len(s.examples) >= 2, s.id


def test_load_scenario_raises_with_every_problem():
    with pytest.raises(ValidationError) as info:
        load_scenario(FIXTURES / "broken" / "graph.yaml")
    assert "goto 指向不存在的轮次 'detials'" in str(info.value)
    assert "永远到不了 end" in str(info.value)


def test_missing_path_is_one_line_error():
    result = run_cli("validate", "no/such/dir")
    assert result.returncode == 1
    assert result.stderr.strip() == "no/such/dir:1: 文件或文件夹不存在 - 检查路径"


# Random YAML-ish text: the loader must answer with problems, never crash.
yaml_alphabet = st.sampled_from(
    list("abc:- []{}'\"\n\t#&*!|>%@`,?0123456789案号您好")
    + ["id: ", "turns:", "  ", "!!python/object:os.system", "next: ", "goto: "]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(yaml_alphabet, max_size=80).map("".join))
def test_loader_never_crashes_on_random_text(text):
    doc, problems = load_text(text, "random.yaml")
    assert (doc is None) == bool(problems)
    if doc is not None:
        from simulator.validate import _Checker

        checker = _Checker(doc, {"greeting"})
        checker.scenario()
        for p in checker.problems:
            assert p.path == "random.yaml" and p.line >= 1


json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["id", "turns", "next", "goto", "if", "say", "start", "caller", "examples", "x"]),
            children,
            max_size=5,
        )
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(json_like)
def test_checker_never_crashes_on_random_structures(data):
    import yaml

    text = yaml.safe_dump(data, allow_unicode=True)
    doc, problems = load_text(text, "random.yaml")
    if doc is not None:
        from simulator.validate import _Checker

        _Checker(doc, {"greeting"}).scenario()


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ("\tsay:", "缩进里有 Tab - YAML 不允许用 Tab 缩进, 请改用空格"),
        ("\u3000\u3000say:", "缩进里有全角空格 (U+3000) - 把这一行开头的全角空格换成普通空格"),
        ("    say：", "键 say 后面是全角冒号「：」 - 改成半角冒号加空格: say: "),
    ],
)
def test_a_structural_character_is_named_on_its_own_line(tmp_path, broken, message):
    text = (ROOT / "scenarios" / "wrong-courtroom.yaml").read_text(encoding="utf-8")
    lines = text.splitlines()
    number = next(i for i, line in enumerate(lines) if line == "  opening:") + 2  # the say: line under it
    lines[number - 1] = lines[number - 1].replace("    say:", broken, 1)
    path = tmp_path / "wrong-courtroom.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_cli("validate", str(path))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [f"{path}:{number}: {message}"]


def test_strict_validation_warns_of_what_is_legal_but_likely_a_mistake(tmp_path):
    data = yaml.safe_load((ROOT / "scenarios" / "wrong-courtroom.yaml").read_text(encoding="utf-8"))
    data["examples"] = data["examples"][:2]
    data["examples"][1]["path"] = ["opening", "thanks"]  # no branch from opening to thanks
    data["variables"]["unused_room"] = ["第九法庭"]
    data["service"] = "庭审事务"
    data["turns"]["confused"]["next"].insert(1, dict(data["turns"]["confused"]["next"][0]))  # the same condition twice
    path = tmp_path / "wrong-courtroom.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    (tmp_path / "replies").mkdir()
    (tmp_path / "replies" / "wrong-courtroom.txt").write_text("您找的是{judg}。\n", encoding="utf-8")

    assert run_cli("validate", str(path)).returncode == 0  # warnings do not stop a scenario loading
    result = run_cli("validate", str(path), "--strict")
    assert result.returncode == 1
    warnings = [line.split(": ", 1)[1] for line in result.stdout.splitlines()]
    assert any(w.startswith("examples: 警告: 只有 2 条示例") for w in warnings)
    assert any(w.startswith("variables.unused_room: 警告: 变量 unused_room 没有被用到") for w in warnings)
    assert any("警告: 这个分支的条件和前面的一样, 永远走不到" in w for w in warnings)
    assert any("警告: 示例「漏问案号」的路径里 opening 后面不能接 thanks" in w for w in warnings)
    assert any(w.startswith("service: 警告: 业务 '庭审事务' 不在常用列表里") for w in warnings)
    assert f"{tmp_path / 'replies' / 'wrong-courtroom.txt'}:1: 警告: 回答里的 {{judg}} 不是场景的变量" in result.stdout
    as_json = json.loads(run_cli("validate", str(path), "--strict", "--json").stdout)
    assert {w["level"] for w in as_json} == {"warning"} and len(as_json) == len(warnings)


def test_the_bundled_library_has_no_strict_warnings():
    result = run_cli("validate", "--strict")
    assert result.returncode == 0, result.stdout
