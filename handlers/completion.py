"""Stages and completion (阶段推进、办结归档): advance, 办结单, confirmation, the 一事一档 file.

The butler advances the stage when its items are closed (or states why not); starts 办结
with `/complete`; the enterprise contact confirms the completion summary (办结单) with a
button, recorded with identity and time; the project is then archived. `/archive` lists
the one-project file (一事一档) that handlers/project_file.py builds.
"""

from __future__ import annotations

import io
import zipfile

from domain.scheme import Scheme
from handlers.access import OnProject
from handlers.chat import Button, ChatKind, Outgoing
from handlers.context import Ctx
from handlers.file_replies import reply_file
from handlers.i18n import N_
from handlers.inbound_text import too_long
from handlers.item_approval import recorded_approval
from handlers.office_xlsx import ZIP_MIME
from handlers.project_file import archive_filename, build_archive
from handlers.projects import enterprise_contact
from handlers.render import (
    STATE_LABELS,
    Speaks,
    Voice,
    counts,
    item_name,
    local_time,
    progress_bar,
    stage_name,
)
from handlers.router import Router
from storage.models import Project
from storage.uow import UnitOfWork

router = Router("completion")

CLOSED = ("done", "not_applicable")


async def _open_project(ctx: Ctx) -> tuple[Project | None, str]:
    """The butler's project from the scope, unless it is already being closed."""
    project = ctx.project
    assert project is not None
    if project.status in ("completing", "archived"):
        await ctx.reply(ctx._("Project {code} is already being closed.", code=project.code))
        return None, ctx.args
    return project, ctx.args


async def _notify_groups(ctx: Ctx, project: Project, text: str) -> None:
    """Tell the project's groups; the current chat is answered by the caller."""
    for chat in await ctx.uow.chats.for_project(project.id):
        if (chat.platform, chat.external_id) != (ctx.incoming.platform, ctx.incoming.chat_id):
            await ctx.post.to_chat(chat.platform, chat.external_id, text)


# -- stages ---------------------------------------------------------------------------------
@router.command(
    "advance",
    roles={"butler"},
    scope=OnProject("butler"),
    help=N_("Move the project to its next stage"),
)
async def advance(ctx: Ctx) -> None:
    """`/advance [REASON]`: move the project to the next stage (立项 → … → 移交)."""
    project, reason = await _open_project(ctx)
    if project is None:
        return
    ids = [s.id for s in ctx.scheme.stages]
    position = ids.index(project.stage) if project.stage in ids else len(ids) - 1
    if position + 1 >= len(ids):
        await ctx.reply(
            ctx._(
                "Project {code} is at its last stage; start completion with /complete.",
                code=project.code,
            )
        )
        return
    items = await ctx.uow.items.of_project(project.id)
    open_items = [i for i in items if i.stage == project.stage and i.state not in CLOSED]
    reason = reason.strip()
    if await too_long(ctx, reason, "reason"):
        return
    if open_items and not reason:
        await ctx.reply(
            ctx._(
                "Stage {stage} still has {count} open items: {items}. Close them first, or give a "
                "reason: /advance REASON",
                stage=stage_name(ctx, ctx.scheme, project.stage),
                count=len(open_items),
                items="、".join(item_name(ctx, i) for i in open_items),
            )
        )
        return
    before, project.stage = project.stage, ids[position + 1]
    await ctx.uow.projects.save(project)
    await ctx.uow.events.append(
        "project.stage_advanced",
        at=ctx.now,
        actor_id=ctx.person.id,
        project_id=project.id,
        data={
            "from": before,
            "to": project.stage,
            "reason": reason or None,
            "open_items": [i.code for i in open_items],
        },
    )
    text = ctx._(
        "Project {code} moves from {before} to {after}.",
        code=project.code,
        before=stage_name(ctx, ctx.scheme, before),
        after=stage_name(ctx, ctx.scheme, project.stage),
    )
    if reason:
        text += "\n" + ctx._("Reason: {reason}", reason=reason)
    await ctx.reply(text)
    await _notify_groups(ctx, project, text)


# -- completion (办结) ----------------------------------------------------------------------
async def completion_summary(say: Speaks, uow: UnitOfWork, scheme: Scheme, project: Project) -> str:
    """The completion summary (办结单): the project, items with dates and who handled them."""
    items = await uow.items.of_project(project.id)
    done, total = counts(items)
    lines = [
        say._(
            "**Completion summary (办结单) — {code} {name}**", code=project.code, name=project.name
        ),
        say._("Items done: {bar}", bar=progress_bar(done, total)),
    ]
    for item in items:
        who = await uow.people.get(item.assignee_id) if item.assignee_id else None
        line = say._(
            "• {item} — {state}, {date}, {who}",
            item=item_name(say, item),
            state=say._(STATE_LABELS.get(item.state, item.state)),
            date=item.done_on.isoformat() if item.done_on else "—",
            who=who.name if who else "—",
        )
        approval = await recorded_approval(uow, item) if item.state == "done" else None
        if approval is not None and approval.number:
            line += " · " + say._("Approval number: {number}", number=approval.number)
        lines.append(line)
    butler = await uow.people.get(project.butler_id) if project.butler_id else None
    lines.append(
        say._(
            "{role}: {name}",
            role=say.label(scheme.roles.butler),
            name=butler.name if butler else "—",
        )
    )
    return "\n".join(lines)


@router.command(
    "complete",
    roles={"butler"},
    scope=OnProject("butler"),
    help=N_("Start completion (办结) for the enterprise to confirm"),
)
async def complete(ctx: Ctx) -> None:
    """`/complete [REASON]`: the butler starts 办结; the enterprise contact confirms."""
    project, reason = await _open_project(ctx)
    if project is None:
        return
    items = await ctx.uow.items.of_project(project.id)
    open_items = [i for i in items if i.state not in CLOSED]
    if open_items and not reason.strip():
        await ctx.reply(
            ctx._(
                "{count} items are still open: {items}. Close them first, or give a reason: "
                "/complete REASON",
                count=len(open_items),
                items="、".join(item_name(ctx, i) for i in open_items),
            )
        )
        return
    contact = await enterprise_contact(ctx.uow, project)
    if contact is None:
        await ctx.reply(
            ctx._("Project {code} has no enterprise contact to confirm.", code=project.code)
        )
        return
    project.status = "completing"
    await ctx.uow.projects.save(project)
    await ctx.uow.events.append(
        "project.completion_started",
        at=ctx.now,
        actor_id=ctx.person.id,
        project_id=project.id,
        data={"reason": reason.strip() or None, "open_items": [i.code for i in open_items]},
    )
    say = Voice(contact.lang)
    summary = await completion_summary(say, ctx.uow, ctx.scheme, project)
    summary += "\n" + say._("Please check and confirm that the service is complete.")
    sent = await ctx.post.to_person(
        contact.id,
        Outgoing(
            summary,
            buttons=[[Button(say._("✔ I confirm completion"), f"fin:ok:{project.id}")]],
            notice="completion",
        ),
    )
    await ctx.reply(
        ctx._("The completion summary was sent to {name} for confirmation.", name=contact.name)
        if sent
        else ctx._(
            "{name} has no chat account yet; they cannot confirm in the bot.", name=contact.name
        )
    )


@router.button("fin:ok:", scope=OnProject("contact", via="project"))
async def confirm(ctx: Ctx) -> None:
    """The enterprise contact confirms 办结: identity and time are recorded, then archive."""
    project = ctx.project
    assert project is not None
    if project.status != "completing":
        await ctx.reply(
            ctx._("Project {code} is not waiting for your confirmation.", code=project.code)
        )
        return
    confirmation = {
        "person_id": ctx.person.id,
        "name": ctx.person.name,
        "account": f"{ctx.incoming.platform}:{ctx.incoming.sender.external_id}",
        "at": ctx.now.isoformat(),
    }
    project.snapshot = {**(project.snapshot or {}), "completion": confirmation}
    project.status = "archived"
    await ctx.uow.projects.save(project)
    await ctx.uow.events.append(
        "project.completion_confirmed",
        at=ctx.now,
        actor_id=ctx.person.id,
        project_id=project.id,
        data=confirmation,
    )
    await ctx.uow.events.append(
        "project.archived", at=ctx.now, actor_id=ctx.person.id, project_id=project.id
    )
    await ctx.reply(
        ctx._(
            "Thank you. Completion of project {code} is confirmed ({time}).",
            code=project.code,
            time=local_time(ctx.now, ctx.services.timezone),
        )
    )
    text = ctx._(
        "{name} confirmed the completion of project {code} at {time}. The project is "
        "archived (一事一档).",
        name=ctx.person.name,
        code=project.code,
        time=local_time(ctx.now, ctx.services.timezone),
    )
    await _notify_groups(ctx, project, text)
    if project.butler_id is not None:
        await ctx.post.to_person(project.butler_id, text)
    for member in await ctx.uow.people.with_role("office"):
        if member.id != project.butler_id:
            await ctx.post.to_person(member.id, _confirmed_for(Voice(member.lang), ctx, project))


def _confirmed_for(say: Speaks, ctx: Ctx, project: Project) -> str:
    """The office's notice of a confirmed 办结: whose, when, and what to file."""
    return say._(
        "{name} confirmed the completion (办结) of project {code} {project} at {time}. The "
        "project is archived; its file (一事一档) is ready for the office archive.",
        name=ctx.person.name,
        code=project.code,
        project=project.name,
        time=local_time(ctx.now, ctx.services.timezone),
    )


# The file holds the enterprise's documents and contacts: sent in a direct chat only.
@router.command(
    "archive", roles={"office"}, chat=ChatKind.DM, help=N_("The project's file (一事一档)")
)
async def archive_command(ctx: Ctx) -> None:
    """`/archive PROJECT` (office): the 一事一档 file as a ZIP, sent in this chat."""
    code = ctx.incoming.args.strip()
    project = await ctx.uow.projects.by_code(code) if code else None
    if project is None:
        await ctx.reply(ctx._("Use: /archive PROJECT_CODE"))
        return
    folders = ctx.services.document_folders
    data = await build_archive(ctx.uow, ctx.scheme, project, ctx.lang, folders)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
    documents = sum(1 for name in names if name.startswith("documents/"))
    await ctx.uow.events.append(
        "project.archive_made",
        at=ctx.now,
        actor_id=ctx.person.id,
        project_id=project.id,
        data={"bytes": len(data), "files": names},
    )
    caption = ctx._(
        "The file of project {code} {name} (一事一档), with {documents} documents the "
        "enterprise sent.",
        code=project.code,
        name=project.name,
        documents=documents,
    )
    await reply_file(ctx, data, archive_filename(project, ctx.lang), ZIP_MIME, caption)
