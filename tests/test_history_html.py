"""The HTML report: escaped user text, and a real render in headless Debian Chromium.

The browser runs once per report (module scope): --dump-dom for the DOM after layout, and
--screenshot for a PNG that is decoded here to check it is not blank and the charts are drawn.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from itertools import accumulate
from pathlib import Path

import pytest
from test_history_store import NO_IDEA, new_call, play, turn

from simulator.history.html_report import build_report, write_report
from simulator.history.reports import pseudonymizer
from simulator.history.store import HistoryStore
from simulator.record import INCOMPLETE, INTERRUPTED

CHROMIUM = "/usr/bin/chromium"
SCRIPT_NAME = "<script>alert(1)</script>"
HTML_REPLY = "<img src=x onerror=\"document.body.setAttribute('data-pwned','1')\">您好"
HTML_REASON = "</td></tr></table><script>document.title='PWNED'</script><b>加粗</b>"
HOSTILE_SCENARIO = 'x"><svg onload=alert(2)>'
TREND_BLUE = (0x2B, 0x6C, 0xB0)


def fill(store: HistoryStore) -> dict[str, str]:
    """Three trainees (one named like a script tag) over eight weeks; returns call ids worth naming."""
    ids = {}
    for week in range(8):
        for name, base in ((SCRIPT_NAME, 40), ("王小明", 55), ("李华", 70)):
            score = min(100, base + 5 * week)
            missed = ("empathy",) if week % 3 == 0 else ()
            call = play(
                store,
                new_call(name, "wrong-courtroom" if week % 2 else HOSTILE_SCENARIO, f"2026-09-{1 + 7 * week:02d}T09:00:00Z"
                         if week < 5 else f"2026-10-{7 * week - 29:02d}T09:00:00Z"),
                [turn(0, expected=("greeting", "empathy"), missed=missed, score=score,
                      reply=HTML_REPLY if name == SCRIPT_NAME else "您好,请讲。"),
                 turn(1, expected=("commitment", "closing"), forbidden=[NO_IDEA] if week < 4 else [], score=score)],
                score=score, passed=score >= 70,
            )  # fmt: skip
            ids[f"{name}-{week}"] = call.call_id
    play(store, new_call(SCRIPT_NAME, "online-filing", "2026-10-30T09:00:00Z"), [turn(0, score=20)],
         status=INCOMPLETE, reason=INTERRUPTED)  # fmt: skip
    store.add_override(ids[f"{SCRIPT_NAME}-7"], 0, 100, HTML_REASON, mentor="<i>导师</i>")
    store.add_comment(ids[f"{SCRIPT_NAME}-6"], HTML_REPLY, mentor="李老师")
    return ids


@pytest.fixture(scope="module")
def reports_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("html-report")
    with HistoryStore(folder / "history.db") as store:
        fill(store)
        write_report(store, folder / "team.html")
        write_report(store, folder / "trainee.html", trainee=SCRIPT_NAME)
        write_report(store, folder / "anonymous.html", names=pseudonymizer(store, True))
    return folder


# ---- the HTML as written ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["team.html", "trainee.html"])
def test_user_text_is_escaped(reports_dir, name):
    page = (reports_dir / name).read_text(encoding="utf-8")
    for hostile in (SCRIPT_NAME, HTML_REPLY, HTML_REASON, HOSTILE_SCENARIO, "<i>导师</i>"):
        assert hostile not in page
    assert "<script" not in page.lower()
    assert not re.search(r"<[a-z]+[^>]*\son\w+\s*=", page)  # no tag carries an event handler
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert (
        "&lt;img src=x onerror=&quot;document.body.setAttribute(&#x27;data-pwned&#x27;,&#x27;1&#x27;)&quot;&gt;" in page
    )


def test_report_is_self_contained(reports_dir):
    page = (reports_dir / "team.html").read_text(encoding="utf-8")
    assert '<meta http-equiv="Content-Security-Policy" content="default-src &#x27;none&#x27;;' in page
    assert not re.search(r"<[a-z]+[^>]*\s(src|href)\s*=", page)  # nothing to fetch: no links, images, styles or scripts
    assert set(re.findall(r"https?://[^\s'\"<>]+", page)) == {"http://www.w3.org/2000/svg"}  # the SVG namespace only


def test_anonymized_report_has_no_names(reports_dir):
    page = (reports_dir / "anonymous.html").read_text(encoding="utf-8")
    for real in ("王小明", "李华", "李老师", "&lt;script&gt;alert(1)"):
        assert real not in page
    assert page.count("学员-") >= 3


def test_empty_database_still_makes_a_page(tmp_path):
    with HistoryStore(tmp_path / "empty.db") as store:
        page, counts = build_report(store)
    assert counts == {"trainees": 0, "calls": 0}
    assert "还没有完成的通话" in page and "还没有可统计的类别" in page


# ---- in the browser -------------------------------------------------------------------------------


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail("Chromium is missing: apt-get install chromium (scripts/setup.sh --with-browser does it)")
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium-profile'}", *args,
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def dom(reports_dir) -> dict[str, str]:
    doms = {}
    for name in ("team.html", "trainee.html"):
        done = chromium(reports_dir, "--dump-dom", (reports_dir / name).as_uri())
        assert done.returncode == 0, done.stderr[-2000:]
        doms[name] = done.stdout
    return doms


@pytest.fixture(scope="module")
def screenshot(reports_dir) -> Path:
    target = reports_dir / "team.png"
    done = chromium(
        reports_dir, f"--screenshot={target}", "--window-size=1200,1600", (reports_dir / "team.html").as_uri()
    )
    assert done.returncode == 0 and target.exists(), done.stderr[-2000:]
    return target


@pytest.mark.engine
def test_browser_renders_the_charts(dom):
    team = dom["team.html"]
    assert "<h1>团队练习报告</h1>" in team
    for chart in ("trend-chart", "heatmap", "forbidden-chart"):
        assert re.search(rf'<svg id="{chart}"[^>]*class="chart"', team), chart
    assert len(re.findall(r'<polyline class="trend"', team)) == 1
    cells = re.findall(r'<rect class="cell" [^>]*fill="(#[0-9a-f]{6})"', team)
    assert len(cells) == 3 * 4  # three trainees x greeting, empathy, commitment, closing
    assert len(set(cells)) > 1  # the colours differ with the rates
    assert re.search(r'<rect class="bar" [^>]*><title>不知道: 12 次', team)  # 3 trainees x 4 weeks
    trainee = dom["trainee.html"]
    assert re.search(r'<svg id="trend-chart"', trainee) and re.search(r'<svg id="heatmap"', trainee)
    assert 'class="original"' in trainee  # the overridden call shows its original score too


@pytest.mark.engine
def test_escaped_text_does_not_execute(dom):
    for page in dom.values():
        assert "<script" not in page.lower()
        assert "data-pwned" not in page.split("<body", 1)[1].split(">", 1)[0]  # the onerror never ran
        assert "<title>PWNED" not in page
        assert "<img" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # shown as text
    assert "&lt;img src=x onerror=" in dom["trainee.html"]


@pytest.mark.engine
def test_screenshot_is_not_blank_and_shows_the_charts(screenshot):
    width, height, pixels = read_png(screenshot)
    assert (width, height) == (1200, 1600)
    white = sum(1 for p in pixels if p == (255, 255, 255))
    assert white < 0.97 * len(pixels)  # something is drawn
    assert len(set(pixels)) > 50  # text, lines and coloured cells, not a flat page
    blue = sum(1 for p in pixels if all(abs(a - b) < 24 for a, b in zip(p, TREND_BLUE, strict=True)))
    assert blue > 500  # the trend line and points


def read_png(path: Path) -> tuple[int, int, list[tuple[int, ...]]]:
    """A small decoder for Chromium's screenshots: 8-bit RGB or RGBA, not interlaced."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour, interlace)
        elif kind == b"IDAT":
            idat += body
    bpp = 3 if colour == 2 else 4
    stride = width * bpp
    raw = zlib.decompress(idat)
    prev = bytearray(stride)
    pixels: list[tuple[int, ...]] = []
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        if kind == 1:  # Sub: a running sum per channel
            for c in range(bpp):
                line[c::bpp] = bytes(v & 0xFF for v in accumulate(line[c::bpp]))
        elif kind == 2:  # Up
            line = bytearray((a + b) & 0xFF for a, b in zip(line, prev, strict=True))
        elif kind in (3, 4):  # Average, Paeth: each byte depends on the one to its left
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                up = prev[i]
                if kind == 3:
                    line[i] = (line[i] + ((left + up) >> 1)) & 0xFF
                else:
                    upper_left = prev[i - bpp] if i >= bpp else 0
                    p = left + up - upper_left
                    pa, pb, pc = abs(p - left), abs(p - up), abs(p - upper_left)
                    predictor = left if pa <= pb and pa <= pc else (up if pb <= pc else upper_left)
                    line[i] = (line[i] + predictor) & 0xFF
        pixels.extend(tuple(line[i : i + 3]) for i in range(0, stride, bpp))
        prev = line
    return width, height, pixels


def test_a_long_suggestion_widens_the_forbidden_chart_instead_of_being_cut():
    from simulator.history.html_report import _text_width, forbidden_svg

    suggest = "这个问题我需要先向承办法官核实一下，核实后我在今天下班前给您回电话，请您保持电话畅通"
    svg = forbidden_svg([["不知道", suggest, "major", 5], ["你自己查", "我帮您查询一下", "minor", 1]])
    width = float(re.search(r"width='([\d.]+)'", svg).group(1))
    assert width >= 160 + 560 + _text_width(f"5 次 → 「{suggest}」")


def test_a_team_with_fewer_than_four_weeks_draws_its_calls_not_one_dot(tmp_path):
    from simulator.history.html_report import build_report

    with HistoryStore(tmp_path / "h.db") as store:
        for day, score in ((2, 60), (3, 70), (4, 90)):
            play(store, new_call("小王", started_at=f"2026-11-0{day}T09:00:00Z"), [turn(0, score=score)],
                 score=score, passed=True)  # fmt: skip
        page, _ = build_report(store)
    chart = page[page.index("id='trend-chart'") :]
    chart = chart[: chart.index("</svg>")]
    assert chart.count("class='dot'") == 3 and "最近 3 通" in page
