"""The public pages in a real browser, on the seed data: htmx filters (in place, in the URL,
undone by the back button), quotes leading to their context, axe-core on every page, a
375 px screen, the keyboard, and the filter form with JavaScript off."""

import re

import pytest
from playwright.sync_api import expect

from positions.models import Source, Statement
from tests.browser.helpers import (
    assert_no_axe_violations,
    assert_no_horizontal_scroll,
    axe_violations,
    format_violations,
)

pytestmark = pytest.mark.django_db(transaction=True)

DESKTOP = {"width": 1280, "height": 800}
QUOTE = "We have no wish to withdraw from any treaty or agreement"
FILTER_CONTROLS = [
    "#id_topic",
    "#id_party",
    "#id_actor",
    "#id_meeting",
    "#id_proposal",
    "#id_stance",
    "#id_kind",
    "#id_since",
    "#id_until",
    "#id_q",
]


def public_urls():
    """Every kind of public page, as the seed data fills it."""
    statement = Statement.objects.get(quote=QUOTE)
    return [
        "/",
        "/?party=RU&stance=opposes",
        f"/statements/{statement.pk}/",
        "/sources/",
        f"/sources/{Source.objects.get().pk}/",
        "/meetings/",
        "/proposals/",
        "/actors/",
        "/actors/sergei-ivanov/",
        "/topics/strategic-reductions/",
        "/topics/abm-treaty/",
    ]


def set_marker(page):
    """A value that lives only as long as the document: a full reload drops it."""
    page.evaluate("window.__marker = 1")


def assert_not_reloaded(page):
    assert page.evaluate("window.__marker") == 1, "the page was reloaded, not updated in place"


def results(page):
    return page.locator("#results")


def quotes_shown(page):
    return results(page).locator(".side .quote-link").all_inner_texts()


def sides_shown(page):
    return set(
        results(page)
        .locator(".sides > .side")
        .evaluate_all("sides => sides.map(side => side.className)")
    )


def assert_page_is_accessible_and_fits_a_phone(page):
    """axe-core at desktop width, then no sideways scroll at 375 px, then back to desktop."""
    assert_no_axe_violations(page)
    assert_no_horizontal_scroll(page)
    page.set_viewport_size(DESKTOP)


# Filters with htmx


def test_dashboard_filters_update_in_place_and_back_restores_them(page, seed):
    page.set_viewport_size(DESKTOP)
    page.goto("/")
    expect(results(page).locator(".side.party-RU").first).to_be_visible()
    everything = results(page).locator(".result-summary").inner_text()
    set_marker(page)

    page.select_option("#id_party", "US")
    expect(page).to_have_url(re.compile(r"/\?.*\bparty=US\b"))
    expect(results(page).locator(".result-summary")).to_contain_text("matching the filters")
    assert_not_reloaded(page)
    assert sides_shown(page) == {"side party-US"}
    expect(page.locator("#results")).to_have_count(1)
    expect(page.locator("form#filters")).to_have_count(1)
    united_states_only = quotes_shown(page)
    assert united_states_only and QUOTE not in united_states_only
    # The page as htmx left it is as accessible as a freshly loaded one.
    assert_page_is_accessible_and_fits_a_phone(page)

    page.select_option("#id_stance", "opposes")
    expect(page).to_have_url(re.compile(r"\bstance=opposes\b"))
    expect(page).to_have_url(re.compile(r"\bparty=US\b"))
    expect(results(page).locator(".result-summary")).to_contain_text("Proposals are hidden")
    assert_not_reloaded(page)
    stances = results(page).locator(".side .badge.stance").all_inner_texts()
    assert stances and set(stances) == {"Opposes"}, stances
    opposing = quotes_shown(page)
    assert len(opposing) < len(united_states_only)

    page.go_back()
    expect(page).to_have_url(re.compile(r"\bparty=US\b"))
    assert "stance=opposes" not in page.url
    expect(results(page).locator(".result-summary")).not_to_contain_text("Proposals are hidden")
    assert quotes_shown(page) == united_states_only
    expect(page.locator("#id_party")).to_have_value("US")
    expect(page.locator("#id_stance")).to_have_value("")

    page.go_back()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(results(page).locator(".side.party-RU").first).to_be_visible()
    expect(results(page).locator(".result-summary")).to_have_text(everything)
    expect(page.locator("#id_party")).to_have_value("")

    page.go_forward()
    expect(page).to_have_url(re.compile(r"\bparty=US\b"))
    expect(page.locator("#id_party")).to_have_value("US")
    assert quotes_shown(page) == united_states_only


def test_dashboard_search_updates_the_results_after_the_debounce(page, seed):
    page.goto("/")
    set_marker(page)
    searches = []
    page.on(
        "request",
        lambda request: searches.append(request.url) if "q=" in request.url else None,
    )

    with page.expect_response(lambda response: "q=withdraw" in response.url):
        page.locator("#id_q").press_sequentially("withdraw", delay=40)

    expect(page).to_have_url(re.compile(r"\bq=withdraw\b"))
    expect(results(page).locator(".result-summary")).to_contain_text("matching the filters")
    assert_not_reloaded(page)
    # Each keystroke restarts the 500 ms delay, so typing does not send a request per key.
    assert 1 <= len(searches) < len("withdraw"), searches
    assert searches[-1].endswith("q=withdraw")
    shown = results(page).locator(".quote-link").all_inner_texts()
    assert shown and all("withdraw" in quote.lower() for quote in shown), shown


def test_topic_page_filters_in_place_and_back_restores_them(page, seed):
    page.set_viewport_size(DESKTOP)
    page.goto("/topics/abm-treaty/")
    russia = results(page).locator(".side.party-RU")
    expect(russia.locator(".statement").first).to_be_visible()
    russian_quotes = russia.locator(".quote-link").all_inner_texts()
    set_marker(page)

    page.select_option("#id_party", "US")
    expect(page).to_have_url(re.compile(r"/topics/abm-treaty/\?.*\bparty=US\b"))
    expect(russia.locator(".empty")).to_have_text("No statement from Russia matching the filters.")
    assert_not_reloaded(page)
    expect(results(page).locator(".side.party-US .statement").first).to_be_visible()
    assert_page_is_accessible_and_fits_a_phone(page)

    page.go_back()
    expect(page).to_have_url(re.compile(r"/topics/abm-treaty/$"))
    expect(russia.locator(".statement").first).to_be_visible()
    assert russia.locator(".quote-link").all_inner_texts() == russian_quotes
    expect(page.locator("#id_party")).to_have_value("")


# From a quote to its context


def test_a_quote_leads_to_its_statement_page_and_its_place_in_the_source(page, seed):
    statement = Statement.objects.get(quote=QUOTE)
    page.goto("/")

    page.locator("#results .quote-link", has_text=QUOTE).first.click()

    expect(page).to_have_url(re.compile(rf"/statements/{statement.pk}/$"))
    context = page.locator(".source-context")
    expect(context.locator("mark")).to_have_text(QUOTE)
    expect(context).to_contain_text("Russia is content with the existing multi-level system")
    expect(context).to_contain_text("added Ivanov.")

    page.get_by_role("link", name="Read it in the whole source").click()

    expect(page).to_have_url(re.compile(rf"/sources/{statement.source_id}/#s-{statement.pk}$"))
    assert page.evaluate("document.querySelector(':target').id") == f"s-{statement.pk}"
    highlighted = page.locator(f"#s-{statement.pk} + mark")
    expect(highlighted).to_contain_text(QUOTE[:20])
    expect(highlighted).to_be_in_viewport()
    expect(highlighted.get_by_role("link")).to_have_attribute(
        "href", f"/statements/{statement.pk}/"
    )


# Accessibility and small screens, on every page


def test_no_page_has_axe_violations(page, seed):
    page.set_viewport_size(DESKTOP)
    found = {}
    for url in public_urls():
        page.goto(url)
        violations = axe_violations(page)
        if violations:
            found[url] = format_violations(violations)
    assert not found, "\n\n".join(f"{url}:\n{text}" for url, text in found.items())


def test_no_page_scrolls_sideways_on_a_375px_screen(page, seed):
    failures = []
    for url in public_urls():
        page.goto(url)
        try:
            assert_no_horizontal_scroll(page)
        except AssertionError as error:
            failures.append(str(error))
    assert not failures, "\n".join(failures)


# The keyboard


def test_the_skip_link_is_the_first_tab_stop_and_moves_focus_to_main(page, seed):
    page.goto("/")

    page.keyboard.press("Tab")
    skip_link = page.locator(".skip-link")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_be_in_viewport()
    expect(skip_link).to_have_text("Skip to content")

    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))
    expect(page.locator("main#main")).to_be_focused()
    page.keyboard.press("Tab")
    assert page.evaluate("document.getElementById('main').contains(document.activeElement)")


def test_the_filters_can_be_used_with_the_keyboard_alone(page, seed):
    page.goto("/")
    page.locator("main#main").focus()

    reached = set()
    for _ in range(40):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.id || document.activeElement.tagName")
        reached.add(f"#{focused}")
        if f"#{focused}" == "#id_q":
            break
    missing = [control for control in FILTER_CONTROLS if control not in reached]
    assert not missing, f"not reached with Tab: {missing}"

    set_marker(page)
    page.keyboard.type("withdraw")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"\bq=withdraw\b"))
    expect(results(page).locator(".result-summary")).to_contain_text("matching the filters")
    assert_not_reloaded(page)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Apply filters")).to_be_focused()


# Without JavaScript


def test_without_javascript_the_filters_are_a_plain_get_form(new_context, seed):
    page = new_context(java_script_enabled=False).new_page()
    page.goto("/")
    assert page.evaluate("typeof window.htmx") == "undefined"  # no page script ran
    expect(page.locator("#results .side.party-US").first).to_be_visible()

    page.select_option("#id_party", "US")
    page.select_option("#id_stance", "opposes")
    page.get_by_role("button", name="Apply filters").click()

    expect(page).to_have_url(re.compile(r"/\?.*\bparty=US\b.*\bstance=opposes\b"))
    expect(page.locator("#results .result-summary")).to_contain_text("matching the filters")
    assert sides_shown(page) == {"side party-US"}
    assert set(page.locator("#results .side .badge.stance").all_inner_texts()) == {"Opposes"}
    expect(page.locator("#id_party")).to_have_value("US")
    expect(page.locator("#id_stance")).to_have_value("opposes")
