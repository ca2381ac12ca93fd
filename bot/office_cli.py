"""The office's one-shot commands (办公室命令): `daiban people …`, `daiban archive`,
`daiban export ledger` and `daiban report`, run against the configured store and scheme.
bot/cli.py parses the command line and builds the services; this runs them.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from bot.config import Settings
from handlers.context import Services

_PEOPLE_TARGET = {"import": "roster file", "sync": "messenger, e.g. wecom"}


async def office_command(settings: Settings, services: Services, args: argparse.Namespace) -> int:
    """Run the parsed office command; its exit status (the caller disposes the store)."""
    db, scheme = services.db, services.scheme
    if args.command == "people":
        from bot.people_cli import people_command

        if args.action == "invite":
            from bot.people_cli import invite_command

            names = [n for n in [args.target, *args.more] if n]
            return await invite_command(db, names, pending=args.pending)
        if args.action in _PEOPLE_TARGET and not args.target:
            print(
                f"daiban: people {args.action} needs a {_PEOPLE_TARGET[args.action]}",
                file=sys.stderr,
            )
            return 2
        if args.action == "sync":
            from bot.transports.wecom_sync import sync_command

            return await sync_command(
                settings, db, scheme, args.target, apply_changes=args.apply
            )
        from handlers.i18n import normalize_lang

        return await people_command(
            db,
            scheme,
            args.action,
            args.target,
            strict=args.strict,
            lang=normalize_lang(args.lang or settings.default_lang),
        )
    if args.command == "report":
        return await _report(services, args)
    if args.command == "archive":
        from bot.archive import write_archive

        try:
            from bot.archive import document_folders
            from handlers.i18n import normalize_lang

            path = await write_archive(
                db,
                scheme,
                args.project,
                args.output,
                normalize_lang(args.lang),
                document_folders(settings),
            )
        except LookupError as exc:
            print(f"daiban: {exc}", file=sys.stderr)
            return 1
        print(f"wrote {path}")
        return 0
    from bot.ledger import export_ledger
    from handlers.i18n import normalize_lang

    path = await export_ledger(
        db,
        scheme,
        services.calendar,
        args.fmt,
        args.output,
        datetime.now(UTC),
        normalize_lang(args.lang),
    )
    print(f"wrote {path}")
    return 0


async def _report(services: Services, args: argparse.Namespace) -> int:
    """`daiban report KIND --period P [--format md|xlsx] [--output PATH]`."""
    from bot.report_cli import report_command
    from handlers.i18n import normalize_lang
    from handlers.period_report import PeriodError

    try:
        out = await report_command(
            services,
            args.kind,
            args.period,
            args.fmt,
            args.output,
            normalize_lang(args.lang),
            datetime.now(UTC),
        )
    except PeriodError as exc:
        print(f"daiban: {exc}", file=sys.stderr)
        return 2
    print(out)
    return 0
