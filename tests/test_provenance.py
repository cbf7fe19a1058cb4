"""
Provenance after source edits (issue 13): a flagged statement is flagged everywhere, a
save that changes no text changes no text, re-anchoring never answers 500, and a capture
across a CRLF line break keeps its exact words.
"""

import csv
import io
import json

import pytest
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.urls import reverse

from positions.models import Source, Statement
from tests.factories import ActorFactory, SourceFactory, StatementFactory, TopicFactory

pytestmark = pytest.mark.django_db

JSON = "application/json"

ARTICLE = (
    "MOSCOW, August 13. The talks between the two ministers went on for three hours.\n"
    "Ivanov said, “We have no wish to withdraw from any treaty or agreement.”\n"
    "Rumsfeld said the United States did not need thousands of warheads any more.\n"
    "The talks were interrupted and resumed later in the Kremlin, officials said."
)
IVANOV = "We have no wish to withdraw from any treaty or agreement."


def flag(statement):
    """Edit the source so that the statement's own words change: it awaits review."""
    source = statement.source
    source.text = source.text.replace("no wish to withdraw", "no intention of withdrawing")
    source.save()
    statement.refresh_from_db()
    assert statement.needs_review
    return statement


@pytest.fixture
def flagged(russia):
    source = SourceFactory(text=ARTICLE)
    return flag(StatementFactory(source=source, actor=ActorFactory(party=russia), quote=IVANOV))


def patch(client, url, body, version):
    return client.patch(
        url, json.dumps(body), content_type=JSON, headers={"If-Match": f'"{version}"'}
    )


# 3. Flagged means flagged everywhere.


def test_the_csv_export_says_a_statement_awaits_review_and_gives_no_stale_offsets(client, flagged):
    placed = StatementFactory(source=flagged.source, quote="three hours")
    response = client.get("/api/v1/statements/csv/")
    body = b"".join(response.streaming_content).decode()
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(body))}
    row = rows[str(flagged.pk)]
    assert (row["start"], row["end"], row["review_state"]) == ("", "", "awaiting review")
    assert row["quote"] == IVANOV
    assert rows[str(placed.pk)]["review_state"] == "placed"
    assert rows[str(placed.pk)]["start"] == str(placed.start)


def test_the_api_gives_no_selector_for_a_statement_awaiting_review(client, flagged):
    detail = client.get(f"/api/v1/statements/{flagged.pk}/").json()
    assert (detail["needs_review"], detail["selector"]) == (True, None)
    listed = {s["id"]: s for s in client.get("/api/v1/statements/").json()["results"]}
    assert listed[flagged.pk]["selector"] is None


def test_the_citation_of_a_flagged_statement_says_it_awaits_review(client, flagged):
    page = client.get(flagged.get_absolute_url()).content.decode()
    assert "its place in the text awaits review" in page
    assert f"characters {flagged.start}–{flagged.end}" not in page


def test_the_api_edits_a_flagged_statements_other_fields_and_it_stays_flagged(
    editor_client, flagged
):
    response = patch(
        editor_client,
        f"/api/v1/statements/{flagged.pk}/",
        {"stance": "opposes", "note": "Checked."},
        flagged.version,
    )
    assert response.status_code == 200, response.content
    flagged.refresh_from_db()
    assert (flagged.stance, flagged.note, flagged.needs_review) == ("opposes", "Checked.", True)
    assert flagged.quote == IVANOV


def test_the_api_places_a_flagged_statement_with_a_start_offset(editor_client, flagged):
    text = flagged.source.text
    new_words = "We have no intention of withdrawing from any treaty or agreement."
    start = text.index(new_words)
    response = patch(
        editor_client,
        f"/api/v1/statements/{flagged.pk}/",
        {"quote": new_words, "selector": {"start": start}},
        flagged.version,
    )
    assert response.status_code == 200, response.content
    assert response.json()["selector"]["start"] == start
    flagged.refresh_from_db()
    assert not flagged.needs_review
    assert (flagged.quote, flagged.start) == (new_words, start)
    assert flagged.source_sha256 == flagged.source.sha256
    call_command("verify_quotes", stdout=io.StringIO())


def test_a_deleted_flagged_statement_is_restored_flagged(editor_client, flagged):
    from tests.test_audit import admin_url

    delete = reverse("positions:statement-delete", args=[flagged.pk])
    editor_client.post(delete, {"version": flagged.version})
    deletion = Statement.history.filter(id=flagged.pk, history_type="-").get()
    response = editor_client.post(admin_url("restore", deletion.history_id))
    assert response.status_code == 302
    restored = Statement.objects.get(pk=flagged.pk)
    assert restored.needs_review
    assert (restored.quote, restored.start, restored.end) == (
        flagged.quote,
        flagged.start,
        flagged.end,
    )


def test_a_statement_restored_after_its_source_changed_comes_back_flagged(editor_client, russia):
    from tests.test_audit import admin_url

    source = SourceFactory(text=ARTICLE)
    statement = StatementFactory(source=source, actor=ActorFactory(party=russia), quote=IVANOV)
    statement.refresh_from_db()
    delete = reverse("positions:statement-delete", args=[statement.pk])
    editor_client.post(delete, {"version": statement.version})
    # The words are still there, but the text before them changed: the old offsets count
    # in a text that is gone.
    source.text = "An editor's note on the text.\n" + source.text
    source.save()
    deletion = Statement.history.filter(id=statement.pk, history_type="-").get()
    editor_client.post(admin_url("restore", deletion.history_id))
    restored = Statement.objects.get(pk=statement.pk)
    assert restored.needs_review
    assert "Brought back from its history" in restored.review_note
    call_command("verify_quotes", stdout=io.StringIO())


def test_the_review_page_says_when_there_is_nowhere_to_place_and_offers_edit_and_delete(
    editor_client, flagged
):
    page = editor_client.get(reverse("positions:review")).content.decode()
    assert "Its words are no longer anywhere in the text" in page
    assert "choose where the quote is" not in page.lower()
    assert reverse("positions:statement-edit", args=[flagged.pk]) in page
    assert reverse("positions:statement-delete", args=[flagged.pk]) in page


def test_the_review_page_suggests_places_with_their_sentences_and_places_nothing(
    editor_client, russia
):
    text = ARTICLE + "\nLater, Ivanov repeated: “We have no wish to withdraw from any treaty.”"
    source = SourceFactory(text=text)
    statement = StatementFactory(
        source=source,
        actor=ActorFactory(party=russia),
        quote="no wish to withdraw",
        start=text.index("no wish to withdraw"),
    )
    source.text = text.replace("Ivanov said, “We have", "Ivanov told reporters, “We have")
    source.save()
    statement.refresh_from_db()
    assert statement.needs_review
    page = editor_client.get(reverse("positions:review")).content.decode()
    assert page.count("Place here") == 2
    assert "Later, Ivanov repeated: “We have <mark>no wish to withdraw</mark>" in page
    statement.refresh_from_db()
    assert statement.needs_review  # only suggested


def test_delete_from_the_review_page_checks_the_version(editor_client, flagged):
    url = reverse("positions:statement-delete", args=[flagged.pk])
    response = editor_client.post(url, {"version": flagged.version - 1 or 99})
    assert Statement.objects.filter(pk=flagged.pk).exists()
    assert "Not deleted" in " ".join(str(m) for m in get_messages(response.wsgi_request))
    editor_client.post(url, {"version": flagged.version})
    assert not Statement.objects.filter(pk=flagged.pk).exists()


def test_the_capture_ui_edits_a_flagged_statements_fields_without_placing_it(
    editor_client, flagged
):
    url = reverse("positions:statement-edit", args=[flagged.pk])
    page = editor_client.get(url)
    # Its own words as they stood, not what the new text has at its old offsets.
    assert f"<mark>{IVANOV}</mark>" in page.content.decode()
    assert "its place in" in page.content.decode()
    form = page.context["form"]
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data["topics"] = [topic.pk for topic in flagged.topics.all()]
    data["note"] = "Words changed in the corrected edition."
    response = editor_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    flagged.refresh_from_db()
    assert flagged.needs_review
    assert (flagged.quote, flagged.note) == (IVANOV, "Words changed in the corrected edition.")


# 4. A save that does not change the text does not change the text.

CRLF_TEXT = "  First line of a wire story.\r\nIvanov said no decision had been made.\r\n\r\nEnd. "


def source_form_data(client, url):
    form = client.get(url).context["adminform"].form if "admin" in url else None
    if form is None:
        form = client.get(url).context["form"]
    return {name: form[name].value() or "" for name in form.fields}


@pytest.mark.parametrize("path", ["admin", "editor page"])
def test_changing_only_the_title_leaves_the_text_byte_for_byte(editor_client, russia, path):
    source = SourceFactory(text=CRLF_TEXT)
    statement = StatementFactory(
        source=source, actor=ActorFactory(party=russia), quote="no decision had been made"
    )
    url = (
        f"/admin/positions/source/{source.pk}/change/"
        if path == "admin"
        else reverse("positions:source-edit", args=[source.pk])
    )
    data = source_form_data(editor_client, url)
    # What a browser sends back: the textarea's line breaks as CRLF, whatever they were.
    data["text"] = CRLF_TEXT.replace("\r\n", "\n").replace("\n", "\r\n")
    data["title"] = "A corrected title"
    response = editor_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    source.refresh_from_db()
    assert source.title == "A corrected title"
    assert source.text == CRLF_TEXT
    assert source.sha256 == Source.text_hash(CRLF_TEXT)
    statement.refresh_from_db()
    assert not statement.needs_review


@pytest.mark.parametrize("path", ["admin", "editor page"])
def test_an_lf_text_sent_back_as_crlf_is_unchanged(editor_client, path):
    text = "A line.\nAnother line.\n"
    source = SourceFactory(text=text)
    url = (
        f"/admin/positions/source/{source.pk}/change/"
        if path == "admin"
        else reverse("positions:source-edit", args=[source.pk])
    )
    data = source_form_data(editor_client, url)
    data["text"] = text.replace("\n", "\r\n")
    editor_client.post(url, data)
    source.refresh_from_db()
    assert source.text == text


def test_an_edit_keeps_the_texts_crlf_line_breaks_and_trims_nothing(editor_client, russia):
    source = SourceFactory(text=CRLF_TEXT)
    url = reverse("positions:source-edit", args=[source.pk])
    data = source_form_data(editor_client, url)
    data["text"] = CRLF_TEXT.replace("End. ", "The end. ")
    response = editor_client.post(url, data)
    assert response.status_code == 302
    source.refresh_from_db()
    assert source.text == CRLF_TEXT.replace("End. ", "The end. ")


def test_intake_says_what_it_normalised(editor_client):
    response = editor_client.post(
        reverse("positions:source-add"),
        {"title": "Wire", "published_on_precision": "day", "text": "\r\n  Text.\r\nMore.  "},
        follow=True,
    )
    shown = " ".join(str(m) for m in response.context["messages"])
    assert "line breaks made LF" in shown
    assert "blank character(s) at the start or end removed" in shown
    assert Source.objects.get(title="Wire").text == "Text.\nMore."


# 5. Re-anchoring collisions are not 500s.


def test_a_statement_carried_onto_the_offsets_of_a_flagged_one_of_the_same_actor(
    editor_client, russia
):
    actor = ActorFactory(party=russia)
    words = "no decision had been made"
    head = "The minister, asked about it at the end of a long day of talks, replied that "
    first_paragraph = head + words + " on any of the questions raised by the other side.\n"
    later = "Asked again in the morning, he said that "
    second_paragraph = later + words + " on any of them, repeating himself word for word."
    text = first_paragraph + second_paragraph
    source = SourceFactory(text=text)
    first = StatementFactory(source=source, actor=actor, quote=words, start=len(head))
    second = StatementFactory(source=source, actor=actor, quote=words, start=text.rindex(words))
    # The first paragraph goes, and a shorter one takes its place, so that the second
    # paragraph moves up until its statement stands exactly on the first one's offsets;
    # the first one's words are gone: it is flagged and keeps its old offsets. Two
    # statements of one actor then share a span.
    note = "An editor's note.".ljust(len(head) - len(later) - 1) + "\n"
    new_text = note + second_paragraph
    assert new_text.index(words) == len(head)
    response = patch(
        editor_client, f"/api/v1/sources/{source.pk}/", {"text": new_text}, source.version
    )
    assert response.status_code == 200, response.content
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.needs_review
    assert (second.start, second.needs_review) == (len(head), False)
    assert (first.start, first.end) == (second.start, second.end)
    call_command("verify_quotes", stdout=io.StringIO())


def test_placing_onto_a_span_the_same_actor_has_is_refused_not_a_500(editor_client, flagged):
    placed = StatementFactory(source=flagged.source, actor=flagged.actor, quote="three hours")
    response = patch(
        editor_client,
        f"/api/v1/statements/{flagged.pk}/",
        {"quote": "three hours", "selector": {"start": placed.start}},
        flagged.version,
    )
    assert response.status_code in (400, 409), response.content
    assert "already has a statement" in response.content.decode()
    flagged.refresh_from_db()
    assert flagged.needs_review


# 9. A selection across a CRLF line break keeps its exact words.


def test_a_capture_across_a_crlf_line_break_stores_the_exact_words(editor_client, russia):
    source = SourceFactory(text=CRLF_TEXT)
    actor = ActorFactory(party=russia)
    start = CRLF_TEXT.index("wire story")
    end = CRLF_TEXT.index(" decision") + 1
    response = editor_client.post(
        reverse("positions:capture", args=[source.pk]),
        {
            "start": start,
            "end": end - 1,
            "source_sha256": source.sha256,
            "actor": actor.pk,
            "topics": [TopicFactory().pk],
            "stance": "neutral",
            "kind": "paraphrase",
            "stated_on_precision": "day",
            "based_on_version": "",
            "based_on_values": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    statement = source.statements.get()
    assert statement.quote == CRLF_TEXT[start : end - 1]
    assert "\r\n" in statement.quote


# Dismissed suggestions are anchored by offsets too.


def test_dismissed_suggestions_follow_their_words_or_are_forgotten(editor, russia):
    from positions.models import DismissedSuggestion

    source = SourceFactory(text=ARTICLE)
    ivanov = ARTICLE.index(IVANOV)
    rumsfeld = ARTICLE.index("Rumsfeld said the United States")
    kept = DismissedSuggestion.objects.create(
        source=source, start=rumsfeld, end=rumsfeld + 20, dismissed_by=editor
    )
    DismissedSuggestion.objects.create(source=source, start=ivanov, end=ivanov + len(IVANOV))
    source.text = "A new first line.\n" + ARTICLE.replace("no wish", "no intention")
    source.save()
    (carried,) = source.dismissed_suggestions.all()
    shift = source.text.index("Rumsfeld said the United States") - rumsfeld
    assert shift == len("A new first line.\n") + len("intention") - len("wish")
    assert (carried.start, carried.end) == (rumsfeld + shift, rumsfeld + 20 + shift)
    assert source.text[carried.start : carried.end] == ARTICLE[rumsfeld : rumsfeld + 20]
    assert (carried.dismissed_by, carried.dismissed_at) == (editor, kept.dismissed_at)


def test_the_admin_source_page_does_not_highlight_a_flagged_statement(editor_client, flagged):
    page = editor_client.get(f"/admin/positions/source/{flagged.source_id}/change/")
    html = page.content.decode()
    assert f"/admin/positions/statement/{flagged.pk}/change/" not in html


# Found by review: a flagged statement is placed only by offsets an editor gives, in the
# text as it is now.


def test_a_put_of_a_flagged_statement_sent_back_as_read_keeps_it_flagged(editor_client, russia):
    source = SourceFactory(text=ARTICLE)
    statement = StatementFactory(source=source, actor=ActorFactory(party=russia), quote=IVANOV)
    # Ivanov's sentence is rewritten; the same words now stand in Rumsfeld's paragraph.
    source.text = ARTICLE.replace(f"Ivanov said, “{IVANOV}”", "Ivanov said nothing.").replace(
        "any more.", f"any more. He added: {IVANOV}"
    )
    source.save()
    statement.refresh_from_db()
    assert statement.needs_review
    read = editor_client.get(f"/api/v1/statements/{statement.pk}/").json()
    body = {k: v for k, v in read.items() if k not in ("id", "party", "needs_review", "version")}
    body |= {"actor": read["actor"]["id"], "proposal": None, "stance": "opposes"}
    response = editor_client.put(
        f"/api/v1/statements/{statement.pk}/",
        json.dumps(body),
        content_type=JSON,
        headers={"If-Match": f'"{read["version"]}"'},
    )
    assert response.status_code == 200, response.content
    statement.refresh_from_db()
    assert (statement.stance, statement.needs_review) == ("opposes", True)
    # A new quote without offsets does not place it either: it asks for the offset.
    response = patch(
        editor_client,
        f"/api/v1/statements/{statement.pk}/",
        {"quote": f"He added: {IVANOV}"},
        statement.version,
    )
    assert response.status_code == 400
    assert "place it by giving the offset" in response.json()["start"][0]


def test_an_admin_revert_to_a_version_before_the_edit_keeps_it_flagged(editor_client, russia):
    from positions import audit
    from tests.test_audit import admin_url, revert_data

    source = SourceFactory(text=ARTICLE)
    statement = StatementFactory(source=source, actor=ActorFactory(party=russia), quote=IVANOV)
    with audit.operation("test"):
        statement.note = "Checked."
        statement.save()
    before_the_edit = statement.history.order_by("history_id").last()
    # The speaker is corrected (same length, so the old offsets still hold the words).
    source.text = ARTICLE.replace("Ivanov said", "Lavrov said")
    source.save()
    statement.refresh_from_db()
    assert statement.needs_review
    url = admin_url("simple_history", statement.pk, before_the_edit.history_id)
    response = editor_client.post(url, revert_data(editor_client.get(url)))
    assert response.status_code == 302
    statement.refresh_from_db()
    assert statement.needs_review
    assert statement.note == "Checked."


def test_a_place_chosen_on_a_review_page_that_showed_an_older_text_is_refused(
    editor_client, russia
):
    words = "no decision has been made"
    source = SourceFactory(text=f"Intro line here.\nIvanov said that {words} yet.\nEnd.")
    statement = StatementFactory(source=source, actor=ActorFactory(party=russia), quote=words)
    source.text = f"Ivanov: {words}.\nLavrov: {words}.\nEnd."
    source.save()
    statement.refresh_from_db()
    assert statement.needs_review
    first = source.text.index(words)
    page = editor_client.get(reverse("positions:review")).content.decode()
    assert f'value="{first}"' in page
    # Meanwhile another editor deletes Ivanov's line: Lavrov's words now stand there.
    source.text = source.text.replace(f"Ivanov: {words}.\n", "")
    source.save()
    assert source.text.index(words) == first
    editor_client.post(
        reverse("positions:statement-place", args=[statement.pk]),
        {"start": first, "version": statement.version},
    )
    statement.refresh_from_db()
    assert statement.needs_review
