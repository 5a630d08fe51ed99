"""Placeholders in a ladder's texts, so that a text comes from the region's data and never from the document a
template was written after: ``{regio}`` (the region's name, filled in when a region takes a template) and
``{gemeenten}`` (how many municipalities the region has on the day the text is shown or sent, "16 gemeenten").

A ladder may use only these; the schema refuses any other ``{name}``, so a typo never reaches a letter.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel

Spec = TypeVar("Spec", bound=BaseModel)  # a LadderSpec; named by its base so that the schema can import this module

PLACEHOLDERS = {
    "regio": "de naam van de regio",
    "gemeenten": "het aantal gemeenten van de regio op die dag, zoals ‘16 gemeenten’",
}
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def unknown_placeholders(text: str) -> list[str]:
    return sorted({name for name in _PLACEHOLDER.findall(text) if name not in PLACEHOLDERS})


def fill(text: str, values: Mapping[str, str]) -> str:
    """``text`` with each known placeholder in ``values`` replaced; other placeholders stay as they are."""
    if "{" not in text:
        return text
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def municipalities_phrase(count: int) -> str:
    return "1 gemeente" if count == 1 else f"{count} gemeenten"


def texts_of(value: Any) -> list[str]:
    """Every string in a dumped ladder (dicts and lists walked)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [text for item in value.values() for text in texts_of(item)]
    if isinstance(value, list):
        return [text for item in value for text in texts_of(item)]
    return []


def _filled(value: Any, values: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return fill(value, values)
    if isinstance(value, Mapping):
        return {key: _filled(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [_filled(item, values) for item in value]
    return value


def for_region(spec: Spec, region_name: str) -> Spec:
    """The ladder as a region takes it from a template: ``{regio}`` becomes the region's name everywhere.
    ``{gemeenten}`` stays: the count depends on the day."""
    data = spec.model_dump(mode="json")
    return type(spec).model_validate(_filled(data, {"regio": region_name}))
