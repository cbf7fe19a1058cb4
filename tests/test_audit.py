"""
The audit trail (positions/audit.py, positions/history_admin.py): every write path leaves
exactly one history row per record it changes, saying who, by which path, and with which
links; the admin shows the history with its diffs, reverts to an old version, and lists and
restores deleted records.
"""

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.authtoken.models import Token

from positions import audit
from positions.models import Actor, Source, Statement, Topic
from tests.accounts import sign_in
from tests.factories import (
    ActorFactory,
    PartyFactory,
    SourceFactory,
    StatementFactory,
    TopicFactory,
)
from tests.test_admin import statement_form
from tests.test_admin_versions import form_data

pytestmark = pytest.mark.django_db

JSON = "application/json"
QUOTE = "We have no wish to withdraw from any treaty or agreement."
OTHER_QUOTE = "the US does not need thousands of warheads"


@pytest.fixture
def seed(seeded):
    return Source.objects.get()


def rows(obj):
    """The history rows of one record, oldest first (historical rows keep its pk in id)."""
    return list(type(obj).history.filter(id=obj.pk).order_by("history_id"))


def count(obj):
    return type(obj).history.filter(id=obj.pk).count()


def latest(obj):
    return type(obj).history.filter(id=obj.pk).order_by("-history_id").first()


def topic_ids(*topics):
    return {"topics": sorted(topic.pk for topic in topics)}


def make_statement(**fields):
    """A statement with its topics, made as one operation so that it has one history row."""
    with audit.operation("setup"):
        statement = StatementFactory(**fields)
    assert count(statement) == 1
    return statement


def admin_url(action, *args, model="statement"):
    return reverse(f"admin:positions_{model}_{action}", args=args)


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


# 1. Every write path: one row per record changed


def test_an_admin_add_with_topics_is_one_row_with_its_topics(editor_client, editor):
    source, actor = SourceFactory(), ActorFactory()
    first, second = TopicFactory(), TopicFactory()
    data = statement_form(source, actor, first, quote=QUOTE, stance="opposes")
    data["topic_links-TOTAL_FORMS"] = "2"
    data["topic_links-1-topic"] = second.pk
    response = editor_client.post(admin_url("add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    statement = Statement.objects.get(source=source)
    (row,) = rows(statement)
    assert (row.history_type, row.history_user, row.history_change_reason) == (
        "+",
        editor,
        "admin",
    )
    assert row.related_ids == topic_ids(first, second)
    assert (row.stance, row.quote, row.version) == ("opposes", QUOTE, 1)


def test_an_admin_change_of_fields_and_topics_is_one_row(editor_client, editor):
    kept, dropped, added = TopicFactory(), TopicFactory(), TopicFactory()
    statement = make_statement(stance="supports", topics=[kept, dropped])
    url = admin_url("change", statement.pk)
    data = form_data(editor_client.get(url))
    assert data["topic_links-INITIAL_FORMS"] == 2
    # Drop one topic, add another, and change the stance: one edit.
    dropped_form = next(
        name[: -len("-topic")]
        for name, value in data.items()
        if name.endswith("-topic") and value == dropped.pk
    )
    data[f"{dropped_form}-DELETE"] = "on"
    data["topic_links-TOTAL_FORMS"] = 3
    data["topic_links-2-topic"] = added.pk
    data["topic_links-2-statement"] = statement.pk
    data["stance"] = "opposes"
    response = editor_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert set(statement.topics.all()) == {kept, added}
    before, row = rows(statement)
    assert before.history_change_reason == "setup"
    assert (row.history_type, row.history_user, row.history_change_reason) == (
        "~",
        editor,
        "admin",
    )
    assert (row.stance, row.version) == ("opposes", 2)
    assert row.related_ids == topic_ids(kept, added)


def test_an_admin_delete_is_one_deletion_row_keeping_the_topics(editor_client, editor):
    first, second = TopicFactory(), TopicFactory()
    statement = make_statement(topics=[first, second])
    response = editor_client.post(admin_url("delete", statement.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not Statement.objects.filter(pk=statement.pk).exists()
    _, row = rows(statement)
    assert (row.history_type, row.history_user, row.history_change_reason) == (
        "-",
        editor,
        "admin",
    )
    assert row.related_ids == topic_ids(first, second)


def test_the_delete_selected_action_writes_one_deletion_row_per_record(editor_client, editor):
    topic = TopicFactory()
    chosen = [make_statement(topics=[topic]) for _ in range(3)]
    spared = make_statement(topics=[topic])
    response = editor_client.post(
        admin_url("changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [s.pk for s in chosen],
            "post": "yes",
        },
    )
    assert response.status_code == 302
    assert not Statement.objects.filter(pk__in=[s.pk for s in chosen]).exists()
    for statement in chosen:
        assert [row.history_type for row in rows(statement)] == ["+", "-"]
        row = latest(statement)
        assert (row.history_user, row.history_change_reason) == (editor, "admin")
        assert row.related_ids == topic_ids(topic)
    assert count(spared) == 1


def api_statement(source, actor, *topics, **fields):
    return {
        "actor": actor.pk,
        "source": source.pk,
        "quote": QUOTE,
        "topics": [topic.slug for topic in topics],
        "stance": "supports",
        "kind": "direct_quote",
        **fields,
    }


def test_an_api_create_is_one_row_with_its_topics(editor_client, editor):
    source, actor = SourceFactory(), ActorFactory()
    first, second = TopicFactory(), TopicFactory()
    response = editor_client.post(
        "/api/v1/statements/", api_statement(source, actor, first, second), content_type=JSON
    )
    assert response.status_code == 201, response.content
    statement = Statement.objects.get(pk=response.json()["id"])
    (row,) = rows(statement)
    assert (row.history_type, row.history_user, row.history_change_reason) == (
        "+",
        editor,
        "api",
    )
    assert row.related_ids == topic_ids(first, second)


def test_an_api_patch_of_fields_and_topics_is_one_row(editor_client, editor):
    old, new = TopicFactory(), TopicFactory()
    statement = make_statement(stance="supports", topics=[old])
    response = editor_client.patch(
        f"/api/v1/statements/{statement.pk}/",
        {"stance": "undecided", "topics": [new.slug, old.slug]},
        content_type=JSON,
        headers={"If-Match": '"1"'},
    )
    assert response.status_code == 200, response.content
    assert count(statement) == 2
    row = latest(statement)
    assert (row.history_type, row.history_user, row.history_change_reason) == (
        "~",
        editor,
        "api",
    )
    assert (row.stance, row.version) == ("undecided", 2)
    assert row.related_ids == topic_ids(old, new)


def test_an_api_put_is_one_row(editor_client, editor):
    old, new = TopicFactory(), TopicFactory()
    statement = make_statement(stance="supports", topics=[old])
    body = api_statement(statement.source, statement.actor, new, stance="opposes", note="Put.")
    response = editor_client.put(
        f"/api/v1/statements/{statement.pk}/",
        body,
        content_type=JSON,
        headers={"If-Match": '"1"'},
    )
    assert response.status_code == 200, response.content
    assert count(statement) == 2
    row = latest(statement)
    assert (row.history_type, row.history_user, row.history_change_reason) == (
        "~",
        editor,
        "api",
    )
    assert (row.stance, row.note) == ("opposes", "Put.")
    assert row.related_ids == topic_ids(new)


def test_an_api_delete_is_one_deletion_row(editor_client, editor):
    topic = TopicFactory()
    statement = make_statement(topics=[topic])
    response = editor_client.delete(
        f"/api/v1/statements/{statement.pk}/", headers={"If-Match": '"1"'}
    )
    assert response.status_code == 204, response.content
    assert count(statement) == 2
    row = latest(statement)
    assert (row.history_type, row.history_user, row.history_change_reason) == (
        "-",
        editor,
        "api",
    )
    assert row.related_ids == topic_ids(topic)


def test_a_refused_api_update_writes_no_row(editor_client):
    statement = make_statement()
    response = editor_client.patch(
        f"/api/v1/statements/{statement.pk}/",
        {"stance": "opposes"},
        content_type=JSON,
        headers={"If-Match": '"7"'},
    )
    assert response.status_code == 412
    assert count(statement) == 1


def test_load_seed_wrote_one_creation_row_per_statement_by_nobody(seed):
    statements = list(Statement.objects.prefetch_related("topics"))
    assert len(statements) == 64
    history = Statement.history.filter(id__in=[s.pk for s in statements])
    assert history.count() == 64
    assert set(history.values_list("history_type", "history_change_reason")) == {
        ("+", "command load_seed")
    }
    assert not history.exclude(history_user=None).exists()
    by_id = {row.id: row for row in history}
    for statement in statements:
        assert by_id[statement.pk].related_ids == topic_ids(*statement.topics.all())
    # Every other seeded record came the same way, once each.
    actors = Statement.objects.values("actor")
    assert (
        Actor.history.filter(id__in=actors).count() == Actor.objects.filter(pk__in=actors).count()
    )
    assert set(
        Actor.history.filter(id__in=actors).values_list(
            "history_type", "history_change_reason", "history_user"
        )
    ) == {("+", "command load_seed", None)}


def test_running_load_seed_again_writes_no_rows(seed):
    before = Statement.history.count(), Actor.history.count(), Topic.history.count()
    call_command("load_seed", stdout=None)
    assert (Statement.history.count(), Actor.history.count(), Topic.history.count()) == before


def statements_to_bulk_create(number):
    source, actor = SourceFactory(), ActorFactory()
    quotes = [QUOTE, OTHER_QUOTE, "Ivanov said", "The talks were interrupted"]
    return [
        Statement(actor=actor, source=source, quote=quote, stance="supports", kind="reported")
        for quote in quotes[:number]
    ]


def test_bulk_create_writes_one_creation_row_per_statement():
    created = Statement.objects.bulk_create(statements_to_bulk_create(3))
    assert all(statement.pk for statement in created)
    for statement in created:
        (row,) = rows(statement)
        assert (row.history_type, row.history_user, row.history_change_reason) == (
            "+",
            None,
            "code",
        )
        assert (row.quote, row.related_ids) == (statement.quote, {"topics": []})


def test_bulk_create_in_an_operation_takes_its_name_and_user(editor):
    with audit.operation("test", user=editor):
        created = Statement.objects.bulk_create(statements_to_bulk_create(2))
        topic = TopicFactory()
        created[0].topics.add(topic)
    first, second = (rows(statement) for statement in created)
    assert [(r.history_type, r.history_user, r.history_change_reason) for r in first] == [
        ("+", editor, "test")
    ]
    assert first[0].related_ids == topic_ids(topic)
    assert [(r.history_type, r.related_ids) for r in second] == [("+", {"topics": []})]


def test_bulk_update_writes_one_change_row_per_statement():
    topic = TopicFactory()
    statements = [make_statement(stance="supports", topics=[topic]) for _ in range(3)]
    for statement in statements:
        statement.stance = "opposes"
    with audit.operation("test"):
        assert Statement.objects.bulk_update(statements, ["stance"]) == 3
    for statement in statements:
        first, row = rows(statement)
        assert (row.history_type, row.history_change_reason, row.stance) == (
            "~",
            "test",
            "opposes",
        )
        assert row.related_ids == topic_ids(topic)


def test_queryset_update_writes_one_change_row_per_statement_it_changes():
    topic = TopicFactory()
    changed = [make_statement(stance="supports", topics=[topic]) for _ in range(3)]
    untouched = make_statement(stance="neutral")
    with audit.operation("test"):
        number = Statement.objects.filter(pk__in=[s.pk for s in changed]).update(
            stance="undecided"
        )
    assert number == 3
    for statement in changed:
        assert count(statement) == 2
        row = latest(statement)
        assert (row.history_type, row.history_change_reason, row.stance) == (
            "~",
            "test",
            "undecided",
        )
        assert row.related_ids == topic_ids(topic)
    assert count(untouched) == 1


def test_an_actors_party_change_writes_one_row_per_statement(united_states):
    actor = ActorFactory()
    statements = [make_statement(actor=actor) for _ in range(2)]
    elsewhere = make_statement()
    with audit.operation("test"):
        actor.party = united_states
        actor.save()
    assert [row.history_type for row in rows(actor)] == ["+", "~"]
    for statement in statements:
        assert count(statement) == 2
        row = latest(statement)
        assert (row.history_type, row.history_change_reason, row.party_id, row.version) == (
            "~",
            "test",
            united_states.pk,
            2,
        )
        assert row.related_ids == {"topics": list(statement.topics.values_list("pk", flat=True))}
    assert count(elsewhere) == 1


def test_an_actors_party_change_in_the_admin_is_recorded_for_its_statements(
    editor_client, editor, united_states
):
    actor = ActorFactory()
    statement = make_statement(actor=actor)
    url = admin_url("change", actor.pk, model="actor")
    data = form_data(editor_client.get(url))
    data["party"] = united_states.pk
    response = editor_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert count(actor) == 2 and count(statement) == 2
    row = latest(statement)
    assert (row.history_type, row.history_user, row.history_change_reason, row.party_id) == (
        "~",
        editor,
        "admin",
        united_states.pk,
    )


def test_setting_topics_in_an_operation_is_one_row():
    old, new, also = TopicFactory(), TopicFactory(), TopicFactory()
    statement = make_statement(topics=[old])
    with audit.operation("test"):
        statement.topics.set([new, also])  # removes one link and adds two
    assert count(statement) == 2
    row = latest(statement)
    assert (row.history_type, row.history_change_reason) == ("~", "test")
    assert row.related_ids == topic_ids(new, also)


def test_adding_a_topic_outside_any_operation_is_one_row():
    old, new = TopicFactory(), TopicFactory()
    statement = make_statement(topics=[old])
    statement.topics.add(new)
    assert count(statement) == 2
    row = latest(statement)
    assert (row.history_type, row.history_change_reason, row.history_user) == ("~", "code", None)
    assert row.related_ids == topic_ids(old, new)


@pytest.mark.parametrize(
    "change",
    [
        "remove",
        pytest.param(
            "set",
            marks=pytest.mark.xfail(
                strict=True,
                reason=(
                    "Known limit, documented in positions/audit.py: outside any operation, "
                    "set() that replaces a topic is a remove() and an add(), each recorded; "
                    "code that edits links outside a request runs in audit.operation()."
                ),
            ),
        ),
    ],
)
def test_changing_topics_outside_any_operation_is_one_row(change):
    old, new = TopicFactory(), TopicFactory()
    if change == "remove":
        statement = make_statement(topics=[old, new])
        statement.topics.remove(old)
    else:
        statement = make_statement(topics=[old])
        statement.topics.set([new])
    changes = rows(statement)[1:]
    assert [(row.related_ids, row.version) for row in changes] == [(topic_ids(new), 2)]


@pytest.mark.parametrize("how", ["update", "bulk_update"])
def test_a_bulk_change_raises_the_version_so_an_older_form_is_refused(editor_client, how):
    statement = make_statement(stance="supports")
    url = admin_url("change", statement.pk)
    data = form_data(editor_client.get(url))
    if how == "update":
        Statement.objects.filter(pk=statement.pk).update(stance="opposes")
    else:
        changed = Statement.objects.get(pk=statement.pk)
        changed.stance = "opposes"
        Statement.objects.bulk_update([changed], ["stance"])
        assert changed.version == 2
    first, second = rows(statement)
    assert (first.version, second.version, second.stance) == (1, 2, "opposes")
    data["note"] = "Mine."
    response = editor_client.post(url, data)
    assert response.status_code == 200
    assert "Someone else saved this record" in " ".join(
        response.context["adminform"].form.non_field_errors()
    )
    statement.refresh_from_db()
    assert (statement.stance, statement.note, statement.version) == ("opposes", "", 2)
    assert count(statement) == 2


# 2. The history page


def statement_with_history(changes, **fields):
    """A statement saved ``changes`` times after its creation, alternating its stance."""
    statement = make_statement(**fields)
    for number in range(changes):
        with audit.operation("test"):
            statement.stance = "opposes" if number % 2 == 0 else "supports"
            statement.save()
    return statement


def test_the_history_page_shows_each_change_its_author_and_the_topics(editor_client, editor):
    abm, start = TopicFactory(name="Audit ABM"), TopicFactory(name="Audit START")
    statement = make_statement(stance="supports", note="First note.", topics=[abm])
    url = admin_url("change", statement.pk)
    data = form_data(editor_client.get(url))
    data.update({"stance": "opposes", "note": "Second note.", "topic_links-0-topic": start.pk})
    assert editor_client.post(url, data).status_code == 302

    response = editor_client.get(admin_url("history", statement.pk))
    assert response.status_code == 200
    newest, oldest = response.context["page_obj"].object_list
    assert (newest.history_type, oldest.history_type) == ("~", "+")
    changes = {change["field"]: change for change in newest.history_delta_changes}
    assert set(changes) == {"Stance", "Note"}
    assert (str(changes["Stance"]["old"]), str(changes["Stance"]["new"])) == (
        "supports",
        "opposes",
    )
    assert (newest.history_user, newest.history_change_reason) == (editor, "admin")
    assert (oldest.history_user, oldest.history_change_reason) == (None, "setup")
    html = " ".join(response.content.decode().split())
    assert "<strong>Stance:</strong> supports &nbsp;&rarr;&nbsp;&nbsp;opposes" in html
    assert "<strong>Note:</strong> First note. &nbsp;&rarr;&nbsp;&nbsp;Second note." in html
    assert "<td>topics: Audit START</td>" in html and "<td>topics: Audit ABM</td>" in html
    assert "<td> admin </td>" in html and "<td> setup </td>" in html


def test_the_history_page_names_deleted_topics(editor_client):
    gone = TopicFactory(name="Gone topic")
    statement = make_statement(topics=[gone])
    pk = gone.pk
    with audit.operation("test"):
        statement.topics.set([TopicFactory(name="Kept topic")])
    gone.delete()
    html = editor_client.get(admin_url("history", statement.pk)).content.decode()
    assert f"topics: #{pk} (deleted)" in html
    assert "topics: Kept topic" in html


def test_staff_outside_the_editors_group_cannot_see_a_history(client, staff_without_group):
    statement = make_statement()
    sign_in(client, staff_without_group)
    assert client.get(admin_url("history", statement.pk)).status_code == 403


def test_the_history_page_query_count_does_not_grow_with_its_rows(
    editor_client, django_assert_max_num_queries
):
    few = statement_with_history(2)
    many = statement_with_history(30)
    with CaptureQueriesContext(connection) as small:
        assert editor_client.get(admin_url("history", few.pk)).status_code == 200
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert editor_client.get(admin_url("history", many.pk)).status_code == 200


# 3. Revert


def revert_data(response):
    """The POST data a browser sends back unchanged from the revert page."""
    data = {}
    for bound in response.context["adminform"].form:
        value = bound.value()
        if value is None:
            continue
        if isinstance(value, bool):
            if value:
                data[bound.html_name] = "on"
            continue
        data[bound.html_name] = value
    return data


@pytest.fixture
def edited():
    """A statement at version 2, whose first version had another stance, note and topics."""
    first, second = TopicFactory(), TopicFactory()
    statement = make_statement(stance="supports", note="Original.", topics=[first])
    with audit.operation("test"):
        statement.stance, statement.note = "opposes", "Edited."
        statement.save()
        statement.topics.set([second])
    original, changed = rows(statement)
    assert (original.version, changed.version) == (1, 2)
    assert changed.related_ids == topic_ids(second)
    return statement, original, first, second


def test_the_revert_page_shows_the_old_version(editor_client, edited):
    statement, original, _, _ = edited
    url = admin_url("simple_history", statement.pk, original.history_id)
    response = editor_client.get(url)
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert (form["stance"].value(), form["note"].value()) == ("supports", "Original.")
    # Based on the version stored now, which the revert replaces.
    assert form["based_on_version"].value() == 2


def test_a_revert_restores_the_fields_and_topics_as_one_row(editor_client, editor, edited):
    statement, original, first, _ = edited
    url = admin_url("simple_history", statement.pk, original.history_id)
    response = editor_client.post(url, revert_data(editor_client.get(url)))
    assert response.status_code == 302, response.context["adminform"].form.errors
    statement.refresh_from_db()
    assert (statement.stance, statement.note, statement.version) == ("supports", "Original.", 3)
    assert list(statement.topics.all()) == [first]
    assert count(statement) == 3
    row = latest(statement)
    assert (row.history_type, row.history_user) == ("~", editor)
    assert row.history_change_reason.startswith("admin: reverted")
    assert row.history_change_reason == "admin: reverted to version 1"
    assert (row.stance, row.note, row.version) == ("supports", "Original.", 3)
    assert row.related_ids == topic_ids(first)


def test_a_revert_over_a_newer_save_is_refused_and_changes_nothing(editor_client, edited):
    statement, original, _, second = edited
    url = admin_url("simple_history", statement.pk, original.history_id)
    data = revert_data(editor_client.get(url))
    # Meanwhile, a colleague saves.
    colleague = Statement.objects.get(pk=statement.pk)
    colleague.note = "Colleague's note."
    colleague.save()
    response = editor_client.post(url, data)
    assert response.status_code == 200
    message = " ".join(response.context["adminform"].form.non_field_errors())
    assert "Someone else saved this record" in message
    assert "it is now at version 3" in message
    statement.refresh_from_db()
    assert (statement.stance, statement.note, statement.version) == (
        "opposes",
        "Colleague's note.",
        3,
    )
    assert list(statement.topics.all()) == [second]
    assert count(statement) == 3


def test_a_revert_leaves_out_topics_deleted_since_and_says_so(editor_client, editor):
    gone, kept, later = TopicFactory(), TopicFactory(), TopicFactory()
    statement = make_statement(stance="supports", topics=[gone, kept])
    with audit.operation("test"):
        statement.stance = "opposes"
        statement.save()
        statement.topics.set([later])
    original = rows(statement)[0]
    gone_pk = gone.pk
    gone.delete()
    url = admin_url("simple_history", statement.pk, original.history_id)
    response = editor_client.post(url, revert_data(editor_client.get(url)))
    assert response.status_code == 302
    assert f"topics {gone_pk} no longer exist and were left out" in messages_of(response)
    statement.refresh_from_db()
    assert (statement.stance, list(statement.topics.all())) == ("supports", [kept])
    assert count(statement) == 3
    assert latest(statement).related_ids == topic_ids(kept)


def test_a_revert_never_leaves_a_statement_without_topics(editor_client, edited):
    statement, original, first, second = edited
    first.delete()  # the original's only topic; the statement is now on the second
    url = admin_url("simple_history", statement.pk, original.history_id)
    editor_client.post(url, revert_data(editor_client.get(url)))
    assert statement.topics.exists()


# 4. Deleted records and restore


@pytest.fixture
def deleted(editor_client):
    # Other modules' teardowns delete their seed's statements and then its actors: the
    # deletion rows they leave cannot be labelled (see the xfail tests below), and would
    # break the deleted list here. Forget them, within this test's transaction.
    Statement.history.exclude(id__in=Statement.objects.values("pk")).delete()
    first, second = TopicFactory(), TopicFactory()
    statement = make_statement(stance="conditional", note="Keep me.", topics=[first, second])
    response = editor_client.post(admin_url("delete", statement.pk), {"post": "yes"})
    assert response.status_code == 302
    return statement, latest(statement), (first, second)


def test_the_deleted_list_shows_a_deleted_statement(editor_client, editor, deleted):
    statement, deletion, _ = deleted
    response = editor_client.get(admin_url("deleted"))
    assert response.status_code == 200
    records = response.context["records"]
    assert records[0].history_id == deletion.history_id
    assert [r.history_id for r in records if r.id == statement.pk] == [deletion.history_id]
    html = response.content.decode()
    assert admin_url("restore", deletion.history_id) in html
    assert editor.username in html


def test_restoring_brings_back_the_statement_with_its_pk_fields_and_topics(
    editor_client, editor, deleted
):
    statement, deletion, topics = deleted
    response = editor_client.post(admin_url("restore", deletion.history_id))
    assert response.status_code == 302
    assert response["Location"] == admin_url("change", statement.pk)
    restored = Statement.objects.get(pk=statement.pk)
    assert (
        restored.quote,
        restored.start,
        restored.end,
        restored.stance,
        restored.note,
        restored.actor_id,
        restored.source_id,
        restored.party_id,
    ) == (
        statement.quote,
        statement.start,
        statement.end,
        "conditional",
        "Keep me.",
        statement.actor_id,
        statement.source_id,
        statement.party_id,
    )
    assert set(restored.topics.all()) == set(topics)
    assert [r.history_type for r in rows(statement)] == ["+", "-", "+"]
    row = latest(statement)
    assert (row.history_user, row.history_change_reason) == (
        editor,
        f"admin: restored from deletion (history {deletion.history_id})",
    )
    assert row.related_ids == topic_ids(*topics)
    listed = editor_client.get(admin_url("deleted")).context["records"]
    assert statement.pk not in [record.id for record in listed]


def test_restoring_twice_restores_once(editor_client, deleted):
    statement, deletion, _ = deleted
    url = admin_url("restore", deletion.history_id)
    assert editor_client.post(url).status_code == 302
    response = editor_client.post(url)
    assert response.status_code == 302
    assert response["Location"] == admin_url("deleted")
    assert any("nothing to restore" in message for message in messages_of(response))
    assert count(statement) == 3


def test_a_get_on_the_restore_url_only_redirects(editor_client, deleted):
    statement, deletion, _ = deleted
    response = editor_client.get(admin_url("restore", deletion.history_id))
    assert response.status_code == 302
    assert response["Location"] == admin_url("deleted")
    assert not Statement.objects.filter(pk=statement.pk).exists()
    assert count(statement) == 2


def test_restoring_needs_the_add_permission(client, django_user_model, deleted):
    statement, deletion, _ = deleted
    user = django_user_model.objects.create_user("viewer", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="positions",
            codename__in=["view_statement", "change_statement", "delete_statement"],
        )
    )
    sign_in(client, user)
    listing = client.get(admin_url("deleted"))
    assert listing.status_code == 200
    assert listing.context["can_restore"] is False
    assert admin_url("restore", deletion.history_id) not in listing.content.decode()
    assert client.post(admin_url("restore", deletion.history_id)).status_code == 403
    assert not Statement.objects.filter(pk=statement.pk).exists()
    assert count(statement) == 2


def test_only_a_deletion_row_can_be_restored(editor_client):
    statement = make_statement()
    (creation,) = rows(statement)
    response = editor_client.post(admin_url("restore", creation.history_id))
    assert response.status_code == 404
    assert count(statement) == 1


def test_a_restore_that_would_clash_is_refused_with_a_message(editor_client, editor):
    actor = ActorFactory(slug="sergei-ivanov-2")
    assert (
        editor_client.post(
            admin_url("delete", actor.pk, model="actor"), {"post": "yes"}
        ).status_code
        == 302
    )
    deletion = latest(actor)
    assert deletion.history_type == "-"
    replacement = ActorFactory(slug="sergei-ivanov-2")
    replacement_rows = count(replacement)

    response = editor_client.post(admin_url("restore", deletion.history_id, model="actor"))
    assert response.status_code == 302
    assert response["Location"] == admin_url("deleted", model="actor")
    (message,) = [m for m in messages_of(response) if "restored" in m.lower()]
    assert message.startswith("Not restored: it would clash with a record that exists now")
    assert not Actor.objects.filter(pk=actor.pk).exists()
    assert list(Actor.objects.filter(slug="sergei-ivanov-2")) == [replacement]
    assert count(actor) == 2
    assert count(replacement) == replacement_rows
    # The page it lands on still offers the restore.
    listing = editor_client.get(response["Location"])
    assert listing.status_code == 200
    assert actor.pk in [record.id for record in listing.context["records"]]


def test_restoring_a_statement_that_was_captured_again_is_refused(editor_client, deleted):
    statement, deletion, _ = deleted
    again = StatementFactory(actor=statement.actor, source=statement.source, quote=statement.quote)
    response = editor_client.post(admin_url("restore", deletion.history_id))
    assert response.status_code == 302
    assert response["Location"] == admin_url("deleted")
    assert [m for m in messages_of(response) if "restored" in m.lower()] == [
        "Not restored: it would clash with a record that exists now (the same name, slug, "
        "text or span), or it refers to a record that has since been deleted. Restore or "
        "change that record first."
    ]
    assert list(Statement.objects.filter(source=statement.source)) == [again]
    assert count(statement) == 2


def test_a_revert_link_to_a_deleted_record_leads_to_the_deleted_list(editor_client, deleted):
    statement, deletion, _ = deleted
    response = editor_client.get(admin_url("simple_history", statement.pk, deletion.history_id))
    assert response.status_code == 302
    assert response["Location"] == admin_url("deleted")
    assert not Statement.objects.filter(pk=statement.pk).exists()


@pytest.fixture
def deleted_with_its_actor(editor_client, deleted):
    """The deleted statement's actor, left without statements, is deleted too."""
    statement, deletion, topics = deleted
    url = admin_url("delete", statement.actor_id, model="actor")
    assert editor_client.post(url, {"post": "yes"}).status_code == 302
    assert not Actor.objects.filter(pk=statement.actor_id).exists()
    editor_client.raise_request_exception = False
    return statement, deletion


def test_restoring_a_statement_whose_actor_was_deleted_says_why_not(
    editor_client, deleted_with_its_actor
):
    statement, deletion = deleted_with_its_actor
    response = editor_client.post(admin_url("restore", deletion.history_id))
    assert response.status_code == 302
    assert any(m.startswith("Not restored") for m in messages_of(response))
    assert not Statement.objects.filter(pk=statement.pk).exists()


@pytest.mark.parametrize("view", ["deleted", "history"])
def test_the_deleted_list_and_history_render_when_the_actor_is_gone(
    editor_client, deleted_with_its_actor, view
):
    statement, _ = deleted_with_its_actor
    url = admin_url("deleted") if view == "deleted" else admin_url("history", statement.pk)
    assert editor_client.get(url).status_code == 200


def test_a_restored_statement_keeps_its_creation_time(editor_client, deleted):
    statement, deletion, _ = deleted
    assert deletion.created_at == statement.created_at
    assert editor_client.post(admin_url("restore", deletion.history_id)).status_code == 302
    assert Statement.objects.get(pk=statement.pk).created_at == statement.created_at


# 5. Who: the logged-in user for the admin and the API, nobody for a command


def test_a_token_write_is_recorded_as_the_tokens_user(client, editor):
    token = Token.objects.create(user=editor)
    source, actor, topic = SourceFactory(), ActorFactory(), TopicFactory()
    auth = {"Authorization": f"Token {token.key}"}
    response = client.post(
        "/api/v1/statements/",
        api_statement(source, actor, topic),
        content_type=JSON,
        headers=auth,
    )
    assert response.status_code == 201, response.content
    statement = Statement.objects.get(pk=response.json()["id"])
    response = client.patch(
        f"/api/v1/statements/{statement.pk}/",
        {"stance": "opposes"},
        content_type=JSON,
        headers={**auth, "If-Match": '"1"'},
    )
    assert response.status_code == 200, response.content
    assert [
        (r.history_type, r.history_user, r.history_change_reason) for r in rows(statement)
    ] == [
        ("+", editor, "api"),
        ("~", editor, "api"),
    ]


def test_each_path_records_its_own_user(client, editor, django_user_model):
    other = django_user_model.objects.create_user("other-editor", is_staff=True)
    other.groups.add(*editor.groups.all())
    token = Token.objects.create(user=other)
    party = PartyFactory()
    topic = Topic.objects.create(slug="own-topic", name="Own topic")
    sign_in(client, editor)
    response = client.post(
        "/api/v1/topics/",
        {"slug": "by-session", "name": "By session"},
        content_type=JSON,
    )
    assert response.status_code == 201, response.content
    client.logout()
    response = client.patch(
        f"/api/v1/topics/{topic.pk}/",
        {"name": "By token"},
        content_type=JSON,
        headers={"Authorization": f"Token {token.key}", "If-Match": '"1"'},
    )
    assert response.status_code == 200, response.content
    assert latest(Topic.objects.get(slug="by-session")).history_user == editor
    assert latest(topic).history_user == other
    assert latest(party).history_user is None


@pytest.mark.parametrize("model", ["party", "topic"])
def test_records_without_updated_at_can_be_reverted_and_restored(editor_client, model):
    """Parties, topics and proposal parameters have no updated_at: their history must not
    leave one out, or rebuilding a record from a history row fails (it answered 500)."""
    from positions.models import Party

    with audit.operation("setup"):
        record = (
            Party.objects.create(code="ZZ", name="First name")
            if model == "party"
            else Topic.objects.create(slug="zz", name="First name")
        )
        record.name = "Second name"
        record.save()
    first = type(record).history.filter(id=record.pk).earliest("history_date")
    url = admin_url("simple_history", record.pk, first.history_id, model=model)
    page = editor_client.get(url)
    assert page.status_code == 200
    reverted = editor_client.post(url, revert_data(page))
    assert reverted.status_code == 302, reverted.context and reverted.context["errors"]
    record.refresh_from_db()
    assert record.name == "First name"

    editor_client.post(admin_url("delete", record.pk, model=model), {"post": "yes"})
    deletion = type(record).history.get(id=record.pk, history_type="-")
    restored = editor_client.post(admin_url("restore", deletion.history_id, model=model))
    assert restored.status_code == 302
    assert type(record).objects.get(pk=record.pk).name == "First name"
