"""The house rules of the code layout (docs/ARCHITECTURE.md), read from the source with ``ast``:

- no module under apps/ or core/ is longer than 700 lines;
- no import circle among Trede's own modules: not at module level (what runs when a module is imported), and not
  through imports inside functions or for typing only either (a circle dodged that way is still a circle);
- at most 15 imports of Trede's own modules inside functions, each with a ``# why`` on its line or the line above;
- apps/workers imports no other app (the apps register their sweep jobs with ``core.sweep``);
- core imports no app, except the composition roots listed in CORE_MAY_IMPORT_APPS;
- nothing asks the machine for today's date: "today" is the Dutch date of core.clock.
"""

from __future__ import annotations

import ast
import graphlib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("apps", "core")
MAX_LINES = 700
MAX_IN_FUNCTION = 15

# core is plumbing that knows no app. These modules put the apps together (the app factory, the CLI, the
# embedded bootstrap and its demo data, the actors' registration on the broker) or read one app's table
# that core's own job needs; each is named with why in docs/ARCHITECTURE.md ("Dependencies").
CORE_MAY_IMPORT_APPS = {
    "core.app": "the app factory composes every app's routes",
    "core.cli": "the operator's commands call the apps' services",
    "core.bootstrap": "the embedded start-up syncs tenants/",
    "core.demo": "the demo data of `make run` is rows of every app",
    "core.broker": "registers the apps' actors and sweep jobs on the broker (apps/wiring.py)",
    "core.audit": "the audit writer writes apps.audit's table",
    "core.tenancy": "the provider scope reads apps.providers' contracts",
    "core.observability": "the metrics count deadlines, notifications and regions",
}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the imported project module
    line: int
    in_function: bool
    reason: bool  # a comment on the import's line or the line above
    typing_only: bool = False  # under ``if TYPE_CHECKING:``: never runs


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_files() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


MODULES = {module_name(p) for p in project_files()}


def resolve(name: str, names: list[str]) -> list[str]:
    """``from a.b import c``: the module a.b.c if there is one, else a.b (c is a name in it)."""
    found = [f"{name}.{n}" for n in names if f"{name}.{n}" in MODULES]
    if len(found) < len(names) and name in MODULES:
        found.append(name)
    return found


def type_checking_block(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imports_of(path: Path) -> list[Import]:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    module = module_name(path)
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool, typing_only: bool = False) -> None:
        for child in ast.iter_child_nodes(node):
            if type_checking_block(child):
                visit(child, in_function, typing_only=True)  # never runs, but still ties the two modules
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                if isinstance(child, ast.Import):
                    targets = [a.name for a in child.names if a.name.split(".")[0] in PACKAGES]
                    targets = [t for t in targets if t in MODULES]
                elif child.level == 0 and child.module and child.module.split(".")[0] in PACKAGES:
                    targets = resolve(child.module, [a.name for a in child.names])
                else:
                    targets = []
                text = lines[child.lineno - 1] + "\n" + (lines[child.lineno - 2] if child.lineno > 1 else "")
                for target in targets:
                    found.append(Import(module, target, child.lineno, in_function, "# why" in text, typing_only))
            in_body = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            visit(child, in_body, typing_only)

    visit(ast.parse(source, filename=str(path)), False)
    return found


EVERY_IMPORT = [i for p in project_files() for i in imports_of(p)]
ALL_IMPORTS = [i for i in EVERY_IMPORT if not i.typing_only]  # the imports that run


def where(found: Import) -> str:
    return f"{found.module} (line {found.line}) imports {found.target}"


def test_no_module_is_longer_than_700_lines():
    too_long = {
        module_name(p): n for p in project_files() if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not too_long, f"split these modules (at most {MAX_LINES} lines): {too_long}"


def circle_among(imports: list[Import]) -> list[str]:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for found in imports:
        if found.target != found.module:
            graph[found.module].add(found.target)
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as circle:
        return list(circle.args[1])
    return []


def test_no_import_circle_at_module_level():
    circle = circle_among([i for i in ALL_IMPORTS if not i.in_function])
    assert not circle, f"import circle at module level: {' -> '.join(circle)}"


def test_no_import_circle_through_imports_inside_functions_or_for_typing():
    """An import moved into a function, or under TYPE_CHECKING, hides a circle from Python but not from the reader:
    the two modules still need each other. Break it by moving what both need into a module below them."""
    circle = circle_among(EVERY_IMPORT)
    assert not circle, f"import circle (counting imports inside functions and for typing): {' -> '.join(circle)}"


def test_few_imports_inside_functions_each_with_its_reason():
    inside = list({(i.module, i.line): i for i in ALL_IMPORTS if i.in_function}.values())  # per statement
    without_reason = [where(i) for i in inside if not i.reason]
    assert not without_reason, "an import inside a function needs a '# why' comment: " + "; ".join(without_reason)
    assert len(inside) <= MAX_IN_FUNCTION, (
        f"{len(inside)} imports inside functions (at most {MAX_IN_FUNCTION}): " + "; ".join(map(where, inside))
    )


def app_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "apps" and len(parts) > 1 else None


def test_workers_import_no_other_app():
    crossing = [
        where(i) for i in ALL_IMPORTS if app_of(i.module) == "workers" and app_of(i.target) not in (None, "workers")
    ]
    assert not crossing, "apps/workers knows no app (apps register sweep jobs in core.sweep): " + "; ".join(crossing)


def test_core_imports_no_app_but_its_composition_roots():
    crossing = [
        where(i)
        for i in ALL_IMPORTS
        if i.module.startswith("core") and i.target.startswith("apps") and i.module not in CORE_MAY_IMPORT_APPS
    ]
    assert not crossing, "core knows no app: " + "; ".join(crossing)


def test_the_rules_see_the_imports_they_judge():
    """The checks above read what they should: a known module-level import and a known app crossing."""
    module_level = {(i.module, i.target) for i in ALL_IMPORTS if not i.in_function}
    assert ("apps.escalations.transitions", "apps.escalations.actions") in module_level
    assert ("core.broker", "apps.wiring") in {(i.module, i.target) for i in ALL_IMPORTS if i.in_function}
    assert circle_among([*EVERY_IMPORT, Import("apps.wiring", "core.broker", 1, False, False)])  # a circle is seen
    assert any(i.module == "core.app" and i.target.startswith("apps.") for i in ALL_IMPORTS)


def machine_dates(path: Path) -> list[int]:
    """Lines that call ``date.today()``: the machine's date, which is not yet the Dutch date at 23:00 UTC."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "today"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id in ("date", "datetime")
    ]


def test_today_is_the_dutch_date_of_the_one_clock():
    # A test that compared date.today() with a page failed in CI between 23:00 and 24:00 UTC: the app counts
    # from core.clock's Europe/Amsterdam date, as a user does.
    files = [*project_files(), *sorted((ROOT / "tests").rglob("*.py")), *sorted((ROOT / "bench").rglob("*.py"))]
    found = {str(p.relative_to(ROOT)): lines for p in files if (lines := machine_dates(p))}
    assert not found, f"use core.clock (system_clock.today() or the app's clock) instead of date.today(): {found}"
