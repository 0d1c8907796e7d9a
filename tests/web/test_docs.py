"""The interactive API docs work without internet: their assets come from our own server."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_api_docs_load_their_assets_from_this_server(client: TestClient, page: str) -> None:
    html = client.get(page).text
    assets = re.findall(r"""(?:src|href)=["']([^"']+\.(?:js|css))["']""", html)
    assert assets, html[:500]
    for url in assets:
        assert url.startswith("/"), f"{page} loads {url} from another host"
        answer = client.get(url)
        assert answer.status_code == 200 and len(answer.content) > 10_000, url
    assert "cdn." not in html and "googleapis" not in html
