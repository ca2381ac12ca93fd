"""The one-project file (一事一档): a project's record as a ZIP the office keeps.

index.html (the whole file to read or print), checklist.csv, worklog.csv, ratings.csv,
documents.csv, completion.csv, and documents/ with the files the enterprise sent. Every
header and value is in the reader's language: items, stages, states and events by name,
times on the office's wall clock. Written by `daiban archive` and sent by `/archive`.
"""

from __future__ import annotations

import csv
import html
import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from domain.cells import safe_row
from domain.scheme import Scheme
from handlers.application_cards import material_name
from handlers.documents import Document, application_documents
from handlers.i18n import N_
from handlers.office_labels import RATING_LEVELS, event_detail, event_name, project_status
from handlers.render import Voice, counts, item_name, progress_bar, stage_name, state_text
from storage.models import ChecklistItem, Project
from storage.uow import UnitOfWork

STYLE = (
    "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
    "td,th{border:1px solid #999;padding:4px;vertical-align:top}"
)
COMPLETION = N_("Completion confirmation")
SUBJECTS = {"team": N_("Agency team"), "enterprise": N_("Enterprise")}
TABLES = (
    ("checklist", N_("Checklist")),
    ("log", N_("Work log")),
    ("ratings", N_("Ratings")),
    ("documents", N_("Documents received")),
)


@dataclass
class ArchiveParts:
    """What the file holds, as tables whose first row is the header."""

    checklist: list[list[Any]] = field(default_factory=list)
    log: list[list[Any]] = field(default_factory=list)
    ratings: list[list[Any]] = field(default_factory=list)
    documents: list[list[Any]] = field(default_factory=list)
    completion: list[list[Any]] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    butler: str = ""


def _csv(rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(safe_row(row) for row in rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: Excel opens it as UTF-8


def _when(at: datetime | None, tz: ZoneInfo) -> str:
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if at else ""


def _day(value: Any) -> str:
    return value.isoformat() if value is not None else ""


async def archive_parts(
    uow: UnitOfWork,
    scheme: Scheme,
    project: Project,
    lang: str,
    tz: ZoneInfo,
    folders: Mapping[str, Path] | None = None,
) -> ArchiveParts:
    """The file's tables in `lang`, and the documents whose bytes this machine holds."""
    say = Voice(lang, scheme)
    items: list[ChecklistItem] = await uow.items.of_project(project.id)
    names: dict[int, str] = {}

    async def name(person_id: int | None) -> str:
        if person_id is None:
            return ""
        if person_id not in names:
            person = await uow.people.get(person_id)
            names[person_id] = person.name if person else "—"
        return names[person_id]

    parts = ArchiveParts(butler=await name(project.butler_id))
    parts.checklist.append(
        [
            say._(m)
            for m in (
                N_("Item"),
                N_("Stage"),
                N_("Department"),
                N_("State"),
                N_("Handled by"),
                N_("Time limit (working days)"),
                N_("Planned start"),
                N_("Due"),
                N_("Accepted on"),
                N_("Completed on"),
                N_("Corrections"),
            )
        ]
    )
    for i in items:
        department = await uow.departments.name(i.department_id, lang) if i.department_id else ""
        parts.checklist.append(
            [
                item_name(say, i),
                stage_name(say, scheme, i.stage),
                department or "",
                state_text(say, i),
                await name(i.assignee_id),
                i.limit_workdays,
                _day(i.planned_start),
                _day(i.due_on),
                _day(i.started_on),
                _day(i.done_on),
                i.corrections,
            ]
        )
    parts.log.append(
        [say._(m) for m in (N_("Time"), N_("Event"), N_("By"), N_("Item"), N_("Details"))]
    )
    by_id = {i.id: i for i in items}
    for event in await uow.events.for_project(project.id, limit=1_000_000):
        item = by_id.get(event.item_id or 0)
        parts.log.append(
            [
                _when(event.at, tz),
                event_name(say, event.kind),
                await name(event.actor_id),
                item_name(say, item) if item else "",
                event_detail(event),
            ]
        )
    parts.ratings.append(
        [
            say._(m)
            for m in (
                N_("Period"),
                N_("Rated"),
                N_("Rated by"),
                N_("Satisfaction"),
                N_("Comment"),
                N_("Time"),
            )
        ]
    )
    for r in await uow.items.ratings_of(project.id):
        parts.ratings.append(
            [
                r.period,
                say._(SUBJECTS.get(r.subject, SUBJECTS["enterprise"])),
                await name(r.rater_id),
                say._(RATING_LEVELS.get(r.level, N_("Fairly satisfied"))),
                r.comment or "",
                _when(r.at, tz),
            ]
        )
    await _documents(uow, scheme, project, say, folders or {}, parts)
    completion = (project.snapshot or {}).get("completion")
    if completion:
        try:
            at = _when(datetime.fromisoformat(str(completion.get("at"))), tz)
        except ValueError:
            at = str(completion.get("at", ""))
        parts.completion = [
            [say._("Confirmed by"), str(completion.get("name", ""))],
            [say._("Confirmed at"), at],
        ]
    return parts


async def _documents(
    uow: UnitOfWork,
    scheme: Scheme,
    project: Project,
    say: Voice,
    folders: Mapping[str, Path],
    parts: ArchiveParts,
) -> None:
    parts.documents.append(
        [say._(m) for m in (N_("Document"), N_("Received"), N_("File in this archive"))]
    )
    app = await uow.applications.get(project.application_id) if project.application_id else None
    materials: dict[str, Any] = dict(((app.data or {}).get("materials") or {}) if app else {})
    sent: dict[str, Document] = {
        d.key: d for d in await application_documents(uow, folders, materials)
    }
    for index, (key, provided) in enumerate(materials.items(), start=1):
        document = sent.get(key)
        stored = ""
        if document is not None and document.data is not None:
            stored = f"documents/{index:02d}-{document.filename}"
            parts.files[stored] = document.data
        elif document is not None:
            stored = say._("{file} (kept by the messenger)", file=document.filename)
        received = say._("Yes") if provided else say._("No")
        parts.documents.append([material_name(say, scheme, key), received, stored])


def _table(rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
        for row in rows[1:]
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


async def build_archive(
    uow: UnitOfWork,
    scheme: Scheme,
    project: Project,
    lang: str,
    folders: Mapping[str, Path] | None = None,
) -> bytes:
    """The one-project file (一事一档) as ZIP bytes."""
    say = Voice(lang, scheme)
    tz = ZoneInfo(scheme.timezone)
    parts = await archive_parts(uow, scheme, project, lang, tz, folders)
    done, total = counts(await uow.items.of_project(project.id))
    confirmed = (
        "；".join(f"{k}：{v}" for k, v in parts.completion)
        if parts.completion
        else say._("Not confirmed by the enterprise.")
    )
    title = html.escape(f"{project.code} {project.name}")
    facts = [
        say._("{role}: {name}", role=say.label(scheme.roles.butler), name=parts.butler or "—"),
        say._("Stage: {stage}", stage=stage_name(say, scheme, project.stage)),
        say._("Status: {status}", status=project_status(say, project.status)),
        say._("Progress: {bar}", bar=progress_bar(done, total)),
    ]
    sections = "".join(
        f"<h2>{html.escape(say._(msgid))}</h2>{_table(getattr(parts, key))}"
        for key, msgid in TABLES
    )
    page = f"""<!DOCTYPE html>
<html lang="{"en" if lang == "en" else "zh-CN"}"><head><meta charset="utf-8"><title>{title}</title>
<style>{STYLE}</style>
</head><body>
<h1>{title}</h1>
{"".join(f"<p>{html.escape(fact)}</p>" for fact in facts)}
<h2>{html.escape(say._(COMPLETION))}</h2><p>{html.escape(confirmed)}</p>
{sections}
</body></html>
"""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("index.html", page)
        archive.writestr("checklist.csv", _csv(parts.checklist))
        archive.writestr("worklog.csv", _csv(parts.log))
        archive.writestr("ratings.csv", _csv(parts.ratings))
        archive.writestr("documents.csv", _csv(parts.documents))
        header = [say._("Field"), say._("Value")]
        archive.writestr("completion.csv", _csv([header, *parts.completion]))
        for path, data in parts.files.items():
            archive.writestr(path, data)
    return buffer.getvalue()


def archive_filename(project: Project, lang: str) -> str:
    return Voice(lang)._("{code} project file.zip", code=project.code)


__all__ = ["ArchiveParts", "archive_filename", "archive_parts", "build_archive"]
