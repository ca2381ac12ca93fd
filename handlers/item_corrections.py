"""A 补正 request told once (一次性告知): every missing thing in one notice to the enterprise.

Whoever asks for corrections lists what is missing, one thing per line (or separated by
；); the enterprise contact receives that whole list in one message, with the item, its
department and the fact that the item's clock is paused until the corrections are
accepted (重新受理).
"""

from __future__ import annotations

import re

from handlers.chat import Outgoing
from handlers.context import Ctx
from handlers.projects import enterprise_contact
from handlers.render import Voice, department_name, item_name
from storage.models import ChecklistItem, Project

_SEPARATORS = re.compile(r"[\n；;]+")
_NUMBERING = re.compile(r"^\s*(?:\d+[.、．)）]|[-•·*])\s*")


def missing_list(reason: str) -> list[str]:
    """The missing things named in a 补正 reason, in order, without numbering or blanks."""
    parts = (_NUMBERING.sub("", part).strip() for part in _SEPARATORS.split(reason))
    return [part for part in parts if part]


async def tell_correction(ctx: Ctx, project: Project, item: ChecklistItem, reason: str) -> bool:
    """Send the enterprise contact the one-time notice of what the item still needs."""
    contact = await enterprise_contact(ctx.uow, project)
    if contact is None:
        await ctx.reply(
            ctx._("Project {code} has no enterprise contact to tell.", code=project.code)
        )
        return False
    say = Voice(contact.lang, ctx.scheme)
    missing = missing_list(reason)
    lines = [
        say._(
            "One-time notice (一次性告知) for project {code}: “{item}” ({department}) needs "
            "corrections. Please provide everything below together:",
            code=project.code,
            item=item_name(say, item),
            department=await department_name(ctx.uow, item.department_id, contact.lang),
        )
    ]
    lines += [f"{n}. {thing}" for n, thing in enumerate(missing, start=1)]
    lines.append(
        say._(
            "The item's time limit is paused until the corrected materials are accepted "
            "(重新受理); send them to your {butler} or in the project group."
        )
    )
    sent = await ctx.post.to_person(contact.id, Outgoing("\n".join(lines), notice="materials"))
    await ctx.reply(
        ctx.n_(
            "{name} was told in one notice what is missing ({n} thing).",
            "{name} was told in one notice what is missing ({n} things).",
            len(missing),
            name=contact.name,
        )
        if sent
        else ctx._("{name} has no chat account yet; tell them by phone.", name=contact.name)
    )
    return sent
