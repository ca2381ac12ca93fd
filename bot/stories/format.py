"""The story file format (对话脚本格式): what a story may say, validated on reading.

The format is a public interface (offices write their own); see README "Stories".
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from handlers.roles import ROLES

PLATFORM = "story"


class StoryError(Exception):
    """The story file itself is wrong (not an expectation failing)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class PersonSpec(_Strict):
    id: str
    name: str
    role: str
    department: str | None = None
    backup_of: str | None = None  # a person id: this one is their backup specialist
    lang: Literal["zh", "en"] = "zh"
    # False: on the roster but never activated (未激活): no account until they /start CODE.
    activated: bool = True

    @model_validator(mode="after")
    def _known_role(self) -> PersonSpec:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}; roles are {', '.join(ROLES)}")
        return self


class ChatSpec(_Strict):
    id: str
    kind: Literal["group", "dm"] = "group"
    members: list[str] = Field(default_factory=list)
    title: str | None = None


class ProjectSpec(_Strict):
    """An accepted project with its team and bound group, set up before the steps run.

    ``id`` becomes the project code; ``enterprise`` is the contact's person id; the plan
    starts on ``accepted`` (the day the group is bound), exactly as /assign and /bind do.
    Without ``butler`` the project only waits for /assign; without ``group`` it is not bound.
    """

    id: str
    name: str
    enterprise: str
    category: str
    butler: str | None = None  # none: accepted only, waiting for /assign
    specialists: list[str] = Field(default_factory=list)
    group: str | None = None  # none: the team has not bound its group yet
    accepted: date
    stage: str | None = None
    zone: str | None = None


class Target(_Strict):
    to: str | None = None
    in_: str | None = Field(default=None, alias="in")
    text: str | None = None
    buttons: list[str] = Field(default_factory=list)
    file: str | None = None  # a regex the attached file's name must match

    @model_validator(mode="after")
    def _one_target(self) -> Target:
        if (self.to is None) == (self.in_ is None):
            raise ValueError("say either `to: PERSON` or `in: CHAT`")
        return self


class Step(_Strict):
    as_: str | None = Field(default=None, alias="as")
    in_: str | None = Field(default=None, alias="in")
    say: str | None = None
    press: str | None = None
    send_file: str | None = None
    content: str | None = None  # send_file: the file's text (else a placeholder line)
    advance: str | None = None
    at: datetime | None = None
    restart: bool | None = None
    expect: Target | None = None
    expect_none: Target | None = None

    def kind(self) -> str:
        kinds = [
            k
            for k in (
                "say",
                "press",
                "send_file",
                "advance",
                "at",
                "restart",
                "expect",
                "expect_none",
            )
            if getattr(self, k) is not None
        ]
        if len(kinds) != 1:
            raise ValueError(f"a step does exactly one thing; this one has {kinds or 'nothing'}")
        if kinds[0] in {"say", "press", "send_file"} and not self.as_:
            raise ValueError(f"`{kinds[0]}` needs `as: PERSON`")
        return kinds[0]


class Story(_Strict):
    scheme: str = "tongzhou"
    start: datetime
    people: list[PersonSpec]
    chats: list[ChatSpec] = Field(default_factory=list)
    projects: list[ProjectSpec] = Field(default_factory=list)
    steps: list[Step]
    title: str | None = None
    description: str | None = None


def parse_story(text: str, source: str = "<story>") -> Story:
    try:
        story = Story.model_validate(yaml.safe_load(text))
    except yaml.YAMLError as exc:
        raise StoryError(f"{source}: not valid YAML: {exc}") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise StoryError(f"{source}: {where}: {err['msg']}") from None
    if story.start.tzinfo is None:
        raise StoryError(f"{source}: start: give a time zone, e.g. 2026-11-23T09:00:00+08:00")
    for index, step in enumerate(story.steps, start=1):
        try:
            step.kind()
        except ValueError as exc:
            raise StoryError(f"{source}: step {index}: {exc}") from None
    for project in story.projects:
        if project.group is not None and project.group not in {
            c.id for c in story.chats if c.kind == "group"
        }:
            raise StoryError(
                f"{source}: project {project.id}: group {project.group!r} is not a group chat"
            )
    return story


__all__ = [
    "PLATFORM",
    "ChatSpec",
    "PersonSpec",
    "ProjectSpec",
    "Step",
    "Story",
    "StoryError",
    "Target",
    "parse_story",
]
