"""Every public page, as the seed data renders it, is valid HTML (the Nu HTML checker, with
htmx's ``hx-*`` attributes allowed). One checker run for all of them: each run starts a JVM."""

import pytest

from positions.models import Source, Statement
from tests.html_validation import html_errors

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}

# An htmx fragment is not a document: the checker sees it inside the page's own frame.
FRAGMENT_FRAME = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{name}</title></head>'
    "<body><main>{fragment}</main></body></html>"
)


def test_every_public_page_and_fragment_is_valid_html(client, seeded):
    statement = Statement.objects.get(quote__startswith="We have no wish")
    source = Source.objects.get()
    pages = {
        "/": 200,
        "/?party=RU&stance=opposes": 200,
        "/?q=withdraw": 200,
        "/?topic=heavy-bombers": 200,
        f"/statements/{statement.pk}/": 200,
        "/sources/": 200,
        f"/sources/{source.pk}/": 200,
        "/meetings/": 200,
        "/proposals/": 200,
        "/actors/": 200,
        "/actors/sergei-ivanov/": 200,
        "/topics/abm-treaty/": 200,
        "/topics/strategic-reductions/": 200,
        "/topics/abm-treaty/?party=US": 200,
        "/?since=2001-09-01&until=2001-08-01&q=" + "x" * 201: 400,
        "/topics/abm-treaty/?stance=maybe": 400,
    }
    fragments = {
        "/?party=RU&stance=opposes": 200,
        "/topics/abm-treaty/?party=RU": 200,
        "/?stance=maybe": 400,
    }

    documents = {}
    for url, status in pages.items():
        response = client.get(url)
        assert response.status_code == status, url
        documents[url] = response.content.decode()
    for url, status in fragments.items():
        response = client.get(url, headers=HTMX)
        assert response.status_code == status, url
        html = response.content.decode()
        assert "<html" not in html, url
        documents[f"htmx {url}"] = FRAGMENT_FRAME.format(name=url, fragment=html)

    assert html_errors(documents) == []


def test_every_editor_page_and_fragment_is_valid_html(editor_client, seeded):
    source = Source.objects.get()
    statement = Statement.objects.get(quote__startswith="We have no wish")
    flagged = Statement.objects.exclude(pk=statement.pk).first()
    Statement.objects.filter(pk=flagged.pk).update(needs_review=True, review_note="Gone.")
    start = source.text.index("Both the")
    capture = f"/sources/{source.pk}/capture/?start={start}&end={start + 8}"
    pages = {
        "/sources/new/": 200,
        f"/sources/{source.pk}/": 200,
        f"/sources/{source.pk}/edit/": 200,
        capture: 200,
        f"/sources/{source.pk}/capture/?start=5&end=5": 400,
        f"/sources/{source.pk}/find/?words=missile+defense": 200,
        f"/sources/{source.pk}/find/?words=nowhere+to+be+found": 200,
        f"/sources/{source.pk}/suggestions/": 200,
        f"/statements/{statement.pk}/edit/": 200,
        f"/statements/{flagged.pk}/": 200,
        f"/statements/{flagged.pk}/edit/": 200,
        "/review/": 200,
        "/changes/": 200,
    }
    fragments = {
        capture: 200,
        f"/sources/{source.pk}/find/?words=missile+defense": 200,
        f"/sources/{source.pk}/suggestions/": 200,
    }
    documents = {}
    for url, status in pages.items():
        response = editor_client.get(url)
        assert response.status_code == status, url
        documents[url] = response.content.decode()
    for url, status in fragments.items():
        response = editor_client.get(url, headers=HTMX)
        assert response.status_code == status, url
        html = response.content.decode()
        assert "<html" not in html, url
        documents[f"htmx {url}"] = FRAGMENT_FRAME.format(name=url, fragment=html)
    refused = editor_client.post(
        f"/sources/{source.pk}/capture/", {"start": start, "end": start + 8}, headers=HTMX
    )
    assert refused.status_code == 400
    documents["htmx refused capture"] = FRAGMENT_FRAME.format(
        name="refused", fragment=refused.content.decode()
    )
    bad_source = editor_client.post("/sources/new/", {"title": "", "text": ""})
    assert bad_source.status_code == 400
    documents["refused source"] = bad_source.content.decode()
    assert html_errors(documents) == []
