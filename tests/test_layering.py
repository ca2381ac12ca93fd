"""The house rules of DESIGN.md, enforced: an import may only point down the layers,
and only bot/transports/ knows that a messenger exists."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = {"domain", "storage", "handlers", "reminders", "bot"}
MESSENGERS = {"aiogram", "telegram", "wecom"}

FORBIDDEN = {
    "domain": OURS - {"domain"} | MESSENGERS | {"sqlalchemy", "alembic", "aiosqlite", "asyncpg"},
    "storage": {"handlers", "reminders", "bot"} | MESSENGERS,
    "handlers": {"reminders", "bot"} | MESSENGERS,
    "reminders": {"bot"} | MESSENGERS,
    "bot": set(),
}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_only_point_down(package):
    wrong = {
        str(path.relative_to(ROOT)): sorted(imports_of(path) & FORBIDDEN[package])
        for path in modules(package)
    }
    assert {k: v for k, v in wrong.items() if v} == {}


def test_only_transports_know_a_messenger():
    outside = [
        str(path.relative_to(ROOT))
        for package in OURS
        for path in modules(package)
        if imports_of(path) & MESSENGERS and "transports" not in path.parts
    ]
    assert outside == []


def test_the_rule_catches_a_violation(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from bot.app import App\nimport aiogram.types\n", encoding="utf-8")
    assert imports_of(bad) & FORBIDDEN["domain"] == {"bot", "aiogram"}


# -- inside handlers/: flows stand beside each other, on shared modules ----------------
FLOWS = {
    "waiting",
    "people",
    "activity",
    "apply",
    "basics",
    "completion",
    "consult",
    "contacts",
    "digest",
    "eligibility_check",
    "groups",
    "items",
    "mine",
    "mute",
    "office",
    "office_files",
    "plan",
    "problems",
    "profile",
    "progress",
    "rating",
    "roster_upload",
    "status",
    "team",
}
"""The conversation flows: each declares a `router` of its own. Every other module of
handlers/ is shared (the chat model, router, access, rendering, services, forms, i18n)."""

ROOT_ROUTER = "handlers.app_router"  # includes every flow's router, so it imports them all


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def our_imports(path: Path) -> set[str]:
    """The modules of ours that `path` imports: at the top, in a function, or only for
    type checking (ast.walk sees them all); `from handlers import x` counts as handlers.x."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    known = {module_name(p) for package in OURS for p in modules(package)}
    return {name for name in found if name in known and name != module_name(path)}


def import_graph(*packages: str) -> dict[str, set[str]]:
    graph = {module_name(p): our_imports(p) for package in packages for p in modules(package)}
    return {name: {n for n in deps if n in graph} for name, deps in graph.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import circle, each once, as the list of modules around it (Tarjan's
    strongly connected components of more than one module, or a module importing itself)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def declares_a_router(path: Path) -> bool:
    """Whether the module assigns ``router = Router(...)`` at its top level."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            names = {t.id for t in node.targets if isinstance(t, ast.Name)}
            func = node.value.func
            if "router" in names and isinstance(func, ast.Name) and func.id == "Router":
                return True
    return False


def test_the_flows_are_the_modules_with_a_router():
    declared = {
        module_name(path).removeprefix("handlers.")
        for path in modules("handlers")
        if declares_a_router(path)
    }
    assert declared == FLOWS


def test_no_flow_imports_another_flow():
    flows = {f"handlers.{name}" for name in FLOWS}
    graph = import_graph("handlers")
    wrong = {
        name: sorted(deps & flows)
        for name, deps in graph.items()
        if name != ROOT_ROUTER and deps & flows
    }
    assert wrong == {}, "a flow's helper that another module needs belongs in a shared module"


@pytest.mark.parametrize("package", ["domain", "handlers", "storage", "reminders", "bot"])
def test_no_import_circles(package):
    assert cycles(import_graph(package)) == []


def test_the_circle_finder_finds_circles():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"a"}, "b": set()}) == [["a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
