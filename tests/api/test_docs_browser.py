"""The API docs in a real browser: Swagger UI renders the schema, asking no other host."""

from urllib.parse import urlsplit

import pytest

from tests.e2e.test_browser import browser  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.browser]


def test_swagger_ui_renders_asking_no_other_host(live_server, browser):  # noqa: F811
    page = browser.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto(f"{live_server.url}/api/docs/")
    page.get_by_text("/api/orders/{order_id}/cancel/").wait_for(timeout=15_000)

    ours = urlsplit(live_server.url).netloc
    assert requested and all(urlsplit(url).netloc == ours for url in requested), requested
    assert any(url.endswith("/api/schema/") for url in requested)
