"""The guide measured: the tune part of the evaluation set must stay above a threshold (so a guide or
scorer change that regresses fails CI), and the author's own replies below must all come out right.

The held-out part is never used here: it is only for bench/scoring.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scoring.scorer import Scorer

DATA = Path(__file__).resolve().parent / "data"
TUNE_F1_FLOOR = 0.97  # measured 1.00 on categories and forbidden when this test was written

# Replies written by the scorer's author from how hotline agents talk (not taken from the evaluation
# set), labeled by the rules of tests/data/README.md: paraphrases, recognizer errors and traps the guide
# must handle. (text, categories, forbidden ids)
DEV_LINES: list[tuple[str, set[str], set[str]]] = [
    # greeting
    ("喂,您好!", {"greeting"}, set()),
    ("您好,12368热线,您请讲。", {"greeting"}, set()),
    ("早上好,这里是长宁法院诉讼服务热线。", {"greeting"}, set()),
    ("您好,我是8号话务员,很高兴为您服务。", {"greeting"}, set()),
    ("请问有什么可以帮到您?", {"greeting"}, set()),
    ("您好像打错电话了。", set(), set()),
    ("您好好想一想,判决书是哪天收到的?", set(), set()),
    # ask_case_info
    ("您的案子是哪位法官在办?", {"ask_case_info"}, set()),
    ("麻烦把案号给我说一下。", {"ask_case_info"}, set()),
    ("您手上有案号吗?", {"ask_case_info"}, set()),
    ("对方当事人叫什么名字?", {"ask_case_info"}, set()),
    ("您告的是哪家公司?", {"ask_case_info"}, set()),
    ("承办人是谁您知道吗?", {"ask_case_info"}, set()),
    ("那个案件编号您报一下", {"ask_case_info"}, set()),
    ("案号是二零二三沪零一零五民初五六七八号。", set(), set()),
    ("您的案子由王法官承办。", set(), set()),
    ("我没听清楚,麻烦您再说一遍好吗?", set(), set()),
    # verify_identity
    ("请问您在这个案子里是什么身份?", {"verify_identity"}, set()),
    ("您是原告还是被告?", {"verify_identity"}, set()),
    ("您有没有当事人的授权委托书?", {"verify_identity"}, set()),
    ("麻烦您报一下身份证号码的后四位。", {"verify_identity"}, set()),
    ("您是以什么身份来咨询的?", {"verify_identity"}, set()),
    ("请问您是他什么人?", {"verify_identity"}, set()),
    ("立案时请带上身份证原件和复印件。", set(), set()),
    ("诉讼服务密码可以在受理通知书上找到。", set(), set()),
    # empathy
    ("我能感受到您的着急。", {"empathy"}, set()),
    ("这种事搁谁身上都闹心。", {"empathy"}, set()),
    ("您先冷静一下,喝口水,慢慢讲。", {"empathy"}, set()),
    ("您受委屈了,这事确实不容易。", {"empathy"}, set()),
    ("您别上火,事情总会解决的。", {"empathy"}, set()),
    ("老人家,您保重身体,钱的事我们一起想办法。", {"empathy"}, set()),
    ("你别急啊 慢慢说", {"empathy"}, set()),
    ("我知道了,您是要申请执行。", set(), set()),
    ("请您理解,这是法律程序。", set(), set()),
    # hold
    ("您稍微等一下,我查一查。", {"hold"}, set()),
    ("请您不要挂机,我帮您转接。", {"hold"}, set()),
    ("给我两分钟,我看一下系统。", {"hold"}, set()),
    ("不好意思让您等了这么长时间。", {"hold"}, set()),
    ("感谢您耐心等候,查到了。", {"hold"}, set()),
    ("您先拿着电话,别走开,我马上回来。", {"hold"}, set()),
    ("请稍候", {"hold"}, set()),
    ("您再等等,法院一定会通知您的。", set(), set()),
    ("不用等了,今天查不到。", set(), set()),
    # commitment
    ("我这边马上给您转过去,让法官尽快回您。", {"commitment"}, set()),
    ("您的诉求我已经反映上去了,会有人联系您。", {"commitment"}, set()),
    ("这件事我负责帮您盯着,一有消息马上告诉您。", {"commitment"}, set()),
    ("我会向庭长汇报您的情况。", {"commitment"}, set()),
    ("法官二十四小时内会给您回电。", {"commitment"}, set()),
    ("查到结果以后我给您回个电话。", {"commitment"}, set()),
    ("您放心,保证给您一个答复。", {"commitment"}, set()),
    ("我给您讲一下网上立案怎么登记。", set(), set()),
    ("书记员说他会联系当事人。", set(), set()),
    ("我没办法替您转告法官。", set(), set()),
    ("这个我没法保证法官一定会回复您。", set(), set()),
    # closing
    ("别客气,这是我们应该做的。", {"closing"}, set()),
    ("您还有别的事情要咨询吗?", {"closing"}, set()),
    ("其他方面还有疑问吗?", {"closing"}, set()),
    ("那就先这样,祝您生活愉快。", {"closing"}, set()),
    ("谢谢您的配合,再见。", {"closing"}, set()),
    ("能帮到您就好,再会。", {"closing"}, set()),
    ("不用谢啊 拜拜", {"closing"}, set()),
    # forbidden
    ("这个我也说不上来。", set(), {"dont_know"}),
    ("我不是很清楚。", set(), {"not_clear"}),
    ("这种事跟法院没关系。", set(), {"not_our_business"}),
    ("我们法院不管这个。", set(), {"not_our_business"}),
    ("爱怎么办怎么办,关我什么事。", set(), {"i_dont_care"}),
    ("问我干嘛,你找别的部门去。", set(), {"ask_someone_else"}),
    ("通知书上写着呢,你自己看吧。", set(), {"check_yourself"}),
    ("你不会自己上网查吗?", set(), {"check_yourself"}),
    ("我上哪儿知道去。", set(), {"how_would_i_know"}),
    ("催什么催,慢慢等着吧。", set(), {"why_hurry"}),
    ("怎么又问这个,不是跟你说了吗?", set(), {"said_already"}),
    ("这么简单你都不懂吗?", set(), {"cant_understand"}),
    ("不服你就去告。", set(), {"complain_to_boss"}),
    ("到点了,我要下班了。", set(), {"off_duty"}),
    ("没得商量,这是制度。", set(), {"rules_are_rules"}),
    ("行了行了,别讲了。", set(), {"stop_talking"}),
    # forbidden traps
    ("如果您不知道案号,报当事人姓名也可以。", {"ask_case_info"}, set()),
    ("您要是不清楚流程,我可以再给您讲一遍。", set(), set()),
    ("我这边信号不好,听不太清楚,您能大点声吗?", set(), set()),
    ("您也可以自己登录网站查询进度。", set(), set()),
    ("这个问题您可以咨询执行局,电话是12368转3。", set(), set()),
    ("法官已经下班了,我先帮您记下来,明天转给他。", {"commitment"}, set()),
    ("我们这边不是不管,是要按程序先立案。", set(), set()),
    ("不管怎样,我都会帮您把情况转给法官。", {"commitment"}, set()),
    # second batch
    ("我这边需要查一下,麻烦您等我一小会儿。", {"hold"}, set()),
    ("您先别急着挂,我去问问书记员。", {"hold"}, set()),
    ("耽误您几分钟时间,我帮您核实一下。", {"hold"}, set()),
    ("谢谢您这么耐心地等我。", {"hold"}, set()),
    ("我刚查完,耽误您时间了。", {"hold"}, set()),
    ("如果没有别的问题,我这边就先挂了。", {"closing"}, set()),
    ("感谢您对我们工作的支持。", {"closing"}, set()),
    ("不谢不谢,应该的。", {"closing"}, set()),
    ("好的,那就不耽误您时间了,再联系。", {"closing"}, set()),
    ("您的留言我一定带到。", {"commitment"}, set()),
    ("这个事情我来跟进,您放心。", {"commitment"}, set()),
    ("等法官开完庭,我让他给您回电话。", {"commitment"}, set()),
    ("这个问题我会持续关注的。", {"commitment"}, set()),
    ("请问您是哪一位当事人?", {"verify_identity"}, set()),
    ("能说一下您的身份吗?", {"verify_identity"}, set()),
    ("麻烦报一下受理通知书上的密码。", {"verify_identity"}, set()),
    ("您别往心里去,身体要紧。", {"empathy"}, set()),
    ("辛苦您跑了这么多趟。", {"empathy"}, set()),
    ("我明白您现在很着急。", {"empathy"}, set()),
    ("有什么可急的,等着就是了。", set(), {"why_hurry"}),
    ("我已经说得很清楚了。", set(), {"said_already"}),
    ("你是听不懂中国话吗?", set(), {"cant_understand"}),
    ("我听不懂您说的方言,您能说普通话吗?", set(), set()),
    ("规定是死的,我也没辙。", set(), {"rules_are_rules"}),
    # third batch
    ("需要您本人带身份证到立案庭办理。", set(), set()),
    ("您可以请代理律师,也可以自己来。", set(), set()),
    ("立案时需要提供授权委托书。", set(), set()),
    ("请问您是受谁委托来咨询的?", {"verify_identity"}, set()),
    ("您有授权委托书吗?", {"verify_identity"}, set()),
    ("您等一下啊,我看看。", {"hold"}, set()),
    ("您等一下再打过来吧,系统在维护。", set(), set()),
    ("您还有事吗?", {"closing"}, set()),
    ("那您还有其他的吗?", {"closing"}, set()),
    ("谢谢您打过来,再见。", {"closing"}, set()),
    ("好的,那我挂了啊。", {"closing"}, set()),
    ("两天之内给您消息。", {"commitment"}, set()),
    ("结果出来了我马上通知您。", {"commitment"}, set()),
    ("您等我电话。", {"commitment"}, set()),
    ("我跟法官说一声。", {"commitment"}, set()),
    ("请您尽快去立案庭办理。", set(), set()),
    ("关我们什么事?", set(), {"not_our_business"}),
    ("你问我,我问谁啊?", set(), {"how_would_i_know"}),
    ("你找派出所去吧。", set(), {"ask_someone_else"}),
    ("这种事别来问我们。", set(), {"ask_someone_else"}),
    ("网上自己查。", set(), {"check_yourself"}),
    ("法官的事我们哪知道。", set(), {"how_would_i_know"}),
    ("具体的我也不太了解。", set(), {"dont_know"}),
    ("您可能不太了解立案的流程,我给您讲一下。", set(), set()),
    ("同样的话我不想再说第二遍。", set(), {"said_already"}),
    ("规定就这么定的,上面定的。", set(), {"rules_are_rules"}),
    # fourth batch: forbidden in other words
    ("这我可说不好。", set(), {"dont_know"}),
    ("这不是我们法院的事。", set(), {"not_our_business"}),
    ("你找错地方了,这事归派出所。", set(), {"not_our_business"}),
    ("跟我们法院没关系。", set(), {"not_our_business"}),
    ("那是你的问题。", set(), {"i_dont_care"}),
    ("你找派出所去吧。", set(), {"ask_someone_else"}),
    ("你问法官去。", set(), {"ask_someone_else"}),
    ("我又不是法官,我哪知道。", set(), {"how_would_i_know"}),
    ("重复多少遍了。", set(), {"said_already"}),
    ("你到底听没听懂?", set(), {"cant_understand"}),
    ("随你去投诉。", set(), {"complain_to_boss"}),
    ("少废话。", set(), {"stop_talking"}),
    ("我不太了解您说的情况,您能详细说说吗?", set(), set()),
    ("您家里谁知道案号吗?", {"ask_case_info"}, set()),
    ("这是规定的流程,我给您解释一下为什么。", set(), set()),
    ("您找到去立案庭的路了吗?", set(), set()),
]


@pytest.fixture(scope="session")
def scorer() -> Scorer:
    return Scorer.default()


def _f1(rows: list[dict], scorer: Scorer) -> tuple[float, float]:
    counts = {"categories": [0, 0, 0], "forbidden": [0, 0, 0]}
    for row in rows:
        analysis = scorer.analyze(row["text"])
        for kind, predicted, gold in (
            ("categories", set(analysis.categories), set(row["categories"])),
            ("forbidden", {f.id for f in analysis.forbidden}, set(row["forbidden"])),
        ):
            counts[kind][0] += len(predicted & gold)
            counts[kind][1] += len(predicted - gold)
            counts[kind][2] += len(gold - predicted)
    return tuple(2 * tp / (2 * tp + fp + fn) for tp, fp, fn in counts.values())


def test_tune_part_meets_the_floor(scorer: Scorer) -> None:
    rows = [json.loads(line) for line in (DATA / "scoring_eval_tune.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 200
    categories_f1, forbidden_f1 = _f1(rows, scorer)
    assert categories_f1 >= TUNE_F1_FLOOR, f"category F1 on the tune part fell to {categories_f1:.3f}"
    assert forbidden_f1 >= TUNE_F1_FLOOR, f"forbidden-phrase F1 on the tune part fell to {forbidden_f1:.3f}"


@pytest.mark.parametrize(("text", "cats", "forbidden"), DEV_LINES, ids=[t for t, _, _ in DEV_LINES])
def test_author_lines(scorer: Scorer, text: str, cats: set[str], forbidden: set[str]) -> None:
    analysis = scorer.analyze(text)
    assert (set(analysis.categories), {f.id for f in analysis.forbidden}) == (cats, forbidden)
