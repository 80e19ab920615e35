"""Synthetic practice calls, for the benchmark's fill and for demos of the reports.

Trainees improve with practice (missed categories and forbidden phrases become rarer), so the
charts have a shape to show. Deterministic for a given ``random.Random``.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from simulator.record import COMPLETE, END_REACHED, INCOMPLETE, INTERRUPTED, CallRecord, TurnRecord

CATEGORIES = ("greeting", "ask_case_info", "verify_identity", "empathy", "hold", "commitment", "closing")
FORBIDDEN = (  # id, phrase, what to say instead, severity
    ("bu-zhi-dao", "不知道", "这个问题我帮您查询一下", "major"),
    ("bu-gui-wo-guan", "这不归我管", "我帮您转给负责的部门", "major"),
    ("zi-ji-cha", "你自己去查", "我来帮您查询", "minor"),
    ("kuai-dian", "快点说", "请您慢慢讲", "minor"),
    ("bie-chao", "你别吵了", "请您别着急,我理解您的心情", "critical"),
)
SCENARIOS = (
    ("wrong-courtroom", "律师走错了开庭地点"),
    ("fraud-refund", "被骗老人询问退赔款"),
    ("declared-dead", "被宣告死亡的人要求撤销"),
    ("enforcement-how-to", "如何申请强制执行"),
    ("judge-no-answer", "联系不上法官要留言"),
    ("non-party-query", "非当事人查询案件"),
    ("angry-third-call", "第三次来电的愤怒当事人"),
    ("online-filing", "网上立案"),
)
CALLER_LINES = ("喂,您好,我想问一下我的案子。", "案号我记不太清了。", "法官一直不接电话怎么办?", "我已经打了三次了!")
GOOD_REPLIES = ("您好,请讲。", "请您报一下案号和承办法官。", "请您别着急,我理解您的心情。", "我会以工单形式转给法官。")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "明华伟芳娜敏静丽强磊军洋勇艳杰娟涛超霞平刚"


def trainee_names(count: int, rng: random.Random) -> list[str]:
    """Distinct Chinese-looking names; numbered ones once the random draws keep repeating."""
    names: dict[str, None] = {}
    draws = 0
    while len(names) < count:
        draws += 1
        if draws < 20 * count:
            name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
        else:
            name = f"学员{len(names) + 1}"
        names.setdefault(name, None)
    return list(names)


def synthetic_call(
    rng: random.Random,
    trainee: str,
    started_at: datetime,
    skill: float,
    *,
    turns: int = 20,
    call_id: str = "",
    mentor: str = "",
) -> CallRecord:
    """One finished call; ``skill`` in 0..1 sets how often categories are missed and phrases forbidden."""
    scenario_id, title = rng.choice(SCENARIOS)
    records = []
    moment = started_at
    for index in range(turns):
        expected = rng.sample(CATEGORIES, rng.choice((1, 1, 2)))
        missed = [c for c in expected if rng.random() < (1 - skill) * 0.7]
        forbidden = []
        if rng.random() < (1 - skill) * 0.15:
            fid, phrase, suggest, severity = rng.choice(FORBIDDEN[:4] if rng.random() < 0.9 else FORBIDDEN)
            forbidden.append({"id": fid, "phrase": phrase, "span": [0, len(phrase)], "suggest": suggest,
                              "severity": severity})  # fmt: skip
        score = max(0.0, 100 - 60 * len(missed) / len(expected) - 25 * len(forbidden))
        spoken = rng.random() < 0.4
        moment += timedelta(seconds=rng.uniform(5, 15))
        records.append(
            TurnRecord(
                index=index,
                turn_id=f"t{index}",
                caller_line=rng.choice(CALLER_LINES),
                reply=("你自己去查。" if forbidden else "") + rng.choice(GOOD_REPLIES),
                source="voice" if spoken else "typed",
                response_s=round(rng.uniform(0.8, 6.0), 2),
                categories=[c for c in expected if c not in missed],
                expected=expected,
                missed=missed,
                forbidden=forbidden,
                score=round(score, 1),
                confidence=round(rng.uniform(0.7, 0.99), 2) if spoken else None,
                audio_path=f"/var/tmp/hotline-audio/{trainee}-{index}.wav" if spoken else None,
                next_turn=f"t{index + 1}" if index + 1 < turns else "end",
                at=moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
        )
    cut_off = rng.random() < 0.08
    scores = [t.score for t in records]
    overall = round(sum(scores) / len(scores), 1)
    return CallRecord(
        call_id=call_id,
        trainee=trainee,
        scenario_id=scenario_id,
        scenario_hash="synthetic",
        scenario_title=title,
        mentor=mentor,
        started_at=started_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        ended_at=moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        status=INCOMPLETE if cut_off else COMPLETE,
        end_reason=INTERRUPTED if cut_off else END_REACHED,
        time_limit_s=300,
        call_s=round((moment - started_at).total_seconds(), 1),
        turns=records,
        scorecard={"score": overall, "passed": (not cut_off) and overall >= 70, "completed": not cut_off},
    )
