import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import reverse

from positions.models import Actor, SeedEntry, Source, Statement
from tests.accounts import sign_in
from tests.factories import (
    ActorFactory,
    MeetingFactory,
    ProposalFactory,
    ProposalParameterFactory,
    SourceFactory,
    StatementFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db

POSITIONS_MODELS = [
    model for model in admin.site._registry if model._meta.app_label == "positions"
]


@pytest.fixture
def record():
    """One of everything, linked the way the seed article links them."""
    visit = MeetingFactory(kind="visit", slug="visit")
    meeting = MeetingFactory(parent=visit, planned_minutes=30, actual_minutes=75)
    proposal = ProposalFactory()
    ProposalParameterFactory(proposal=proposal)
    statement = StatementFactory(meeting=meeting, proposal=proposal, proposal_stance="accepts")
    SeedEntry.objects.create(key="statement:example", object_id=statement.pk)
    return statement


def admin_url(model, action, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{action}", args=args)


@pytest.mark.parametrize("model", POSITIONS_MODELS, ids=lambda m: m._meta.model_name)
def test_every_changelist_renders_for_an_editor(editor_client, record, model):
    response = editor_client.get(admin_url(model, "changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count == model.objects.count() > 0


@pytest.mark.parametrize("model", POSITIONS_MODELS, ids=lambda m: m._meta.model_name)
def test_every_change_page_renders_for_an_editor(editor_client, record, model):
    obj = model.objects.first()
    response = editor_client.get(admin_url(model, "change", obj.pk))
    assert response.status_code == 200
    assert response.context["original"] == obj


@pytest.mark.parametrize(
    "model",
    [m for m in POSITIONS_MODELS if m._meta.model_name != "seedentry"],
    ids=lambda m: m._meta.model_name,
)
def test_every_add_page_renders_for_an_editor(editor_client, record, model):
    response = editor_client.get(admin_url(model, "add"))
    assert response.status_code == 200


@pytest.mark.parametrize("model_name", ["user", "group"])
def test_editors_cannot_touch_users_or_groups(editor_client, model_name):
    url = reverse(f"admin:auth_{model_name}_changelist")
    assert editor_client.get(url).status_code == 403
    assert editor_client.get(url + "add/").status_code == 403


def test_the_editors_group_holds_no_permission_on_users_groups_or_permissions():
    editors = Group.objects.get(name="Editors")  # made by the migration, not the fixture
    assert not editors.permissions.exclude(content_type__app_label="positions").exists()
    codenames = set(editors.permissions.values_list("codename", flat=True))
    assert {"add_statement", "change_statement", "delete_statement", "add_source"} <= codenames
    assert "change_seedentry" not in codenames


def test_editors_cannot_change_seed_records(editor_client, record):
    entry = SeedEntry.objects.get()
    response = editor_client.post(
        reverse("admin:positions_seedentry_change", args=[entry.pk]), {"key": "changed"}
    )
    assert response.status_code == 403


def test_staff_outside_the_editors_group_cannot_see_content(client, staff_without_group):
    sign_in(client, staff_without_group)
    assert client.get("/admin/positions/statement/").status_code == 403


def statement_form(source, actor, topic, **overrides):
    data = {
        "source": source.pk,
        "quote": "",
        "start": "",
        "end": "",
        "actor": actor.pk,
        "kind": "direct_quote",
        "stance": "supports",
        "stated_on": "2001-08-13",
        "stated_on_precision": "day",
        "stated_until_precision": "day",
        "certainty": "firm",
        "meeting": "",
        "meeting_relation": "",
        "proposal": "",
        "proposal_stance": "",
        "note": "",
        "topic_links-TOTAL_FORMS": "1",
        "topic_links-INITIAL_FORMS": "0",
        "topic_links-MIN_NUM_FORMS": "1",
        "topic_links-MAX_NUM_FORMS": "1000",
        "topic_links-0-topic": topic.pk,
    }
    data.update(overrides)
    return data


def test_the_admin_form_keeps_leading_and_trailing_spaces_in_a_quote(editor_client):
    source = SourceFactory(text="He said:  “No.”  Then he left.\r\nThe end.")
    quote = "  “No.”  Then he left.\r\n"
    response = editor_client.post(
        "/admin/positions/statement/add/",
        statement_form(source, ActorFactory(), TopicFactory(), quote=quote),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    statement = Statement.objects.get()
    assert statement.quote == quote
    assert (statement.start, statement.end) == (8, 8 + len(quote))


def test_the_admin_form_shows_why_a_quote_is_refused(editor_client):
    source = SourceFactory()
    response = editor_client.post(
        "/admin/positions/statement/add/",
        statement_form(source, ActorFactory(), TopicFactory(), quote="We will withdraw."),
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["quote"] == [
        "The quote is not in the source text."
    ]
    assert not Statement.objects.exists()


def test_the_admin_form_requires_a_topic(editor_client):
    source = SourceFactory()
    data = statement_form(source, ActorFactory(), TopicFactory(), quote="Ivanov")
    data["topic_links-0-topic"] = ""
    response = editor_client.post("/admin/positions/statement/add/", data)
    assert response.status_code == 200
    assert not Statement.objects.exists()


def test_the_admin_form_fills_a_quote_from_its_offsets(editor_client):
    source = SourceFactory()
    response = editor_client.post(
        "/admin/positions/statement/add/",
        statement_form(source, ActorFactory(), TopicFactory(), start="0", end="6"),
    )
    assert response.status_code == 302
    assert Statement.objects.get().quote == "Ivanov"


def test_the_party_code_rule_is_explained_in_the_admin(admin_client):
    response = admin_client.post(
        "/admin/positions/party/add/", {"code": "ru", "name": "Russia", "sort_order": 1}
    )
    assert response.status_code == 200
    assert "2 to 8 upper-case letters" in str(response.context["adminform"].form.errors)


def test_admin_search_and_filters_find_statements(editor_client):
    wanted = StatementFactory(quote="Rumsfeld said that")
    StatementFactory(quote="Ivanov")
    response = editor_client.get("/admin/positions/statement/?q=Rumsfeld+said")
    assert list(response.context["cl"].result_list) == [wanted]
    response = editor_client.get(f"/admin/positions/statement/?party__id__exact={wanted.party_id}")
    assert list(response.context["cl"].result_list) == [wanted]


def test_admin_autocomplete_finds_actors_for_statements(editor_client):
    actor = ActorFactory(name="Sergei Ivanov")
    response = editor_client.get(
        "/admin/autocomplete/",
        {
            "app_label": "positions",
            "model_name": "statement",
            "field_name": "actor",
            "term": "Ivan",
        },
    )
    assert response.status_code == 200
    assert response.json()["results"] == [{"id": str(actor.pk), "text": "Sergei Ivanov"}]


def test_a_statement_change_page_highlights_the_quote_in_its_paragraph(editor_client):
    statement = StatementFactory(quote="the US does not need thousands of warheads")
    response = editor_client.get(f"/admin/positions/statement/{statement.pk}/change/")
    assert (
        '<div class="source-text">Rumsfeld said that <mark>the US does not need thousands of '
        "warheads</mark>.</div>"
    ) in response.content.decode()


def test_quotes_with_markup_are_escaped_in_the_admin(editor_client):
    source = SourceFactory(text='He wrote <script>alert("x")</script> twice.')
    statement = StatementFactory(source=source, quote='<script>alert("x")</script>')
    page = editor_client.get(f"/admin/positions/statement/{statement.pk}/change/")
    assert (
        "<mark>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</mark>" in page.content.decode()
    )
    assert "<script>alert" not in page.content.decode()


def test_a_source_page_links_each_captured_quote(editor_client):
    statement = StatementFactory()
    response = editor_client.get(f"/admin/positions/source/{statement.source.pk}/change/")
    link = f'<mark><a href="/admin/positions/statement/{statement.pk}/change/">'
    assert link in response.content.decode()


def test_editing_a_sources_text_in_the_admin_reanchors_its_quotes(editor_client):
    statement = StatementFactory(quote="We have no wish")
    source = statement.source
    form = (
        editor_client.get(f"/admin/positions/source/{source.pk}/change/").context["adminform"].form
    )
    data = {name: form[name].value() or "" for name in form.fields}
    data["text"] = "A new first line.\n" + source.text
    response = editor_client.post(
        f"/admin/positions/source/{source.pk}/change/", data, follow=True
    )
    assert response.status_code == 200
    assert "1 quote(s) moved with their words" in response.content.decode()
    statement.refresh_from_db()
    source.refresh_from_db()
    assert source.text[statement.start : statement.end] == "We have no wish"
    assert not statement.needs_review


def test_a_new_source_keeps_its_text_exactly_but_for_browser_line_breaks(editor_client):
    text = "  Indented first line.\r\n\r\nSecond paragraph – with “curly” quotes.  "
    response = editor_client.post(
        "/admin/positions/source/add/",
        {
            "title": "A source",
            "publisher": "",
            "published_on": "2001-09-01",
            "published_on_precision": "month",
            "url": "example.org/article",
            "text": text,
            "note": "",
        },
    )
    assert response.status_code == 302
    source = Source.objects.get()
    assert source.text == text.replace("\r\n", "\n")
    assert source.url == "https://example.org/article"
    assert source.sha256 == Source.text_hash(source.text)


def test_a_month_precision_date_must_be_the_first(editor_client):
    response = editor_client.post(
        "/admin/positions/source/add/",
        {
            "title": "A source",
            "published_on": "2001-09-14",
            "published_on_precision": "month",
            "text": "Text.",
        },
    )
    assert response.status_code == 200
    assert "store the 1st of the month" in str(response.context["adminform"].form.errors)


@pytest.mark.parametrize("cited", ["actor", "source", "meeting", "proposal", "topic"])
def test_deleting_something_statements_cite_is_refused_with_a_message(admin_client, cited):
    statement = StatementFactory(meeting=MeetingFactory(), proposal=ProposalFactory())
    obj = statement.topics.get() if cited == "topic" else getattr(statement, cited)
    url = admin_url(type(obj), "delete", obj.pk)
    page = admin_client.get(url)
    assert page.status_code == 200
    assert "would require deleting the following protected related objects" in (
        page.content.decode()
    )
    response = admin_client.post(url, {"post": "yes"})
    assert response.status_code == 200
    assert type(obj).objects.filter(pk=obj.pk).exists()


def test_bulk_deleting_cited_actors_is_refused_with_a_message(editor_client):
    statement = StatementFactory()
    response = editor_client.post(
        "/admin/positions/actor/",
        {"action": "delete_selected", "_selected_action": [statement.actor.pk], "post": "yes"},
    )
    assert response.status_code == 200
    assert "protected related objects" in response.content.decode()
    assert Actor.objects.filter(pk=statement.actor.pk).exists()


def test_an_editor_can_delete_an_uncited_actor(editor_client):
    actor = ActorFactory()
    response = editor_client.post(f"/admin/positions/actor/{actor.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Actor.objects.filter(pk=actor.pk).exists()


@pytest.mark.parametrize(
    "path",
    [
        "statement",
        "actor",
        "source",
        "proposal",
        "meeting",
        "topic",
        "party",
        "proposalparameter",
        "statementtopic",
    ],
)
def test_changelist_query_count_does_not_grow_with_rows(
    editor_client, django_assert_max_num_queries, path
):
    def build(count):
        meeting = MeetingFactory()
        for _ in range(count):
            proposal = ProposalFactory()
            ProposalParameterFactory(proposal=proposal)
            StatementFactory(meeting=meeting, proposal=proposal)

    build(2)
    with django_assert_max_num_queries(50) as few:
        editor_client.get(f"/admin/positions/{path}/")
    build(20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        editor_client.get(f"/admin/positions/{path}/")
