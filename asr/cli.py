"""``hotline asr``: models, transcribing a file, live transcription of the local microphone."""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn
from rich.table import Table

from asr import models as model_store
from asr.audio import read_pcm16k, telephone_coded
from asr.events import Recognized
from asr.offline import Score, score, transcribe_pcm
from asr.pool import ModelNotFound
from asr.profiles import Engines, ProfileRefused, build_engines, choose_profile
from asr.redact import redact
from asr.utterances import PartialMode
from kernel.settings import load_settings

app = typer.Typer(help="语音转写 / speech recognition", no_args_is_help=True)
models_app = typer.Typer(help="Vosk 模型 / Vosk models", no_args_is_help=True)
app.add_typer(models_app, name="models")
console = Console()
CHUNK_MS = 20


def _line(start_ms: int, end_ms: int, text_redacted: str) -> str:
    return f"[{start_ms / 1000:7.2f}–{end_ms / 1000:7.2f}] {text_redacted}"


@models_app.command("list")
def models_list() -> None:
    """已安装与可安装的模型 / installed and installable models."""
    settings = load_settings()
    table = Table("模型 / model", "语种 / language", "状态 / state", "路径或说明 / path or note")
    for m in model_store.installed(settings.data_dir):
        lang = model_store.model_language(m.path) or "?"
        table.add_row(m.name, lang, "✔ 选用 / selected" if m.selected else m.source, str(m.path))
    for name, note in model_store.CATALOG.items():
        table.add_row(name, "zh", "可安装 / installable", note)
    if settings.vosk_model_path:
        lang = settings.vosk_model_language or model_store.model_language(settings.vosk_model_path) or "?"
        table.add_row("HOTLINE_VOSK_MODEL_PATH", lang, "✔ 生效 / in force", str(settings.vosk_model_path))
    try:
        console.print(choose_profile(settings).describe(), highlight=False)
    except ProfileRefused as exc:
        console.print(f"[red]{exc}[/red]")
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


def _engines(
    language: str | None,
    model: Path | None,
    *,
    second_pass: bool = False,
    partials: PartialMode | None = None,
) -> Engines:
    """The profile's engines, or one red line saying why the profile cannot start (exit code 2)."""
    settings = load_settings()
    if second_pass:
        settings = settings.model_copy(update={"asr_second_pass": True})
    try:
        engines = build_engines(settings, language, vosk_model=model, partials=partials)
    except (ProfileRefused, ModelNotFound) as exc:
        Console(stderr=True).print(f"[red]{exc}[/red]", soft_wrap=True)
        raise typer.Exit(2) from exc
    Console(stderr=True).print(engines.profile.describe(), soft_wrap=True, highlight=False)
    return engines


LANGUAGE = typer.Option(help="通话语种（默认 HOTLINE_ASR_LANGUAGE）/ language of the speech")
MODEL = typer.Option(help="Vosk 模型目录（须为该语种）/ Vosk model directory (of that language)")


@app.command("transcribe")
def transcribe(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    language: Annotated[str | None, LANGUAGE] = None,
    model: Annotated[Path | None, MODEL] = None,
    second_pass: Annotated[
        bool, typer.Option(help="Vosk 模型的每句用 Whisper 复核 / Whisper finals over a Vosk model")
    ] = False,
) -> None:
    """转写音频文件（与通话相同的流程），逐句输出（已脱敏）/ transcribe a file through the live pipeline.

    8 kHz μ-law or 16 kHz PCM WAV (others through libsndfile/ffmpeg), resampled to 16 kHz by soxr."""
    engines = _engines(language, model, second_pass=second_pass, partials="placeholder")
    for segment in transcribe_pcm(read_pcm16k(file), engines):
        console.print(
            _line(segment.start_ms, segment.end_ms, segment.text_redacted), highlight=False, soft_wrap=True
        )


@app.command("eval")
def evaluate(
    directory: Annotated[Path, typer.Argument(exists=True, file_okay=False)],
    references: Annotated[
        Path | None, typer.Option(help="参考文本 TSV（默认 DIR/references.tsv）/ references TSV")
    ] = None,
    language: Annotated[str | None, LANGUAGE] = None,
    model: Annotated[Path | None, MODEL] = None,
) -> None:
    """字错误率：原始音频与 8 kHz μ-law 电话编码 / CER per file and pooled, clean and 8 kHz μ-law coded.

    The TSV has a header with at least ``file``, ``lang`` and ``reference`` columns (as shared/audio's)."""
    engines = _engines(language, model, partials="placeholder")
    rows = read_references(references or directory / "references.tsv", engines.profile.language)
    if not rows:
        console.print(f"[red]没有 {engines.profile.language} 参考文本 / no references of that language[/red]")
        raise typer.Exit(2)
    pooled = {"clean": Score(0, 0), "μ-law": Score(0, 0)}
    for name, reference in rows:
        clean = read_pcm16k(directory / name)
        results = []
        for coding, pcm in (("clean", clean), ("μ-law", telephone_coded(clean))):
            text = "".join(s.text for s in transcribe_pcm(pcm, engines))
            got = score(text, reference)
            pooled[coding] += got
            results.append(f"{coding} {got.cer:6.1%} ({got.errors}/{got.chars})  {text}")
        console.print(f"{name}\t" + "\t".join(results), highlight=False, soft_wrap=True)
    console.print(
        "pooled\t" + "\t".join(f"{k} {v.cer:6.1%} ({v.errors}/{v.chars})" for k, v in pooled.items()),
        highlight=False,
        soft_wrap=True,
    )


def read_references(path: Path, language: str) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return [
            (row["file"], row["reference"])
            for row in csv.DictReader(f, delimiter="\t")
            if row.get("lang", language) == language and (row.get("reference") or "").strip()
        ]


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
    language: Annotated[str | None, LANGUAGE] = None,
    model: Annotated[Path | None, MODEL] = None,
) -> None:
    """实时转写本机麦克风 / transcribe the local microphone live (Ctrl-C to stop)."""
    recognizer = _engines(language, model).factory()
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
        line = _line(event.start_ms, event.end_ms, redact(event.text))
        console.print(("\r" if live else "") + "✔ " + line + (" " * 10 if live else ""), highlight=False)
    elif live:
        console.print(f"\r… {redact(event.text)}", end="")
    else:
        console.print(f"… {redact(event.text)}")
