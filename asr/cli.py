"""``hotline asr``: models, transcribing a file, live transcription of the local microphone."""

from __future__ import annotations

import subprocess
import tempfile
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn
from rich.table import Table

from asr import models as model_store
from asr.engine import BYTES_PER_MS, Recognizer
from asr.events import Recognized
from asr.pool import ModelNotFound, ModelPool
from asr.redact import redact
from asr.session import SecondPass
from kernel.settings import load_settings

app = typer.Typer(help="语音转写 / speech recognition", no_args_is_help=True)
models_app = typer.Typer(help="Vosk 模型 / Vosk models", no_args_is_help=True)
app.add_typer(models_app, name="models")
console = Console()
CHUNK_MS = 20


def _recognizer(model: Path | None) -> Recognizer:
    settings = load_settings()
    try:
        path = model or model_store.resolve_model_path(settings.data_dir, settings.vosk_model_path)
        return ModelPool().recognizer(path)
    except ModelNotFound as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc


def _line(event: Recognized) -> str:
    return f"[{event.start_ms / 1000:7.2f}–{event.end_ms / 1000:7.2f}] {redact(event.text)}"


@models_app.command("list")
def models_list() -> None:
    """已安装与可安装的模型 / installed and installable models."""
    settings = load_settings()
    table = Table("模型 / model", "状态 / state", "路径或说明 / path or note")
    for m in model_store.installed(settings.data_dir):
        table.add_row(m.name, "✔ 选用 / selected" if m.selected else m.source, str(m.path))
    for name, note in model_store.CATALOG.items():
        table.add_row(name, "可安装 / installable", note)
    if settings.vosk_model_path:
        table.add_row("HOTLINE_VOSK_MODEL_PATH", "✔ 生效 / in force", str(settings.vosk_model_path))
    console.print(table)


@models_app.command("install")
def models_install(
    source: Annotated[
        str, typer.Argument(help="模型压缩包路径，或官方模型名 / archive path or official model name")
    ],
    sha256: Annotated[str | None, typer.Option(help="发布方公布的 SHA-256 / the published SHA-256")] = None,
    select: Annotated[bool, typer.Option(help="安装后选用 / select after installing")] = False,
) -> None:
    """从本地压缩包（或网络允许时从官方下载）安装模型 / install from a local archive or the official download."""
    settings = load_settings()
    archive = Path(source)
    if not archive.exists():
        if source not in model_store.CATALOG:
            console.print(f"[red]找不到 {source} / no such archive or official model[/red]")
            raise typer.Exit(2)
        if not sha256:
            console.print("[red]下载须给出 --sha256 / a download needs --sha256 to be checked against[/red]")
            raise typer.Exit(2)
        archive = Path(tempfile.mkdtemp()) / f"{source}.zip"
        with Progress(BarColumn(), DownloadColumn(), TimeRemainingColumn(), console=console) as bar:
            task = bar.add_task(source, total=None)
            model_store.download(
                source, archive, lambda done, total: bar.update(task, completed=done, total=total or None)
            )
    with console.status("校验并解压 / checking and unpacking…"):
        try:
            model = model_store.install_archive(settings.data_dir, archive, sha256=sha256)
        except (model_store.ChecksumMismatch, ModelNotFound, ValueError) as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from exc
    console.print(f"[green]已安装 / installed[/green] {model.name} → {model.path} ({model.source})")
    if select:
        model_store.select(settings.data_dir, model.name)
        console.print(f"[green]已选用 / selected[/green] {model.name}")


@models_app.command("select")
def models_select(name: str) -> None:
    """选用已安装的模型 / select an installed model."""
    settings = load_settings()
    try:
        path = model_store.select(settings.data_dir, name)
    except ModelNotFound as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    console.print(f"[green]已选用 / selected[/green] {name} ({path})")


def _read_pcm(path: Path) -> bytes:
    """16 kHz mono 16-bit little-endian PCM from a WAV, or from anything else through ffmpeg."""
    try:
        with wave.open(str(path), "rb") as w:
            if (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2):
                return w.readframes(w.getnframes())
    except (wave.Error, EOFError):
        pass
    cmd = ["ffmpeg", "-v", "error", "-i", str(path), "-ac", "1", "-ar", "16000", "-f", "s16le", "-"]
    return subprocess.run(cmd, check=True, capture_output=True).stdout


@app.command("transcribe")
def transcribe(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    model: Annotated[Path | None, typer.Option(help="Vosk 模型目录 / model directory")] = None,
    second_pass: Annotated[
        bool, typer.Option(help="用 Whisper 复核每句 / re-decode finals with Whisper")
    ] = False,
) -> None:
    """转写音频文件，逐句输出（已脱敏）/ transcribe a file, one masked line per utterance."""
    recognizer = _recognizer(model)
    whisper = _whisper() if second_pass else None
    pcm = _read_pcm(file)
    step = CHUNK_MS * BYTES_PER_MS
    finals: list[Recognized] = []
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("转写 / transcribing", total=len(pcm))
        for i in range(0, len(pcm), step):
            finals += [e for e in recognizer.accept(pcm[i : i + step]) if e.kind == "final"]
            bar.update(task, completed=i + step)
    finals += recognizer.finish()
    for event in finals:
        if whisper is not None:
            margin = 300 * BYTES_PER_MS
            audio = pcm[max(0, event.start_ms * BYTES_PER_MS - margin) : event.end_ms * BYTES_PER_MS + margin]
            event = Recognized("final", whisper.transcribe(audio) or event.text, event.start_ms, event.end_ms)
        console.print(_line(event))


def _whisper() -> SecondPass:
    from asr.whisper import WhisperSecondPass, WhisperUnavailable, default_cache_dir, prepare_model

    settings = load_settings()
    try:
        path = settings.whisper_model_path or prepare_model(default_cache_dir(settings.data_dir))
        return WhisperSecondPass(path)
    except WhisperUnavailable as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc


def _microphone(seconds: float | None, device: str | None) -> Iterator[bytes]:
    """Blocks of 20 ms from the default (or given) capture device through PortAudio."""
    import sounddevice as sd

    frames = 16000 * CHUNK_MS // 1000
    wanted = None if seconds is None else int(seconds * 1000 / CHUNK_MS)
    with sd.RawInputStream(
        samplerate=16000, channels=1, dtype="int16", blocksize=frames, device=device
    ) as stream:
        n = 0
        while wanted is None or n < wanted:
            data, _overflowed = stream.read(frames)
            yield bytes(data)
            n += 1


@app.command("listen")
def listen(
    seconds: Annotated[float | None, typer.Option(help="录这么多秒后停 / stop after this much audio")] = None,
    device: Annotated[str | None, typer.Option(help="PortAudio 输入设备 / input device")] = None,
    model: Annotated[Path | None, typer.Option(help="Vosk 模型目录 / model directory")] = None,
) -> None:
    """实时转写本机麦克风 / transcribe the local microphone live (Ctrl-C to stop)."""
    recognizer = _recognizer(model)
    live = console.is_terminal
    Console(stderr=True).print("[bold]正在聆听 / listening…[/bold]")
    try:
        for block in _microphone(seconds, device):
            for event in recognizer.accept(block):
                _show(event, live)
    except KeyboardInterrupt:
        pass
    for event in recognizer.finish():
        _show(event, live)


def _show(event: Recognized, live: bool) -> None:
    if event.kind == "final":
        console.print(("\r" if live else "") + "✔ " + _line(event) + (" " * 10 if live else ""))
    elif live:
        console.print(f"\r… {redact(event.text)}", end="")
    else:
        console.print(f"… {redact(event.text)}")
