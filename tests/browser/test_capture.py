"""Capturing statements in a real browser: select words, save, see them highlighted; accept
a suggestion; the keyboard path; axe-core on the editor's source page."""

import pytest
from playwright.sync_api import expect

from positions.models import Party, Stance, Statement, Topic
from tests.browser.helpers import assert_no_axe_violations, log_in
from tests.factories import (
    SOURCE_TEXT,
    ActorFactory,
    MeetingFactory,
    SourceFactory,
    StatementFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

SELECT_PHRASE = """
(phrase) => {
  const container = document.getElementById("source-text");
  const walker = document.createTreeWalker(container, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const index = node.data.indexOf(phrase);
    if (index >= 0) {
      window.getSelection().setBaseAndExtent(node, index, node, index + phrase.length);
      return true;
    }
  }
  return false;
}
"""

# From the first character of ``first`` to the last of ``last``, in whichever text nodes
# hold them, so that a selection can cross from one paragraph into the next.
SELECT_FROM_TO = """
([first, last]) => {
  const container = document.getElementById("source-text");
  const walker = document.createTreeWalker(container, NodeFilter.SHOW_TEXT);
  let start = null;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!start && node.data.includes(first)) start = [node, node.data.indexOf(first)];
    if (start && node.data.includes(last)) {
      const end = node.data.indexOf(last) + last.length;
      window.getSelection().setBaseAndExtent(start[0], start[1], node, end);
      return true;
    }
  }
  return false;
}
"""

# A news text as pasted from Windows: every line break is a CRLF.
CRLF_NEWS = (
    "Ryabkov said, “Moscow is ready to discuss the ceilings on deployed warheads.”\r\n"
    "He added that “no agreement is possible while the missiles stay in Europe.”\r\n"
    "The talks resume in Geneva on Monday, a spokeswoman said.\r\n"
)


@pytest.fixture
def editing(page, live_server, editor):
    """An editor's browser, and a source with an actor and a topic to capture with."""
    log_in(page, editor, live_server)
    russia, _ = Party.objects.get_or_create(code="RU", defaults={"name": "Russia"})
    actor = ActorFactory(name="Pyotr Kozlov", party=russia)
    topic = Topic.objects.create(slug="warheads", name="Warhead ceilings")
    text = SOURCE_TEXT + "\nKozlov added, “We will never accept these limits on our forces.”"
    return SourceFactory(text=text), actor, topic


def fill_and_save(page, actor, topic, kind=None):
    panel = page.locator("#capture-panel")
    if actor is not None:
        panel.locator("#id_actor").select_option(str(actor.pk))
    panel.get_by_label(topic.name).check()
    panel.locator("#id_stance").select_option(Stance.OPPOSES)
    if kind:
        panel.locator("#id_kind").select_option(kind)
    panel.get_by_role("button", name="Save statement").click()


def test_selecting_words_and_saving_highlights_them(page, editing):
    source, actor, topic = editing
    phrase = "interrupted – and resumed"  # an en dash: stored exactly as in the text
    page.goto(source.get_absolute_url())
    assert page.evaluate(SELECT_PHRASE, phrase)
    page.get_by_role("button", name="Capture selected words").click()
    panel = page.locator("#capture-panel")
    expect(panel.locator(".selection mark")).to_have_text(phrase)
    fill_and_save(page, actor, topic, kind="reported")
    expect(panel).to_contain_text("Captured")
    statement = Statement.objects.get(source=source)
    assert statement.quote == phrase
    assert source.text[statement.start : statement.end] == phrase
    highlight = page.locator(f'#source-text mark a[href="{statement.get_absolute_url()}"]')
    expect(highlight).to_have_text(phrase)


def test_a_selection_across_a_crlf_line_break_saves_the_exact_text(page, editing):
    _, actor, topic = editing
    source = SourceFactory(text=CRLF_NEWS)
    first, last = "ready to discuss", "He added that"
    start = CRLF_NEWS.index(first)
    end = CRLF_NEWS.index(last) + len(last)
    expected = CRLF_NEWS[start:end]
    assert "\r\n" in expected
    page.goto(source.get_absolute_url())
    assert page.evaluate(SELECT_FROM_TO, [first, last])
    page.get_by_role("button", name="Capture selected words").click()
    panel = page.locator("#capture-panel")
    expect(panel.locator(".selection mark")).to_have_text(expected)  # whitespace-insensitive
    fill_and_save(page, actor, topic, kind="reported")
    expect(panel).to_contain_text("Captured")
    expect(panel.get_by_role("alert")).to_have_count(0)
    [statement] = Statement.objects.filter(source=source)
    source.refresh_from_db()
    assert (statement.start, statement.end) == (start, end)
    assert statement.quote.encode() == source.text[start:end].encode() == expected.encode()
    # Highlighted in both paragraphs it spans.
    highlight = page.locator(f'#source-text mark a[href="{statement.get_absolute_url()}"]')
    expect(highlight).to_have_count(2)


def test_a_selection_with_an_emoji_and_a_combining_mark_saves_the_exact_characters(page, editing):
    _, actor, topic = editing
    # Both before the selection too, so that its offsets count code points, not UTF-16
    # units or graphemes: 🕊️ is two code points (with U+FE0F), 👍🏽 two (with a skin tone).
    text = (
        "Update 🕊\ufe0f from Geneva.\n"
        "Ryabkov 👍🏽 called the de\u0301tente “a real chance 🕊\ufe0f for the"
        " cafe\u0301 talks” today."
    )
    phrase = "de\u0301tente “a real chance 🕊\ufe0f for the cafe\u0301"
    start = text.index(phrase)
    source = SourceFactory(text=text)
    page.goto(source.get_absolute_url())
    assert page.evaluate(SELECT_PHRASE, phrase)
    page.get_by_role("button", name="Capture selected words").click()
    panel = page.locator("#capture-panel")
    expect(panel.locator(".selection mark")).to_have_text(phrase)
    fill_and_save(page, actor, topic, kind="reported")
    expect(panel).to_contain_text("Captured")
    expect(panel.get_by_role("alert")).to_have_count(0)
    [statement] = Statement.objects.filter(source=source)
    assert (statement.start, statement.end) == (start, start + len(phrase))
    assert statement.quote.encode() == phrase.encode()


def test_a_selection_outside_the_text_is_refused_in_place(page, editing):
    source, _, _ = editing
    page.goto(source.get_absolute_url())
    page.evaluate(
        "() => { const h = document.querySelector('h1');"
        " window.getSelection().selectAllChildren(h); }"
    )
    page.get_by_role("button", name="Capture selected words").click()
    expect(page.locator("#capture-status")).to_have_text(
        "Select words within the source's text only."
    )
    expect(page.locator("#capture-panel form")).to_have_count(0)


def test_accepting_a_suggestion_opens_a_prefilled_form_and_saves(page, editing):
    source, actor, topic = editing
    page.goto(source.get_absolute_url())
    page.get_by_role("link", name="Suggestions").click()
    suggestion = page.locator(".suggestion").filter(has_text="We will never accept")
    expect(suggestion).to_contain_text("Pyotr Kozlov")
    suggestion.get_by_role("link", name="Accept").click()
    panel = page.locator("#capture-panel")
    expect(panel.locator("#id_actor")).to_have_value(str(actor.pk))
    fill_and_save(page, None, topic)
    expect(panel).to_contain_text("Captured")
    statement = Statement.objects.get(source=source, actor=actor)
    assert statement.quote == "We will never accept these limits on our forces."
    expect(page.locator(f'#source-text a[href="{statement.get_absolute_url()}"]')).to_be_visible()


def test_the_keyboard_path_finds_words_and_captures_them(page, editing):
    source, actor, topic = editing
    page.goto(source.get_absolute_url())
    page.get_by_label("Find words in the text").focus()
    page.keyboard.type("does not need thousands of warheads")
    page.keyboard.press("Enter")
    panel = page.locator("#capture-panel")
    expect(panel.locator(".selection mark")).to_have_text("does not need thousands of warheads")
    # Focus moved into the form, so the keyboard can go on from there.
    assert page.evaluate(
        "() => document.getElementById('capture-panel').contains(document.activeElement)"
    )
    fill_and_save(page, actor, topic, kind="reported")
    expect(panel).to_contain_text("Captured")
    assert Statement.objects.filter(
        source=source, quote="does not need thousands of warheads"
    ).exists()


def test_the_editors_source_page_with_the_form_open_has_no_axe_violations(page, editing):
    source, _, _ = editing
    page.goto(source.get_absolute_url())
    page.evaluate(SELECT_PHRASE, "Rumsfeld said")
    page.get_by_role("button", name="Capture selected words").click()
    expect(page.locator("#capture-panel form")).to_be_visible()
    assert_no_axe_violations(page)


@pytest.mark.parametrize("path", ["/sources/new/", "/review/", "/changes/", "suggestions", "edit"])
def test_the_editors_pages_have_no_axe_violations(page, editing, path):
    source, _, _ = editing
    if path == "suggestions":
        path = f"/sources/{source.pk}/suggestions/"
    elif path == "edit":
        path = f"/sources/{source.pk}/edit/"
    page.goto(path)
    expect(page.locator("h1")).to_be_visible()
    assert_no_axe_violations(page)


def test_dismissing_a_suggestion_in_place_removes_it(page, editing):
    source, _, _ = editing
    page.goto(source.get_absolute_url())
    page.get_by_role("link", name="Suggestions").click()
    suggestion = page.locator(".suggestion").filter(has_text="We will never accept")
    suggestion.get_by_role("button", name="Dismiss").click()
    expect(page.locator(".suggestion").filter(has_text="We will never accept")).to_have_count(0)
    expect(page.locator("#capture-panel")).to_contain_text("1 dismissed")


def test_a_statement_awaiting_review_is_shown_placed_and_deleted_from_the_review_page(
    page, editing
):
    source, actor, topic = editing
    kozlov = "We will never accept these limits on our forces."
    statement = StatementFactory(source=source, actor=actor, quote=kozlov)
    statement.topics.set([topic])
    doomed = StatementFactory(source=source, actor=actor, quote="does not need thousands")
    doomed.topics.set([topic])
    # Who said the words changes in the paragraph: not carried, flagged; the other
    # statement's own words are gone.
    source.text = source.text.replace("Kozlov added", "Another officer added").replace(
        "does not need thousands", "needs far fewer"
    )
    source.save()
    page.goto("/review/")
    expect(page.locator("h1")).to_have_text("Statements to review")
    assert_no_axe_violations(page)
    item = page.locator(f"#review-{statement.pk}")
    expect(item.locator(".was mark")).to_have_text(kozlov)
    expect(item).to_contain_text("Another officer added, “")
    item.get_by_role("button", name="Place here").click()
    expect(page.locator(".messages")).to_contain_text(f"Statement {statement.pk} is anchored")
    statement.refresh_from_db()
    assert not statement.needs_review
    assert source.text[statement.start : statement.end] == kozlov

    gone = page.locator(f"#review-{doomed.pk}")
    expect(gone).to_contain_text("no longer anywhere in the text")
    gone.get_by_role("button", name=f"Delete statement {doomed.pk}").click()
    expect(page.locator(".messages")).to_contain_text(f"Statement {doomed.pk} deleted")
    assert not Statement.objects.filter(pk=doomed.pk).exists()
    expect(page.locator(".review-item")).to_have_count(0)


def test_a_conditional_capture_records_its_condition_certainty_and_meeting_link(page, editing):
    source, actor, topic = editing
    meeting = MeetingFactory(title="Geneva round")
    phrase = "We will never accept these limits on our forces."
    condition = "interrupted – and resumed"
    page.goto(source.get_absolute_url())
    assert page.evaluate(SELECT_PHRASE, phrase)
    page.get_by_role("button", name="Capture selected words").click()
    panel = page.locator("#capture-panel")
    panel.locator("#id_actor").select_option(str(actor.pk))
    panel.get_by_label(topic.name).check()
    panel.locator("#id_stance").select_option(Stance.CONDITIONAL)
    panel.locator("#id_certainty").select_option("hedged")
    panel.locator("#id_kind").select_option("direct_quote")
    panel.locator("#id_meeting").select_option(str(meeting.pk))
    panel.locator("#id_meeting_relation").select_option("about")
    panel.locator("#id_condition_quote").fill(condition)
    panel.get_by_role("button", name="Save statement").click()
    expect(panel).to_contain_text("Captured")
    statement = Statement.objects.get(source=source)
    assert (statement.stance, statement.certainty, statement.meeting_relation) == (
        "conditional",
        "hedged",
        "about",
    )
    assert source.text[statement.condition_start : statement.condition_end] == condition
    page.goto(statement.get_absolute_url())
    expect(page.get_by_text(f"“{condition}”")).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("About Geneva round")
    assert_no_axe_violations(page)


def test_the_seed_topic_page_says_why_and_threads_the_exchange(page, seed):
    abm = Topic.objects.get(slug="abm-treaty")
    page.goto(abm.get_absolute_url())
    expect(page.locator(".agreement-reason")).to_contain_text(
        "Russia supports (2 statements, latest August 2001)"
    )
    exchange = page.locator(".exchange")
    expect(exchange).to_contain_text("United States declared:")
    expect(exchange).to_contain_text("timing: “within months”")
    expect(exchange).to_contain_text("Russia answered: rejects")
    assert_no_axe_violations(page)
