"""The web console driven by a real browser (Debian's Chromium through Selenium and chromium-driver), as a
supervisor uses it: sign in, the team page, a call with its recording playing, an override, an assignment; and the
same sign-in and override with scripts disabled (the forms are real forms). A failing step leaves a screenshot."""

from __future__ import annotations

import math
import struct
import threading
import time
import wave
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import free_port
from test_history_store import NO_IDEA, new_call, play, turn

from simulator.history.store import HistoryStore
from simulator.people import hash_password

pytestmark = pytest.mark.engine
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
PASSWORD = "correct horse 1"


def tone(path: Path, seconds: float = 1.5) -> Path:
    """A real WAV recording (a 440 Hz tone) where a spoken reply's audio would be."""
    rate = 16_000
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
                                 for i in range(int(rate * seconds))))  # fmt: skip
    return path


@pytest.fixture
def console_url(tmp_path):
    """A console over a fresh store, served by uvicorn on a free local port in this process."""
    import uvicorn

    from simulator.console.app import create_app

    db = tmp_path / "history.db"
    with HistoryStore(db) as s:
        s.add_user("张主任", "supervisor", password_hash=hash_password(PASSWORD))
        s.add_user("小王", "trainee")
        play(s, new_call("小王", call_id="aaaa00000001"),
             [turn(0, score=50, reply="不知道你找谁", forbidden=[NO_IDEA], source="voice",
                   audio_path=str(tone(tmp_path / "reply-0.wav"))),
              turn(1, score=90)], score=70, passed=True)  # fmt: skip
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(db), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the console did not start"
    yield f"http://127.0.0.1:{port}", db
    server.should_exit = True
    thread.join(timeout=10)


@contextmanager
def browser(tmp_path: Path, *, scripts: bool = True):
    """Chromium steered through chromium-driver; a step that fails leaves ``failure.png`` in ``tmp_path``."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail("selenium is missing: .venv/bin/pip install -e '.[dev]'", pytrace=False)
    if not Path(CHROMIUM).exists() or not Path(CHROMEDRIVER).exists():
        pytest.fail("Chromium or its driver is missing: apt-get install chromium chromium-driver "
                    "(scripts/setup.sh --with-browser does it)", pytrace=False)  # fmt: skip
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1600",
                 f"--user-data-dir={tmp_path / 'profile'}", "--autoplay-policy=no-user-gesture-required"):  # fmt: skip
        options.add_argument(flag)
    if not scripts:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    except BaseException:
        driver.save_screenshot(str(tmp_path / "failure.png"))
        print(f"screenshot: {tmp_path / 'failure.png'}")
        raise
    finally:
        driver.quit()


def submit(driver, button) -> None:
    """Click a form's button and wait for the next page (reading the old one would race the navigation)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    old = driver.find_element(By.TAG_NAME, "html")
    button.click()
    WebDriverWait(driver, 15).until(expected_conditions.staleness_of(old))


def sign_in(driver, url: str, page: str = "/team") -> None:
    from selenium.webdriver.common.by import By

    driver.get(url + page)
    assert "/login" in driver.current_url  # every page is behind sign-in
    driver.find_element(By.NAME, "name").send_keys("张主任")
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    submit(driver, driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]"))


def override(driver, url: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(url + "/calls/aaaa00000001")
    form = driver.find_element(By.ID, "override-form")
    form.find_element(By.NAME, "score").send_keys("80")
    form.find_element(By.NAME, "reason").send_keys("录音里其实道歉了")
    submit(driver, form.find_element(By.CSS_SELECTOR, "button"))
    text = driver.find_element(By.TAG_NAME, "main").text
    assert "改分 50 → 80, 理由: 录音里其实道歉了" in text and "70 → 85" in text


def test_a_supervisor_signs_in_reviews_a_call_with_its_recording_and_assigns(console_url, tmp_path):
    from selenium.webdriver.common.by import By

    url, db = console_url
    with browser(tmp_path) as driver:
        sign_in(driver, url)
        assert driver.current_url.endswith("/team")
        assert "小王" in driver.find_element(By.ID, "team").text
        submit(driver, driver.find_element(By.LINK_TEXT, "小王"))
        submit(driver, driver.find_element(By.CSS_SELECTOR, "#calls a"))
        assert "/calls/aaaa00000001" in driver.current_url
        marked = driver.find_element(By.CSS_SELECTOR, "mark.forbidden")
        assert marked.text == "不知道" and "改说" in marked.get_attribute("title")
        duration = driver.execute_async_script(
            "const done = arguments[0], a = document.querySelector('audio');"
            "a.addEventListener('loadedmetadata', () => done(a.duration)); a.addEventListener('error', () => done(-1));"
            "a.preload = 'auto'; a.load();"
        )
        assert duration == pytest.approx(1.5, abs=0.05)  # the recording is served and plays
        override(driver, url)
        driver.get(url + "/assign")
        driver.find_element(By.CSS_SELECTOR, "input[name=trainee][value='小王']").click()
        driver.find_element(By.CSS_SELECTOR, "input[name=scenario][value='online-filing']").click()
        due = driver.find_element(By.NAME, "due")
        driver.execute_script("arguments[0].value = '2099-01-31'", due)
        submit(driver, driver.find_element(By.CSS_SELECTOR, "#assign-form button"))
        assert "已布置 1 项作业" in driver.find_element(By.TAG_NAME, "main").text
        with HistoryStore(db) as s:
            (made,) = s.assignment_statuses("小王")
        assert (made.scenario_id, made.due, made.assigned_by) == ("online-filing", "2099-01-31", "张主任")


def test_sign_in_and_override_work_with_scripts_disabled(console_url, tmp_path):
    url, db = console_url
    with browser(tmp_path, scripts=False) as driver:
        sign_in(driver, url, "/calls/aaaa00000001")
        assert driver.current_url.endswith("/calls/aaaa00000001")  # back where the supervisor was going
        override(driver, url)
    with HistoryStore(db) as s:
        assert [r.new_score for r in s.reviews("aaaa00000001")] == [80]
