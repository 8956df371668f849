"""One loaded model per process, shared by every stream, and the threads that decode off the event loop.

Vosk's decoder releases the GIL while it works, so threads of one process run streams in parallel on all
cores against one copy of the model (measured: 10 live streams on 2 cores with a shared model, ~2 with a
model per process, whose memory and cache traffic dominate). The loop only moves bytes.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from asr.engine import Recognizer, VoskRecognizer

T = TypeVar("T")
WAIT_SMOOTHING = 0.1  # weight of the newest job in DecodePool.wait_s


class ModelNotFound(RuntimeError):
    pass


def check_vosk_model_dir(path: Path) -> None:
    """A Vosk model directory has am/final.mdl and conf/model.conf (small and big models alike)."""
    missing = [p for p in ("am/final.mdl", "conf/model.conf") if not (path / p).is_file()]
    if missing:
        raise ModelNotFound(f"{path} is not a Vosk model directory (missing {', '.join(missing)})")


class ModelPool:
    """Loads each Vosk model directory once per process; every stream gets its own KaldiRecognizer on it.

    Recognizers are recycled between calls (``release`` resets one and keeps it): models with a lookahead
    graph (HCLr.fst + Gr.fst, as vosk-model-small-cn and the Korean test model) compose the graph lazily
    per recognizer, so a fresh recognizer was measured to spend ~5x the CPU of a used one on the same
    utterance, with 0.6–0.9 s stalls on its first words.
    """

    def __init__(self) -> None:
        self._models: dict[Path, Any] = {}
        self._idle: dict[Path, list[VoskRecognizer]] = {}
        self._owner: dict[int, Path] = {}
        self._lock = threading.Lock()

    def model(self, path: Path) -> Any:
        path = path.resolve()
        with self._lock:
            if path not in self._models:
                check_vosk_model_dir(path)
                import vosk

                # Kaldi logs every model part it loads, and a warning per utterance whose last word it could
                # not align, to stderr; -2 keeps only errors.
                vosk.SetLogLevel(-2)
                self._models[path] = vosk.Model(str(path))
            return self._models[path]

    def recognizer(self, path: Path) -> VoskRecognizer:
        """A recognizer for one stream: a recycled one when there is one, else a new one."""
        path = path.resolve()
        model = self.model(path)
        with self._lock:
            idle = self._idle.setdefault(path, [])
            rec = idle.pop() if idle else None
        if rec is None:
            rec = VoskRecognizer(model)
        with self._lock:
            self._owner[id(rec)] = path
        return rec

    def release(self, rec: Recognizer) -> None:
        """The stream ended: reset its recognizer and keep it for the next call."""
        with self._lock:
            path = self._owner.pop(id(rec), None)
        if path is None or not isinstance(rec, VoskRecognizer):
            return
        rec.reset()
        with self._lock:
            self._idle[path].append(rec)

    def idle(self, path: Path) -> int:
        with self._lock:
            return len(self._idle.get(path.resolve(), []))

    def factory(self, path: Path) -> Callable[[], Recognizer]:
        self.model(path)  # load now, not on the first call's audio
        return lambda: self.recognizer(path)


class DecodePool:
    """Threads that run recognizers (and the optional second pass) so the event loop never decodes.

    ``wait_s`` is a moving average of how long a job waited for a thread: each live job is ≥ 100 ms of
    audio, so jobs that wait longer than that mean the machine decodes slower than real time (an ASR
    worker then sheds new calls instead of lagging every call it holds).
    """

    def __init__(self, workers: int | None = None, *, name: str = "asr-decode") -> None:
        self.workers = workers or max(2, os.cpu_count() or 2)
        self._executor = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix=name)
        self.wait_s = 0.0

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        submitted = time.monotonic()

        def timed() -> T:
            waited = time.monotonic() - submitted
            self.wait_s += (waited - self.wait_s) * WAIT_SMOOTHING
            return fn(*args)

        return await loop.run_in_executor(self._executor, timed)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
