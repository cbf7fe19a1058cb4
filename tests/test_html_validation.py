import pytest

from tests.html_validation import html_errors

VALID = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Valid</title></head>
<body>
<main><h1>Positions</h1><p hx-get="/fragment/" hx-swap="outerHTML" hx-on::after-request="x()">
Loaded with htmx.</p></main>
</body>
</html>
"""

INVALID = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Invalid</title></head>
<body>
<ul><div>not a list item</div></ul>
<img src="chart.png">
</body>
</html>
"""


@pytest.fixture(scope="module")
def reported():
    """One checker run (one JVM start) for the two sample documents."""
    return html_errors({"valid.html": VALID, "invalid.html": INVALID})


def test_invalid_html_is_reported_with_name_line_and_message(reported):
    assert any(
        error.startswith("invalid.html:5:")
        and "Element 'div' not allowed as child of element 'ul'" in error
        for error in reported
    ), reported
    assert any(error.startswith("invalid.html:6:") and "alt" in error for error in reported), (
        reported
    )


def test_valid_html_and_htmx_attributes_are_not_reported(reported):
    assert [error for error in reported if error.startswith("valid.html")] == []


@pytest.mark.django_db
def test_admin_login_page_is_valid_html(client):
    response = client.get("/admin/login/")
    assert response.status_code == 200
    assert html_errors({"/admin/login/": response.content.decode()}) == []
