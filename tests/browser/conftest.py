"""Browser tests: Playwright (pytest-playwright) driving Debian's Chromium against
pytest-django's ``live_server``.

A new page test needs nothing but this (see test_harness.py)::

    import pytest
    from tests.browser.helpers import assert_no_axe_violations, assert_no_horizontal_scroll

    pytestmark = pytest.mark.django_db(transaction=True)

    def test_dashboard(page, seed):
        page.goto("/")                     # relative URLs go to live_server.url
        assert_no_axe_violations(page)
        assert_no_horizontal_scroll(page)  # resizes the viewport to 375 px first

Fixtures: pytest-playwright's ``page`` (a fresh context per test), ``context``, ``browser``,
here configured to use /usr/bin/chromium, with ``base_url`` = ``live_server.url``; a
test fails if the browser reports a Content-Security-Policy refusal; ``seed``: the seed
data, loaded with ``load_seed``. Helpers in
helpers.py: ``axe_violations``, ``format_violations``, ``assert_no_axe_violations``,
``assert_no_horizontal_scroll``, ``log_in`` (session cookie, no login form).
Every test here runs as ``django_db(transaction=True, serialized_rollback=True)``
(see pytest_collection_modifyitems below). ``make browser-deps`` (run by ``make test``)
installs Chromium and tests/js/node_modules.

On a failure, pytest-playwright keeps a full-page screenshot of every open page in
``test-results/<test id>/`` (options in pyproject.toml's addopts; the folder is emptied
at the start of each run and git-ignored); the run's summary lists them.
"""

import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command

# Playwright's sync API runs an asyncio event loop in the test's thread, so Django would
# refuse every ORM call made from a browser test (SynchronousOnlyOperation). Browser tests
# are transactional, and pytest-django runs those after all the others.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

DJANGO_DB_ARGS = ("transaction", "reset_sequences", "databases", "serialized_rollback")
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # root cannot use Chromium's sandbox
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Launch Debian's Chromium: Playwright cannot download its own browsers here."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser-deps` (or `make test`).")
    args = list(CHROMIUM_ARGS)
    if browser_type_launch_args.get("headless", True):  # pytest --headed turns it off
        args.insert(0, "--headless")
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": args}


@pytest.fixture(scope="session")
def base_url(live_server):
    """Relative URLs in page.goto() go to the live server."""
    return live_server.url


@pytest.fixture
def page(page):
    """pytest-playwright's page, which fails the test if the browser refused anything under
    the app's Content-Security-Policy (Chromium reports each refusal on the console)."""
    refused = page.csp_refusals = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield page
    assert not refused, "The browser refused under the CSP:\n" + "\n".join(refused)


def pytest_collection_modifyitems(items):
    """Every test in this directory gets ``django_db(transaction=True,
    serialized_rollback=True)``, whatever its own django_db mark says otherwise.

    The live server runs in another thread and sees only committed data, hence real
    transactions; the database is emptied after each such test. Emptying it also removes
    what migrations created (the Editors group and its permissions), which the serialized
    rollback puts back before each test. (pytest-django only serializes the database for
    the mark's ``serialized_rollback``, not for its fixture of that name.)"""
    here = Path(__file__).parent
    for item in items:
        if here not in item.path.parents:
            continue
        marker = item.get_closest_marker("django_db")
        kwargs = {}
        if marker:  # keep what the test's own mark says, e.g. reset_sequences=True
            kwargs = dict(zip(DJANGO_DB_ARGS, marker.args, strict=False), **marker.kwargs)
        kwargs.update(transaction=True, serialized_rollback=True)
        item.add_marker(pytest.mark.django_db(**kwargs), append=False)


@pytest.fixture(scope="session", autouse=True)
def _serialized_database_for_playwright(request, django_db_setup):
    """Hand the database state saved at set-up to the connection that browser tests use.

    Django keeps its connections in an asgiref Local, which gives code running while an
    asyncio loop runs in the thread (as it does once Playwright's sync API has started) a
    connection object of its own. When other tests set the database up before the first
    browser test, that object lacks the serialized state, and serialized_rollback would
    silently restore nothing."""
    from django.db import connections

    before = {alias: connections[alias] for alias in connections}
    request.getfixturevalue("playwright")
    for alias, connection in before.items():
        saved = getattr(connection, "_test_serialized_contents", None)
        if saved is not None and connections[alias] is not connection:
            connections[alias]._test_serialized_contents = saved


@pytest.fixture
def seed(transactional_db):
    """The project's seed data (fixtures/seed.json), loaded with ``manage.py load_seed``."""
    call_command("load_seed", stdout=io.StringIO())


def pytest_terminal_summary(terminalreporter):
    """Say where the screenshots of failed browser tests are."""
    screenshots = sorted(
        {
            value
            for reports in terminalreporter.stats.values()
            for report in reports
            for name, value in getattr(report, "user_properties", ())
            if name == "playwright_screenshot"
        }
    )
    if screenshots:
        terminalreporter.section("screenshots of failed browser tests")
        for path in screenshots:
            terminalreporter.write_line(path)
