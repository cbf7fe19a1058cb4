"""
Signing in (issue 7): staff and editors need a second factor (positions/mfa.py), and
wrong passwords are throttled per username and address together (django-axes).
"""

import base64
import re

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client, override_settings
from django_otp.oath import TOTP, hotp, totp
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from positions.mfa import PENDING_KEY
from tests.accounts import sign_in
from tests.factories import SourceFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-editor-password-77"


@pytest.fixture
def editor(django_user_model, editors_group):
    user = django_user_model.objects.create_user("ed", password=PASSWORD, is_staff=True)
    user.groups.add(editors_group)
    return user


def password_step(client, username="ed", password=PASSWORD, address="198.51.100.7", **extra):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        **extra,
    )


def code_for(device, steps_ahead=0):
    """The code the app shows now (or that many 30-second steps later)."""
    code = totp(device.bin_key, device.step, device.t0, device.digits, drift=steps_ahead)
    return f"{code:0{device.digits}d}"


def pending_app(client):
    """The authenticator app being set up, as the setup page's key makes it."""
    return TOTPDevice(key=client.session[PENDING_KEY])


def set_up_app(client):
    """The first sign-in's second step: scan, confirm; returns (device, recovery codes)."""
    page = client.get("/account/mfa/setup/?next=/admin/")
    assert page.status_code == 200
    app = pending_app(client)
    done = client.post("/account/mfa/setup/", {"code": code_for(app), "next": "/admin/"})
    assert done.status_code == 200, done.content
    codes = re.findall(r"<li><code>([a-z2-7]+)</code></li>", done.content.decode())
    return TOTPDevice.objects.get(user__username="ed", confirmed=True), codes


# The second factor


def test_after_the_password_a_first_timer_is_sent_to_set_up_an_app(client, editor):
    response = password_step(client)
    assert response.status_code == 302 and response["Location"] == "/admin/"
    for url in ["/admin/", "/", "/sources/new/", "/review/"]:
        answer = client.get(url)
        assert answer.status_code == 302, url
        assert answer["Location"].startswith("/account/mfa/setup/?next="), url
    page = client.get("/account/mfa/setup/")
    html = page.content.decode()
    assert '<svg role="img" aria-label="QR code of the setup key"' in html
    shown = re.search(r'<code class="setup-key">([A-Z2-7 ]+)</code>', html).group(1)
    # The key shown is the one the codes come from, and it stays the same on reload.
    key = base64.b32decode(shown.replace(" ", ""))
    assert key == pending_app(client).bin_key
    assert shown in client.get("/account/mfa/setup/").content.decode()
    assert not TOTPDevice.objects.exists()  # nothing stored until a code proves it works


def test_a_half_signed_in_session_is_anonymous_to_the_api(client, editor):
    password_step(client)
    assert client.get("/api/v1/statements/").status_code == 200  # public reads
    write = client.post("/api/v1/topics/", {"slug": "x", "name": "X"}, "application/json")
    assert write.status_code == 401
    # A script's token is a credential of its own.
    token = Token.objects.create(user=editor)
    with_token = Client().post(
        "/api/v1/topics/",
        {"slug": "x", "name": "X"},
        "application/json",
        headers={"Authorization": f"Token {token.key}"},
    )
    assert with_token.status_code == 201


def test_setting_up_the_app_needs_its_current_code_and_gives_ten_recovery_codes(client, editor):
    password_step(client)
    client.get("/account/mfa/setup/")
    wrong = client.post("/account/mfa/setup/", {"code": "000000"})
    assert wrong.status_code == 400
    assert "not the one the app shows now" in wrong.content.decode()
    empty = client.post("/account/mfa/setup/", {})
    assert empty.status_code == 400 and "This field is required" in empty.content.decode()
    assert not TOTPDevice.objects.exists()
    assert client.get("/admin/").status_code == 302  # still only half signed in

    with override_settings(OTP_TOTP_THROTTLE_FACTOR=0):  # no wait after the wrong code
        device, codes = set_up_app(client)
    assert device.confirmed
    assert len(set(codes)) == 10
    assert sorted(
        StaticDevice.objects.get(user=editor).token_set.values_list("token", flat=True)
    ) == sorted(codes)
    assert client.get("/admin/").status_code == 200
    assert client.get("/sources/new/").status_code == 200


def test_each_sign_in_asks_for_the_code_and_a_wrong_one_is_refused(client, editor):
    password_step(client)
    device, _ = set_up_app(client)

    later = Client()
    password_step(later)
    assert later.get("/review/")["Location"].startswith("/account/mfa/verify/?next=%2Freview%2F")
    # Setting up another app is not a way around the code.
    assert later.get("/account/mfa/setup/")["Location"].startswith("/account/mfa/verify/")
    refused = later.post("/account/mfa/verify/", {"code": "123456", "next": "/review/"})
    assert refused.status_code == 400
    assert later.get("/review/").status_code == 302
    # Right after a wrong code, even the right one waits (django-otp's throttling) …
    assert later.post("/account/mfa/verify/", {"code": code_for(device, 1)}).status_code == 400
    # … and a code already used (the set-up one) never works twice. It is the code of the
    # step the device last accepted, not of "now": a test that crosses a 30-second step
    # would otherwise send a fresh code.
    device.refresh_from_db()
    used = f"{hotp(device.bin_key, device.last_t, device.digits):0{device.digits}d}"
    # A code the device would take but for having taken it already.
    app = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    assert app.verify(int(used), tolerance=device.tolerance)
    with override_settings(OTP_TOTP_THROTTLE_FACTOR=0):
        assert later.post("/account/mfa/verify/", {"code": used}).status_code == 400
        signed_in = later.post(
            "/account/mfa/verify/", {"code": code_for(device, 1), "next": "/review/"}
        )
    assert signed_in.status_code == 302 and signed_in["Location"] == "/review/"
    assert later.get("/review/").status_code == 200


def test_a_recovery_code_signs_in_once(client, editor):
    password_step(client)
    _, codes = set_up_app(client)
    for attempt in range(2):
        other = Client()
        password_step(other)
        with override_settings(OTP_TOTP_THROTTLE_FACTOR=0, OTP_STATIC_THROTTLE_FACTOR=0):
            answer = other.post("/account/mfa/verify/", {"code": codes[0].upper()})
        if attempt == 0:
            assert answer.status_code == 302
            assert other.get("/admin/").status_code == 200
        else:
            assert answer.status_code == 400
    assert StaticDevice.objects.get(user=editor).token_set.count() == 9


def test_new_recovery_codes_replace_the_old_ones(client, editor):
    password_step(client)
    _, old = set_up_app(client)
    page = client.post("/account/mfa/")
    new = re.findall(r"<li><code>([a-z2-7]+)</code></li>", page.content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    tokens = StaticDevice.objects.get(user=editor).token_set.values_list("token", flat=True)
    assert sorted(tokens) == sorted(new)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "javascript:x"])
def test_the_second_step_never_sends_anyone_off_site(client, editor, target):
    password_step(client)
    device = TOTPDevice.objects.create(user=editor, name="App", confirmed=True)
    answer = client.post("/account/mfa/verify/", {"code": code_for(device), "next": target})
    assert answer.status_code == 302 and answer["Location"] == "/admin/"


def test_readers_without_staff_or_permissions_need_no_second_factor(client, django_user_model):
    reader = django_user_model.objects.create_user("reader")
    client.force_login(reader)
    assert client.get("/").status_code == 200


def test_the_mfa_pages_need_a_login(client):
    for url in ["/account/mfa/", "/account/mfa/setup/", "/account/mfa/verify/"]:
        answer = client.get(url)
        assert answer.status_code == 302 and answer["Location"].startswith("/admin/login/")


def test_staff_outside_the_editors_group_also_need_the_second_factor(client, django_user_model):
    django_user_model.objects.create_user("ed", password=PASSWORD, is_staff=True)
    password_step(client)
    assert client.get("/admin/")["Location"].startswith("/account/mfa/setup/")


def test_the_signed_in_fixtures_have_both_factors(editor_client, admin_client):
    source = SourceFactory()
    assert editor_client.get(f"/sources/{source.pk}/edit/").status_code == 200
    assert admin_client.get("/admin/auth/user/").status_code == 200


# The session key is renewed at each step


def session_key(client):
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def signed_in_with(key):
    """Whether a session key, sent alone, still opens the admin."""
    other = Client()
    other.cookies[settings.SESSION_COOKIE_NAME] = key
    return other.get("/admin/").status_code == 200


def test_finishing_the_app_setup_renews_the_session_key(client, editor):
    password_step(client)
    before = session_key(client)
    set_up_app(client)
    after = session_key(client)
    assert after != before
    assert not signed_in_with(before)
    assert signed_in_with(after)
    assert client.get("/sources/new/").status_code == 200


@pytest.mark.parametrize("second_factor", ["app", "recovery code"])
def test_the_code_at_sign_in_renews_the_session_key(client, editor, second_factor):
    password_step(client)
    device, codes = set_up_app(client)
    later = Client()
    password_step(later)
    before = session_key(later)
    code = code_for(device, 1) if second_factor == "app" else codes[0]
    answer = later.post("/account/mfa/verify/", {"code": code, "next": "/review/"})
    assert answer.status_code == 302 and answer["Location"] == "/review/"
    after = session_key(later)
    assert after != before
    assert not signed_in_with(before)
    assert signed_in_with(after)
    assert later.get("/review/").status_code == 200


# Login throttling


def test_wrong_passwords_lock_that_username_from_that_address_only(client, editor):
    for _ in range(4):
        assert password_step(client, password="wrong").status_code == 200  # form again
    assert password_step(client, password="wrong").status_code == 429  # the fifth
    locked = password_step(client)  # now even the right password
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    assert client.get("/admin/").status_code == 302  # not logged in
    # The editor, elsewhere, signs in as usual: an attacker cannot lock them out.
    elsewhere = password_step(Client(), address="203.0.113.9")
    assert elsewhere.status_code == 302 and elsewhere["Location"] == "/admin/"
    # Another username from the locked address is not affected either.
    Group.objects.get(name="Editors").user_set.create(username="other", is_staff=True)
    other = password_step(Client(), username="other", password="wrong")
    assert other.status_code == 200


def test_a_forged_forwarded_for_header_does_not_change_the_key(client, editor):
    for n in range(5):
        password_step(client, password="wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    locked = password_step(client, HTTP_X_FORWARDED_FOR="192.0.2.200")
    assert locked.status_code == 429


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_a_trusted_proxy_the_address_it_saw_is_the_key(client, editor):
    proxy = "10.0.0.2"
    for _ in range(5):
        # The client sends its own header; the proxy appends the address it saw.
        password_step(
            client, password="wrong", address=proxy, HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.7"
        )
    locked = password_step(client, address=proxy, HTTP_X_FORWARDED_FOR="9.9.9.9, 198.51.100.7")
    assert locked.status_code == 429
    # Another client behind the same proxy is not locked.
    fine = password_step(Client(), address=proxy, HTTP_X_FORWARDED_FOR="203.0.113.50")
    assert fine.status_code == 302


def test_a_right_password_clears_the_failures(client, editor):
    for _ in range(4):
        password_step(client, password="wrong")
    assert password_step(client).status_code == 302
    again = Client()
    for _ in range(4):
        password_step(again, password="wrong")
    assert password_step(again).status_code == 302  # counting started again


def test_sign_in_helper_matches_the_real_flow(client, editor):
    """tests/accounts.sign_in gives what the two real steps give."""
    sign_in(client, editor)
    assert client.get("/admin/").status_code == 200
