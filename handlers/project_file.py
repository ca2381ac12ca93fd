"""The one-project file (一事一档): a project's record as a ZIP the office keeps.

index.html, checklist.csv, worklog.csv, completion.json, ratings.csv, documents.csv:
written by `daiban archive` (bot/archive.py) and listed by `/archive` (completion.py).
"""

from __future__ import annotations

import csv
import html
import io
import json
import zipfile
from typing import Any

from domain.cells import safe_row
from domain.scheme import Scheme
from handlers.application_cards import material_name
from handlers.i18n import N_
from handlers.render import Voice, counts, item_name, progress_bar, stage_name
from storage.models import ChecklistItem, Project
from storage.uow import UnitOfWork

STYLE = (
    "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
    "td,th{border:1px solid #999;padding:4px}"
)


def _csv(rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(safe_row(row) for row in rows)
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
