"""Two editors on one record in the admin: the second save is refused and told what changed."""

import pytest
from django.contrib import admin

from positions.models import Actor, ProposalParameter, Statement
from tests.factories import (
    ActorFactory,
    PartyFactory,
    ProposalFactory,
    ProposalParameterFactory,
    StatementFactory,
    TopicFactory,
)

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


# A proposal's numbers, edited in the proposal's form and on their own


def inline_errors(response, prefix="parameters"):
    """The non-field errors of each row of an inline, as one string."""
    for inline in response.context["inline_admin_formsets"]:
        if inline.formset.prefix == prefix:
            return " ".join(" ".join(form.non_field_errors()) for form in inline.formset.forms)
    raise AssertionError(f"no inline {prefix}")


def test_each_number_row_of_a_proposal_carries_its_version(editor_client):
    parameter = ProposalParameterFactory()
    response = editor_client.get(f"/admin/positions/proposal/{parameter.proposal.pk}/change/")
    html = response.content.decode()
    assert f'name="parameters-0-based_on_version" value="{parameter.version}"' in html


def test_a_stale_number_row_is_refused_and_nothing_is_saved(editor_client):
    parameter = ProposalParameterFactory(value=1500, note="")
    proposal = parameter.proposal
    url = f"/admin/positions/proposal/{proposal.pk}/change/"
    data = form_data(editor_client.get(url))

    # Meanwhile, a colleague corrects the number.
    colleague = ProposalParameter.objects.get(pk=parameter.pk)
    colleague.value = 1111
    colleague.save()

    data["parameters-0-note"] = "As agreed in Geneva."
    data["description"] = "Edited at the same time."
    response = editor_client.post(url, data)
    assert response.status_code == 200
    message = inline_errors(response)
    assert "Someone else saved this record" in message
    assert "Value: was “1500”, now “1111”" in message
    assert "strategic nuclear warheads" in message  # which row
    parameter.refresh_from_db()
    assert (parameter.value, parameter.note, parameter.version) == (1111, "", 2)
    proposal.refresh_from_db()
    assert proposal.description == ""

    # Saving again, with the colleague's number taken in, applies the editor's note.
    again = form_data(response)
    assert again["parameters-0-note"] == "As agreed in Geneva."
    again["parameters-0-value"] = "1111"
    assert editor_client.post(url, again).status_code == 302
    parameter.refresh_from_db()
    assert (parameter.value, parameter.note) == (1111, "As agreed in Geneva.")
    proposal.refresh_from_db()
    assert proposal.description == "Edited at the same time."


def test_a_number_row_based_on_the_current_version_is_saved(editor_client):
    parameter = ProposalParameterFactory(value=1500)
    url = f"/admin/positions/proposal/{parameter.proposal.pk}/change/"
    data = form_data(editor_client.get(url))
    data["parameters-0-value"] = "1550"
    assert editor_client.post(url, data).status_code == 302
    parameter.refresh_from_db()
    assert (parameter.value, parameter.version) == (1550, 2)


def test_a_proposal_edit_leaves_its_untouched_rows_alone(editor_client):
    parameter = ProposalParameterFactory()
    proposal = parameter.proposal
    url = f"/admin/positions/proposal/{proposal.pk}/change/"
    data = form_data(editor_client.get(url))
    data["description"] = "New description."
    assert editor_client.post(url, data).status_code == 302
    parameter.refresh_from_db()
    assert parameter.version == 1


def test_a_number_row_without_a_version_is_refused(editor_client):
    parameter = ProposalParameterFactory(value=1500)
    url = f"/admin/positions/proposal/{parameter.proposal.pk}/change/"
    data = form_data(editor_client.get(url))
    del data["parameters-0-based_on_version"]
    data["parameters-0-value"] = "1"
    response = editor_client.post(url, data)
    assert response.status_code == 200
    assert "does not say which version" in inline_errors(response)
    parameter.refresh_from_db()
    assert parameter.value == 1500


def test_a_new_number_row_needs_no_version(editor_client):
    proposal = ProposalFactory()
    url = f"/admin/positions/proposal/{proposal.pk}/change/"
    data = form_data(editor_client.get(url))
    data.update(
        {
            "parameters-TOTAL_FORMS": "1",
            "parameters-0-quantity": "deployed launchers",
            "parameters-0-limit": "ceiling",
            "parameters-0-value": "700",
            "parameters-0-unit": "launchers",
            "parameters-0-applies_to": "each_party",
            "parameters-0-sort_order": "0",
        }
    )
    response = editor_client.post(url, data)
    assert response.status_code == 302, inline_errors(response)
    assert proposal.parameters.get().value == 700


def test_the_number_admin_refuses_a_save_over_someone_elses_change(editor_client):
    parameter = ProposalParameterFactory(value=1500)
    url = f"/admin/positions/proposalparameter/{parameter.pk}/change/"
    data = form_data(editor_client.get(url))
    assert data["based_on_version"] == parameter.version

    colleague = ProposalParameter.objects.get(pk=parameter.pk)
    colleague.value = 1111
    colleague.save()

    data["note"] = "Mine."
    response = editor_client.post(url, data)
    assert response.status_code == 200
    assert "Value: was “1500”, now “1111”" in " ".join(
        response.context["adminform"].form.non_field_errors()
    )
    parameter.refresh_from_db()
    assert (parameter.value, parameter.note) == (1111, "")


# The changelists edit nothing: their rows carry no version


def test_no_changelist_has_editable_columns():
    editable = {
        model._meta.label: model_admin.list_editable
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label == "positions" and model_admin.list_editable
    }
    assert editable == {}


@pytest.mark.parametrize(
    ("factory", "url"),
    [(PartyFactory, "/admin/positions/party/"), (TopicFactory, "/admin/positions/topic/")],
)
def test_a_changelist_post_does_not_change_the_sort_order(editor_client, factory, url):
    record = factory(sort_order=1)
    assert 'name="form-0-sort_order"' not in editor_client.get(url).content.decode()
    editor_client.post(
        url,
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": str(record.pk),
            "form-0-sort_order": "9",
            "_save": "Save",
        },
    )
    record.refresh_from_db()
    assert (record.sort_order, record.version) == (1, 1)
