"""Reading a page's form as a browser would send it (plain form posts in the page tests, no JavaScript)."""

from __future__ import annotations

import html as html_lib
import re


def form_fields(page: str, marker: str = 'class="utrecht-form trede-editor"') -> list[tuple[str, str]]:
    """The (name, value) pairs a browser sends for the form holding ``marker``: inputs (checked boxes and radios
    only), textareas, and each select's selected option (its first when none is); no buttons."""
    form = page[page.index(marker):]
    form = form[: form.index("</form>")]
    pairs: list[tuple[str, str]] = []
    for tag in re.findall(r"<input [^>]*>", form):
        name = re.search(r'name="([^"]*)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if not name or ('type="checkbox"' in tag or 'type="radio"' in tag) and " checked" not in tag:
            continue
        pairs.append((name.group(1), html_lib.unescape(value.group(1) if value else "")))
    for name, body in re.findall(r'<textarea [^>]*name="([^"]*)"[^>]*>(.*?)</textarea>', form, re.S):
        pairs.append((name, html_lib.unescape(body)))
    for name, body in re.findall(r'<select [^>]*name="([^"]*)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', body) or re.search(r'<option value="([^"]*)"', body)
        pairs.append((name, html_lib.unescape(chosen.group(1)) if chosen else ""))
    return pairs


def as_data(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    data: dict[str, list[str]] = {}
    for name, value in pairs:
        data.setdefault(name, []).append(value)
    return data


def replaced(pairs: list[tuple[str, str]], changes: dict[str, str]) -> list[tuple[str, str]]:
    """``pairs`` with the fields named in ``changes`` set (a field the form did not have is added)."""
    names = dict(changes)
    out = [(n, names.pop(n) if n in names else v) for n, v in pairs]
    return out + list(names.items())


def value_of(pairs: list[tuple[str, str]], name: str) -> str:
    return next(v for n, v in pairs if n == name)
