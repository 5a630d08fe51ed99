"""The documentation a reader of the repository has: the domain rules are in docs/DOMAIN.md (in Trede's own
words) and the README sends readers there, never to a folder outside the repository."""

from __future__ import annotations

import re
import subprocess

from tests.support import ROOT


def tracked_text_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "*.md", "*.py", "*.toml", "*.yaml", "Makefile"], cwd=ROOT,
                            capture_output=True, text=True, check=True)  # fmt: skip
    return [name for name in listed.stdout.splitlines() if name != "tests/test_docs.py"]


def test_the_readme_points_to_the_domain_page_of_the_repository():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/DOMAIN.md" in readme
    domain = (ROOT / "docs" / "DOMAIN.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", domain, flags=re.MULTILINE)
    assert len(headings) >= 3 and len(domain.split()) > 300, headings


def test_no_file_sends_readers_outside_the_repository():
    outside = re.compile(r"\.\./shared\b|\bshared/DOMAIN")
    found = [
        f"{name}:{number}" for name in tracked_text_files() if (ROOT / name).is_file()
        for number, line in enumerate((ROOT / name).read_text(encoding="utf-8").splitlines(), 1)
        if outside.search(line)
    ]  # fmt: skip
    assert found == []
