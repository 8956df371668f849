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

    def login(self, username: str, now: datetime) -> None:
        row = self._get(username)
        for queue in row.skills:
            self.cli.rx(
                f"queue add member {member(username)} to {queue} penalty 0 as {username} "
                f"state_interface {member(username)} paused login"
            )
        self.cli.rx(f"queue unpause member {member(username)}")
        self._set_state(username, "available", now)

    def logout(self, username: str, now: datetime) -> None:
        row = self._get(username)
        for queue in row.skills:
            self.cli.rx(f"queue remove member {member(username)} from {queue}", check=False)
        self._set_state(username, "logged_out", now)

    def pause(self, username: str, now: datetime, reason: str = "break") -> None:
        if not reason.replace("-", "").isalnum():
            raise AgentError("a pause reason is one word")
        self.cli.rx(f"queue pause member {member(username)} reason {reason}")
        self._set_state(username, "paused", now, reason)

    def wrap_up(self, username: str, now: datetime) -> None:
        """After a call: no new call until ``ready`` (queues also hold their own wrapuptime)."""
        self.cli.rx(f"queue pause member {member(username)} reason wrap-up")
        self._set_state(username, "wrap_up", now, "wrap-up")

    def ready(self, username: str, now: datetime) -> None:
        self.cli.rx(f"queue unpause member {member(username)}")
        self._set_state(username, "available", now)


def generated_username() -> str:
    return f"agent{secrets.randbelow(9000) + 1000}"
