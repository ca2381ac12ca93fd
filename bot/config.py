"""Configuration (配置) from the environment and an optional `.env`, all `DAIBAN_`-prefixed.

A wrong or missing setting stops start-up with one sentence naming the variable
(`ConfigError`), never a traceback. Secrets are `SecretStr`: they never print.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DB = f"sqlite+aiosqlite:///{ROOT / 'var' / 'daiban.sqlite3'}"


class ConfigError(Exception):
    """A setting is wrong; the message is one sentence for the person starting Daiban."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DAIBAN_", env_file=".env", extra="ignore")

    database_url: str = DEFAULT_DB
    scheme: str = "tongzhou"
    timezone: str | None = None  # default: the scheme's (Asia/Shanghai for every preset)
    default_lang: Literal["zh_CN", "en"] = "zh_CN"
    holidays_file: Path | None = None
    tick_seconds: int = Field(default=60, ge=5, le=3600)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"  # logfmt lines or JSON lines

    telegram_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    telegram_library: Literal["aiogram", "ptb"] = "aiogram"
    telegram_mode: Literal["polling", "webhook"] = "polling"
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    # Delivery limits (the Bot API's published ones by default) and the HTTP timeout.
    telegram_rate_global: float = Field(default=30, gt=0)  # messages per second, all chats
    telegram_rate_chat: float = Field(default=1, gt=0)  # messages per second, one chat
    telegram_rate_group: float = Field(default=20, gt=0)  # messages per minute, one group
    telegram_request_timeout: float = Field(default=20, gt=0, le=300)  # seconds

    wecom_corp_id: str | None = None
    wecom_agent_id: str | None = None
    wecom_secret: SecretStr | None = None
    wecom_token: SecretStr | None = None
    wecom_aes_key: SecretStr | None = None
    wecom_api_url: str = "https://qyapi.weixin.qq.com"
    wecom_robot_keys: SecretStr | None = None
    # WeCom's published limits: 30 app messages a minute per member, 20 per robot.
    wecom_member_per_minute: int = Field(default=30, ge=1, le=30)
    wecom_robot_per_minute: int = Field(default=20, ge=1, le=20)
    # WeCom for the staff (issue 16): the hourly member limit (1,000; kept in the store, so
    # replicas share it).
    wecom_member_per_hour: int = Field(default=1000, ge=1, le=1000)
    # Group robots that receive messages: name=TOKEN:ENCODINGAESKEY (their own, per robot);
    # each calls /wecom/robot/<name> and answers through its DAIBAN_WECOM_ROBOT_KEYS key.
    wecom_robot_callbacks: SecretStr | None = None
    # Nightly, compare the roster with the WeCom directory and tell the office what differs
    # (nothing is applied: `daiban people sync wecom --apply` does that).
    wecom_directory_check: bool = False
    # Where the WeCom rate windows, token and progress live when set (else the database).
    redis_url: SecretStr | None = None

    # WeChat Official Account (服务号) for enterprise contacts: setting the AppID connects it.
    wechat_app_id: str | None = None
    wechat_app_secret: SecretStr | None = None
    wechat_token: SecretStr | None = None
    wechat_aes_key: SecretStr | None = None
    wechat_api_url: str = "https://api.weixin.qq.com"
    wechat_templates: str | None = None  # kind=template_id,… (kinds in the README)
    wechat_link_url: str | None = None  # where a template message leads (the chat's page)
    wechat_plain_mode: bool = False  # accept plain-mode (明文模式) callbacks too; not advised

    # How long a claimed outbox row stays claimed without its worker renewing it.
    outbox_lease_seconds: float = Field(default=120, ge=1, le=3600)
    # A delivery worker whose heartbeat is older than this is dead: its claims are taken over.
    outbox_silent_seconds: float = Field(default=6, ge=2, le=3600)
    # A daily round whose holder has not renewed its lease for this long is taken over.
    round_silent_seconds: float = Field(default=15, ge=2, le=3600)

    web_host: str = "127.0.0.1"
    # The browser emulator: None = on exactly when no messenger is configured.
    emulator: bool | None = None
    # The emulator acts as anyone: only on a loopback address and without a real messenger,
    # unless this says the operator means it (bot/emulator/guard.py).
    emulator_unsafe: bool = False
    web_port: int = Field(default=8080, ge=1, le=65535)

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("is not a known time zone (for example Asia/Shanghai)") from None
        return value

    @property
    def messenger_configured(self) -> bool:
        return (
            self.telegram_token is not None
            or self.wecom_corp_id is not None
            or self.wechat_app_id is not None
        )


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning any validation problem into one clear `ConfigError`."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "?"
        given = error.get("input")
        shown = (
            "" if "secret" in field or "token" in field or "key" in field else f" (got {given!r})"
        )
        reason = str(error["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"DAIBAN_{field.upper()}{shown}: {reason}.") from None
    if (
        settings.telegram_mode == "webhook"
        and settings.telegram_token
        and not settings.telegram_webhook_url
    ):
        raise ConfigError(
            "DAIBAN_TELEGRAM_WEBHOOK_URL must be set when DAIBAN_TELEGRAM_MODE=webhook."
        )
    return settings
