"""Two editors on one record in the admin: the second save is refused and told what changed."""

import pytest

from positions.models import Actor, Statement
from tests.factories import ActorFactory, StatementFactory

pytestmark = pytest.mark.django_db


def form_data(response):
    """The POST data a browser would send back unchanged from an admin change page."""
    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        forms.append(formset.management_form)
        forms.extend(formset.forms)
    for form in forms:
        for bound in form:
            value = bound.value()
            if value is None:
                continue
            if isinstance(value, bool):
                if value:
                    data[bound.html_name] = "on"
                continue
            data[bound.html_name] = value
    return data


def test_the_change_form_carries_the_version_it_was_opened_at(editor_client):
    actor = ActorFactory()
    response = editor_client.get(f"/admin/positions/actor/{actor.pk}/change/")
    html = response.content.decode()
    assert f'name="based_on_version" value="{actor.version}"' in html


def test_a_save_based_on_the_current_version_goes_through(editor_client):
    actor = ActorFactory(role="Minister")
    url = f"/admin/positions/actor/{actor.pk}/change/"
    data = form_data(editor_client.get(url))
    data["role"] = "Russian Defense Minister"
    response = editor_client.post(url, data)
    assert response.status_code == 302
    actor.refresh_from_db()
    assert (actor.role, actor.version) == ("Russian Defense Minister", 2)


def test_a_save_over_someone_elses_change_is_refused_and_says_what_changed(editor_client):
    actor = ActorFactory(role="Minister")
    url = f"/admin/positions/actor/{actor.pk}/change/"
    data = form_data(editor_client.get(url))

    # Meanwhile, a colleague saves a change.
    colleague = Actor.objects.get(pk=actor.pk)
    colleague.role = "Defense Minister"
    colleague.save()

    data["note"] = "Checked against the transcript."
    response = editor_client.post(url, data)
    assert response.status_code == 200
    message = " ".join(response.context["adminform"].form.non_field_errors())
    assert "Someone else saved this record" in message
    assert "Role: was “Minister”, now “Defense Minister”" in message
    actor.refresh_from_db()
    assert (actor.role, actor.note) == ("Defense Minister", "")

    # The editor's entries are still there; saving again applies them, knowingly.
    again = form_data(response)
    assert again["note"] == "Checked against the transcript."
    again["role"] = "Defense Minister"
    assert editor_client.post(url, again).status_code == 302
    actor.refresh_from_db()
    assert (actor.role, actor.note) == ("Defense Minister", "Checked against the transcript.")


def test_a_statement_edit_is_protected_the_same_way(editor_client):
    statement = StatementFactory(stance="supports")
    url = f"/admin/positions/statement/{statement.pk}/change/"
    data = form_data(editor_client.get(url))
    other = Statement.objects.get(pk=statement.pk)
    other.stance = "opposes"
    other.save()
    data["note"] = "Mine."
    response = editor_client.post(url, data)
    assert response.status_code == 200
    assert "Stance: was “supports”, now “opposes”" in " ".join(
        response.context["adminform"].form.non_field_errors()
    )
    statement.refresh_from_db()
    assert (statement.stance, statement.note) == ("opposes", "")


def test_a_form_without_a_version_is_refused(editor_client):
    actor = ActorFactory()
    url = f"/admin/positions/actor/{actor.pk}/change/"
    data = form_data(editor_client.get(url))
    del data["based_on_version"]
    response = editor_client.post(url, data)
    assert response.status_code == 200
    assert "does not say which version" in str(response.context["adminform"].form.errors)


def test_adding_needs_no_version(editor_client):
    response = editor_client.post(
        "/admin/positions/topic/add/", {"slug": "new-topic", "name": "New topic", "sort_order": 5}
    )
    assert response.status_code == 302
