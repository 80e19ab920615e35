"""Scripted replies: one per line of a file or list (mentors, tests, demos). A line naming a .wav is recognized; a
``[工单]`` section after the replies is the work order the scripted trainee fills in (simulator/work_order_form.py)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from core.errors import TrainerError
from scoring.work_order import WorkOrder
from simulator.engines.base import Heard, Source

HANGUP_WORDS = ("/挂断", "/hangup")


class ScriptedListener:
    def __init__(self, replies: Iterable[str], base_dir: Path | None = None):
        self._replies = list(replies)
        self._base = base_dir or Path.cwd()
        self.used = 0
        self.work_order: WorkOrder | None = None  # the file's [工单] section: filled in after the call

    @classmethod
    def from_file(cls, path: str | Path) -> ScriptedListener:
        """Read one reply per line; blank lines and lines starting with # are skipped."""
        file = Path(path)
        try:
            text = file.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise TrainerError(f"无法读取回答文件 {path}: {exc.strerror} - 检查路径") from None
        except UnicodeDecodeError:
            raise TrainerError(f"回答文件 {path} 不是 UTF-8 编码 - 请用 UTF-8 保存") from None
        from simulator.work_order_form import parse_section, split_section

        lines, section = split_section(text.splitlines())
        replies = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
        listener = cls(replies, base_dir=file.parent)
        listener.work_order = parse_section(section, str(path)) if section is not None else None
        return listener

    def listen(self, prompt: str) -> Heard | None:
        if self.used >= len(self._replies):
            return None
        reply = self._replies[self.used]
        self.used += 1
        if reply in HANGUP_WORDS:
            return Heard("", Source.SCRIPTED, hangup=True)
        if reply.lower().endswith(".wav"):
            return self._recognize(reply)
        return Heard(reply, Source.SCRIPTED)

    def _recognize(self, name: str) -> Heard:
        from simulator.engines.whisper_recognizer import recognize_file

        path = Path(name)
        if not path.is_absolute() and not path.exists():
            path = self._base / path
        if not path.is_file():
            raise TrainerError(f"回答文件里的录音 {name} 不存在 - 检查路径 (相对于回答文件所在的文件夹)")
        return recognize_file(path)
