"""The editors' pages: adding sources, capture by selection, suggestions, re-anchoring."""

import re
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse

from positions import editorial, suggestions
from positions.forms import CaptureForm
from positions.models import (
    Actor,
    AttributionKind,
    DismissedSuggestion,
    Party,
    Source,
    Stance,
    Statement,
    Topic,
)
from tests.accounts import sign_in
from tests.factories import (
    SOURCE_TEXT,
    ActorFactory,
    PartyFactory,
    SourceFactory,
    StatementFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
TWICE = "Gamma, Delta said it; Epsilon said it too."  # "said" twice, context gone
KOZLOV_TEXT = "Kozlov added, “We will never accept these limits on our forces.”"


@pytest.fixture
def seed(seeded):
    return Source.objects.get()


def capture_data(source, start, end, **extra):
    topic = Topic.objects.order_by("pk").first()
    data = {
        "start": start,
        "end": end,
        "source_sha256": source.sha256,
        "topics": [topic.pk],
        "stance": Stance.OPPOSES,
        "kind": AttributionKind.DIRECT_QUOTE,
        "stated_on_precision": "day",
        "based_on_version": "",
        "based_on_values": "",
    }
    data.update(extra)
    return data


# Adding a source


def test_an_editor_adds_a_source_by_pasting_its_text(editor_client):
    text = "First paragraph, with “curly quotes” – and a dash.\r\nSecond paragraph.  \r\n"
    response = editor_client.post(
        reverse("positions:source-add"),
        {"title": "A new article", "published_on_precision": "day", "text": text},
    )
    source = Source.objects.get(title="A new article")
    assert response.status_code == 302
    assert response["Location"] == source.get_absolute_url()
    assert source.text == "First paragraph, with “curly quotes” – and a dash.\nSecond paragraph."
    assert source.history.get().history_user.username == "editor"


def test_an_editor_uploads_an_html_file_and_gets_its_text_only(editor_client):
    html = (
        b"<html><head><title>T</title><style>p{color:red}</style></head><body>"
        b"<p>Ivanov said, &ldquo;No.&rdquo;</p><script>alert('x')</script>"
        b'<p onclick="evil()">Rumsfeld <a href="javascript:x()">replied</a>.</p></body></html>'
    )
    upload = SimpleUploadedFile("article.html", html, content_type="text/html")
    response = editor_client.post(
        reverse("positions:source-add"),
        {"title": "Uploaded", "published_on_precision": "day", "upload": upload},
    )
    assert response.status_code == 302
    source = Source.objects.get(title="Uploaded")
    assert source.text == "Ivanov said, “No.”\nRumsfeld replied."
    page = editor_client.get(source.get_absolute_url()).content.decode()
    assert "alert(" not in page and "evil()" not in page and "javascript:" not in page


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("empty.txt", b"", "empty"),
        ("binary.txt", b"%PDF-1.4\n\x00\x01", "PDF"),
        ("latin.txt", "Caf\u00e9".encode("latin-1"), "UTF-8"),
        ("doc.docx", b"PK\x03\x04", ".txt"),
        ("nul.txt", b"text\x00more", "NUL"),
    ],
)
def test_bad_uploads_get_a_clear_message_and_store_nothing(editor_client, name, content, message):
    upload = SimpleUploadedFile(name, content)
    response = editor_client.post(
        reverse("positions:source-add"),
        {"title": "Bad", "published_on_precision": "day", "upload": upload},
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Source.objects.filter(title="Bad").exists()


def test_an_oversized_upload_is_refused_not_truncated(editor_client, settings):
    settings.SOURCE_UPLOAD_MAX_BYTES = 1000
    upload = SimpleUploadedFile("big.txt", b"word " * 1000)
    response = editor_client.post(
        reverse("positions:source-add"),
        {"title": "Big", "published_on_precision": "day", "upload": upload},
    )
    assert response.status_code == 400
    assert "larger than the limit" in response.content.decode()
    assert not Source.objects.filter(title="Big").exists()


def test_an_overlong_paste_is_refused_not_truncated(editor_client, settings):
    settings.SOURCE_TEXT_MAX_CHARS = 100
    response = editor_client.post(
        reverse("positions:source-add"),
        {"title": "Long", "published_on_precision": "day", "text": "ж" * 101},
    )
    assert response.status_code == 400
    assert "101" in response.content.decode() and "100" in response.content.decode()
    assert not Source.objects.filter(title="Long").exists()


def test_a_pasted_text_with_nul_bytes_is_refused_by_the_middleware_or_the_form(editor_client):
    response = editor_client.post(
        reverse("positions:source-add"),
        {"title": "Nul", "published_on_precision": "day", "text": "a\x00b"},
    )
    assert response.status_code == 400
    assert not Source.objects.filter(title="Nul").exists()


def test_adding_the_same_text_twice_links_to_the_stored_source(editor_client, seed):
    response = editor_client.post(
        reverse("positions:source-add"),
        {"title": "Again", "published_on_precision": "day", "text": seed.text},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "already stored" in page
    assert f'href="{seed.get_absolute_url()}"' in page
    assert Source.objects.count() == 1


def test_paste_and_upload_together_or_neither_are_refused(editor_client):
    url = reverse("positions:source-add")
    neither = editor_client.post(url, {"title": "X", "published_on_precision": "day"})
    assert neither.status_code == 400 and "Paste the source" in neither.content.decode()
    both = editor_client.post(
        url,
        {
            "title": "X",
            "published_on_precision": "day",
            "text": "Some text.",
            "upload": SimpleUploadedFile("a.txt", b"Other text."),
        },
    )
    assert both.status_code == 400 and "not both" in both.content.decode()
    assert not Source.objects.filter(title="X").exists()


def test_readers_cannot_add_sources(client, staff_without_group):
    sign_in(client, staff_without_group)
    response = client.post(
        reverse("positions:source-add"),
        {"title": "X", "text": "Text", "published_on_precision": "day"},
    )
    assert response.status_code == 403
    assert not Source.objects.filter(title="X").exists()


# Capturing by selection


def test_the_source_page_offers_capture_tools_to_editors_only(editor_client, seed):
    anonymous = Client().get(seed.get_absolute_url()).content.decode()
    assert 'id="capture-selection"' not in anonymous
    page = editor_client.get(seed.get_absolute_url()).content.decode()
    assert 'id="capture-selection"' in page and 'id="capture-panel"' in page


def test_each_paragraph_renders_exactly_the_source_text_from_its_offset(editor_client, seed):
    """The selection script counts characters in the rendered paragraphs: they must match."""
    page = editor_client.get(seed.get_absolute_url()).content.decode()
    body = page[page.index('id="source-text"') : page.index("</article>")]
    paragraphs = re.findall(r'<p data-start="(\d+)">(.*?)</p>', body, re.S)
    assert len(paragraphs) == len([line for line in seed.text.split("\n") if line.strip()])
    import html

    for start, inner in paragraphs:
        rendered = html.unescape(re.sub(r"<[^>]+>", "", inner))
        start = int(start)
        assert seed.text[start : start + len(rendered)] == rendered


def test_a_selection_opens_the_capture_form_with_the_exact_quote(editor_client, seed):
    start = seed.text.index("“We have")
    end = seed.text.index("”", start) + 1
    response = editor_client.get(
        reverse("positions:capture", args=[seed.pk]), {"start": start, "end": end}, headers=HTMX
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" not in page  # the panel only
    assert f'name="start" value="{start}"' in page and f'name="end" value="{end}"' in page
    assert 'value="direct_quote" selected' in page or 'value="direct_quote"' in page


def test_whitespace_at_the_edges_of_a_selection_is_left_out(editor_client):
    source = SourceFactory(text="Alpha beta gamma.")
    response = editor_client.get(
        reverse("positions:capture", args=[source.pk]), {"start": 5, "end": 11}
    )
    assert response.status_code == 200
    assert 'name="start" value="6"' in response.content.decode()
    assert 'name="end" value="10"' in response.content.decode()


@pytest.mark.parametrize(
    "params",
    [
        {"start": 5, "end": 5},
        {"start": 0, "end": 10**6},
        {"start": "x", "end": 3},
        {},
        {"start": 5, "end": 6},
    ],
)
def test_empty_or_out_of_bounds_selections_are_refused(editor_client, params):
    source = SourceFactory(text="Alpha beta gamma.")
    response = editor_client.get(reverse("positions:capture", args=[source.pk]), params)
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()


def test_saving_a_capture_stores_the_statement_and_highlights_it(editor_client, seed):
    start = seed.text.index("Moscow")
    end = start + len("Moscow")
    actor = Actor.objects.filter(party__code="RU").first()
    response = editor_client.post(
        reverse("positions:capture", args=[seed.pk]),
        capture_data(seed, start, end, actor=actor.pk, kind=AttributionKind.REPORTED),
        headers=HTMX,
    )
    assert response.status_code == 200, response.content.decode()[:2000]
    statement = Statement.objects.get(source=seed, actor=actor, start=start, end=end)
    assert statement.quote == "Moscow"
    page = response.content.decode()
    assert 'hx-swap-oob="true"' in page
    assert f'id="s-{statement.pk}"' in page
    assert statement.history.count() == 1
    record = statement.history.get()
    assert record.history_change_reason == "web"
    assert record.related_ids == {"topics": [Topic.objects.order_by("pk").first().pk]}


def test_a_capture_without_javascript_redirects_to_the_highlight(editor_client, seed):
    start = seed.text.index("Rumsfeld")
    actor = Actor.objects.filter(party__code="US").first()
    response = editor_client.post(
        reverse("positions:capture", args=[seed.pk]),
        capture_data(seed, start, start + 8, actor=actor.pk, kind=AttributionKind.REPORTED),
    )
    statement = Statement.objects.get(source=seed, start=start, actor=actor, end=start + 8)
    assert response.status_code == 302
    assert response["Location"].endswith(f"#s-{statement.pk}")


def test_capturing_the_same_span_twice_for_an_actor_links_to_the_first(editor_client, seed):
    existing = Statement.objects.filter(source=seed).exclude(kind="analysis").first()
    response = editor_client.post(
        reverse("positions:capture", args=[seed.pk]),
        capture_data(
            seed, existing.start, existing.end, actor=existing.actor_id, kind=existing.kind
        ),
        headers=HTMX,
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "already has a statement on exactly these words" in page
    assert f'href="{existing.get_absolute_url()}"' in page
    assert (
        Statement.objects.filter(
            source=seed, start=existing.start, end=existing.end, actor=existing.actor
        ).count()
        == 1
    )


def test_a_capture_whose_text_no_longer_matches_is_refused(editor_client, seed):
    start = seed.text.index("Moscow")
    data = capture_data(seed, start, start + 6, actor=Actor.objects.first().pk)
    data["source_sha256"] = Source.text_hash(seed.text + " (an earlier version)")
    response = editor_client.post(reverse("positions:capture", args=[seed.pk]), data, headers=HTMX)
    assert response.status_code == 400
    assert "Select the words again" in response.content.decode()
    assert not Statement.objects.filter(source=seed, start=start, end=start + 6).exists()


@pytest.mark.parametrize(
    "start, end, expected",
    [(5, 5, "empty"), (0, 10**7, "past the end"), (-1, 3, "greater than or equal")],
)
def test_bad_offsets_in_a_capture_are_refused(editor_client, start, end, expected):
    source = SourceFactory(text="Alpha beta gamma.")
    actor = ActorFactory()
    data = capture_data(source, max(start, 0), end, actor=actor.pk)
    data["start"] = start
    response = editor_client.post(reverse("positions:capture", args=[source.pk]), data)
    assert response.status_code == 400
    assert expected in response.content.decode()
    assert not Statement.objects.filter(source=source).exists()


def test_a_new_actor_is_created_inline_with_the_statement(editor_client, russia):
    source = SourceFactory(text=SOURCE_TEXT)
    start = SOURCE_TEXT.index("“We")
    end = SOURCE_TEXT.index("”") + 1
    data = capture_data(
        source,
        start,
        end,
        new_actor_name="Igor Sergeyev",
        new_actor_party=russia.pk,
        new_actor_role="Defense Minister",
    )
    response = editor_client.post(reverse("positions:capture", args=[source.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    actor = Actor.objects.get(name="Igor Sergeyev")
    assert (actor.slug, actor.party, actor.role) == ("igor-sergeyev", russia, "Defense Minister")
    statement = Statement.objects.get(source=source)
    assert statement.actor == actor and statement.party == russia


def test_a_new_actor_without_a_side_cannot_give_a_sides_position(editor_client):
    source = SourceFactory(text=SOURCE_TEXT)
    data = capture_data(source, 0, 6, new_actor_name="Someone", kind=AttributionKind.REPORTED)
    response = editor_client.post(reverse("positions:capture", args=[source.pk]), data)
    assert response.status_code == 400
    assert "choose a side" in response.content.decode()
    assert not Actor.objects.filter(name="Someone").exists()
    assert not Statement.objects.filter(source=source).exists()


def test_a_capture_needs_an_actor(editor_client):
    source = SourceFactory(text=SOURCE_TEXT)
    response = editor_client.post(
        reverse("positions:capture", args=[source.pk]), capture_data(source, 0, 6)
    )
    assert response.status_code == 400
    assert "Choose who said it" in response.content.decode()


def test_markup_in_a_capture_is_stored_as_text_and_shown_escaped(editor_client, russia):
    source = SourceFactory(text="He said <script>alert(1)</script> twice.")
    start = source.text.index("<script>")
    end = source.text.index("</script>") + len("</script>")
    actor = ActorFactory(party=russia)
    data = capture_data(
        source, start, end, actor=actor.pk, kind="reported", note="<b onmouseover=x()>n</b>"
    )
    response = editor_client.post(reverse("positions:capture", args=[source.pk]), data)
    assert response.status_code == 302
    statement = Statement.objects.get(source=source)
    assert statement.quote == "<script>alert(1)</script>"
    page = editor_client.get(statement.get_absolute_url()).content.decode()
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page


# The keyboard path


def test_finding_unique_words_opens_the_capture_form(editor_client, seed):
    words = "neither Russia nor the United States"
    response = editor_client.get(reverse("positions:find-words", args=[seed.pk]), {"words": words})
    start = seed.text.index(words)
    assert response.status_code == 302
    assert response["Location"].endswith(f"?start={start}&end={start + len(words)}")


def test_finding_repeated_words_lists_each_place(editor_client, seed):
    response = editor_client.get(
        reverse("positions:find-words", args=[seed.pk]), {"words": "missile defense"}, headers=HTMX
    )
    count = seed.text.count("missile defense")
    assert count > 1
    page = response.content.decode()
    assert f"occurs {count} times" in page
    assert page.count("?start=") >= min(count, 20)


def test_finding_missing_words_explains_near_misses(editor_client, seed):
    response = editor_client.get(
        reverse("positions:find-words", args=[seed.pk]), {"words": '"We have no wish'}
    )
    page = response.content.decode()
    assert "is not in the text" in page and "quotation marks" in page


# Suggestions


def test_suggestions_leave_out_captured_spans_and_offer_the_rest(editor_client, seed):
    response = editor_client.get(reverse("positions:suggestions", args=[seed.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    captured = list(seed.statements.values_list("start", "end", "actor_id"))
    for suggestion in suggestions.suggest(seed, captured=[]):
        link = f"start={suggestion.start}&amp;end={suggestion.end}"
        covered = suggestions.already_captured(suggestion, captured)
        assert (link in page) != covered


def test_accepting_a_suggestion_prefills_the_capture_form(editor_client):
    source = SourceFactory(text=KOZLOV_TEXT)
    kozlov = ActorFactory(name="Pyotr Kozlov")
    found = suggestions.suggest(source)
    first = next(s for s in found if s.actor == kozlov)
    response = editor_client.get(
        reverse("positions:capture", args=[source.pk]),
        {"start": first.start, "end": first.end, "actor": kozlov.pk, "kind": first.kind},
    )
    page = response.content.decode()
    assert f'<option value="{kozlov.pk}" selected>' in page
    assert f'name="start" value="{first.start}"' in page


def test_a_dismissed_suggestion_is_not_suggested_again(editor_client):
    source = SourceFactory(text=KOZLOV_TEXT)
    ActorFactory(name="Pyotr Kozlov")
    first = suggestions.suggest(source)[0]
    url = reverse("positions:suggestions", args=[source.pk])
    link = f"start={first.start}&amp;end={first.end}"
    assert link in editor_client.get(url).content.decode()
    response = editor_client.post(
        reverse("positions:suggestion-dismiss", args=[source.pk]),
        {"start": first.start, "end": first.end},
    )
    assert response.status_code == 302
    assert DismissedSuggestion.objects.filter(source=source, start=first.start).exists()
    assert link not in editor_client.get(url).content.decode()


def test_dismissing_a_span_outside_the_text_is_refused(editor_client):
    source = SourceFactory(text=SOURCE_TEXT)
    response = editor_client.post(
        reverse("positions:suggestion-dismiss", args=[source.pk]), {"start": 5, "end": 10**6}
    )
    assert response.status_code == 302
    assert not DismissedSuggestion.objects.exists()


# Editing a source's text


def edit_source(client, source, text):
    source.refresh_from_db()
    return client.post(
        reverse("positions:source-edit", args=[source.pk]),
        {
            "title": source.title,
            "published_on_precision": source.published_on_precision,
            "text": text,
            "based_on_version": source.version,
            "based_on_values": "{}",
        },
    )


def test_editing_text_before_a_quote_moves_it_by_its_context(editor_client, russia):
    source = SourceFactory(text=SOURCE_TEXT)
    statement = StatementFactory(
        source=source, actor=ActorFactory(party=russia), quote="withdraw from any treaty"
    )
    response = edit_source(editor_client, source, "New first line.\n" + SOURCE_TEXT)
    assert response.status_code == 302
    statement.refresh_from_db()
    source.refresh_from_db()
    assert source.text[statement.start : statement.end] == statement.quote
    assert statement.start == SOURCE_TEXT.index("withdraw") + len("New first line.\n")
    assert not statement.needs_review


def test_a_quote_whose_words_are_gone_is_flagged_and_listed_for_review(editor_client, russia):
    source = SourceFactory(text=SOURCE_TEXT)
    statement = StatementFactory(
        source=source, actor=ActorFactory(party=russia), quote="withdraw from any treaty"
    )
    new_text = SOURCE_TEXT.replace("withdraw from any treaty", "leave any pact")
    edit_source(editor_client, source, new_text)
    statement.refresh_from_db()
    assert statement.needs_review
    assert statement.quote == "withdraw from any treaty"  # never changed
    assert "changed or removed words of the quote itself" in statement.review_note
    review = editor_client.get(reverse("positions:review")).content.decode()
    assert f"Statement {statement.pk}" in review
    # Not highlighted at its stale offsets, and left out of the annotation export.
    page = editor_client.get(source.get_absolute_url()).content.decode()
    assert f'id="s-{statement.pk}"' not in page
    assert "not highlighted" in page


def test_a_quote_found_twice_without_context_is_flagged_then_placed_by_an_editor(
    editor_client, russia
):
    source = SourceFactory(text="Alpha said no. Beta said yes.")
    statement = StatementFactory(
        source=source, actor=ActorFactory(party=russia), quote="said", start=6
    )
    edit_source(editor_client, source, TWICE)
    statement.refresh_from_db()
    assert statement.needs_review
    review = editor_client.get(reverse("positions:review")).content.decode()
    assert review.count("Place here") == 2
    second = TWICE.rindex("said")
    response = editor_client.post(
        reverse("positions:statement-place", args=[statement.pk]),
        {"start": second, "version": statement.version},
    )
    assert response.status_code == 302
    statement.refresh_from_db()
    assert (statement.start, statement.needs_review) == (second, False)
    source.refresh_from_db()
    assert source.text[second : second + 4] == "said"


def test_placing_a_quote_where_its_words_are_not_is_refused(editor_client, russia):
    source = SourceFactory(text="Alpha said no. Beta said yes.")
    statement = StatementFactory(
        source=source, actor=ActorFactory(party=russia), quote="said", start=6
    )
    edit_source(editor_client, source, TWICE)
    statement.refresh_from_db()
    editor_client.post(
        reverse("positions:statement-place", args=[statement.pk]),
        {"start": 0, "version": statement.version},
    )
    statement.refresh_from_db()
    assert statement.needs_review


def test_placing_on_a_stale_version_is_refused(editor_client, russia):
    source = SourceFactory(text="Alpha said no. Beta said yes.")
    statement = StatementFactory(
        source=source, actor=ActorFactory(party=russia), quote="said", start=6
    )
    edit_source(editor_client, source, TWICE)
    statement.refresh_from_db()
    stale = statement.version
    statement.note = "someone else's edit"
    statement.save()
    response = editor_client.post(
        reverse("positions:statement-place", args=[statement.pk]),
        {"start": TWICE.rindex("said"), "version": stale},
        follow=True,
    )
    assert "Someone changed this statement" in response.content.decode()
    statement.refresh_from_db()
    assert statement.needs_review


def test_a_stale_source_edit_is_refused_with_what_changed(editor_client):
    source = SourceFactory(text=SOURCE_TEXT)
    opened = editor_client.get(reverse("positions:source-edit", args=[source.pk]))
    assert opened.status_code == 200
    version = source.version
    source.title = "Retitled by someone else"
    source.save()
    response = editor_client.post(
        reverse("positions:source-edit", args=[source.pk]),
        {
            "title": "My title",
            "published_on_precision": "day",
            "text": SOURCE_TEXT,
            "based_on_version": version,
            "based_on_values": "{}",
        },
    )
    assert response.status_code == 400
    assert "Someone else saved this record" in response.content.decode()
    source.refresh_from_db()
    assert source.title == "Retitled by someone else"


def test_a_stale_statement_edit_in_the_capture_ui_is_refused(editor_client, russia):
    source = SourceFactory(text=SOURCE_TEXT)
    statement = StatementFactory(source=source, actor=ActorFactory(party=russia), quote="Ivanov")
    statement.topics.add(Topic.objects.create(slug="t", name="T"))
    version = statement.version
    Statement.objects.filter(pk=statement.pk).update(stance=Stance.SUPPORTS)
    data = capture_data(
        source,
        statement.start,
        statement.end,
        actor=statement.actor_id,
        kind=statement.kind,
        based_on_version=version,
        stance=Stance.OPPOSES,
    )
    response = editor_client.post(reverse("positions:statement-edit", args=[statement.pk]), data)
    assert response.status_code == 400
    assert "Someone else saved this record" in response.content.decode()
    statement.refresh_from_db()
    assert statement.stance == Stance.SUPPORTS


# Recent changes


def test_recent_changes_lists_the_latest_edits_with_who_and_what(editor_client, russia):
    source = SourceFactory(text=SOURCE_TEXT)
    statement = StatementFactory(source=source, actor=ActorFactory(party=russia), quote="Ivanov")
    statement.stance = Stance.OPPOSES
    statement.save()
    page = editor_client.get(reverse("positions:recent-changes")).content.decode()
    assert "“Ivanov”" in page
    assert "stance" in page


def test_recent_changes_query_count_does_not_grow(
    editor_client, russia, django_assert_max_num_queries
):
    source = SourceFactory(text=SOURCE_TEXT)
    for _ in range(3):
        StatementFactory(source=source, actor=ActorFactory(party=russia), quote="Ivanov").save()
    with django_assert_max_num_queries(25):
        editor_client.get(reverse("positions:recent-changes"))
    for _ in range(30):
        statement = StatementFactory(
            source=source, actor=ActorFactory(party=russia), quote="Ivanov"
        )
        statement.save()
    with django_assert_max_num_queries(25):
        editor_client.get(reverse("positions:recent-changes"))


def test_recent_changes_go_back_page_by_page(editor_client, russia, settings):
    source = SourceFactory(text=SOURCE_TEXT)
    statement = StatementFactory(source=source, actor=ActorFactory(party=russia), quote="Ivanov")
    for number in range(60):
        statement.note = f"note {number}"
        statement.save()
    first = editor_client.get(reverse("positions:recent-changes")).content.decode()
    assert "page=2" in first
    second = editor_client.get(reverse("positions:recent-changes"), {"page": 2}).content.decode()
    assert second.count("<tr>") > 1
    garbage = editor_client.get(reverse("positions:recent-changes"), {"page": "x"})
    assert garbage.status_code == 200


def test_recent_changes_tell_apart_rows_of_different_models_with_the_same_number(
    editor_client,
):
    # Each model numbers its history rows on its own, so a party's and a topic's rows can
    # share a number; here both records' first rows get the same one.
    party, topic = PartyFactory(), TopicFactory()
    for record in (party, topic):
        record.name += " (renamed)"
        record.save()
        first = type(record).history.filter(id=record.pk).earliest("history_date")
        type(record).history.filter(history_id=first.history_id).update(history_id=10**6)
    response = editor_client.get(reverse("positions:recent-changes"))
    assert response.status_code == 200
    changed = {
        row.instance_type: row.changed_fields
        for row in response.context["changes"]
        if row.history_type == "~"
    }
    assert changed == {Party: ["name"], Topic: ["name"]}


def test_recent_changes_need_a_login(client):
    response = client.get(reverse("positions:recent-changes"))
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_of_two_editors_saving_one_statement_at_once_exactly_one_wins(editor, monkeypatch):
    """
    Two editors send their edit of the same version from two threads, with two database
    connections, released together just before the version check: one is saved, the other
    is refused with what changed, and the stored statement is the winner's.
    """
    if connection.vendor == "sqlite":
        pytest.skip(
            "The in-memory SQLite test database shares one cache between connections, where "
            "a second writer fails with 'database table is locked' instead of waiting; "
            "test_a_stale_statement_edit_in_the_capture_ui_is_refused replays the race."
        )
    russia = Party.objects.get_or_create(code="RU", defaults={"name": "Russia"})[0]
    source = SourceFactory(text=SOURCE_TEXT)
    statement = StatementFactory(source=source, actor=ActorFactory(party=russia), quote="Ivanov")
    topic = Topic.objects.create(slug="race", name="Race")
    statement.topics.add(topic)
    version = Statement.objects.get(pk=statement.pk).version
    rows_before = statement.history.count()
    clients = [Client(), Client()]
    for browser in clients:
        sign_in(browser, editor)
    together = threading.Barrier(2, timeout=15)
    save_capture = editorial.save_capture

    def released_together(form):
        # Just before the save's transaction, which takes the source's lock first: the
        # two then race for it, and the second checks the version after the first saved.
        together.wait()
        return save_capture(form)

    monkeypatch.setattr(editorial, "save_capture", released_together)
    statuses = {}

    def edit(number):
        try:
            data = capture_data(
                source,
                statement.start,
                statement.end,
                actor=statement.actor_id,
                kind=statement.kind,
                topics=[topic.pk],
                note=f"Editor {number}",
                based_on_version=version,
            )
            response = clients[number].post(
                reverse("positions:statement-edit", args=[statement.pk]), data
            )
            statuses[number] = (response.status_code, response.content.decode())
        finally:
            connection.close()

    threads = [threading.Thread(target=edit, args=(number,)) for number in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    codes = sorted(code for code, _ in statuses.values())
    assert codes == [302, 400], statuses
    winner = next(n for n, (code, _) in statuses.items() if code == 302)
    loser = 1 - winner
    assert "Someone else saved this record" in statuses[loser][1]
    assert f"Editor {winner}" in statuses[loser][1]  # what changed in between
    statement.refresh_from_db()
    assert (statement.note, statement.version) == (f"Editor {winner}", version + 1)
    assert statement.history.count() == rows_before + 1


def test_a_duplicate_saved_between_check_and_write_is_reported_not_a_500(
    editor_client, seed, monkeypatch
):
    """Another editor's identical capture commits after this one's duplicate check: the
    database's unique constraint refuses the write, and the editor is told, with a link."""
    existing = Statement.objects.filter(source=seed).exclude(kind="analysis").first()
    monkeypatch.setattr(CaptureForm, "check_actor", lambda self, cleaned: None)
    response = editor_client.post(
        reverse("positions:capture", args=[seed.pk]),
        capture_data(
            seed, existing.start, existing.end, actor=existing.actor_id, kind=existing.kind
        ),
        headers=HTMX,
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "a moment ago" in page
    assert f'href="{existing.get_absolute_url()}"' in page
