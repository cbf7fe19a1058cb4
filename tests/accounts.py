"""Signing test users in as the app signs people in: staff and editors with both factors."""

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from positions.mfa import needs_second_factor


def sign_in(client, user):
    """Log ``user`` in on a test client, second factor done where one is needed (as after
    the admin's login page and the code from the app): no password hashing, no code."""
    client.force_login(user)
    if needs_second_factor(user):
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="Test app", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client
