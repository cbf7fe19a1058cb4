import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from positions.models import Actor, Meeting, Party, Proposal, SeedEntry, Source, Statement, Topic


def unload_everything():
    """Remove all content, protected objects after those that point at them."""
    Statement.objects.all().delete()
    Proposal.objects.all().delete()
    while Meeting.objects.exists():
        Meeting.objects.filter(children=None).delete()
    for model in (Actor, Source, Topic, Party, SeedEntry):
        model.objects.all().delete()


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
def editor(db, django_user_model):
    user = django_user_model.objects.create_user(
        "editor", password="not-a-real-password-1", is_staff=True
    )
    user.groups.add(Group.objects.get(name="Editors"))
    return user


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


@pytest.fixture
def staff_without_group(db, django_user_model):
    return django_user_model.objects.create_user(
        "reader", password="not-a-real-password-2", is_staff=True
    )
