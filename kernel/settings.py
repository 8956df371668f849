"""One typed settings class, read from ``HOTLINE_*`` environment variables and an optional TOML file.

The TOML file is ``$HOTLINE_CONFIG`` or ``hotline.toml`` in the working directory. Environment variables win
over the file. Outside development, secrets left at their shipped defaults are refused at start-up.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_SECRET = "change-me-in-production"  # noqa: S105 - a marker that is refused outside development

Environment = Literal["development", "test", "production"]


def _config_file() -> Path:
    return Path(os.environ.get("HOTLINE_CONFIG", "hotline.toml"))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOTLINE_", extra="ignore")

    environment: Environment = "development"
    data_dir: Path = Path("var")
    database_url: str = ""  # empty: SQLite file under data_dir
    secret_key: str = DEFAULT_SECRET
    site_name: str = "海口12345"
    timezone: str = "Asia/Shanghai"
    default_locale: Literal["zh-CN", "en"] = "zh-CN"

    # The web app and APIs
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    # The address citizens and staff use, e.g. https://12345.haikou.gov.cn behind a TLS proxy. When it is
    # https, cookies are Secure and HSTS is sent even though the proxy speaks plain HTTP to us.
    public_url: str = ""

    # Several processes: the broker that carries events between them (empty: one process, in-process bus)
    broker_url: str = ""  # e.g. nats://127.0.0.1:4222
    # The subject namespace on that broker: hotlines sharing one NATS server need distinct namespaces.
    broker_namespace: str = Field(default="hotline", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    log_format: Literal["text", "json"] = "text"
    # Prometheus: the web role serves /metrics; other roles on this port when set (0: off). Scrapes come
    # from loopback, or carry HOTLINE_METRICS_TOKEN as a bearer token.
    metrics_port: int = Field(default=0, ge=0, le=65535)
    metrics_token: str = ""

    # Routing / SLA scheduler (the policy file: response minutes, working days, escalation; default shipped)
    sla_policy_file: Path | None = None
    scheduler_poll_seconds: float = Field(default=0.25, gt=0, le=60)
    scheduler_batch_size: int = Field(default=500, gt=0)

    # Asterisk (telephony issue)
    asterisk_root: Path = Path("/var/cache/hotline/asterisk-root")
    asterisk_cache_dir: Path = Path("/var/cache/hotline")
    ari_url: str = "http://127.0.0.1:8088"
    ari_user: str = "hotline"
    ari_password: str = ""  # generated per installation when empty
    ari_app: str = "hotline"
    telephony_enabled: bool = False  # follow the switch's ARI events (make run sets it once Asterisk is up)
    fastagi_host: str = "127.0.0.1"
    fastagi_port: int = 4573
    sip_port: int = 5060

    # Outbound calls: satisfaction survey (回访) and callback-in-queue (telephony/outbound.py). Exactly one
    # process serves the outbound ARI application: the web process by default; with several web workers
    # set HOTLINE_OUTBOUND_ENABLED=false there and run `hotline callbacks run` once.
    outbound_enabled: bool = True
    outbound_dial_template: str = "PJSIP/{number}@units"
    outbound_caller_id: str = "12345"
    outbound_ring_seconds: int = Field(default=30, gt=0, le=120)
    callback_windows: str = "09:00-12:00,14:00-20:00"
    callback_first_call_minutes: float = Field(default=30, ge=0)
    callback_retry_minutes: float = Field(default=120, gt=0)
    callback_max_attempts: int = Field(default=3, ge=1)
    # Days without any automatic call (回访 and callbacks): public holidays (the hotline calls on weekends),
    # every non-working day, or none; from the official calendar (routing/calendar.py).
    callback_skip_days: Literal["holidays", "non_workdays", "none"] = "holidays"
    # Callbacks of missed calls (漏接电话回拨, 国办函〔2025〕66号) and of callback requests (telephony/queue_callback.py):
    # placed inside these windows; each is due within callback_missed_within_minutes of the first calling
    # moment after the call; a hang-up shorter than callback_missed_min_seconds is a misdial, not a missed call.
    queue_callback_windows: str = "08:00-21:00"
    callback_missed_within_minutes: float = Field(default=30, gt=0)
    callback_missed_min_seconds: float = Field(default=0, ge=0)
    callback_missed_enabled: bool = True

    # Linkage with the emergency services (国办发〔2022〕12号): what the units' trunk dials for each line when an
    # agent transfers a caller or opens a three-way call from the desk (a direct linkage number of the 110
    # centre, say, instead of the public short number).
    emergency_110: str = Field(default="110", pattern=r"^[0-9]{3,20}$")  # 公安 police
    emergency_119: str = Field(default="119", pattern=r"^[0-9]{3,20}$")  # 消防 fire
    emergency_120: str = Field(default="120", pattern=r"^[0-9]{3,20}$")  # 急救 ambulance
    emergency_122: str = Field(default="122", pattern=r"^[0-9]{3,20}$")  # 交警 traffic police

    # Speech recognition
    asr_enabled: bool = True  # transcribe answered calls live (when telephony is enabled and a model exists)
    vosk_model_path: Path | None = None
    whisper_model_path: Path | None = None
    asr_second_pass: bool = False
    # Recognition profile (asr.profiles): the calls' language; the language of HOTLINE_VOSK_MODEL_PATH's model
    # when its directory name does not say (vosk-model-cn-0.22 → zh); "auto" uses a Vosk model of the
    # language where one is installed, else Silero VAD + Whisper; partials: greedy Whisper re-decodes
    # ("decode", bounded) or one "正在说话…" line ("placeholder").
    asr_language: str = Field(default="zh", pattern=r"^[a-z]{2,3}$")
    vosk_model_language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}$")
    asr_streaming: Literal["auto", "vosk", "vad"] = "auto"
    asr_partials: Literal["decode", "placeholder"] = "decode"
    # ASR workers (`hotline run asr`): the address the switch sends this worker's RTP to (its own address on
    # the network Asterisk reaches; 127.0.0.1 on one machine), what it binds (default: that address; 0.0.0.0
    # behind NAT), how many calls it takes before it sheds new ones to other workers, its name.
    asr_rtp_host: str = "127.0.0.1"
    asr_rtp_bind: str = ""
    asr_worker_capacity: int = Field(default=12, ge=1, le=1000)
    asr_worker_id: str = ""
    # Workers announce themselves every asr_heartbeat_seconds; the telephony role moves the calls of one not
    # heard from for asr_worker_lapse_seconds (keep it ≥ 3 heartbeats: a shorter lapse moves live calls).
    asr_heartbeat_seconds: float = Field(default=0.5, gt=0.05, le=10)
    asr_worker_lapse_seconds: float = Field(default=1.5, gt=0.2, le=60)

    # Recordings
    recordings_dir: Path | None = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=_config_file())
        return (init_settings, env_settings, toml, file_secret_settings)

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        if self.environment != "development" and self.secret_key == DEFAULT_SECRET:
            raise ValueError(
                "HOTLINE_SECRET_KEY is still the shipped default; set a real secret outside development "
                f"(e.g. {secrets.token_urlsafe(8)}…)"
            )
        return self

    @property
    def emergency_lines(self) -> dict[str, str]:
        """Each emergency line (110, 119, 120, 122) and the number dialled for it."""
        return {
            "110": self.emergency_110,
            "119": self.emergency_119,
            "120": self.emergency_120,
            "122": self.emergency_122,
        }

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'hotline.sqlite3').resolve()}"

    @property
    def resolved_recordings_dir(self) -> Path:
        return self.recordings_dir or self.data_dir / "recordings"

    @property
    def https(self) -> bool:
        return self.public_url.lower().startswith("https://")

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")


def load_settings(**overrides: object) -> Settings:
    settings = Settings(**overrides)  # type: ignore[arg-type]
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings
