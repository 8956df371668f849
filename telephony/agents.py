"""Agent states: login, logout, pause, wrap-up, as app_queue membership and the agents table.

app_queue is the source of truth for who can be rung; the table mirrors it for the desk and reports. A
login adds the agent to every queue of their skills *paused* and then unpauses them across all queues at
once, so that queue weights (urgent first) decide which waiting caller they get, not the order of the adds.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from telephony.orm import AgentRow
from telephony.secrets import new_password

STATES = ("logged_out", "available", "paused", "wrap_up")
SKILLS = ("consultation", "complaint", "urgent")


class AgentError(ValueError):
    pass


class QueueCli(Protocol):
    """The CLI of the running switch (``asterisk -rx``); ``Switch`` is the real one."""

    def rx(self, command: str, *, timeout: float = 10.0, check: bool = True) -> str: ...


@dataclass
class RecordingCli:
    """A fake switch CLI that records the commands it was given."""

    commands: list[str]

    def rx(self, command: str, *, timeout: float = 10.0, check: bool = True) -> str:
        self.commands.append(command)
        return ""


def member(username: str) -> str:
    return f"PJSIP/{username}"


class AgentDesk:
    def __init__(self, factory: sessionmaker[Session], cli: QueueCli) -> None:
        self.factory = factory
        self.cli = cli

    def create(
        self,
        username: str,
        name: str,
        skills: list[str],
        *,
        contact: str | None = None,
        password: str | None = None,
    ) -> AgentRow:
        """A new agent with a generated SIP password (``hotline asterisk up`` renders it into pjsip.conf)."""
        unknown = set(skills) - set(SKILLS)
        if unknown:
            raise AgentError(f"unknown skills: {sorted(unknown)}")
        if not username.startswith("agent") or not username.isalnum():
            # The 'agent' prefix keeps agents' endpoints apart from citizens' numbers (pjsip.conf.j2).
            raise AgentError(
                "an agent's SIP username is 'agent' followed by letters or digits, e.g. agent1001"
            )
        with self.factory() as session, session.begin():
            if session.scalar(select(AgentRow.id).where(AgentRow.username == username)) is not None:
                raise AgentError(f"agent {username} already exists")
            row = AgentRow(
                username=username,
                name=name,
                skills=list(skills),
                contact=contact,
                sip_password=password or new_password(),
                state="logged_out",
            )
            session.add(row)
        return row

    def all(self) -> list[AgentRow]:
        with self.factory() as session:
            return list(session.scalars(select(AgentRow).order_by(AgentRow.username)))

    def remove(self, username: str) -> None:
        """Delete the account; a logged-in agent leaves their queues first. Call records keep the name."""
        row = self._get(username)
        if row.state != "logged_out":
            for queue in row.skills:
                self.cli.rx(f"queue remove member {member(username)} from {queue}", check=False)
        with self.factory() as session, session.begin():
            found = session.scalar(select(AgentRow).where(AgentRow.username == username))
            if found is not None:
                session.delete(found)

    def _set_state(self, username: str, state: str, now: datetime, reason: str = "") -> AgentRow:
        with self.factory() as session, session.begin():
            row = session.scalar(select(AgentRow).where(AgentRow.username == username))
            if row is None:
                raise AgentError(f"no agent {username}")
            row.state = state
            row.pause_reason = reason
            row.state_changed_at = now
            return row

    def _get(self, username: str) -> AgentRow:
        with self.factory() as session:
            row = session.scalar(select(AgentRow).where(AgentRow.username == username))
            if row is None:
                raise AgentError(f"no agent {username}")
            return row

    def _join_paused(self, username: str) -> None:
        for queue in self._get(username).skills:
            self.cli.rx(
                f"queue add member {member(username)} to {queue} penalty 0 as {username} "
                f"state_interface {member(username)} paused login"
            )

    def login(self, username: str, now: datetime) -> None:
        self._join_paused(username)
        self.cli.rx(f"queue unpause member {member(username)}")
        self._set_state(username, "available", now)

    def logout(self, username: str, now: datetime) -> None:
        """Leave every queue. "Not there" (never joined) is fine; a switch that cannot be reached raises,
        and the agent is not marked logged out: app_queue keeps persistent members across a restart."""
        row = self._get(username)
        for queue in row.skills:
            self.cli.rx(f"queue remove member {member(username)} from {queue}")
        self._set_state(username, "logged_out", now)

    def _pause_everywhere(self, username: str, reason: str) -> None:
        # Asterisk 22's CLI takes a reason only together with a queue ("queue pause member M queue Q reason
        # R"); "queue pause member M reason R" just prints the usage and pauses nothing, with exit status 0.
        for queue in self._get(username).skills:
            reply = self.cli.rx(f"queue pause member {member(username)} queue {queue} reason {reason}")
            if reply.lstrip().startswith("Usage") or "Unable" in reply:
                raise AgentError(f"the switch refused to pause {username} in {queue}: {reply.strip()}")

    def pause(self, username: str, now: datetime, reason: str = "break") -> None:
        if not reason.replace("-", "").isalnum():
            raise AgentError("a pause reason is one word")
        self._pause_everywhere(username, reason)
        self._set_state(username, "paused", now, reason)

    def wrap_up(self, username: str, now: datetime) -> None:
        """After a call: no new call until ``ready`` (queues also hold their own wrapuptime)."""
        self._pause_everywhere(username, "wrap-up")
        self._set_state(username, "wrap_up", now, "wrap-up")

    def ready(self, username: str, now: datetime) -> None:
        self.cli.rx(f"queue unpause member {member(username)}")
        self._set_state(username, "available", now)

    def has_account(self, username: str) -> bool:
        with self.factory() as session:
            return session.scalar(select(AgentRow.id).where(AgentRow.username == username)) is not None

    def apply_desk_status(self, username: str, status: str, now: datetime, reason: str = "") -> None:
        """What the agent chose on the web desk, on the switch: ready (logging in first when logged out),
        paused with a reason, or wrap-up. Without this app_queue would keep ringing a 'paused' agent."""
        if status not in ("ready", "paused", "wrap_up"):
            raise AgentError(f"unknown desk status {status!r}")
        if status == "ready":
            if self._get(username).state == "logged_out":
                self.login(username, now)
            else:
                self.ready(username, now)
            return
        if status in ("paused", "wrap_up") and self._get(username).state == "logged_out":
            self._join_paused(username)  # back after logging out: a member must exist to carry a reason
        if status == "paused":
            self.pause(username, now, reason or "break")
        else:
            self.wrap_up(username, now)


def generated_username() -> str:
    return f"agent{secrets.randbelow(9000) + 1000}"
