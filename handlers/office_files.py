"""The office's files in chat (办公文件): `/ledger` sends the ledger (台账) and `/report`
a weekly, monthly or quarterly report as spreadsheets, in a direct chat with the office.
`/archive` (the project's file, 一事一档) is the completion flow's."""

from __future__ import annotations

from handlers.chat import ChatKind
from handlers.context import Ctx
from handlers.file_replies import reply_file
from handlers.i18n import N_
from handlers.ledger import ledger_file, ledger_filename, ledger_rows
from handlers.office_xlsx import XLSX_MIME
from handlers.period_report import (
    SUMMARY_KEYS,
    PeriodError,
    build_report,
    period_bounds,
    period_of,
    report_xlsx,
)
from handlers.router import Router

router = Router("office_files")

KINDS = {
    "weekly": "weekly",
    "week": "weekly",
    "周报": "weekly",
    "每周": "weekly",
    "monthly": "monthly",
    "month": "monthly",
    "月报": "monthly",
    "quarterly": "quarterly",
    "quarter": "quarterly",
    "季报": "quarterly",
}
USAGE = N_(
    "Use: /report weekly|monthly|quarterly [period], e.g. /report monthly 2026-11 "
    "(周报、月报、季报; without a period: the current one)."
)


# The ledger names every project's company, contact and phone: a direct chat only.
@router.command(
    "ledger", roles={"office"}, chat=ChatKind.DM, help=N_("The ledger (台账) as a spreadsheet")
)
async def ledger(ctx: Ctx) -> None:
    """`/ledger`: every project's row, as of now, in the reader's language."""
    rows = await ledger_rows(ctx.uow, ctx.scheme, ctx.services.calendar, ctx.now, ctx.lang)
    data = ledger_file(rows, "xlsx", ctx.scheme, ctx.lang)
    today = ctx.now.astimezone(ctx.services.timezone).date()
    caption = ctx._(
        "The ledger (台账) as of {date}: {count} projects.", date=today, count=len(rows)
    )
    await reply_file(ctx, data, ledger_filename(ctx.lang, today), XLSX_MIME, caption)


@router.command(
    "report",
    roles={"office"},
    chat=ChatKind.DM,
    help=N_("A weekly, monthly or quarterly report as a spreadsheet"),
)
async def report(ctx: Ctx) -> None:
    """`/report [weekly|monthly|quarterly] [PERIOD]`: the period's report, as of its end."""
    words = ctx.incoming.args.split()
    kind = KINDS.get((words[0] if words else "weekly").lower())
    today = ctx.now.astimezone(ctx.services.timezone).date()
    if kind is None or len(words) > 2:
        await ctx.reply(ctx._(USAGE))
        return
    period = words[1] if len(words) == 2 else period_of(kind, today)
    try:
        first, _ = period_bounds(kind, period)
    except PeriodError:
        await ctx.reply(ctx._(USAGE))
        return
    if first > today:
        await ctx.reply(ctx._("The period {period} has not begun yet.", period=period))
        return
    drawn = await build_report(ctx.uow, ctx.services, kind, period, ctx.lang, today)
    caption = drawn.title
    totals = drawn.sections[0].rows[-1] if drawn.sections and drawn.sections[0].rows else None
    if totals is not None:  # the summary's last row: the totals, after the zone's name
        count = dict(zip(SUMMARY_KEYS, totals[1:], strict=True))
        caption += "\n" + ctx._(
            "New applications {applied}, accepted {accepted}, items completed {done}, "
            "overdue {overdue}, problems raised {opened} and resolved {resolved}, "
            "ratings {ratings}.",
            **count,
        )
    await reply_file(ctx, report_xlsx(drawn), f"{drawn.title}.xlsx", XLSX_MIME, caption)
