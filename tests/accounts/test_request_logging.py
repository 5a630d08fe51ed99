"""Operations: a request on a region's pages is logged with its request id and the region (JSON in production)."""

from __future__ import annotations

import logging

from core.logs import ContextFilter
from tests.accounts.support import app_client, login


class Collect(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records: list[logging.LogRecord] = []
        self.addFilter(ContextFilter())

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_the_access_line_names_the_region(world, oidc_settings):
    collect = Collect()
    access = logging.getLogger("trede.access")
    access.addHandler(collect)
    try:
        async with app_client(oidc_settings) as http:
            await login(http, "zl-inkoop")
            response = await http.get("/regio/zuid-limburg/instroomstops", headers={"X-Request-ID": "regio-1"})
    finally:
        access.removeHandler(collect)
    assert response.status_code == 200
    [line] = [r for r in collect.records if r.request_id == "regio-1"]
    assert line.region == "zuid-limburg" and line.status == 200 and line.path == "/regio/zuid-limburg/instroomstops"
