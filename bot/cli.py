"""The `daiban` command (命令行).

daiban run                        start Daiban (scheduler, outbox, a local chat)
daiban db upgrade                 create or upgrade the database
daiban scheme check NAME|PATH     validate a scheme and print its summary
daiban simulate STORY.yaml        play a story; exit 0 when every expectation holds
daiban chat --as ROLE             a terminal chat with the bot
daiban i18n update                merge new message ids into both catalogs
daiban people import FILE         import the staff roster (.csv, .xlsx, .yaml) [--strict]
daiban people template [FILE]     write a ready roster .xlsx with headers and examples
daiban people invite NAME… | --pending  one-time codes to bind people's chat accounts
daiban people sync wecom [--apply]  the roster against the WeCom directory
daiban archive PROJECT            write the project's file (一事一档) as a ZIP [--lang en]
daiban export ledger --format F   write the office ledger (台账): xlsx, csv or json [--lang en]
daiban report KIND --period P     weekly/monthly/quarterly report as Markdown or --format xlsx
daiban jobs run NAME [--at T]     run one scheduler job once, as of T (manual catch-up)
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import ConfigError, Settings, load_settings
from bot.jobs_cli import add_parser as add_jobs_parser
from bot.logs import configure_from_settings
from storage.db import StorageError, safe_url

if TYPE_CHECKING:
    from aiohttp import web

    from bot.app import App


async def _upgrade(settings: Settings) -> None:
    from storage.migrate import upgrade

    await upgrade(settings.database_url)
    print(f"database is up to date: {safe_url(settings.database_url)}")


async def _ensure_current(settings: Settings, *, create: bool = False) -> None:
    """Refuse a database that needs a migration; with ``create``, a new, empty one (no table
    at all) is given its schema instead, so a first `daiban run` needs no set-up step."""
    from storage.migrate import head, status, upgrade

    revision, has_tables = await status(settings.database_url)
    if revision == head():
        return
    if create and revision is None and not has_tables:
        await upgrade(settings.database_url)
        print(f"created a new database: {safe_url(settings.database_url)}")
        return
    raise ConfigError(
        f"The database {safe_url(settings.database_url)} is not up to date; "
        "run `daiban db upgrade` (or `make run`)."
    )


def _scheme_check(target: str) -> int:
    from domain.scheme_loader import SchemeError, load_scheme
    from domain.scheme_summary import summarize

    try:
        scheme = load_scheme(target)
    except SchemeError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except FileNotFoundError as exc:
        print(f"{target}: no such preset or file ({exc})", file=sys.stderr)
        return 1
    print(summarize(scheme))
    return 0


async def _simulate(story: Path, transcript: Path | None) -> int:
    from bot.stories import StoryError, run_story_file

    try:
        result = await run_story_file(story, transcript)
    except StoryError as exc:
        print(f"story error: {exc}", file=sys.stderr)
        return 2
    for failure in result.failures:
        print(f"FAIL {story}: {failure}", file=sys.stderr)
    if result.ok:
        print(f"ok {story}")
    return 0 if result.ok else 1


async def _start_frontends(
    app: App, settings: Settings, web_app: web.Application, emulator_on: bool
) -> list[Callable[[], Awaitable[None]]]:
    """Attach every configured frontend; each returns an async function that stops it."""
    stoppers: list[Callable[[], Awaitable[None]]] = []
    try:
        if settings.telegram_token is not None:
            from bot.transports.telegram import start_telegram

            stoppers.append(await start_telegram(app, settings, web_app))
        if settings.wecom_corp_id:
            from bot.transports.wecom_start import start_wecom

            # checks agent id, secret, token, AES key (43 characters) and robot keys
            stoppers.append(await start_wecom(app, settings, web_app))
        if settings.wechat_app_id:
            from bot.transports.wechat import start_wechat

            # checks secret, token, AES key (43 characters) and the template kinds
            stoppers.append(await start_wechat(app, settings, web_app))
        if emulator_on:
            from bot.emulator import attach_emulator

            stoppers.append(await attach_emulator(app, settings, web_app))
            from bot.transports.wechat_view import add_wechat_view

            add_wechat_view(app, web_app)  # a demo chat as a WeChat contact sees it
    except BaseException:
        for stop_frontend in reversed(stoppers):
            await stop_frontend()
        raise
    return stoppers


async def _run(settings: Settings, role: str | None) -> int:
    """`daiban run` (role None): every configured frontend, the web server, the scheduler and
    outbox delivery. `daiban chat --as ROLE`: the same core with only the terminal chat, so it
    can run beside a `daiban run` on the same database without competing for its port."""
    from bot.app import build_app, run_until_stopped
    from bot.transports.terminal import terminal_chat
    from bot.web import build_web_app, start_web

    await _ensure_current(settings, create=True)
    app = await build_app(settings)
    chat_only = role is not None
    # The emulator: on when no messenger is configured, or when DAIBAN_EMULATOR says so.
    emulator_on = not chat_only and (
        settings.emulator if settings.emulator is not None else not settings.messenger_configured
    )
    stoppers: list[Callable[[], Awaitable[None]]] = []
    runner: web.AppRunner | None = None
    try:
        if emulator_on:
            from bot.emulator.guard import check_placement

            check_placement(settings)  # ConfigError: not on 0.0.0.0, not beside a messenger
        if not chat_only:
            web_app = build_web_app(app)
            stoppers = await _start_frontends(app, settings, web_app, emulator_on)
            try:
                runner = await start_web(web_app, settings.web_host, settings.web_port)
            except OSError as exc:
                raise ConfigError(
                    f"DAIBAN_WEB_PORT: cannot listen on {settings.web_host}:{settings.web_port} "
                    f"({exc.strerror}); choose another port."
                ) from None
    except BaseException:
        for stop_frontend in reversed(stoppers):
            await stop_frontend()
        await app.close()
        raise
    # What start-up built (modules, schemas, the scheme, the catalogs) lives as long as the
    # process: keep it out of the collector's full passes, which otherwise walk it all.
    gc.freeze()
    stop = asyncio.Event()
    background = asyncio.create_task(run_until_stopped(app, stop))
    print(
        f"Daiban is running — scheme {app.services.scheme.id}, "
        f"database {safe_url(settings.database_url)}, time zone {app.services.timezone.key}."
    )
    if runner is not None:
        print(f"Health: http://{settings.web_host}:{settings.web_port}/healthz")
    if emulator_on:
        print(f"Open http://{settings.web_host}:{settings.web_port} in a browser to chat.")
    try:
        # With the emulator on, the browser is the chat; `daiban chat --as ROLE` still asks
        # for the terminal one.
        if chat_only or (sys.stdin.isatty() and not emulator_on):
            await terminal_chat(app, role or "enterprise")
        else:
            if emulator_on:
                print("Stop with Ctrl-C.")
            else:
                print(
                    "No terminal attached. Talk to Daiban with "
                    "`.venv/bin/daiban chat --as enterprise`; stop with Ctrl-C."
                )
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await stop.wait()
    finally:
        stop.set()
        await background
        for stop_frontend in reversed(stoppers):
            await stop_frontend()
        if runner is not None:
            await runner.cleanup()
        await app.close()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="daiban", description="Daiban (代办): the agency-service chat bot."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="start Daiban")
    db = sub.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade"])
    scheme = sub.add_parser("scheme", help="locality schemes")
    scheme.add_argument("action", choices=["check"])
    scheme.add_argument(
        "target", help="preset name (tongzhou, sanyuan, …) or path to a scheme YAML"
    )
    sim = sub.add_parser("simulate", help="play a story file")
    sim.add_argument("story", type=Path)
    sim.add_argument("--transcript", type=Path, help="write the conversation as JSON lines")
    chat = sub.add_parser("chat", help="chat with the bot in this terminal")
    chat.add_argument(
        "--as",
        dest="role",
        default="enterprise",
        choices=["enterprise", "butler", "specialist", "backup", "office", "leader"],
    )
    i18n = sub.add_parser("i18n", help="translation catalogs")
    i18n.add_argument("action", choices=["update"])
    people = sub.add_parser("people", help="the staff roster and invite codes")
    people.add_argument("action", choices=["import", "template", "invite", "sync"])
    people.add_argument(
        "target",
        nargs="?",
        default="",
        help="roster file (import, template), name/mobile (invite) or messenger (sync: wecom)",
    )
    people.add_argument("more", nargs="*", help="invite: more names or mobiles")
    people.add_argument(
        "--pending", action="store_true", help="invite: everyone who has not activated yet"
    )
    people.add_argument(
        "--strict", action="store_true", help="import: any problem imports nothing (exit 1)"
    )
    people.add_argument("--lang", choices=["zh", "en"], default=None)
    people.add_argument(
        "--apply", action="store_true", help="sync: apply the changes, not only list them"
    )
    archive = sub.add_parser("archive", help="write a project's file (一事一档) as a ZIP")
    archive.add_argument("project", help="project code, e.g. P2026-0001")
    archive.add_argument("--output", type=Path)
    archive.add_argument("--lang", choices=["zh", "en"], default="zh")
    export = sub.add_parser("export", help="office exports")
    export.add_argument("what", choices=["ledger"])
    export.add_argument("--format", dest="fmt", choices=["xlsx", "csv", "json"], default="xlsx")
    export.add_argument("--output", type=Path)
    export.add_argument("--lang", choices=["zh", "en"], default="zh")
    report = sub.add_parser("report", help="periodic reports (weekly, monthly, quarterly)")
    report.add_argument("kind", choices=["weekly", "monthly", "quarterly"])
    report.add_argument("--period", required=True, help="2026-W48, 2026-11 or 2026Q4")
    report.add_argument("--format", dest="fmt", choices=["md", "xlsx"], default="md")
    report.add_argument("--output", type=Path)
    report.add_argument("--lang", choices=["zh", "en"], default="zh")
    add_jobs_parser(sub)
    return parser


async def _office_command(settings: Settings, args: argparse.Namespace) -> int:
    """`daiban people|archive|export|report …` against the configured store and scheme."""
    from bot.app import build_services
    from bot.office_cli import office_command

    await _ensure_current(settings)
    services = build_services(settings)
    try:
        return await office_command(settings, services, args)
    finally:
        await services.db.dispose()


def _i18n_update() -> int:
    from bot.i18n_tools import update

    for lang, missing in update().items():
        print(f"{lang}: {missing} untranslated")
    return 0


def _file_problem(exc: OSError) -> str:
    name = exc.filename if exc.filename is not None else "a file"
    if isinstance(exc, FileNotFoundError):
        return f"{name}: no such file or folder; check the path and try again."
    if isinstance(exc, PermissionError):
        return f"{name}: permission denied; check who may read or write it."
    if isinstance(exc, IsADirectoryError):
        return f"{name} is a folder; give the path of a file."
    return f"{name}: {exc.strerror or exc}."


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "scheme":
            return _scheme_check(args.target)
        if args.command == "i18n":
            return _i18n_update()
        if args.command == "simulate":
            logging.basicConfig(level=logging.WARNING)
            return asyncio.run(_simulate(args.story, args.transcript))
        settings = load_settings()
        # One line per record with its chat and project; secrets masked; libraries quiet.
        configure_from_settings(settings)
        if args.command == "db":
            asyncio.run(_upgrade(settings))
            return 0
        if args.command == "chat":
            return asyncio.run(_run(settings, args.role))
        if args.command == "jobs":
            from bot.jobs_cli import jobs_command

            return asyncio.run(jobs_command(settings, args.name, args.at))
        if args.command in ("people", "archive", "export", "report"):
            return asyncio.run(_office_command(settings, args))
        return asyncio.run(_run(settings, None))
    except ConfigError as exc:
        print(f"daiban: {exc}", file=sys.stderr)
        return 2
    except StorageError as exc:
        print(f"daiban: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        # A missing or unreadable input, an output folder that does not exist: one sentence.
        print(f"daiban: {_file_problem(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
