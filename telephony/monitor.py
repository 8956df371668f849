"""Live monitoring of a call by a supervisor, through ARI (the adapter of agent_ui's ``CallMonitor`` port).

How it works on Asterisk 22. The call is identified by its caller channel (``HOTLINE_CALL_ID`` is the
caller's ``UNIQUEID``, which is also its ARI channel id). A *snoop* channel (res_stasis_snoop) is attached
to that channel: ``spy=both`` gives the supervisor both directions (what the caller says and what the caller
hears, i.e. the agent). Whatever the supervisor says is *whispered* into the snooped channel:

- listen (``spy``): ``whisper=none``: nobody hears the supervisor;
- whisper: ``whisper=in``: mixed into what the caller's channel sends into the call, so the agent hears it
  and the caller does not (the same as ``whisper=out`` on the agent's own channel, which a queue call does
  not expose to ARI as reliably: app_queue names it after the member, not the call);
- barge: when the call sits in a bridge that ARI controls (a Stasis mixing bridge, e.g. a callback or a
  three-way call), the supervisor's channel joins that bridge; a queue call's bridge belongs to app_queue,
  which ARI may not change (it answers 404/409/422), so there the snoop whispers both ways
  (``whisper=both``): caller and agent hear the supervisor, and the supervisor hears both.

The supervisor's phone is reached by ``POST /channels/create`` (a channel in our Stasis application that is
not dialled yet), put into a mixing bridge with the snoop channel, then ``POST /channels/{id}/dial``: when
the supervisor answers, the audio flows, with no event handling needed in this module. ``stop`` hangs up the
supervisor's and the snoop channel and destroys the bridge; a 404 there means Asterisk already cleaned up.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx

log = logging.getLogger(__name__)

MODES = ("spy", "whisper", "barge")
STASIS_WAIT_SECONDS = 3.0
WHISPER = {"spy": "none", "whisper": "in", "barge": "both"}


class MonitorFailed(RuntimeError):
    """Asterisk refused a step (the call ended, the extension does not exist ...)."""


@dataclass
class MonitorSession:
    id: str
    call_id: str
    mode: str
    supervisor_channel: str
    snoop_channel: str | None  # None when the supervisor joined the call's own bridge (barge)
    bridge_id: str
    own_bridge: bool  # we created the bridge (and destroy it on stop)


class AriCallMonitor:
    def __init__(
        self,
        base_url: str,
        user: str,
        password: str,
        app: str,
        *,
        endpoint_template: str = "PJSIP/{extension}",
        caller_id: str = "监听 Monitor <12345>",
        ring_seconds: int = 30,
        timeout: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.app = app
        self.endpoint_template = endpoint_template
        self.caller_id = caller_id
        self.ring_seconds = ring_seconds
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + "/ari",
            auth=(user, password),
            timeout=timeout,
            transport=transport,
        )
        self._sessions: dict[str, MonitorSession] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._http.close()

    # ---- the port -----------------------------------------------------------------------------------
    def monitor(self, call_id: str, supervisor_extension: str, mode: str) -> str:
        if mode not in MODES:
            raise ValueError(f"unknown monitoring mode {mode!r}")
        if not supervisor_extension.strip():
            raise ValueError("the supervisor's extension is required")
        if self._request("GET", f"/channels/{call_id}", missing_ok=True) is None:
            raise MonitorFailed(f"通话 {call_id} 不存在或已结束 / no live channel {call_id}")
        endpoint = self.endpoint_template.format(extension=supervisor_extension.strip())
        if mode == "barge":
            joined = self._barge_into_call_bridge(call_id, endpoint)
            if joined is not None:
                return joined
        return self._snoop_session(call_id, endpoint, mode)

    def stop(self, session_id: str) -> None:
        with self._lock:
            session = self._sessions.pop(session_id, None)
        if session is None:
            return
        self._request("DELETE", f"/channels/{session.supervisor_channel}", missing_ok=True)
        if session.snoop_channel:
            self._request("DELETE", f"/channels/{session.snoop_channel}", missing_ok=True)
        if session.own_bridge:
            self._request("DELETE", f"/bridges/{session.bridge_id}", missing_ok=True)

    def sessions(self) -> list[MonitorSession]:
        with self._lock:
            return list(self._sessions.values())

    # ---- steps --------------------------------------------------------------------------------------
    def _snoop_session(self, call_id: str, endpoint: str, mode: str) -> str:
        snoop = self._request(
            "POST",
            f"/channels/{call_id}/snoop",
            params={"spy": "both", "whisper": WHISPER[mode], "app": self.app, "appArgs": f"monitor,{mode}"},
        )
        created: list[tuple[str, str]] = [("channels", snoop["id"])]
        try:
            bridge = self._request(
                "POST", "/bridges", params={"type": "mixing", "name": f"monitor-{call_id}"[:64]}
            )
            created.append(("bridges", bridge["id"]))
            supervisor = self._create_supervisor_channel(endpoint, mode)
            created.append(("channels", supervisor))
            self._add_when_in_stasis(bridge["id"], snoop["id"])
            self._add_when_in_stasis(bridge["id"], supervisor)
            self._request("POST", f"/channels/{supervisor}/dial", params={"timeout": self.ring_seconds})
        except Exception:
            self._undo(created)
            raise
        return self._remember(call_id, mode, supervisor, snoop["id"], bridge["id"], own_bridge=True)

    def _barge_into_call_bridge(self, call_id: str, endpoint: str) -> str | None:
        bridges = self._request("GET", "/bridges") or []
        bridge = next((b for b in bridges if call_id in b.get("channels", [])), None)
        if bridge is None:
            return None
        supervisor = self._create_supervisor_channel(endpoint, "barge")
        try:
            self._add_when_in_stasis(bridge["id"], supervisor)
        except MonitorFailed as exc:
            # Not a Stasis bridge (app_queue's own): fall back to a snoop that whispers both ways.
            log.info("bridge %s is not ARI's (%s); barging through a snoop channel", bridge["id"], exc)
            self._undo([("channels", supervisor)])
            return None
        try:
            self._request("POST", f"/channels/{supervisor}/dial", params={"timeout": self.ring_seconds})
        except Exception:
            self._undo([("channels", supervisor)])
            raise
        return self._remember(call_id, "barge", supervisor, None, bridge["id"], own_bridge=False)

    def _add_when_in_stasis(self, bridge_id: str, channel_id: str) -> None:
        """A new snoop or created channel enters our Stasis application a moment after ARI answered the
        POST; until then Asterisk refuses to bridge it with 422 "Channel not in Stasis application"."""
        deadline = time.monotonic() + STASIS_WAIT_SECONDS
        while True:
            try:
                self._request("POST", f"/bridges/{bridge_id}/addChannel", params={"channel": channel_id})
                return
            except MonitorFailed as exc:
                if "Channel not in Stasis" not in str(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(0.05)

    def _create_supervisor_channel(self, endpoint: str, mode: str) -> str:
        channel = self._request(
            "POST",
            "/channels/create",
            params={"endpoint": endpoint, "app": self.app, "appArgs": f"monitor-supervisor,{mode}"},
        )
        return str(channel["id"])

    def _remember(
        self, call_id: str, mode: str, supervisor: str, snoop: str | None, bridge: str, *, own_bridge: bool
    ) -> str:
        session_id = f"mon-{next(self._ids)}-{bridge}"
        with self._lock:
            self._sessions[session_id] = MonitorSession(
                session_id, call_id, mode, supervisor, snoop, bridge, own_bridge
            )
        return session_id

    def _undo(self, created: list[tuple[str, str]]) -> None:
        for kind, ident in reversed(created):
            try:
                self._request("DELETE", f"/{kind}/{ident}", missing_ok=True)
            except MonitorFailed:
                log.warning("could not remove %s %s after a failed monitoring set-up", kind, ident)

    def _request(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, missing_ok: bool = False
    ) -> Any:
        try:
            response = self._http.request(method, path, params=params)
        except httpx.HTTPError as exc:
            raise MonitorFailed(f"交换机无法连接 / the switch did not answer: {exc}") from exc
        if response.status_code == 404 and missing_ok:
            return None
        if response.status_code >= 400:
            raise MonitorFailed(f"ARI {method} {path} → {response.status_code} {response.text[:200]}")
        return response.json() if response.content else None
