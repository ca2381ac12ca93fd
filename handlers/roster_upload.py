"""A roster file sent to the bot (名册上传): the office sends its 人员名册 (.xlsx, .csv, .yaml)
in a direct chat and it is imported exactly as `daiban people import` would, with the
same sentences for each problem (row, column, fix)."""

from __future__ import annotations

from pathlib import PurePath

from domain.roster import RosterError, parse_roster_bytes
from handlers.chat import ChatKind
from handlers.context import Ctx
from handlers.documents import document_bytes
from handlers.i18n import N_
from handlers.roster_import import apply_roster, import_lines, known_people
from handlers.roster_messages import describe_file
from handlers.router import Router

router = Router("roster_upload")

ROSTER_SUFFIXES = (".xlsx", ".csv", ".yaml", ".yml")
SHOWN = 20  # problem sentences in one answer; the rest are counted
NOT_UNDERSTOOD = N_("Sorry, I did not understand that. Send /help to see what you can do.")


@router.file(chat=ChatKind.DM)
async def roster_file(ctx: Ctx) -> None:
    """The office's roster file is imported; any other file here is not for us."""
    attachment = ctx.incoming.attachment
    assert attachment is not None
    suffix = PurePath(attachment.filename).suffix.lower()
    if not ctx.has_role("office") or suffix not in ROSTER_SUFFIXES:
        await ctx.reply(ctx._(NOT_UNDERSTOOD))
        return
    data = await document_bytes(ctx.uow, ctx.services.document_folders, attachment.ref)
    if data is None:
        await ctx.reply(
            ctx._(
                "The file {file} could not be fetched; send it again, or import it on the "
                "office computer with: daiban people import",
                file=attachment.filename,
            )
        )
        return
    scheme = ctx.scheme
    try:
        known = await known_people(ctx.uow)
        result = parse_roster_bytes(
            data, attachment.filename, scheme.departments, scheme.roles, known
        )
    except RosterError as exc:
        await ctx.reply(describe_file(exc, attachment.filename, ctx.lang))
        return
    created, updated = await apply_roster(ctx.uow, scheme, result, ctx.now, attachment.filename)
    lines = import_lines(result, created, updated, scheme, ctx.lang)
    shown = lines[: SHOWN + 1]
    if len(lines) > len(shown):
        shown.append(ctx._("… and {more} more.", more=len(lines) - len(shown)))
    await ctx.reply("\n".join(shown))
