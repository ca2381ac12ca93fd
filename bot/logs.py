"""Structured logs (结构化日志): one line per record, with the chat and project it is about.

`DAIBAN_LOG_FORMAT=text` writes logfmt (``key=value``), `json` one JSON object per line.
Every line carries the fields of the current log scope (handlers/log_context.py): chat,
event, project, job — when known. Tracebacks stay on the record's line (escaped), so a
grep for ``chat=telegram:42`` finds the whole story.

Secrets never reach the output: the configured ones (tokens, the WeCom secret and AES key,
robot keys, the database password) and anything shaped like one (a Bot API token, an
``access_token=`` or robot ``key=`` query, a password in a URL) are replaced by ``***``.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import IO, Literal

from sqlalchemy.engine import make_url

from bot.config import Settings
from handlers import log_context

LogFormat = Literal["text", "json"]

MASK = "***"
# Shapes of secrets that may not be configured here (derived tokens, other replicas'):
SECRET_SHAPES = (
    (re.compile(r"(?<!\d)\d{5,}:[A-Za-z0-9_-]{30,}"), MASK),  # a Bot API token (also in /bot…/)
    (  # in a query string: ?access_token=…, &corpsecret=…, a robot webhook's ?key=…
        re.compile(r"(?<=[?&])((?:access_token|corpsecret|key|secret|token)=)[^&\s\"']+"),
        rf"\1{MASK}",
    ),
    (re.compile(r"(://[^/:@\s]+:)[^@/\s]+@"), rf"\1{MASK}@"),  # user:password@host
)
# Libraries that log each request or scheduler run at INFO; httpx's lines hold the Bot
# API URL, which contains the token.
# aiosqlite's DEBUG lines carry statement parameters (a stored access token among them).
QUIET = ("apscheduler", "alembic", "httpx", "httpcore", "aiogram.event", "aiosqlite")


def settings_secrets(settings: Settings) -> list[str]:
    """The secret values in the settings, to be masked wherever they appear."""
    values: list[str] = []
    for secret in (
        settings.telegram_token,
        settings.telegram_webhook_secret,
        settings.wecom_secret,
        settings.wecom_token,
        settings.wecom_aes_key,
        settings.wechat_app_secret,
        settings.wechat_token,
        settings.wechat_aes_key,
    ):
        if secret is not None:
            values.append(secret.get_secret_value())
    if settings.wecom_robot_keys is not None:
        for entry in settings.wecom_robot_keys.get_secret_value().split(","):
            values.append(entry.partition("=")[2].strip())
    try:
        password = make_url(settings.database_url).password
    except Exception:  # a malformed URL fails elsewhere, with its own message
        password = None
    if password:
        values.append(str(password))
    return values


class Redactor:
    """Masks known secret values and secret-shaped substrings."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret that contains another is masked whole.
        self.secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        for pattern, replacement in SECRET_SHAPES:
            text = pattern.sub(replacement, text)
        return text


class ContextFilter(logging.Filter):
    """Copies the current log scope onto the record (``record.scope``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        here = log_context.current()
        record.scope = here.fields() if here is not None else {}
        return True


class FailureWatch(logging.Filter):
    """On the pipeline's logger: an error logged while handling an event marks it failed."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR:
            log_context.mark_failed()
        return True


def watch_handler_failures(logger_name: str = "handlers.pipeline") -> None:
    """Install `FailureWatch` once on the logger the pipeline reports failures to."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, FailureWatch) for f in logger.filters):
        logger.addFilter(FailureWatch())


def _logfmt_value(value: str) -> str:
    if value and not any(c in value for c in ' ="\\\n\r\t'):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t") + '"'


class StructuredFormatter(logging.Formatter):
    """logfmt or JSON lines with the record's scope fields; secrets masked."""

    def __init__(self, fmt: LogFormat = "text", redact: Redactor | None = None) -> None:
        super().__init__()
        self.style_name = fmt
        self.redact = redact or Redactor()

    def fields(self, record: logging.LogRecord) -> dict[str, str]:
        out = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
        }
        scope = getattr(record, "scope", None)
        if scope is None:  # a handler without ContextFilter: read the scope here
            here = log_context.current()
            scope = here.fields() if here is not None else {}
        out.update(scope)
        out["msg"] = self.redact(record.getMessage())
        if record.exc_info:
            out["exc"] = self.redact(self.formatException(record.exc_info))
        elif record.exc_text:
            out["exc"] = self.redact(record.exc_text)
        if record.stack_info:
            out["stack"] = self.redact(self.formatStack(record.stack_info))
        return out

    def format(self, record: logging.LogRecord) -> str:
        fields = self.fields(record)
        if self.style_name == "json":
            return json.dumps(fields, ensure_ascii=False)
        return " ".join(f"{key}={_logfmt_value(value)}" for key, value in fields.items())


def configure_logging(
    level: str | int,
    fmt: LogFormat = "text",
    secrets: Iterable[str] = (),
    stream: IO[str] | None = None,
) -> logging.Handler:
    """Replace the root logger's handlers with one structured, redacting handler."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.addFilter(ContextFilter())
    handler.setFormatter(StructuredFormatter(fmt, Redactor(secrets)))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Library chatter (every scheduler run, every HTTP request) drowns the useful lines.
    for noisy in QUIET:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    return handler


def configure_from_settings(settings: Settings, stream: IO[str] | None = None) -> logging.Handler:
    """`configure_logging` with the settings' level, format and secrets."""
    return configure_logging(
        settings.log_level, settings.log_format, settings_secrets(settings), stream
    )


__all__ = [
    "ContextFilter",
    "Redactor",
    "StructuredFormatter",
    "configure_from_settings",
    "configure_logging",
    "settings_secrets",
    "watch_handler_failures",
]
