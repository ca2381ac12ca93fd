"""Loading schemes from YAML (方案加载), with every problem reported as file:line.

The YAML is composed into nodes first, so each mapping key and sequence item keeps its
line; pydantic's error locations and the cross-reference problems are mapped back onto
those lines. One line per problem::

    schemes/tongzhou.yaml:42: checklist[3].department: unknown department 'foo' (known: …)
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from domain.scheme import Scheme
from domain.scheme_checks import Loc, format_loc, reference_problems

DEFAULT_SCHEMES_DIR = Path(__file__).resolve().parents[1] / "schemes"
"""Where presets live: the repository's ``schemes/`` directory."""


@dataclass(frozen=True, slots=True)
class SchemeIssue:
    """One problem of a scheme file, at a line (方案错误)."""

    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{self.file}:{self.line}: {where}{self.message}"


class SchemeError(Exception):
    """A scheme file could not be loaded; ``str()`` gives one line per problem."""

    def __init__(self, issues: Sequence[SchemeIssue]) -> None:
        self.issues = tuple(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))


def list_presets(search_dir: Path | None = None) -> list[str]:
    """Names of the schemes shipped in `search_dir` (default: the repo's ``schemes/``)."""
    folder = search_dir or DEFAULT_SCHEMES_DIR
    return sorted(path.stem for path in folder.glob("*.yaml"))


def load_scheme(name_or_path: str, search_dir: Path | None = None) -> Scheme:
    """Load a preset by bare name (``tongzhou``) or a scheme file by path."""
    folder = search_dir or DEFAULT_SCHEMES_DIR
    is_path = any(sep in name_or_path for sep in "/\\") or name_or_path.endswith((".yaml", ".yml"))
    path = Path(name_or_path) if is_path else folder / f"{name_or_path}.yaml"
    shown = _display_name(path, folder)
    if not path.is_file():
        known = ", ".join(list_presets(folder)) or "none"
        what = "scheme file not found" if is_path else f"unknown scheme {name_or_path!r}"
        raise SchemeError([SchemeIssue(shown, 0, "", f"{what} (presets: {known})")])
    return parse_scheme(path.read_text(encoding="utf-8"), shown)


def parse_scheme(text: str, filename: str = "<scheme>") -> Scheme:
    """Validate the YAML `text` of a scheme; `filename` is only used in messages."""
    data, lines, issues = _compose(text, filename)
    if issues:
        raise SchemeError(issues)
    if not isinstance(data, dict):
        raise SchemeError([SchemeIssue(filename, 1, "", "a scheme is a YAML mapping of keys")])
    try:
        scheme = Scheme.model_validate(data)
    except ValidationError as exc:
        raise SchemeError(_issues_from(exc, data, lines, filename)) from None
    # Cross-references only once the structure is valid: all broken ones together.
    problems = reference_problems(scheme)
    if problems:
        issues = [_issue(p.loc, p.message, data, lines, filename) for p in problems]
        raise SchemeError(sorted(issues, key=lambda issue: issue.line))
    return scheme


def _display_name(path: Path, folder: Path) -> str:
    for base in (folder.resolve().parent, Path.cwd()):
        try:
            return str(path.resolve().relative_to(base))
        except ValueError:
            continue
    return str(path)


def _compose(text: str, filename: str) -> tuple[Any, dict[Loc, int], list[SchemeIssue]]:
    loader = yaml.SafeLoader(text)
    lines: dict[Loc, int] = {(): 1}
    issues: list[SchemeIssue] = []
    try:
        node = loader.get_single_node()
        if node is None:
            return None, lines, [SchemeIssue(filename, 1, "", "the file is empty")]
        _index_lines(node, (), lines, issues, filename)
        return loader.construct_document(node), lines, issues
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        detail = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        return None, lines, [SchemeIssue(filename, line, "", f"YAML syntax error: {detail}")]
    except yaml.YAMLError as exc:
        return None, lines, [SchemeIssue(filename, 1, "", f"YAML error: {exc}")]
    finally:
        loader.dispose()


def _index_lines(
    node: yaml.Node, loc: Loc, lines: dict[Loc, int], issues: list[SchemeIssue], filename: str
) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            here = (*loc, key)
            line = key_node.start_mark.line + 1
            if here in lines and here != ():
                issues.append(
                    SchemeIssue(
                        filename,
                        line,
                        format_loc(here),
                        f"duplicate key (first on line {lines[here]})",
                    )
                )
                continue
            lines[here] = line
            _index_lines(value_node, here, lines, issues, filename)
    elif isinstance(node, yaml.SequenceNode):
        for pos, item in enumerate(node.value):
            lines[(*loc, pos)] = item.start_mark.line + 1
            _index_lines(item, (*loc, pos), lines, issues, filename)


def _issues_from(
    exc: ValidationError, data: Any, lines: dict[Loc, int], filename: str
) -> list[SchemeIssue]:
    issues: list[SchemeIssue] = []
    for error in exc.errors(include_url=False):
        base = tuple(error["loc"])
        loc = _data_path(base, data)
        issues.append(_issue(loc, _message(error, loc), data, lines, filename))
    return sorted(issues, key=lambda issue: issue.line)


def _issue(loc: Loc, message: str, data: Any, lines: dict[Loc, int], filename: str) -> SchemeIssue:
    loc = _data_path(loc, data)
    probe = loc
    while probe not in lines:
        probe = probe[:-1]
    return SchemeIssue(filename, lines[probe], format_loc(loc), message)


def _data_path(loc: Iterable[Any], data: Any) -> Loc:
    """Keep the parts of pydantic's `loc` that name real keys and items (drop union tags)."""
    parts = list(loc)
    kept: list[str | int] = []
    here = data
    for pos, part in enumerate(parts):
        in_list = isinstance(here, list) and isinstance(part, int) and 0 <= part < len(here)
        if in_list or (isinstance(here, dict) and part in here):
            kept.append(part)
            here = here[part]
        elif isinstance(here, dict) and pos == len(parts) - 1 and isinstance(part, str):
            kept.append(part)  # a missing key: name it under its mapping
    return tuple(kept)


def _message(error: Any, loc: Loc) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"allowed: {', '.join(allowed)}"
        return f"unknown key {loc[-1]!r} ({hint})"
    if kind == "missing":
        name = loc[-1] if loc else "?"
        label = {"zh": " (the Chinese text)", "en": " (the English text)"}.get(str(name), "")
        return f"missing required key {name!r}{label}"
    message = str(error["msg"]).removeprefix("Value error, ")
    value = error.get("input")
    if isinstance(value, str | int | float | bool) and kind != "value_error":
        message += f" (got {value!r})"
    return message


def _allowed_keys(loc: Loc) -> list[str]:
    current: Any = Scheme
    for part in loc:
        current = _unwrap(current, item=isinstance(part, int))
        if isinstance(part, str) and isinstance(current, type) and issubclass(current, BaseModel):
            fields = current.model_fields
            match = next((f for n, f in fields.items() if part in (n, f.alias)), None)
            current = match.annotation if match is not None else None
    current = _unwrap(current, item=False)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [field.alias or name for name, field in current.model_fields.items()]
    return []


def _unwrap(annotation: Any, *, item: bool) -> Any:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _unwrap(get_args(annotation)[0], item=item)
    if origin in (Union, types.UnionType):
        options = [arg for arg in get_args(annotation) if arg is not type(None)]
        wanted = [arg for arg in options if (get_origin(arg) is tuple) == item]
        return _unwrap((wanted or options)[0], item=item)
    if item and origin is tuple:
        return _unwrap(get_args(annotation)[0], item=False)
    return annotation
