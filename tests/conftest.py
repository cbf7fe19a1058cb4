import importlib

import pytest
from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.core.management import call_command

from positions.models import Actor, Meeting, Party, Proposal, SeedEntry, Source, Statement, Topic
from tests.accounts import sign_in


@pytest.fixture(autouse=True, scope="session")
def fast_password_hashing():
    """
    Tests hash with MD5, as Django's documentation advises: PBKDF2 at its production
    strength takes a quarter of a second per password, and the suite sets and checks
    hundreds (every editor and admin fixture, every wrong password for the lockout). The
    production hashers stay listed, so a stored PBKDF2 hash still checks. Sign-in, lockout
    and the second factor do not depend on which hasher is first.
    """
    from django.conf import settings
    from django.test import override_settings

    with override_settings(
        PASSWORD_HASHERS=[
            "django.contrib.auth.hashers.MD5PasswordHasher",
            *settings.PASSWORD_HASHERS,
        ]
    ):
        yield


def is_transactional(item):
    marker = item.get_closest_marker("django_db")
    marked = marker is not None and (
        marker.kwargs.get("transaction") or (marker.args and marker.args[0])
    )
    return bool(marked) or "transactional_db" in getattr(item, "fixturenames", ())


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """
    Transactional tests (browser, schemathesis, races) run after all the others: each
    empties every table when it ends, the migrations' data (the Editors group) included,
    which the tests that run inside a rolled-back transaction rely on. pytest-django sorts
    them last too, but markers added by later hooks (tests/browser/conftest.py) can undo
    its order, so this hook, which runs last, sorts again.
    """
    items.sort(key=is_transactional)


def unload_everything():
    """Remove all content, protected objects after those that point at them."""
    Statement.objects.all().delete()
    Proposal.objects.all().delete()
    while Meeting.objects.exists():
        Meeting.objects.filter(children=None).delete()
    for model in (Actor, Source, Topic, Party, SeedEntry):
        model.objects.all().delete()


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache: a rolled-back test leaves the content version
    where it was, so a fragment cached by one test would otherwise serve the next."""
    cache.clear()


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """
    The seed data, loaded once per module (a load takes about a second). Each test still
    runs in its own transaction, rolled back afterwards, so edits and reloads in one test
    never reach another; the module removes the data when it is done.
    """
    with django_db_blocker.unblock():
        call_command("load_seed", stdout=None)
    yield
    with django_db_blocker.unblock():
        unload_everything()


@pytest.fixture
def russia(db):
    return Party.objects.get_or_create(code="RU", defaults={"name": "Russia", "sort_order": 1})[0]


@pytest.fixture
def united_states(db):
    return Party.objects.get_or_create(
        code="US", defaults={"name": "United States", "sort_order": 2}
    )[0]


@pytest.fixture
def editors_group(db):
    """
    The Editors group as its migration makes it. A transactional test (the browser and
    schemathesis tests) empties every table when it ends, the migration's data included,
    and pytest-django may run tests that need the group after one of those.
    """
    migration = importlib.import_module("positions.migrations.0002_editors_group")
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0)
    group, _ = Group.objects.get_or_create(name="Editors")
    codenames = [
        f"{action}_{model}"
        for model in migration.CONTENT_MODELS
        for action in ("add", "change", "delete", "view")
    ] + ["view_seedentry"]
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="positions", codename__in=codenames)
    )
    return group


@pytest.fixture
def editor(django_user_model, editors_group):
    user = django_user_model.objects.create_user(
        "editor", password="not-a-real-password-1", is_staff=True
    )
    user.groups.add(editors_group)
    return user


@pytest.fixture
def editor_client(client, editor):
    sign_in(client, editor)
    return client


@pytest.fixture
def staff_without_group(db, django_user_model):
    return django_user_model.objects.create_user(
        "reader", password="not-a-real-password-2", is_staff=True
    )


@pytest.fixture
def admin_client(client, admin_user):
    """pytest-django's admin_client, signed in with both factors as staff must be."""
    return sign_in(client, admin_user)
