import pytest
from django.contrib.auth.models import Group

from positions.models import Party


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
