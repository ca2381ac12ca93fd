"""Files the bot answers with (回复文件): kept in the store (``stored:N``) in the event's
transaction, then sent by the delivery worker like any message, as a Telegram document, a
WeCom file or an emulator download."""

from __future__ import annotations

from handlers.chat import Attachment, Outgoing
from handlers.context import Ctx


async def reply_file(ctx: Ctx, data: bytes, filename: str, mime_type: str, caption: str) -> None:
    """Answer in the event's chat with `caption` and the file attached."""
    ref = await ctx.uow.files.add(filename, mime_type, data, ctx.now)
    await ctx.reply(Outgoing(caption, attachment=Attachment(filename, mime_type, len(data), ref)))


__all__ = ["reply_file"]
