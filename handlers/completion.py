"""Stages and completion (阶段推进、办结归档): advance, 办结单, confirmation, the 一事一档 file.

The butler advances the stage when its items are closed (or states why not); starts 办结
with `/complete`; the enterprise contact confirms the completion summary (办结单) with a
button, recorded with identity and time; the project is then archived. `build_archive`
makes the one-project file (一事一档), a ZIP, for `daiban archive` and the office.
"""

from __future__ import annotations

import csv
import html
import io
import json
import zipfile
from typing import Any

from domain.scheme import Scheme
from handlers.chat import Button, Outgoing
from handlers.context import Ctx
from handlers.i18n import N_
from handlers.items import STATE_LABELS, counts, progress_bar
from handlers.office import Speaks, Voice, material_name
from handlers.plan import item_name, stage_name
from handlers.router import Router
from handlers.team import enterprise_contact, my_project
from storage.models import ChecklistItem, Project
from storage.uow import UnitOfWork

router = Router("completion")

CLOSED = ("done", "not_applicable")
STYLE = (
    "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
    "td,th{border:1px solid #999;padding:4px}"
)


def _when(ctx: Ctx, at: Any) -> str:
    return at.astimezone(ctx.services.timezone).strftime("%Y-%m-%d %H:%M") if at else "—"


async def _butler_project(ctx: Ctx) -> tuple[Project | None, str]:
    project, args = await my_project(ctx, ctx.incoming.args, "butler")
    if project is not None and project.butler_id != ctx.person.id:
        await ctx.reply(ctx._("Only the butler of project {code} can do this.", code=project.code))
        return None, args
    if project is not None and project.status in ("completing", "archived"):
        await ctx.reply(ctx._("Project {code} is already being closed.", code=project.code))
        return None, args
    return project, args


async def _notify_groups(ctx: Ctx, project: Project, text: str) -> None:
    """Tell the project's groups; the current chat is answered by the caller."""
    for chat in await ctx.uow.chats.for_project(project.id):
        if (chat.platform, chat.external_id) != (ctx.incoming.platform, ctx.incoming.chat_id):
            await ctx.send_to_chat(chat.platform, chat.external_id, text)


# -- stages ---------------------------------------------------------------------------------
@router.command("advance", roles={"butler"})
async def advance(ctx: Ctx) -> None:
    """`/advance [REASON]`: move the project to the next stage (立项 → … → 移交)."""
    project, reason = await _butler_project(ctx)
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
    if open_items and not reason:
        await ctx.reply(
            ctx._(
                "Stage {stage} still has {count} open items: {items}. Close them first, or give a "
                "reason: /advance REASON",
                stage=stage_name(ctx, ctx.scheme, project.stage),
                count=len(open_items),
                items="、".join(i.code for i in open_items),
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
        lines.append(
            say._(
                "• {item} — {state}, {date}, {who}",
                item=item_name(say, item),
                state=say._(STATE_LABELS.get(item.state, item.state)),
                date=item.done_on.isoformat() if item.done_on else "—",
                who=who.name if who else "—",
            )
        )
    butler = await uow.people.get(project.butler_id) if project.butler_id else None
    lines.append(
        say._(
            "{role}: {name}",
            role=say.label(scheme.roles.butler),
            name=butler.name if butler else "—",
        )
    )
    return "\n".join(lines)


@router.command("complete", roles={"butler"})
async def complete(ctx: Ctx) -> None:
    """`/complete [REASON]`: the butler starts 办结; the enterprise contact confirms."""
    project, reason = await _butler_project(ctx)
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
                items="、".join(i.code for i in open_items),
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
    sent = await ctx.send_to_person(
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


@router.button("fin:ok:")
async def confirm(ctx: Ctx) -> None:
    """The enterprise contact confirms 办结: identity and time are recorded, then archive."""
    raw = (ctx.incoming.payload or "").removeprefix("fin:ok:")
    project = await ctx.uow.projects.get(int(raw)) if raw.isdigit() else None
    if project is None:
        await ctx.reply(ctx._("This project no longer exists."))
        return
    contact = await enterprise_contact(ctx.uow, project)
    if contact is None or contact.id != ctx.person.id:
        await ctx.reply(
            ctx._("Only the enterprise contact of the project can confirm its completion.")
        )
        return
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
            time=_when(ctx, ctx.now),
        )
    )
    text = ctx._(
        "{name} confirmed the completion of project {code} at {time}. The project is "
        "archived (一事一档).",
        name=ctx.person.name,
        code=project.code,
        time=_when(ctx, ctx.now),
    )
    await _notify_groups(ctx, project, text)
    if project.butler_id is not None:
        await ctx.send_to_person(project.butler_id, text)


@router.command("archive", roles={"office"})
async def archive_command(ctx: Ctx) -> None:
    """`/archive PROJECT` (office): the 一事一档 file's contents; archives a confirmed project."""
    code = ctx.incoming.args.strip()
    project = await ctx.uow.projects.by_code(code) if code else None
    if project is None:
        await ctx.reply(ctx._("Use: /archive PROJECT_CODE"))
        return
    data = await build_archive(ctx.uow, ctx.scheme, project, ctx.lang)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
    await ctx.uow.events.append(
        "project.archive_made",
        at=ctx.now,
        actor_id=ctx.person.id,
        project_id=project.id,
        data={"bytes": len(data), "files": names},
    )
    await ctx.reply(
        ctx._(
            "The file of project {code} (一事一档) holds: {files} ({size} bytes). The office "
            "computer writes it with: daiban archive {code}",
            code=project.code,
            files="、".join(names),
            size=len(data),
        )
    )


# -- the one-project file (一事一档) ----------------------------------------------------------
def _csv(rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: Excel opens it as UTF-8


async def archive_parts(
    uow: UnitOfWork, scheme: Scheme, project: Project, lang: str
) -> dict[str, Any]:
    """What the file holds, as plain data: items, log, confirmation, ratings, documents."""
    say = Voice(lang)
    items: list[ChecklistItem] = await uow.items.of_project(project.id)
    names: dict[int, str] = {}

    async def name(person_id: int | None) -> str:
        if person_id is None:
            return ""
        if person_id not in names:
            person = await uow.people.get(person_id)
            names[person_id] = person.name if person else str(person_id)
        return names[person_id]

    checklist: list[list[Any]] = [
        [
            "code",
            "name",
            "stage",
            "state",
            "assignee",
            "limit_workdays",
            "planned_start",
            "due_on",
            "started_on",
            "done_on",
            "corrections",
        ]
    ]
    for i in items:
        checklist.append(
            [
                i.code,
                item_name(say, i),
                stage_name(say, scheme, i.stage),
                i.state,
                await name(i.assignee_id),
                i.limit_workdays,
                i.planned_start or "",
                i.due_on or "",
                i.started_on or "",
                i.done_on or "",
                i.corrections,
            ]
        )
    log: list[list[Any]] = [["at", "kind", "actor", "item", "data"]]
    codes = {i.id: i.code for i in items}
    for event in await uow.events.for_project(project.id, limit=1_000_000):
        log.append(
            [
                event.at.isoformat(),
                event.kind,
                await name(event.actor_id),
                codes.get(event.item_id or 0, ""),
                json.dumps(event.data, ensure_ascii=False),
            ]
        )
    ratings: list[list[Any]] = [["period", "subject", "rater", "level", "comment", "at"]]
    for r in await uow.items.ratings_of(project.id):
        ratings.append(
            [
                r.period,
                r.subject,
                await name(r.rater_id),
                r.level,
                r.comment or "",
                r.at.isoformat(),
            ]
        )
    documents: list[list[Any]] = [["document", "received"]]
    if project.application_id is not None:
        app = await uow.applications.get(project.application_id)
        for key, provided in ((app.data or {}).get("materials") or {}).items() if app else ():
            documents.append([material_name(say, scheme, key), "yes" if provided else "no"])
    return {
        "checklist": checklist,
        "log": log,
        "ratings": ratings,
        "documents": documents,
        "completion": (project.snapshot or {}).get("completion"),
        "butler": await name(project.butler_id),
    }


def _table(rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
        for row in rows[1:]
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


async def build_archive(uow: UnitOfWork, scheme: Scheme, project: Project, lang: str) -> bytes:
    """The one-project file (一事一档) as ZIP bytes: index.html, checklist.csv, worklog.csv,
    completion.json, ratings.csv, documents.csv."""
    say = Voice(lang)
    parts = await archive_parts(uow, scheme, project, lang)
    done, total = counts(await uow.items.of_project(project.id))
    completion = parts["completion"]
    confirmed = (
        say._(
            "Confirmed by {name} ({account}) at {time}.",
            name=completion["name"],
            account=completion["account"],
            time=completion["at"],
        )
        if completion
        else say._("Not confirmed by the enterprise.")
    )
    title = html.escape(f"{project.code} {project.name}")
    butler = say._(
        "{role}: {name}", role=say.label(scheme.roles.butler), name=parts["butler"] or "—"
    )
    heads = {
        key: html.escape(say._(msgid))
        for key, msgid in (
            ("completion", N_("Completion confirmation")),
            ("checklist", N_("Checklist")),
            ("log", N_("Work log")),
            ("ratings", N_("Ratings")),
            ("documents", N_("Documents received")),
        )
    }
    stage = html.escape(say._("Stage: {stage}", stage=stage_name(say, scheme, project.stage)))
    progress = html.escape(say._("Progress: {bar}", bar=progress_bar(done, total)))
    page = f"""<!DOCTYPE html>
<html lang="{"en" if lang == "en" else "zh-CN"}"><head><meta charset="utf-8"><title>{title}</title>
<style>{STYLE}</style>
</head><body>
<h1>{title}</h1>
<p>{stage}</p>
<p>{progress}</p>
<p>{html.escape(butler)}</p>
<h2>{heads["completion"]}</h2><p>{html.escape(confirmed)}</p>
<h2>{heads["checklist"]}</h2>{_table(parts["checklist"])}
<h2>{heads["log"]}</h2>{_table(parts["log"])}
<h2>{heads["ratings"]}</h2>{_table(parts["ratings"])}
<h2>{heads["documents"]}</h2>{_table(parts["documents"])}
</body></html>
"""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("index.html", page)
        archive.writestr("checklist.csv", _csv(parts["checklist"]))
        archive.writestr("worklog.csv", _csv(parts["log"]))
        archive.writestr("completion.json", json.dumps(completion, ensure_ascii=False, indent=2))
        archive.writestr("ratings.csv", _csv(parts["ratings"]))
        archive.writestr("documents.csv", _csv(parts["documents"]))
    return buffer.getvalue()
