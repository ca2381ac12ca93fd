"""What an import of the roster (人员名册) says to the office, in the office's language.

Every problem is one sentence naming the row, the column (as the file's header wrote it)
and the fix, e.g. 第 5 行「代办角色」列：“厨师”不是本方案的角色，请填写：项目管家、服务专员…
"""

from __future__ import annotations

from collections.abc import Mapping

from domain.roster import ROLE_IDS, RowError
from domain.roster_table import RosterError
from domain.scheme import Scheme
from handlers.i18n import N_, translate
from handlers.render import Voice

COLUMN_LABELS = {
    "name": N_("Name"),
    "mobile": N_("Mobile number"),
    "role": N_("Agency role"),
    "department": N_("Department or unit"),
    "backup_of": N_("Stands in for"),
}
"""A column's name when the file has no header for it (and the template's headers)."""

_PROBLEMS = {
    "roster.name_missing": N_("the name is empty; write the person's full name."),
    "roster.mobile_missing": N_(
        "the mobile number is empty; write an 11-digit mainland mobile number."
    ),
    "roster.mobile_invalid": N_(
        "“{value}” is not a mainland mobile number; write 11 digits starting with 1, "
        "e.g. 13800138000."
    ),
    "roster.duplicate_mobile": N_(
        "this mobile number is already on row {first_row}; list each person once, with their "
        "own number. The row was not imported."
    ),
    "roster.role_missing": N_("no role is given; write one of: {roles}."),
    "roster.department_required": N_(
        "every {role} needs a department; write one of: {departments}."
    ),
    "roster.unknown_department": N_(
        "“{value}” is not a department of this scheme; write one of: {departments}."
    ),
    "roster.backup_of_required": N_(
        "every {role} must name whom they stand in for; write that person's name or mobile "
        "number here."
    ),
    "roster.backup_unknown": N_(
        "nobody named “{value}” is in this file or on the roster; write the name or mobile "
        "number of the person this one stands in for, or add that person first."
    ),
    "roster.backup_ambiguous": N_(
        "“{value}” names several people (rows {rows}); write that person's mobile number instead."
    ),
    "roster.backup_ambiguous_known": N_(
        "“{value}” names several people on the roster; write that person's mobile number instead."
    ),
    "roster.backup_self": N_("a person cannot stand in for themselves; name someone else."),
    "roster.backup_department_mismatch": N_(
        "this person is in {department} but {backup_of} is in {backup_of_department}; a "
        "stand-in works in the same department: correct one of the two."
    ),
}
_UNKNOWN_ROLE = N_("“{value}” is not a role of this scheme; write one of: {roles}.")
_UNKNOWN_ROLE_WARNING = N_(
    "“{value}” is not a role of this scheme and was left out; the row was imported with its "
    "other roles (roles: {roles})."
)
_ROW = N_("Row {row}, column “{column}”: {problem}")

_FILE_PROBLEMS = {
    "roster.unreadable": N_("Cannot read the roster file {file}: check its name and folder."),
    "roster.wrong_format": N_(
        "{file} is not a roster: save it as .xlsx (or .csv, .yaml) and import it again."
    ),
    "roster.empty": N_(
        "{file} is empty: put a header row (姓名, 手机号码, 代办角色, 所在单位, 备份对象) "
        "and one row per person; “daiban people template” writes a ready file."
    ),
    "roster.no_header": N_(
        "No row of {file} names the columns: {missing} is missing (found: {found}). Use "
        "headers such as 姓名, 手机号码, 代办角色, 所在单位, 备份对象; “daiban people "
        "template” writes a ready file."
    ),
    "roster.encoding": N_(
        "{file} is not UTF-8 or GBK text: save the CSV as UTF-8, or save the roster as .xlsx."
    ),
}
_FILE_UNREADABLE = N_(
    "{file} cannot be read as a table: open it in Excel or WPS and save it again as .xlsx."
)


def column_label(column: str, headers: Mapping[str, str], lang: str) -> str:
    """The column as the file's header wrote it, else its name in `lang`."""
    return headers.get(column) or translate(lang, COLUMN_LABELS.get(column, column))


def role_names(scheme: Scheme, lang: str) -> str:
    """The scheme's roles by their local names, as the fix lists them."""
    say = Voice(lang)
    return "、".join(say.label(getattr(scheme.roles, role)) for role in ROLE_IDS)


def departments(scheme: Scheme, lang: str) -> str:
    say = Voice(lang)
    return "、".join(say.label(d.name) for d in scheme.departments)


def describe(error: RowError, headers: Mapping[str, str], scheme: Scheme, lang: str) -> str:
    """One problem as a sentence: row, column, what is wrong, how to fix it."""
    say = Voice(lang)
    names = {d.id: say.label(d.name) for d in scheme.departments}
    detail = dict(error.detail)
    for key in ("department", "backup_of_department"):
        if key in detail:
            detail[key] = names.get(detail[key], detail[key])
    if "role" in detail:
        detail["role"] = say.label(getattr(scheme.roles, detail["role"]))
    else:
        detail["role"] = say.label(scheme.roles.backup)
    detail.setdefault("value", "")
    if error.code == "roster.unknown_role":
        msgid = _UNKNOWN_ROLE_WARNING if error.warning else _UNKNOWN_ROLE
    else:
        msgid = _PROBLEMS.get(error.code, N_("this row cannot be read."))
    detail["roles"] = role_names(scheme, lang)
    detail["departments"] = departments(scheme, lang)
    problem = translate(lang, msgid, **detail)
    column = column_label(error.column, headers, lang)
    return translate(lang, _ROW, row=error.row, column=column, problem=problem)


def describe_file(error: RosterError, file: str, lang: str) -> str:
    """A file that is no roster table at all, as a sentence with the fix."""
    detail = {"file": file, "missing": "", "found": "—", **error.detail}
    if detail.get("missing"):
        detail["missing"] = "、".join(
            translate(lang, COLUMN_LABELS[c]) for c in detail["missing"].split(",")
        )
    detail["found"] = detail["found"] or "—"
    msgid = _FILE_PROBLEMS.get(error.code, _FILE_UNREADABLE)
    return translate(lang, msgid, **detail)


__all__ = ["COLUMN_LABELS", "column_label", "describe", "describe_file", "role_names"]
