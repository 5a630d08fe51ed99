"""Public pages that belong to no region: the accessibility statement (toegankelijkheidsverklaring)."""

from __future__ import annotations

from litestar import Controller, get
from litestar.response import Template


class AccessibilityStatement(Controller):
    include_in_schema = False

    @get("/toegankelijkheid", opt={"public": True})
    async def statement(self) -> Template:
        return Template("toegankelijkheid.html")
