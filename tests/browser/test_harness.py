"""Tests of the browser-test harness itself, on the pages that exist in every build: the
admin's login page and the admin index. They double as examples for page tests."""

import base64
import re

import pytest
from django.contrib.auth.models import Group
from django_otp.oath import totp
from playwright.sync_api import expect

from positions.models import Statement
from tests.browser.helpers import (
    assert_no_axe_violations,
    assert_no_horizontal_scroll,
    axe_violations,
    log_in,
)

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct-horse-battery-staple-42"


def test_axe_reports_violations(page):
    """The accessibility check is live: a page with known faults is not reported clean."""
    page.set_content("<html><body><img src='chart.png'><a href='/x'></a></body></html>")
    ids = {violation["id"] for violation in axe_violations(page)}
    assert {"image-alt", "html-has-lang", "link-name"} <= ids


def test_the_csp_is_enforced_and_its_refusals_are_caught(page):
    """The app's pages run under its CSP in the browser: an inline script does not run and
    an inline style does not apply, and the page fixture sees both refusals (and would fail
    the test on them)."""
    page.goto("/admin/login/")
    page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.injected = true";
            document.body.append(script);
            const styled = '<p id="styled" style="color: red">x</p>';
            document.body.insertAdjacentHTML("beforeend", styled);
        }"""
    )
    assert page.evaluate("window.injected") is None
    assert page.evaluate("getComputedStyle(styled).color") != "rgb(255, 0, 0)"
    assert any("inline script" in text for text in page.csp_refusals), page.csp_refusals
    assert any("inline style" in text for text in page.csp_refusals), page.csp_refusals
    page.csp_refusals.clear()


def test_horizontal_scroll_check_catches_a_wide_element(page):
    page.set_content(
        "<html lang='en'><body><div id='wide' style='width: 500px'>x</div></body></html>"
    )
    with pytest.raises(AssertionError, match="div#wide"):
        assert_no_horizontal_scroll(page)


def test_admin_login_page_is_accessible(page):
    page.goto("/admin/login/")
    expect(page.get_by_label("Username")).to_be_visible()
    assert_no_axe_violations(page)


def test_admin_login_page_fits_a_375px_screen(page):
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto("/admin/login/")
    assert_no_horizontal_scroll(page)
    expect(page.get_by_role("button", name="Log in")).to_be_in_viewport()


def test_superuser_logs_in_through_the_form(page, django_user_model):
    django_user_model.objects.create_superuser("chief", "chief@example.org", PASSWORD)

    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login/\?next=/admin/$"))
    page.get_by_label("Username").fill("chief")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    # The first time, the second step sets up an authenticator app.
    expect(page).to_have_url(re.compile(r"/account/mfa/setup/\?next=%2Fadmin%2F$"))
    expect(page.get_by_role("img", name="QR code of the setup key")).to_be_visible()
    assert_no_axe_violations(page)
    # As a person would: the key as shown, typed into an app.
    shown = page.locator(".setup-key").inner_text()
    code = totp(base64.b32decode(shown.replace(" ", "")))  # 20 bytes: no padding
    page.get_by_role("textbox", name="Code").fill(f"{code:06d}")
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    assert_no_axe_violations(page)
    page.get_by_role("link", name="I have saved them — continue").click()

    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page.get_by_role("heading", name="The record")).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def test_wrong_password_is_refused(page, django_user_model):
    django_user_model.objects.create_superuser("chief", "chief@example.org", PASSWORD)

    page.goto("/admin/login/")
    page.get_by_label("Username").fill("chief")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()

    expect(page.locator(".errornote")).to_contain_text("Please enter the correct username")
    expect(page).to_have_url(re.compile(r"/admin/login/"))


def test_seed_and_log_in_helpers(page, seed, live_server, django_user_model):
    """The ``seed`` fixture's data is visible to the live server, and ``log_in`` skips the form."""
    user = django_user_model.objects.create_superuser("chief", "chief@example.org", PASSWORD)
    statements = Statement.objects.count()
    assert statements > 0

    log_in(page, user, live_server)
    page.goto("/admin/positions/statement/")

    expect(page.locator("#result_list tbody tr")).to_have_count(min(statements, 100))


@pytest.mark.parametrize("run", ["first", "second"])
def test_every_browser_test_starts_with_the_data_from_migrations(page, run):
    """Transactional tests empty the database afterwards; the serialized rollback set up in
    conftest.py brings back what migrations created, for the test after too."""
    editors = Group.objects.get(name="Editors")
    assert editors.permissions.filter(codename="change_statement").exists()
    assert Statement.objects.count() == 0  # the previous test's seed data is gone
