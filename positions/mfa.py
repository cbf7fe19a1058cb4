"""
Sign-in for staff and editors: a password (through the admin's login page, guarded by
django-axes), then a second factor (django-otp): a code from an authenticator app
(TOTP), or one of ten single-use recovery codes.

Until the second step is done, such a session is not signed in for anything but that
step: a page asks for the code (or, the first time, sets the app up), and the API treats
the session as anonymous. Scripts use API tokens, which are a credential of their own.
"""

import base64
import functools
import time

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import match_token, user_has_device
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

RECOVERY_CODES = 10
APP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"
PENDING_KEY = "mfa_pending_key"  # the session's key for an app being set up


def needs_second_factor(user):
    """Staff, superusers and anyone with a permission (editors) sign in with two factors."""
    return user.is_authenticated and (
        user.is_staff or user.is_superuser or bool(user.get_all_permissions())
    )


def client_ip(request):
    """
    The client's address for login throttling (django-axes). REMOTE_ADDR, unless the app
    runs behind TRUSTED_PROXY_COUNT proxies that each append the address they received
    from to X-Forwarded-For: then the entry the outermost trusted proxy appended. A
    client cannot move that entry by sending its own X-Forwarded-For, whose entries all
    come before it.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    count = settings.TRUSTED_PROXY_COUNT
    if not count:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    return forwarded[-count] if len(forwarded) >= count else remote


class RequireSecondFactorMiddleware:
    """
    A session that has only passed the password step is sent to the second step from
    every page, and is anonymous to the API (so that it cannot write through it).
    """

    EXEMPT = ("/account/mfa/", "/admin/logout/", "/admin/login/", "/static/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and not user.is_verified()
            and not request.path.startswith(self.EXEMPT)
            and needs_second_factor(user)
        ):
            if request.path.startswith("/api/"):
                request.user = AnonymousUser()
            else:
                return redirect(second_step_url(user, request.get_full_path()))
        return self.get_response(request)


def second_step_url(user, next_url):
    step = "mfa-verify" if user_has_device(user, confirmed=True) else "mfa-setup"
    return f"{reverse(step)}?{urlencode({'next': next_url})}"


def next_url(request, default="admin:index"):
    """Where to go after the second step: ?next= if it is a path on this site."""
    wanted = request.POST.get("next") or request.GET.get("next")
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return reverse(default)


def verified_required(view):
    """For pages that change the second factor itself: signed in with both steps."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_verified():
            return redirect(second_step_url(request.user, request.get_full_path()))
        return view(request, *args, **kwargs)

    return login_required(wrapped)


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=32,
        help_text="The 6-digit code your authenticator app shows now, or a recovery code.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}
        ),
    )

    def clean_code(self):
        # Apps show "123 456"; people copy recovery codes with spaces. Neither matters.
        return "".join(self.cleaned_data["code"].split()).lower()


def new_recovery_codes(user):
    """Replace the user's recovery codes with ten new ones; return them (shown once)."""
    with transaction.atomic():
        StaticDevice.objects.filter(user=user).delete()
        device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME)
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
        StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
    return codes


def qr_svg(text):
    """A QR code of ``text`` as inline SVG (paths only: nothing the CSP refuses)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    svg = image.to_string(encoding="unicode")
    svg = svg.replace("<svg ", '<svg role="img" aria-label="QR code of the setup key" ', 1)
    return mark_safe(svg)  # made here from the device's own URL, no user text inside


@login_required
@require_http_methods(["GET", "POST"])
def setup(request):
    """
    First sign-in: add an authenticator app, prove it works, get recovery codes.

    The new key waits in the session until a code made from it comes back, so that
    showing the page changes nothing (and a device is stored only once it works).
    """
    user = request.user
    if user_has_device(user, confirmed=True) and not user.is_verified():
        # Replacing the app needs the second factor first.
        return redirect(second_step_url(user, request.get_full_path()))
    if PENDING_KEY not in request.session:
        request.session[PENDING_KEY] = random_hex(20)
    device = TOTPDevice(user=user, name=APP_DEVICE_NAME, key=request.session[PENDING_KEY])
    form = CodeForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        if shows(device, form.cleaned_data["code"]):
            with transaction.atomic():
                TOTPDevice.objects.filter(user=user).delete()  # the app this one replaces
                device.confirmed = True
                device.save()
                codes = new_recovery_codes(user)
            del request.session[PENDING_KEY]
            complete_second_step(request, device)
            return render(
                request,
                "mfa/recovery_codes.html",
                {"codes": codes, "next": next_url(request), "first_time": True},
            )
        form.add_error("code", "That code is not the one the app shows now. Try the next one.")
    key = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return render(
        request,
        "mfa/setup.html",
        {
            "form": form,
            "qr": qr_svg(device.config_url),
            "key": " ".join(key[i : i + 4] for i in range(0, len(key), 4)),
            "next": request.GET.get("next") or request.POST.get("next", ""),
        },
        status=400 if form.errors else 200,
    )


def complete_second_step(request, device):
    """Sign the session in with ``device``, under a new session key."""
    otp_login(request, device)
    # As Django's login does at the password step: a key that someone learnt or planted
    # before this step must not become a fully signed-in session.
    request.session.cycle_key()


def shows(device, code):
    """Whether ``code`` is what the app with the device's key shows now (or one step
    either side). Unlike TOTPDevice.verify_token, this saves nothing: the device is not
    stored until the code is right. The code's time step is kept, so it never works twice."""
    if not code.isdigit():
        return False
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if not totp.verify(int(code), device.tolerance):
        return False
    device.last_t = totp.t()
    return True


@login_required
@require_http_methods(["GET", "POST"])
def verify(request):
    """Each sign-in: the code from the app, or a recovery code (each works once)."""
    user = request.user
    if not user_has_device(user, confirmed=True):
        return redirect(second_step_url(user, next_url(request)))
    form = CodeForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        device = match_token(user, form.cleaned_data["code"])
        if device is not None:
            complete_second_step(request, device)
            if isinstance(device, StaticDevice):
                left = device.token_set.count()
                messages.warning(
                    request,
                    f"You used a recovery code; {left} left. Make new ones under "
                    "Two-factor sign-in if you are running low.",
                )
            return redirect(next_url(request))
        form.add_error(
            "code",
            "That code is not right, or was used already, or came too soon after a wrong "
            "one (each wrong code makes the next try wait longer).",
        )
    return render(
        request,
        "mfa/verify.html",
        {"form": form, "next": request.GET.get("next") or request.POST.get("next", "")},
        status=400 if form.errors else 200,
    )


@verified_required
@require_http_methods(["GET", "POST"])
def overview(request):
    """What protects the account, and new recovery codes on request."""
    user = request.user
    if request.method == "POST":
        codes = new_recovery_codes(user)
        return render(request, "mfa/recovery_codes.html", {"codes": codes, "next": ""})
    recovery = StaticDevice.objects.filter(user=user).first()
    return render(
        request,
        "mfa/overview.html",
        {
            "app": TOTPDevice.objects.filter(user=user, confirmed=True).first(),
            "codes_left": recovery.token_set.count() if recovery else 0,
        },
    )
