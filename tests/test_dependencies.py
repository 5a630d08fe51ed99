"""Every third-party package that Trede's code imports is declared in pyproject.toml (not only pulled in by
another package, which may drop it in any release), and used the way its current release wants: loading Trede's
code raises no warning (Authlib's, for one, warned about its httpx integration until the OpenID client moved to
httpx2)."""

from __future__ import annotations

import ast
import importlib.metadata
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = set()
    for requirement in project["dependencies"]:
        names.add(normalise(re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0]))
    return names


def imported_top_levels() -> set[str]:
    found = set()
    for path in [*(ROOT / "apps").rglob("*.py"), *(ROOT / "core").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"apps", "core", "__future__"}


def test_every_imported_package_is_declared():
    distributions = importlib.metadata.packages_distributions()
    wanted = declared()
    undeclared = {}
    for module in sorted(imported_top_levels()):
        names = distributions.get(module, [module])
        if not {normalise(name) for name in names} & wanted:
            undeclared[module] = names
    assert undeclared == {}


def test_loading_the_code_raises_no_warning():
    """In a fresh process, every warning shown (libraries such as Authlib turn their own filters to "always",
    so pytest's warning filters cannot be relied on to catch them)."""
    script = (
        "import json, warnings\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    import apps.accounts.oidc, core.app, core.cli, core.workers, apps.wiring\n"
        "print(json.dumps([f'{w.category.__name__} ({w.filename}:{w.lineno}): {w.message}' for w in caught]))\n"
    )
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout.strip().splitlines()[-1]) == []
