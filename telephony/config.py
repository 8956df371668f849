"""Asterisk's configuration, rendered from Jinja2 templates (telephony/templates) and the database.

Pure: ``render(SwitchConfig) -> {file name: text}``; writing the files and starting Asterisk is in
``telephony/switch.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from jinja2 import Environment, PackageLoader, StrictUndefined

MODULE_DIR = "/usr/lib/x86_64-linux-gnu/asterisk/modules"  # Debian's multiarch path (asterisk.conf)
MAIN_MONITOR_DIR = "/var/spool/asterisk/monitor/hotline"  # the recordings component reads here

# With autoload=no every module is named, dependencies included (see the notes in modules.conf.j2).
MODULES: tuple[str, ...] = (
    # dialplan, core functions and applications
    "pbx_config",
    "func_callerid",
    "func_channel",
    "func_logic",
    "func_strings",
    "func_global",
    "func_math",
    "func_cut",
    "func_timeout",
    "func_uri",
    "func_hangupcause",
    "func_pjsip_endpoint",
    "app_dial",
    "app_playback",
    "app_stack",
    "app_exec",
    "app_verbose",
    "app_echo",
    "app_read",
    "app_senddtmf",
    "app_dtmfstore",  # StoreDTMF: every key the caller presses, kept in HOTLINE_KEYS (IVR type-ahead)
    "app_userevent",
    "app_transfer",
    "app_chanspy",
    "app_originate",
    "app_record",
    "app_queue",
    "app_mixmonitor",
    "app_stasis",
    "app_confbridge",
    "app_softhangup",
    "res_musiconhold",
    "res_clioriginate",
    "res_convert",
    # FastAGI for the IVR
    "res_speech",
    "res_agi",
    # bridges (ARI mixing bridges for three-way calls, holding bridges for callbacks)
    "bridge_simple",
    "bridge_native_rtp",
    "bridge_softmix",
    "bridge_holding",
    "bridge_builtin_features",
    "bridge_builtin_interval_features",
    # media
    "res_timing_timerfd",
    "res_rtp_asterisk",
    "res_rtp_multicast",
    "chan_rtp",
    "chan_bridge_media",
    "codec_ulaw",
    "codec_alaw",
    "codec_a_mu",
    "codec_gsm",
    "codec_resample",
    "format_wav",
    "format_wav_gsm",
    "format_gsm",
    "format_pcm",
    "format_sln",
    # PJSIP (chan_pjsip needs res_pjsip_pubsub)
    "res_pjproject",
    "res_sorcery_config",
    "res_sorcery_memory",
    "res_sorcery_astdb",
    "res_pjsip",
    "res_pjsip_session",
    "res_pjsip_pubsub",
    "chan_pjsip",
    "res_pjsip_authenticator_digest",
    "res_pjsip_outbound_authenticator_digest",
    "res_pjsip_endpoint_identifier_user",
    "res_pjsip_endpoint_identifier_ip",
    "res_pjsip_endpoint_identifier_anonymous",
    "res_pjsip_registrar",
    "res_pjsip_sdp_rtp",
    "res_pjsip_caller_id",
    "res_pjsip_dtmf_info",
    "res_pjsip_refer",
    "res_pjsip_nat",
    "res_pjsip_rfc3326",
    "res_pjsip_diversion",
    "res_pjsip_header_funcs",
    "res_pjsip_logger",
    "res_pjsip_acl",
    "func_pjsip_contact",
    "func_pjsip_aor",
    # HTTP + ARI (res_ari needs res_websocket_client)
    "res_http_websocket",
    "res_websocket_client",
    "res_stasis",
    "res_stasis_answer",
    "res_stasis_playback",
    "res_stasis_recording",
    "res_stasis_snoop",
    "res_stasis_device_state",
    "res_ari",
    "res_ari_model",
    "res_ari_applications",
    "res_ari_asterisk",
    "res_ari_bridges",
    "res_ari_channels",
    "res_ari_device_states",
    "res_ari_endpoints",
    "res_ari_events",
    "res_ari_playbacks",
    "res_ari_recordings",
    "res_ari_sounds",
)

CONFIG_FILES: tuple[str, ...] = (
    "asterisk.conf",
    "modules.conf",
    "logger.conf",
    "http.conf",
    "ari.conf",
    "rtp.conf",
    "pjsip.conf",
    "queues.conf",
    "extensions.conf",
    "cdr.conf",
    "cel.conf",
    "musiconhold.conf",
    "features.conf",
    "indications.conf",
    "confbridge.conf",
    "ccss.conf",
    "pjproject.conf",
    "websocket_client.conf",
    "acl.conf",
    "udptl.conf",
    "manager.conf",
    "queuerules.conf",
)


@dataclass(frozen=True)
class AgentAccount:
    """A softphone's SIP account; ``contact`` pins a fixed address instead of registration (test UAs)."""

    username: str
    password: str
    name: str
    skills: tuple[str, ...]
    logged_in: bool = True
    penalty: int = 0
    contact: str | None = None


@dataclass(frozen=True)
class QueueSpec:
    """One queue per skill; strategy is an app_queue strategy (rrmemory, leastrecent, fewestcalls...)."""

    name: str
    title: str
    strategy: str = "rrmemory"
    ring_seconds: int = 15
    wrapup_seconds: int = 5
    weight: int = 0
    announce_seconds: int = 30  # 0: no position/hold-time announcements


# The three skills of the hotline. Urgent calls carry the highest queue weight so that an agent in several
# queues takes an urgent caller first, and inside the urgent queue QUEUE_PRIO orders the callers.
# The urgent queue makes no position/hold-time announcements: app_queue plays them blocking, from the moment
# the caller joins, and does not ring an agent who becomes free meanwhile (logs in, is unpaused, hangs up):
# measured ~8 s of an urgent caller waiting beside a free agent. The IVR has just told them they go first.
DEFAULT_QUEUES: tuple[QueueSpec, ...] = (
    QueueSpec("consultation", "咨询 / consultation", strategy="rrmemory"),
    QueueSpec("complaint", "投诉 / complaint", strategy="leastrecent"),
    QueueSpec(
        "urgent", "紧急 / urgent", strategy="rrmemory", weight=10, wrapup_seconds=0, announce_seconds=0
    ),
)


DEFAULT_LANGUAGE_KEYS = {"1": "zh", "2": "en"}  # as ivr/menus/hotline.yaml's direct.language_keys


@dataclass(frozen=True)
class InstanceDirs:
    """Per-instance directories inside the chroot (or on the host for a system Asterisk)."""

    base: str

    def _sub(self, name: str) -> str:
        return str(PurePosixPath(self.base) / name)

    @property
    def etc(self) -> str:
        return self._sub("etc")

    @property
    def run(self) -> str:
        return self._sub("run")

    @property
    def log(self) -> str:
        return self._sub("log")

    @property
    def spool(self) -> str:
        return self._sub("spool")

    @property
    def db(self) -> str:
        return self._sub("db")

    @property
    def cache(self) -> str:
        return self._sub("cache")

    @property
    def all(self) -> tuple[str, ...]:
        return (self.etc, self.run, self.log, self.spool, self.db, self.cache)


@dataclass(frozen=True)
class SwitchConfig:
    instance: str
    ari_password: str
    ari_user: str = "hotline"
    ari_app: str = "hotline"
    http_host: str = "127.0.0.1"
    http_port: int = 8088
    sip_host: str = "127.0.0.1"
    sip_port: int = 5060
    rtp_start: int = 10000
    rtp_end: int = 10999
    citizen_match: str = "127.0.0.1"
    fastagi_host: str = "127.0.0.1"
    fastagi_port: int = 4573
    monitor_dir: str = MAIN_MONITOR_DIR
    queue_timeout: int = 1800  # seconds a caller may wait before Queue() gives up
    direct_extensions: bool = True
    unit_trunk: str | None = None  # SIP URI of the carrier/SBC for outside numbers (transfers, three-way)
    # A key pressed while waiting in a queue that sets the caller's language (the IVR menu's language_keys).
    language_keys: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_LANGUAGE_KEYS))
    verbose: bool = False
    tone_country: str = "cn"
    agents: Sequence[AgentAccount] = ()
    queues: Sequence[QueueSpec] = DEFAULT_QUEUES
    modules: Sequence[str] = field(default=MODULES)

    @property
    def dirs(self) -> InstanceDirs:
        return InstanceDirs(f"/var/lib/hotline/{self.instance}")

    @property
    def asterisk_conf(self) -> str:
        return f"{self.dirs.etc}/asterisk.conf"


@dataclass(frozen=True)
class _Member:
    username: str
    name: str
    penalty: int


@dataclass(frozen=True)
class _QueueView:
    name: str
    title: str
    strategy: str
    ring_seconds: int
    wrapup_seconds: int
    weight: int
    announce_seconds: int
    members: tuple[_Member, ...]


def _queue_views(config: SwitchConfig) -> list[_QueueView]:
    views = []
    for q in config.queues:
        members = tuple(
            _Member(a.username, a.name, a.penalty)
            for a in config.agents
            if a.logged_in and q.name in a.skills
        )
        views.append(
            _QueueView(
                q.name,
                q.title,
                q.strategy,
                q.ring_seconds,
                q.wrapup_seconds,
                q.weight,
                q.announce_seconds,
                members,
            )
        )
    return views


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("telephony", "templates"),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - Asterisk configuration, not HTML
    )


def render(config: SwitchConfig) -> dict[str, str]:
    """Every configuration file of one Asterisk instance, by file name."""
    env = _environment()
    context = {
        "instance": config.instance,
        "dirs": config.dirs,
        "module_dir": MODULE_DIR,
        "modules": config.modules,
        "verbose": config.verbose,
        "tone_country": config.tone_country,
        "http_host": config.http_host,
        "http_port": config.http_port,
        "ari_user": config.ari_user,
        "ari_password": config.ari_password,
        "ari_app": config.ari_app,
        "rtp_start": config.rtp_start,
        "rtp_end": config.rtp_end,
        "sip_host": config.sip_host,
        "sip_port": config.sip_port,
        "citizen_match": config.citizen_match,
        "agents": config.agents,
        "queues": _queue_views(config),
        "fastagi_host": config.fastagi_host,
        "fastagi_port": config.fastagi_port,
        "monitor_dir": config.monitor_dir,
        "queue_timeout": config.queue_timeout,
        "direct_extensions": config.direct_extensions,
        "unit_trunk": config.unit_trunk,
        "language_keys": dict(config.language_keys),
    }
    return {name: env.get_template(f"{name}.j2").render(context) for name in CONFIG_FILES}
