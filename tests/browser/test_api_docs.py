"""The API docs work with the network off: every asset comes from the app."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_api_docs_render_from_the_apps_own_assets(page, live_server):
    outside = []

    def note_outside_request(request):
        if not request.url.startswith(live_server.url):
            outside.append(request.url)

    page.on("request", note_outside_request)
    page.goto("/api/docs/")
    # Swagger UI has loaded the schema and drawn the operations.
    expect(
        page.locator(".opblock-summary-path", has_text="/api/v1/statements/").first
    ).to_be_visible(timeout=15000)
    assert outside == []
