"""HTTP API of recordings: search, details, audio with byte ranges (audited), transcript, waveform."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, FastAPI, HTTPException, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy import select

from kernel.text import RowId
from recordings import audio
from recordings.access import AUDIT_READER_ROLES, AllowedListener, ListenAudit
from recordings.context import RecordingsContext
from recordings.jobs import job_runs
from recordings.orm import Recording, RecordingIngest, RecordingListen
from recordings.queries import (
    MEDIA_TYPES,
    RecordingFilter,
    find_recordings,
    playable_file,
    recording_json,
)
from recordings.ranges import RangeNotSatisfiable, parse_range
from recordings.storage import RecordingMissing, read_all

if TYPE_CHECKING:
    from recordings.parts import RecordingsParts


def install(web: FastAPI, parts: RecordingsParts) -> None:
    web.state.recordings = parts
    web.include_router(build_router(parts, parts.ctx))
    from recordings.qa_api import build_router as build_qa_router

    web.include_router(build_qa_router(parts, parts.ctx))


def ingest_json(r: RecordingIngest) -> dict[str, Any]:
    return {
        "id": r.id,
        "call_id": r.call_id,
        "outcome": r.outcome,
        "detail": r.detail,
        "recording_id": r.recording_id,
        "kinds": list(r.kinds),
        "call_outcome": r.call_outcome,
        "trigger": r.trigger,
        "attempts": r.attempts,
        "wait_ms": r.wait_ms,
        "ingest_ms": r.ingest_ms,
        "at": r.at.isoformat(),
    }


def _client(request: Request) -> str:
    return request.client.host if request.client else ""


def build_router(hot: RecordingsParts, ctx: RecordingsContext) -> APIRouter:
    router = APIRouter(prefix="/api/recordings", tags=["recordings 录音"])
    auditor = ListenAudit(ctx.session_factory, ctx.clock.now)

    def load(recording_id: RowId) -> Recording:
        with ctx.session_factory() as session:
            recording = session.get(Recording, recording_id)
            if recording is None:
                raise HTTPException(404, f"没有此录音 / no recording {recording_id}")
            _ = recording.files  # load before the session closes
            return recording

    @router.get("")
    def list_recordings(
        listener: AllowedListener,
        date_from: datetime | None = None,
        date_to: datetime | None = None,
        agent: str | None = None,
        call_id: str | None = None,
        order: str | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> list[dict[str, Any]]:
        flt = RecordingFilter(date_from, date_to, agent, call_id, order, limit=limit, offset=offset)
        with ctx.session_factory() as session:
            return [recording_json(r) for r in find_recordings(session, flt)]

    @router.get("/ingests")
    def list_ingests(
        listener: AllowedListener,
        outcome: str | None = None,
        call_id: str | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[dict[str, Any]]:
        """What became of each ended call's recording (supervisors, admins): stored, declined, missing …"""
        if listener.role not in AUDIT_READER_ROLES:
            raise HTTPException(403, "无权查看录音入库记录 / your role may not read the ingest log")
        query = select(RecordingIngest).order_by(RecordingIngest.id.desc()).limit(limit)
        if outcome:
            query = query.where(RecordingIngest.outcome == outcome)
        if call_id:
            query = query.where(RecordingIngest.call_id == call_id)
        with ctx.session_factory() as session:
            return [ingest_json(r) for r in session.scalars(query)]

    @router.get("/jobs")
    def list_jobs(
        listener: AllowedListener, limit: Annotated[int, Query(ge=1, le=365)] = 30
    ) -> list[dict[str, Any]]:
        """The retention job's runs and their reports (what was deleted, compressed, held)."""
        if listener.role not in AUDIT_READER_ROLES:
            raise HTTPException(403, "无权查看录音任务 / your role may not read the job reports")
        return job_runs(ctx, limit)

    @router.get("/{recording_id}")
    def get_recording(recording_id: RowId, listener: AllowedListener) -> dict[str, Any]:
        return recording_json(load(recording_id), with_files=True)

    # GET and HEAD as two routes: one route with both methods gives them one OpenAPI operation id twice
    @router.head("/{recording_id}/audio", operation_id="head_recording_audio")
    @router.get("/{recording_id}/audio")
    def get_audio(
        recording_id: RowId, request: Request, listener: AllowedListener, kind: str | None = None
    ) -> Response:
        recording = load(recording_id)
        file = playable_file(recording, kind)
        if file is None:
            raise HTTPException(
                404, f"录音文件已删除或不存在 / no {kind or 'playable'} file for {recording_id}"
            )
        try:
            size = ctx.store.size(file.storage_key)
        except RecordingMissing:
            raise HTTPException(410, "录音文件丢失 / the stored file is missing") from None
        headers = {
            "Accept-Ranges": "bytes",
            "Cache-Control": "private, no-store",
            "ETag": f'"{file.sha256[:32]}"',
        }
        media_type = MEDIA_TYPES.get(file.format, "application/octet-stream")
        try:
            wanted = parse_range(request.headers.get("range"), size)
        except RangeNotSatisfiable:
            return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"})
        start, end = (wanted.start, wanted.end) if wanted else (0, size)
        if request.method == "GET":
            auditor.record(
                listener,
                recording_id,
                "audio",
                kind=file.kind,
                byte_range=f"{start}-{end - 1}" if wanted else "",
                client=_client(request),
            )
        headers["Content-Length"] = str(end - start)
        status = 200
        if wanted:
            status, headers["Content-Range"] = 206, wanted.content_range(size)
        if request.method == "HEAD":
            return Response(status_code=status, headers=headers, media_type=media_type)
        return StreamingResponse(
            ctx.store.open_range(file.storage_key, start, end),
            status_code=status,
            headers=headers,
            media_type=media_type,
        )

    @router.get("/{recording_id}/transcript")
    def get_transcript(recording_id: RowId, request: Request, listener: AllowedListener) -> dict[str, Any]:
        recording = load(recording_id)
        segments = hot.transcripts.segments(recording.call_id)
        auditor.record(listener, recording_id, "transcript", client=_client(request))
        return {
            "recording_id": recording_id,
            "call_id": recording.call_id,
            "duration_ms": recording.duration_ms,
            "segments": [s.as_json() for s in segments],
        }

    @router.get("/{recording_id}/waveform")
    def get_waveform(
        recording_id: RowId, listener: AllowedListener, buckets: Annotated[int, Query(ge=10, le=2000)] = 200
    ) -> dict[str, Any]:
        recording = load(recording_id)
        peaks = recording.waveform
        if len(peaks) != buckets or not peaks:
            file = playable_file(recording, None)
            if file is None:
                raise HTTPException(404, "没有可用的录音文件 / no playable file")
            peaks = audio.peaks(audio.read_mono(read_all(ctx.store, file.storage_key))[0], buckets)
        return {"recording_id": recording_id, "duration_ms": recording.duration_ms, "peaks": peaks}

    @router.get("/{recording_id}/listens")
    def get_listens(recording_id: RowId, listener: AllowedListener) -> list[dict[str, Any]]:
        if listener.role not in AUDIT_READER_ROLES:
            raise HTTPException(403, "无权查看收听记录 / your role may not read the listening audit")
        with ctx.session_factory() as session:
            rows = session.scalars(
                select(RecordingListen)
                .where(RecordingListen.recording_id == recording_id)
                .order_by(RecordingListen.id)
            )
            return [
                {
                    "listener": r.listener,
                    "role": r.role,
                    "action": r.action,
                    "kind": r.kind,
                    "range": r.byte_range,
                    "at": r.at.isoformat(),
                    "client": r.client,
                }
                for r in rows
            ]

    return router
