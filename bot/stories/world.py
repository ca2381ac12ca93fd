"""The story's world (对话脚本的人和项目): people, accounts and accepted projects in the
store before step 1, set up through the same functions /assign and /bind use."""

from __future__ import annotations

from datetime import datetime, time

from bot.app import App
from bot.stories.format import PLATFORM, PersonSpec, ProjectSpec, Story, StoryError
from domain.application import project_snapshot
from handlers.i18n import normalize_lang
from handlers.team import assign_team, bind_chat
from storage.models import Person
from storage.uow import UnitOfWork


async def _find(uow: UnitOfWork, spec: PersonSpec) -> Person | None:
    """The story person in the store: by their account, or (never activated) by name."""
    found = await uow.people.by_account(PLATFORM, spec.id)
    if found is None and not spec.activated:
        named = await uow.people.named(spec.name)
        found = named[0] if named else None
    return found


async def populate(app: App, story: Story, now: datetime) -> None:
    """Register the story's people (with their roles, backups and accounts) and set up
    its projects; what a restart finds already in the store is left as it is."""
    scheme = app.services.scheme
    by_name = {d.name.zh: d.id for d in scheme.departments} | {
        d.id: d.id for d in scheme.departments
    }
    async with UnitOfWork(app.services.db) as uow:
        for spec in story.people:
            if await _find(uow, spec) is not None:
                continue
            dept = None
            if spec.department is not None:
                dept = by_name.get(spec.department)
                if dept is None:
                    raise StoryError(
                        f"person {spec.id}: department {spec.department!r} is not in scheme "
                        f"{scheme.id} (known: {', '.join(sorted(by_name)[:12])}…)"
                    )
            person = await uow.people.add(
                spec.name,
                lang=normalize_lang(spec.lang),
                roles=[(spec.role, dept)],
                now=now,
            )
            if spec.activated:
                await uow.people.add_account(person.id, PLATFORM, spec.id, spec.name, now=now)
        specs = {p.id: p for p in story.people}
        for spec in story.people:
            if spec.backup_of is None:
                continue
            backup = await _find(uow, spec)
            backed = await _find(uow, specs[spec.backup_of]) if spec.backup_of in specs else None
            if backup is None or backed is None:
                raise StoryError(f"person {spec.id}: backup_of {spec.backup_of!r} is unknown")
            department = by_name.get(spec.department or "") or next(
                (by_name.get(p.department or "") for p in story.people if p.id == spec.backup_of),
                None,
            )
            await uow.people.add_role(backup.id, "backup", department, backup_of_id=backed.id)
        for project in story.projects:
            await _setup_project(uow, app, story, project, by_name, now)


async def _setup_project(
    uow: UnitOfWork,
    app: App,
    story: Story,
    spec: ProjectSpec,
    by_name: dict[str, str],
    now: datetime,
) -> None:
    """Accept, staff and bind one project through the same functions /assign and /bind use."""
    if await uow.projects.by_code(spec.id) is not None:
        return  # a restart: the store already has it
    scheme = app.services.scheme
    people = {p.id: p for p in story.people}
    chats = {c.id: c for c in story.chats}
    stage = spec.stage or scheme.stages[0].id
    try:
        scheme.category(spec.category)
        scheme.stage(stage)
    except KeyError as exc:
        raise StoryError(f"project {spec.id}: {exc} is not in scheme {scheme.id}") from None

    async def person(pid: str) -> Person:
        found = await _find(uow, people[pid]) if pid in people else None
        if found is None:
            raise StoryError(f"project {spec.id}: unknown person {pid!r}")
        return found

    contact = await person(spec.enterprise)
    accepted_at = datetime.combine(spec.accepted, time(9), app.services.timezone)
    project = await uow.projects.add(
        code=spec.id,
        name=spec.name,
        category=spec.category,
        stage=stage,
        status="accepted",
        zone=spec.zone,
        accepted_at=accepted_at,
        snapshot=project_snapshot(scheme, spec.category),
        created_at=accepted_at,
    )
    await uow.members.add(project.id, contact.id, "enterprise")
    chosen: dict[str, int] = {}
    for pid in spec.specialists:
        person_spec = people.get(pid)
        department = by_name.get(person_spec.department or "") if person_spec else None
        if department is None:
            raise StoryError(f"project {spec.id}: specialist {pid!r} has no department")
        chosen[department] = (await person(pid)).id
    if spec.butler is None:
        return
    butler = await person(spec.butler)
    await assign_team(uow, project, butler.id, now=now, actor_id=None, specialists=chosen)
    if spec.group is None:
        return
    chat = await uow.chats.get_or_create(
        PLATFORM,
        f"group:{spec.group}",
        "group",
        chats[spec.group].title or spec.group,
        now,
    )
    await bind_chat(
        uow,
        scheme,
        app.services.calendar,
        project,
        chat,
        today=spec.accepted,
        now=now,
        actor_id=butler.id,
    )


__all__ = ["populate"]
