"""The web console through HTTP (Starlette's test client) on both backends: sign-in, roles, CSRF, bad input,
escaping and the security headers. The browser walk-through is in test_console_browser.py."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from starlette.testclient import TestClient
from test_history_store import NO_IDEA, new_call, play, turn

from simulator.console.app import CSP, create_app
from simulator.history.store import HistoryStore
from simulator.people import hash_password

PASSWORD = "correct horse 1"
EVIL = "<script>alert(1)</script>"


@pytest.fixture
def centre(db_url):
    """A supervisor, a mentor with one trainee, another trainee, and a call of each trainee."""
    with HistoryStore(db_url) as s:
        pw = hash_password(PASSWORD)
        s.add_user("张主任", "supervisor", password_hash=pw)
        s.add_user("李老师", "mentor", password_hash=pw)
        s.add_user("小王", "trainee", mentor="李老师", password_hash=pw)
        s.add_user(EVIL, "trainee", password_hash=pw)
        play(
            s,
            new_call("小王", call_id="aaaa00000001"),
            [turn(0, score=50, reply="不知道你找谁", forbidden=[NO_IDEA]), turn(1, score=90)],
            score=70,
            passed=True,
        )
        play(s, new_call(EVIL, call_id="bbbb00000002"), [turn(0, score=80, reply="<img src=x onerror=alert(2)>")],
             score=80, passed=True)  # fmt: skip
    return db_url


def client_for(db_url: str) -> TestClient:
    return TestClient(create_app(db_url))


def csrf(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def signed_in(db_url: str, name: str) -> tuple[TestClient, str]:
    c = client_for(db_url)
    login = c.get("/login")
    r = c.post("/login", data={"name": name, "password": PASSWORD, "csrf": csrf(login.text)})
    assert r.status_code == 200, r.text
    return c, csrf(r.text)


@pytest.mark.parametrize("path", ["/", "/team", "/trainees/小王", "/calls/aaaa00000001", "/assign", "/scenarios"])
def test_every_page_is_behind_sign_in(centre, path):
    r = client_for(centre).get(path, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")


def test_wrong_password_and_unknown_name_get_the_same_answer(centre):
    c = client_for(centre)
    token = csrf(c.get("/login").text)
    wrong = c.post("/login", data={"name": "张主任", "password": "nope nope", "csrf": token})
    unknown = c.post("/login", data={"name": "无名氏", "password": "nope nope", "csrf": token})
    assert wrong.status_code == unknown.status_code == 401
    assert "姓名或密码不对" in wrong.text and "姓名或密码不对" in unknown.text
    assert c.get("/team", follow_redirects=False).status_code == 303  # still signed out
    forged = c.post("/login", data={"name": "张主任", "password": PASSWORD, "csrf": "forged"})
    assert forged.status_code == 403 and c.get("/team", follow_redirects=False).status_code == 303


def test_a_supervisor_sees_everyone_escaped_with_a_strict_policy(centre):
    c, _ = signed_in(centre, "张主任")
    team = c.get("/team")
    assert team.headers["content-security-policy"] == CSP and "script-src" not in CSP
    assert "小王" in team.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in team.text and EVIL not in team.text
    call = c.get("/calls/bbbb")
    assert call.status_code == 200 and "<img src=x" not in call.text and "&lt;img src=x" in call.text
    for page in (team.text, call.text, c.get("/scenarios").text):
        assert not re.search(r"(src|href)=['\"]?(https?:)?//", page)  # nothing from outside: works offline
        assert "<script" not in page


def test_a_trainee_sees_only_their_own_calls(centre):
    c, _ = signed_in(centre, "小王")
    assert unquote(c.get("/team", follow_redirects=False).headers["location"]) == "/trainees/小王"
    assert c.get("/calls/aaaa00000001").status_code == 200
    other = c.get("/calls/bbbb00000002")
    missing = c.get("/calls/cccc00000003")
    assert other.status_code == missing.status_code == 404 and "没有这通电话" in other.text
    assert c.get(f"/trainees/{EVIL}").status_code == 404
    assert c.get("/assign").status_code == 403


def test_a_mentor_sees_their_trainees_only(centre):
    c, _ = signed_in(centre, "李老师")
    team = c.get("/team").text
    assert "/trainees/%E5%B0%8F%E7%8E%8B" in team and "alert(1)" not in team
    assert c.get("/calls/bbbb00000002").status_code == 404


def test_an_override_needs_a_reason_and_a_real_form_and_keeps_the_original(centre):
    c, token = signed_in(centre, "李老师")
    page = c.get("/calls/aaaa00000001")
    token = csrf(page.text)
    no_reason = c.post("/calls/aaaa00000001/review", data={"csrf": token, "kind": "override", "turn": "1",
                                                          "score": "80", "reason": "  "})  # fmt: skip
    assert no_reason.status_code == 400 and "改分必须写明理由" in no_reason.text
    forged = c.post("/calls/aaaa00000001/review", data={"csrf": "x" + token, "kind": "override", "turn": "1",
                                                       "score": "80", "reason": "录音里说了"})  # fmt: skip
    assert forged.status_code == 403
    with HistoryStore(centre) as s:
        assert s.reviews("aaaa00000001") == []  # neither changed anything
    done = c.post("/calls/aaaa00000001/review", data={"csrf": token, "kind": "override", "turn": "1",
                                                     "score": "80", "reason": "录音里说了"})  # fmt: skip
    assert done.status_code == 200 and "录音里说了" in done.text and "<s>50</s> → 80" in done.text
    with HistoryStore(centre) as s:
        (r,) = s.reviews("aaaa00000001")
        assert (r.mentor, r.original_score, r.new_score) == ("李老师", 50, 80)
        assert [e.action for e in s.audit_log(actor="李老师")] == ["review.override"]


def test_assignments_from_the_browser_form_are_checked(centre):
    c, _ = signed_in(centre, "张主任")
    token = csrf(c.get("/assign").text)
    past = c.post(
        "/assign", data={"csrf": token, "scenario": "wrong-courtroom", "trainee": "小王", "due": "2020-01-01"}
    )
    assert past.status_code == 400 and "已经过去了" in past.text
    nobody = c.post("/assign", data={"csrf": token, "scenario": "wrong-courtroom", "due": "2099-01-01"})
    assert nobody.status_code == 400 and "请至少选一位学员" in nobody.text
    with HistoryStore(centre) as s:
        assert s.assignment_statuses() == []
    made = c.post("/assign", data={"csrf": token, "scenario": ["wrong-courtroom", "online-filing"], "trainee": "小王",
                                   "due": "2099-01-01", "exam": "1", "min_score": "85"})  # fmt: skip
    assert made.status_code == 200 and "已布置 2 项作业" in made.text
    with HistoryStore(centre) as s:
        statuses = s.assignment_statuses("小王")
    assert [(a.scenario_id, a.exam, a.min_score, a.assigned_by) for a in statuses] == [
        ("wrong-courtroom", True, 85.0, "张主任"), ("online-filing", True, 85.0, "张主任")]  # fmt: skip


def test_serve_listens_on_localhost_unless_told():
    from simulator.cli import build_parser

    args = build_parser().parse_args(["serve"])
    assert (args.host, args.port) == ("127.0.0.1", 8368)


@pytest.mark.parametrize("target", ["//evil.example/x", "/\\evil.example", "https://evil.example", "/team\r\nX: y"])
def test_sign_in_never_sends_anyone_to_another_site(centre, target):
    from urllib.parse import quote

    c = client_for(centre)
    token = csrf(c.get("/login").text)
    r = c.post(f"/login?next={quote(target)}", data={"name": "张主任", "password": PASSWORD, "csrf": token},
               follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == "/"
