"""Voice-activity detection: Silero VAD v6 (the ONNX file inside the faster-whisper wheel) run as a stream.

The model's signature (checked on ``faster_whisper/assets/silero_vad_v6.onnx``): ``input`` float32
``[n, 576]`` — n windows of 512 samples at 16 kHz (32 ms) each preceded by the 64 samples before it —
and the LSTM state ``h``/``c`` ``[1, 1, 128]``, carried from call to call; output ``speech_probs`` ``[n]``.
There is no sample-rate input: the model is for 16 kHz only, so every caller hands it 16 kHz audio.
One ``InferenceSession`` per process is shared by every stream (``run`` is thread-safe); each stream keeps
its own state and context, so a stream's probabilities do not depend on how its audio was chunked.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any, Protocol

import numpy as np

SAMPLE_RATE = 16000
WINDOW = 512  # samples per decision (32 ms at 16 kHz)
WINDOW_MS = WINDOW * 1000 // SAMPLE_RATE
CONTEXT = 64


class VadUnavailable(RuntimeError):
    pass


class VoiceDetector(Protocol):
    """Speech probability per 512-sample window of 16 kHz audio, one stream, state kept between calls."""

    def probabilities(self, windows: np.ndarray) -> np.ndarray:
        """``windows``: float32 samples at 16 kHz in [-1, 1], a whole number of windows."""
        ...


def silero_path() -> Path | None:
    spec = importlib.util.find_spec("faster_whisper")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "assets" / "silero_vad_v6.onnx"
    return path if path.is_file() else None


class SileroModel:
    """The loaded ONNX model (one per process); ``stream()`` gives one stream's detector."""

    _shared: SileroModel | None = None
    _lock = threading.Lock()

    def __init__(self, path: Path) -> None:
        import onnxruntime

        opts = onnxruntime.SessionOptions()
        opts.inter_op_num_threads = 1
        opts.intra_op_num_threads = 1
        opts.log_severity_level = 4
        self.session: Any = onnxruntime.InferenceSession(
            str(path), providers=["CPUExecutionProvider"], sess_options=opts
        )

    @classmethod
    def shared(cls) -> SileroModel:
        with cls._lock:
            if cls._shared is None:
                path = silero_path()
                if path is None or importlib.util.find_spec("onnxruntime") is None:
                    raise VadUnavailable("Silero VAD (faster-whisper's assets, onnxruntime) is not installed")
                cls._shared = cls(path)
            return cls._shared

    def stream(self) -> SileroStream:
        return SileroStream(self)


class SileroStream:
    def __init__(self, model: SileroModel) -> None:
        self._session = model.session
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT, dtype=np.float32)

    def probabilities(self, windows: np.ndarray) -> np.ndarray:
        if windows.size == 0:
            return np.zeros(0, dtype=np.float32)
        assert windows.size % WINDOW == 0, "a whole number of 512-sample windows"
        rows = windows.astype(np.float32).reshape(-1, WINDOW)
        before = np.concatenate([self._context[None], rows[:-1, -CONTEXT:]])
        batch = np.concatenate([before, rows], axis=1)
        out, self._h, self._c = self._session.run(None, {"input": batch, "h": self._h, "c": self._c})
        self._context = rows[-1, -CONTEXT:].copy()
        return np.asarray(out, dtype=np.float32).reshape(-1)


class EnergyDetector:
    """A stand-in for tests: probability 1 for a window whose RMS is above ``threshold`` (16-bit units)."""

    def __init__(self, threshold: float = 300.0) -> None:
        self.threshold = threshold / 32768.0

    def probabilities(self, windows: np.ndarray) -> np.ndarray:
        rows = windows.astype(np.float32).reshape(-1, WINDOW)
        loud: np.ndarray = np.sqrt(np.mean(rows * rows, axis=1)) > self.threshold
        return loud.astype(np.float32)
