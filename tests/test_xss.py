"""
Stored XSS and CSV injection (security issue): a corpus of markup, htmx attributes,
template syntax and spreadsheet formulas (tests/xss_corpus.json), written into every
free-text field through every write path (the API, the admin, the editors' pages), stays
data everywhere: escaped text on every page, fragment and admin view, the exact value in
the JSON, and a neutralised cell in every CSV export. URLs that would run script are
refused by every path that takes one.

The corpus is written once per module, through each path in turn (the "families"), and
each test reads it inside its own transaction.
"""

import csv
import datetime
import io
import json
from dataclasses import dataclass, field
from html import escape as html_escape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils.html import escape
from rest_framework.authtoken.models import Token

from positions import intake
from positions.api import safe_cell
from positions.models import (
    Actor,
    Meeting,
    Party,
    Proposal,
    ProposalParameter,
    Source,
    Statement,
    Topic,
)
from positions.quotes import excerpt
from tests.accounts import sign_in
from tests.factories import (
    ActorFactory,
    MeetingFactory,
    PartyFactory,
    ProposalFactory,
    ProposalParameterFactory,
    SourceFactory,
    StatementFactory,
    TopicFactory,
)
from tests.test_admin_versions import form_data

pytestmark = pytest.mark.django_db

CORPUS = json.loads(Path(__file__).with_name("xss_corpus.json").read_text(encoding="utf-8"))
MARKUP = list(CORPUS["markup"].values())
FORMULA_STARTS = CORPUS["formula_starts"]
REFUSED_URLS = CORPUS["refused_urls"]
ACCEPTED_URL = CORPUS["accepted_url"]  # a valid http(s) URL, with markup in its query

JSON = "application/json"
HTMX = {"HX-Request": "true"}
DATE = "2001-08-13"
# What a spreadsheet takes for the start of a formula (README: "prefixed with '").
FORMULA_CHARACTERS = ("=", "+", "-", "@", "\t", "\r")
# Forms and the API trim names and titles, so a field starts with one of these formulas
# (or with markup); the whitespace-led formulas start the quotes, which are kept exactly.
PRINTABLE_STARTS = [FORMULA_STARTS[name] for name in ("equals", "plus", "minus", "at")] + [""]
QUOTE_STARTS = {
    "api": FORMULA_STARTS["carriage-return"],
    "admin": FORMULA_STARTS["tab"],
    "web": FORMULA_STARTS["tab"],  # pasted text turns a lone CR into a line break
}

# Raw markup that only an unescaped payload would put in a page. Each holds a character
# that escaping changes (< > " '), so the escaped payloads never match.
FORBIDDEN = [
    "<script>alert",
    "<img src=x",
    "<svg onload",
    'hx-get="/admin/"',
    'hx-post="/admin/',
    'hx-trigger="load"',
    'hx-on::load="',
    "onmouseover='alert",
    "</textarea><script",
    "<div hx-post",
]
HTMX_REQUESTS = {"hx-get", "hx-post", "hx-put", "hx-patch", "hx-delete"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "cite", "data"}
SCRIPT_SCHEMES = ("javascript:", "vbscript:", "data:")


def corpus_text(limit, turn, start=""):
    """
    ``start``, then as many markup payloads as fit in ``limit`` characters, from the
    ``turn``-th on: short fields hold a different few in each family and edition.
    """
    turn %= len(MARKUP)
    text = start
    for payload in MARKUP[turn:] + MARKUP[:turn]:
        candidate = f"{text} {payload}" if text else payload
        if len(candidate) <= limit:
            text = candidate
    return text


# The free-text fields of each record, with their maximum length (None for a TextField).
FREE_TEXT = {
    "party": {"name": 100},
    "actor": {"name": 200, "honorific_prefix": 100, "role": 300, "note": None},
    "topic": {"name": 200, "description": None},
    "spare-topic": {"name": 200, "description": None},
    "source": {"title": 300, "publisher": 200, "note": None},
    "html-upload": {"title": 300, "publisher": 200, "note": None},
    "text-upload": {"title": 300, "publisher": 200, "note": None},
    "meeting": {"title": 300, "location": 200, "summary": None},
    "proposal": {"title": 300, "description": None},
    "parameter": {"quantity": 200, "unit": 50, "note": 300},
    "statement": {"note": None},
}
FIELD_NAMES = {name for names in FREE_TEXT.values() for name in names} | {"quote"}
FAMILIES = ["api", "admin", "web"]


def corpus_values(family, key, edition=1):
    """The corpus text a family writes into each free-text field of a record."""
    pairs = [(k, name) for k, names in FREE_TEXT.items() for name in names]
    values = {}
    for name, limit in FREE_TEXT[key].items():
        turn = pairs.index((key, name)) + 20 * FAMILIES.index(family) + 5 * (edition - 1)
        start = PRINTABLE_STARTS[turn % len(PRINTABLE_STARTS)]
        values[name] = corpus_text(limit or 2000, turn, start)
    return values


def source_text(family):
    """A source text of markup lines; the second line is the statement's quote."""
    quote = corpus_text(160, FAMILIES.index(family), QUOTE_STARTS[family])
    lines = [
        "Opening line of the corpus source.",
        quote,
        f"He said, “{SUGGESTED}”, to the press.",
        corpus_text(2000, 0),
        "Closing line.",
    ]
    return "\n".join(lines), quote


SUGGESTED = corpus_text(200, 7) + " and so on"  # quoted speech, offered as a suggestion


@dataclass
class Family:
    """The records one write path stored, and the value each free-text field was given."""

    path: str
    records: dict = field(default_factory=dict)
    values: dict = field(default_factory=dict)  # (record key, field name) -> value
    texts: dict = field(default_factory=dict)  # source key -> its text
    responses: list = field(default_factory=list)  # (label, response) of HTML answers

    def value(self, key, name):
        return self.values.get((key, name))

    def shown(self, *pairs):
        """The values of those (key, field) pairs this family wrote."""
        return [self.values[pair] for pair in pairs if pair in self.values]

    def of(self, key):
        """The values this family wrote into one record, by field."""
        return {name: value for (k, name), value in self.values.items() if k == key}

    def record(self, key):
        """The record as stored now."""
        return type(self.records[key]).objects.get(pk=self.records[key].pk)

    def remember(self, key, values):
        self.values.update({(key, name): value for name, value in values.items()})

    def refresh(self):
        self.records = {key: self.record(key) for key in self.records}
        return self


# Writing through the API


def api_write(client, method, url, body, expected, version=None):
    headers = {"If-Match": f'"{version}"'} if version is not None else {}
    response = getattr(client, method)(url, body, content_type=JSON, headers=headers)
    assert response.status_code == expected, (url, response.content)
    assert response["Content-Type"].startswith(JSON)
    data = response.json()
    for name, value in body.items():
        if name in FIELD_NAMES:
            assert data[name] == value, (url, name)  # the answer holds exactly what was sent
    return data


def build_api_family(family, editor):
    """Every record created (POST) and then changed (PATCH) with a token, as a script would."""
    token = Token.objects.create(user=editor)
    api = Client(headers={"Authorization": f"Token {token.key}"})
    party_code = "XSA"
    resources = {}

    def create(key, resource, model, **fields):
        body = {**corpus_values("api", key), **fields}
        data = api_write(api, "post", f"/api/v1/{resource}/", body, 201)
        family.records[key] = model.objects.get(pk=data["id"])
        resources[key] = resource
        return data["id"]

    create("party", "parties", Party, code=party_code, sort_order=5)
    actor = create("actor", "actors", Actor, slug="xss-api-actor", kind="person", party=party_code)
    create("topic", "topics", Topic, slug="xss-api-topic", sort_order=1)
    create("spare-topic", "topics", Topic, slug="xss-api-spare-topic", sort_order=2)
    text, quote = source_text("api")
    family.texts["source"] = text
    source = create(
        "source",
        "sources",
        Source,
        published_on=DATE,
        published_on_precision="day",
        url=ACCEPTED_URL,
        text=text,
    )
    meeting = create(
        "meeting",
        "meetings",
        Meeting,
        slug="xss-api-meeting",
        kind="bilateral",
        status="held",
        starts_on=DATE,
        date_precision="day",
        participants=[actor],
        source=source,
    )
    proposal = create(
        "proposal",
        "proposals",
        Proposal,
        slug="xss-api-proposal",
        party=party_code,
        actor=actor,
        topics=["xss-api-topic"],
        status="proposed",
        meeting=meeting,
        proposed_on=DATE,
        source=source,
    )
    create(
        "statement",
        "statements",
        Statement,
        actor=actor,
        topics=["xss-api-topic"],
        source=source,
        quote=quote,
        stance="supports",
        kind="direct_quote",
        stated_on=DATE,
        meeting=meeting,
        meeting_relation="said_at",
        proposal=proposal,
        proposal_stance="puts_forward",
    )
    for key, resource in resources.items():
        record = family.record(key)
        body = corpus_values("api", key, edition=2)
        api_write(api, "patch", f"/api/v1/{resource}/{record.pk}/", body, 200, record.version)
        family.remember(key, body)
    family.values[("statement", "quote")] = quote
    return family.refresh()


# Writing through the admin


def admin_save(client, url, changes, new_inline_forms=None):
    """Open an admin add or change form, fill in ``changes``, and save it."""
    page = client.get(url)
    assert page.status_code == 200, url
    data = form_data(page)
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        for values in (new_inline_forms or {}).get(formset.model, []):
            number = int(data[f"{formset.prefix}-TOTAL_FORMS"])
            data.update({f"{formset.prefix}-{number}-{k}": v for k, v in values.items()})
            data[f"{formset.prefix}-TOTAL_FORMS"] = number + 1
    data.update(changes)
    response = client.post(url, data)
    if response.status_code != 302:
        context = response.context
        errors = context and context["adminform"].form.errors
        inlines = context and [
            inline.formset.errors for inline in context["inline_admin_formsets"]
        ]
        raise AssertionError(f"{url} answered {response.status_code}: {errors} {inlines}")
    return response


def build_admin_family(family, client):
    """Every record added through its add form, then changed through its change form."""

    def add(key, model, lookup, fields, new_inline_forms=None):
        url = f"/admin/positions/{model._meta.model_name}/add/"
        admin_save(client, url, {**corpus_values("admin", key), **fields}, new_inline_forms)
        family.records[key] = model.objects.get(**lookup)
        return family.records[key].pk

    party = add("party", Party, {"code": "XSB"}, {"code": "XSB", "sort_order": 5})
    actor = add(
        "actor",
        Actor,
        {"slug": "xss-admin-actor"},
        {"slug": "xss-admin-actor", "kind": "person", "party": party},
    )
    topic = add(
        "topic", Topic, {"slug": "xss-admin-topic"}, {"slug": "xss-admin-topic", "sort_order": 1}
    )
    add(
        "spare-topic",
        Topic,
        {"slug": "xss-admin-spare-topic"},
        {"slug": "xss-admin-spare-topic", "sort_order": 2},
    )
    text, quote = source_text("admin")
    family.texts["source"] = text
    source = add(
        "source",
        Source,
        {"sha256": Source.text_hash(text)},
        {"published_on": DATE, "published_on_precision": "day", "url": ACCEPTED_URL, "text": text},
    )
    meeting = add(
        "meeting",
        Meeting,
        {"slug": "xss-admin-meeting"},
        {
            "slug": "xss-admin-meeting",
            "kind": "bilateral",
            "status": "held",
            "starts_on": DATE,
            "date_precision": "day",
            "participants": [actor],
            "source": source,
        },
    )
    parameter = {"limit": "ceiling", "value": 1500, "applies_to": "each_party", "sort_order": 0}
    proposal = add(
        "proposal",
        Proposal,
        {"slug": "xss-admin-proposal"},
        {
            "slug": "xss-admin-proposal",
            "party": party,
            "actor": actor,
            "topics": [topic],
            "status": "proposed",
            "meeting": meeting,
            "proposed_on": DATE,
            "proposed_on_precision": "day",
            "source": source,
        },
        {ProposalParameter: [{**corpus_values("admin", "parameter"), **parameter}]},
    )
    family.records["parameter"] = ProposalParameter.objects.get(proposal=proposal)
    add(
        "statement",
        Statement,
        {"source": source},
        {
            "source": source,
            "quote": quote,
            "actor": actor,
            "kind": "direct_quote",
            "stance": "supports",
            "stated_on": DATE,
            "stated_on_precision": "day",
            "stated_until_precision": "day",
            "certainty": "firm",
            "meeting": meeting,
            "meeting_relation": "said_at",
            "proposal": proposal,
            "proposal_stance": "puts_forward",
            "topic_links-0-topic": topic,
        },
    )
    family.values[("statement", "quote")] = quote
    for key, record in list(family.records.items()):
        if key == "parameter":
            continue  # changed with its proposal, in the proposal's form
        values = corpus_values("admin", key, edition=2)
        changes = dict(values)
        if key == "proposal":
            numbers = corpus_values("admin", "parameter", edition=2)
            changes.update({f"parameters-0-{name}": value for name, value in numbers.items()})
            family.remember("parameter", numbers)
        url = f"/admin/positions/{record._meta.model_name}/{record.pk}/change/"
        admin_save(client, url, changes)
        family.remember(key, values)
    return family.refresh()


# Writing through the editors' pages


def build_web_family(family, client):
    """Sources added (pasted and uploaded) and edited, a statement captured and edited."""
    party = PartyFactory(code="XSC", name="Corpus side", sort_order=5)
    topic = TopicFactory(slug="xss-web-topic", name="Corpus topic", sort_order=1)
    family.records.update({"party": party, "topic": topic})

    def add_source(key, **data):
        values = corpus_values("web", key)
        fields = {**values, "published_on": DATE, "published_on_precision": "day"}
        response = client.post("/sources/new/", {**fields, **data})
        assert response.status_code == 302, response.content.decode()[:3000]
        family.records[key] = Source.objects.get(title=values["title"])
        family.remember(key, values)
        return family.records[key]

    text, quote = source_text("web")
    source = add_source("source", text=text, url=ACCEPTED_URL)
    # Edited on the site: new title, publisher and note, and a line added to the text.
    text += "\n" + corpus_text(2000, 4)
    family.texts["source"] = text
    values = corpus_values("web", "source", edition=2)
    response = client.post(
        f"/sources/{source.pk}/edit/",
        {
            **values,
            "text": text,
            "published_on": DATE,
            "published_on_precision": "day",
            "url": ACCEPTED_URL,
            "based_on_version": source.version,
            "based_on_values": "{}",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    family.remember("source", values)

    # Uploaded: a web page whose text is markup (written as entities, so that it is text
    # and not tags), and a plain text file.
    first, second = corpus_text(2000, 2), corpus_text(2000, 9)
    page = (
        f"<html><head><title>{html_escape(first)}</title></head><body>"
        f"<p>{html_escape(first)}</p><script>alert(2)</script>"
        f'<p onclick="alert(3)">{html_escape(second)}</p></body></html>'
    )
    add_source("html-upload", upload=SimpleUploadedFile("page.html", page.encode()))
    family.texts["html-upload"] = f"{first}\n{second}"
    plain = f"{corpus_text(2000, 5)}\n\t{FORMULA_STARTS['equals']} {corpus_text(200, 6)}"
    add_source("text-upload", upload=SimpleUploadedFile("plain.txt", plain.encode()))
    family.texts["text-upload"] = plain

    # Captured by selection, with a new actor, as htmx posts it.
    start = text.index(quote)
    actor = corpus_values("web", "actor")
    note = corpus_values("web", "statement")["note"]
    capture = {
        "start": start,
        "end": start + len(quote),
        "source_sha256": Source.objects.get(pk=source.pk).sha256,
        "topics": [topic.pk],
        "stance": "supports",
        "kind": "direct_quote",
        "stated_on": DATE,
        "stated_on_precision": "day",
        "based_on_version": "",
        "based_on_values": "",
    }
    response = client.post(
        f"/sources/{source.pk}/capture/",
        {
            **capture,
            "new_actor_name": actor["name"],
            "new_actor_prefix": actor["honorific_prefix"],
            "new_actor_party": party.pk,
            "new_actor_role": actor["role"],
            "note": note,
        },
        headers=HTMX,
    )
    assert response.status_code == 200, response.content.decode()[:3000]
    family.responses.append(("the capture's answer (htmx)", response))
    statement = Statement.objects.get(source=source)
    family.records.update({"statement": statement, "actor": statement.actor})
    family.remember("actor", {name: actor[name] for name in ("name", "honorific_prefix", "role")})
    family.values[("statement", "quote")] = quote

    # Edited on the site: a new note.
    note = corpus_values("web", "statement", edition=2)["note"]
    response = client.post(
        f"/statements/{statement.pk}/edit/",
        {
            **capture,
            "actor": statement.actor_id,
            "note": note,
            "based_on_version": statement.version,
            "based_on_values": "{}",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    family.values[("statement", "note")] = note
    return family.refresh()


def remove(families):
    """Delete what the families wrote, and its history, records that others cite last."""
    order = [Statement, ProposalParameter, Proposal, Meeting, Actor, Source, Topic, Party]
    written = {model: [] for model in order}
    for family in families.values():
        for record in family.records.values():
            written[type(record)].append(record.pk)
    for model, pks in written.items():
        model.objects.filter(pk__in=pks).delete()
    for model, pks in written.items():
        model.history.filter(id__in=pks).delete()


@pytest.fixture(scope="module")
def corpus_editor(django_db_setup, django_db_blocker):
    """An editor of the module's own: the conftest's is made again for every test."""
    with django_db_blocker.unblock():
        user = Group.objects.get(name="Editors").user_set.create(
            username="xss-editor", is_staff=True
        )
    yield user
    with django_db_blocker.unblock():
        LogEntry.objects.filter(user=user).delete()
        user.delete()


@pytest.fixture(scope="module")
def families(corpus_editor, django_db_blocker):
    """The corpus, written once by an editor through each write path."""
    written = {path: Family(path) for path in FAMILIES}
    with django_db_blocker.unblock():
        browser = Client()
        sign_in(browser, corpus_editor)
        try:
            build_api_family(written["api"], corpus_editor)
            build_admin_family(written["admin"], browser)
            build_web_family(written["web"], browser)
        except BaseException:
            remove(written)
            raise
    yield written
    with django_db_blocker.unblock():
        remove(written)


@pytest.fixture(params=FAMILIES)
def family(request, families, db):
    return families[request.param]


@pytest.fixture
def anonymous():
    return Client()


@pytest.fixture
def editor_browser(corpus_editor, db):
    browser = Client()
    sign_in(browser, corpus_editor)
    return browser


# Reading what is served


class MarkupAudit(HTMLParser):
    """Elements and attributes in a page that only an unescaped payload would make."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems = []
        self.in_script = False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            value = value or ""
            htmx_name = name.removeprefix("data-")
            if name.startswith("on"):
                self.problems.append(f"<{tag}> has an event handler {name}={value!r}")
            if htmx_name.startswith("hx-on"):
                self.problems.append(f"<{tag}> has {name}={value!r}")
            if htmx_name in HTMX_REQUESTS and "/admin/" in value:
                self.problems.append(f"<{tag}> has {name}={value!r}")
            if htmx_name == "hx-trigger" and value.strip() == "load":
                self.problems.append(f"<{tag}> has {name}={value!r}")
            if name in URL_ATTRIBUTES and value.strip().lower().startswith(SCRIPT_SCHEMES):
                self.problems.append(f"<{tag}> has a script URL, {name}={value!r}")
            if tag == "img" and name == "src" and value == "x":
                self.problems.append("an <img src=x>")
        if tag == "script":
            attributes = dict(attrs)
            if not attributes.get("src") and not (attributes.get("type") or "").endswith("json"):
                self.problems.append("an inline <script>")
            self.in_script = True

    def handle_endtag(self, tag):
        if tag == "script":
            self.in_script = False

    def handle_data(self, data):
        if self.in_script and "alert" in data:
            self.problems.append(f"a script that runs {data[:60]!r}")


def html_problems(label, response, shown=(), status=200):
    """
    What is wrong with an HTML answer: markup or attributes that the corpus would make if
    it were not escaped, or a value that should be shown, as escaped text, and is not.
    """
    if response.status_code != status:
        return [f"{label}: status {response.status_code}, not {status}"]
    problems = []
    if not response["Content-Type"].startswith("text/html"):
        problems.append(f"{label}: served as {response['Content-Type']}")
    body = response.content.decode()
    problems += [f"{label}: raw {needle!r}" for needle in FORBIDDEN if needle in body]
    audit = MarkupAudit()
    audit.feed(body)
    audit.close()
    problems += [f"{label}: {problem}" for problem in audit.problems]
    problems += [
        f"{label}: {value[:50]!r}… is not shown as escaped text"
        for value in shown
        if value and escape(value) not in body
    ]
    return problems


def check_pages(client, pages, headers=None, status=200):
    problems = []
    for url, shown in pages:
        response = client.get(url, headers=headers or {})
        problems += html_problems(url, response, shown, status)
        if headers == HTMX:
            assert b"<html" not in response.content, f"{url} is a whole page, not a fragment"
    assert not problems, "\n".join(problems)


def query(path, **params):
    return f"{path}?{urlencode(params)}"


# Stored exactly


def test_every_write_path_stores_the_corpus_exactly(family):
    stored = {(key, name): getattr(family.record(key), name) for key, name in family.values}
    assert stored == family.values
    for key, text in family.texts.items():
        assert family.record(key).text == text
    # The whitespace-led formula that starts the quote is kept, not trimmed.
    assert family.record("statement").quote.startswith(QUOTE_STARTS[family.path])


def test_every_free_text_field_holds_markup_and_most_start_with_a_formula(family):
    values = list(family.values.values())
    assert all(any(payload in value for payload in MARKUP) for value in values)
    text_fields = [
        value
        for (key, name), value in family.values.items()
        if name in FREE_TEXT.get(key, {}) and FREE_TEXT[key][name] is None
    ]
    assert text_fields and all(payload in value for value in text_fields for payload in MARKUP)
    starts = {value.split(" ")[0] for value in values if value.startswith(FORMULA_CHARACTERS)}
    assert len(starts) >= 4, starts


# Pages


def public_pages(family):
    statement = family.record("statement")
    actor, topic = statement.actor, family.record("topic")
    v = family.value
    everywhere = [actor.label, v("actor", "role"), statement.quote]
    meeting = family.shown(("meeting", "title"), ("meeting", "location"))
    pages = [
        (
            "/",
            everywhere
            + [str(actor)]
            + family.shown(
                ("party", "name"), ("topic", "name"), ("proposal", "title"), ("meeting", "title")
            ),
        ),
        (
            query(
                "/",
                topic=topic.slug,
                party=statement.party.code,
                actor=actor.pk,
                stance="supports",
                kind="direct_quote",
                q="alert",
            ),
            everywhere + [v("topic", "name")],
        ),
        (
            statement.get_absolute_url(),
            everywhere
            + meeting
            + family.shown(
                ("party", "name"),
                ("topic", "name"),
                ("proposal", "title"),
                ("source", "title"),
                ("source", "publisher"),
                ("statement", "note"),
            )
            + [statement.citation(f"http://testserver{statement.get_absolute_url()}")],
        ),
        (
            "/sources/",
            [family.value(key, name) for key in family.texts for name in ("title", "publisher")],
        ),
        ("/actors/", [actor.label, v("actor", "role")] + family.shown(("party", "name"))),
        (
            actor.get_absolute_url(),
            everywhere
            + family.shown(
                ("actor", "note"), ("topic", "name"), ("meeting", "title"), ("proposal", "title")
            ),
        ),
        (
            topic.get_absolute_url(),
            [statement.quote] + family.shown(("topic", "name"), ("topic", "description")),
        ),
        (query(topic.get_absolute_url(), party=statement.party.code), [statement.quote]),
        ("/meetings/", meeting + family.shown(("meeting", "summary"))),
        (
            "/proposals/",
            family.shown(
                ("proposal", "title"),
                ("proposal", "description"),
                ("parameter", "quantity"),
                ("parameter", "unit"),
            ),
        ),
    ]
    for key, text in family.texts.items():
        lines = [line for line in text.split("\n") if line.strip()]
        url = family.records[key].get_absolute_url()
        fields = family.shown((key, "title"), (key, "publisher"), (key, "note"))
        pages.append((url, fields + lines))
    if "meeting" in family.records:
        pages.append((family.records["meeting"].get_absolute_url(), meeting))
        pages.append((family.records["proposal"].get_absolute_url(), [v("proposal", "title")]))
    return pages


def test_public_pages_show_the_corpus_as_escaped_text(family, anonymous):
    check_pages(anonymous, public_pages(family))


def test_public_pages_show_editors_the_corpus_as_escaped_text(family, editor_browser):
    check_pages(editor_browser, public_pages(family))


def test_template_syntax_in_the_corpus_is_shown_as_written_never_run(family, anonymous):
    statement = family.record("statement")
    page = anonymous.get(statement.get_absolute_url()).content.decode()
    note = page.split("Editor's note")[1]
    assert "{{ 7*7 }}" in note and "{% debug %}" in note and "${7*7}" in note
    assert "'False': False" not in page  # what {% debug %} would print


def test_a_valid_url_with_markup_in_it_stays_inside_its_link(family, anonymous):
    class Links(HTMLParser):
        def __init__(self):
            super().__init__()
            self.hrefs = []

        def handle_starttag(self, tag, attrs):
            if tag == "a":
                self.hrefs.append(dict(attrs).get("href"))

    source = family.record("source")
    assert source.url == ACCEPTED_URL
    links = Links()
    links.feed(anonymous.get(source.get_absolute_url()).content.decode())
    assert ACCEPTED_URL in links.hrefs


def test_htmx_fragments_show_the_corpus_as_escaped_text(family, anonymous):
    statement = family.record("statement")
    topic = family.record("topic")
    shown = [statement.quote, statement.actor.label]
    pages = [
        ("/", shown + [family.value("topic", "name")]),
        (query("/", topic=topic.slug, q="alert"), shown),
        (query("/", actor=statement.actor_id, party=statement.party.code), shown),
        (topic.get_absolute_url(), shown),
        (query(topic.get_absolute_url(), party=statement.party.code, q="alert"), shown),
    ]
    check_pages(anonymous, pages, headers=HTMX)


def capture_panels(family):
    """The editors' panels of a source's page, each with what it shows of the corpus."""
    statement = family.record("statement")
    source = family.record("source")
    actor = statement.actor
    choice = f"{actor.label} ({actor.party.code}) — {actor.role}"
    url = f"/sources/{source.pk}/"
    return [
        # A selection is shown without the whitespace at its edges.
        (
            query(f"{url}capture/", start=statement.start, end=statement.end),
            [statement.quote.strip(), choice],
        ),
        (query(f"{url}find/", words="alert(1)"), []),
        (query(f"{url}find/", words=MARKUP[0]), [MARKUP[0]]),
        (query(f"{url}find/", words="<svg onload=alert(2)>"), ["<svg onload=alert(2)>"]),
        (f"{url}suggestions/", [SUGGESTED]),
        (f"/statements/{statement.pk}/edit/", [statement.quote, statement.note, choice]),
    ]


def test_editor_pages_show_the_corpus_as_escaped_text(family, editor_browser):
    source = family.record("source")
    statement = family.record("statement")
    statement.save()  # the latest change, at the top of the recent changes
    fields = family.shown(*[("source", name) for name in FREE_TEXT["source"]])
    pages = [(url, shown + [source.title]) for url, shown in capture_panels(family)]
    pages += [
        (f"/sources/{source.pk}/edit/", fields + [family.texts["source"]]),
        ("/changes/", [f"“{excerpt(statement.quote, 70)}”"]),
        ("/sources/new/", []),
    ]
    check_pages(editor_browser, pages)


def test_editor_panels_show_the_corpus_as_escaped_text(family, editor_browser):
    check_pages(editor_browser, capture_panels(family), headers=HTMX)


def test_the_answer_to_a_capture_shows_the_corpus_as_escaped_text(families, db):
    family = families["web"]
    statement = family.record("statement")
    problems = []
    for label, response in family.responses:
        problems += html_problems(label, response, [statement.actor.label, statement.quote])
    assert family.responses and not problems, "\n".join(problems)


def test_statements_to_review_show_the_corpus_as_escaped_text(family, editor_browser):
    source = family.record("source")
    quote = family.value("statement", "quote")
    source.text = f"A new opening.\n{quote}\nIn between.\n{quote}\nThe end."
    source.save()
    statement = family.record("statement")
    assert statement.needs_review and "not carried over" in statement.review_note
    shown = [quote, statement.actor.label, source.title, statement.review_note]
    pages = [
        ("/review/", shown),
        (statement.get_absolute_url(), [quote, statement.review_note]),
        (source.get_absolute_url(), [source.title, quote]),
    ]
    check_pages(editor_browser, pages)
    review = editor_browser.get("/review/").content.decode()
    # Where it was, and both places it could be now.
    assert review.count(f"<mark>{escape(quote)}</mark>") == 3


def test_refusals_that_name_stored_records_show_them_as_escaped_text(family, editor_browser):
    """A duplicate source, a capture made twice, a stale edit: each names what is stored."""
    source = family.record("source")
    statement = family.record("statement")
    problems = []
    if intake.text_from_paste(source.text) == source.text:
        duplicate = editor_browser.post(
            "/sources/new/",
            {"title": "Again", "published_on_precision": "day", "text": source.text},
        )
        problems += html_problems("duplicate source", duplicate, [source.title], status=400)
    twice = editor_browser.post(
        f"/sources/{source.pk}/capture/",
        {
            "start": statement.start,
            "end": statement.end,
            "source_sha256": source.sha256,
            "actor": statement.actor_id,
            "topics": [family.records["topic"].pk],
            "stance": "supports",
            "kind": "direct_quote",
            "stated_on_precision": "day",
        },
        headers=HTMX,
    )
    problems += html_problems("capture made twice", twice, [str(statement.actor)], status=400)
    stale = editor_browser.post(
        f"/sources/{source.pk}/edit/",
        {
            "title": "My title",
            "published_on_precision": "day",
            "text": source.text.replace("\r", ""),
            "based_on_version": source.version - 1,
            "based_on_values": json.dumps({"title": "The old title"}),
        },
    )
    problems += html_problems("stale edit", stale, [f"now “{source.title}”"], status=400)
    assert not problems, "\n".join(problems)


def test_searches_and_words_sent_with_markup_are_shown_as_escaped_text(family, anonymous):
    words = corpus_text(200, FAMILIES.index(family.path))
    topic = family.record("topic")
    pages = [(query("/", q=words), [words]), (query(topic.get_absolute_url(), q=words), [words])]
    check_pages(anonymous, pages)
    check_pages(anonymous, [(query("/", q=words), [])], headers=HTMX)


def test_links_that_keep_the_query_string_show_it_as_escaped_text(family, editor_browser):
    statement = family.record("statement")
    for number in range(51):  # a second page of recent changes
        statement.note = f"Note {number}"
        statement.save()
    markup = MARKUP[1]
    response = editor_browser.get("/changes/", {markup: markup, "page": "1"})
    problems = html_problems("/changes/", response)
    assert "Older changes" in response.content.decode() and not problems, problems


# The admin


ADMIN_COLUMNS = {
    "party": ["name"],
    "actor": ["name", "honorific_prefix", "role"],
    "topic": ["name"],
    "spare-topic": ["name"],
    "source": ["title", "publisher"],
    "meeting": ["title", "location"],
    "proposal": ["title"],
    "parameter": ["quantity", "unit"],
}


def admin_url(record, view="change", *args):
    name = record._meta.model_name
    if view == "changelist":
        return f"/admin/positions/{name}/"
    return f"/admin/positions/{name}/{record.pk}/{view}/" + "".join(f"{arg}/" for arg in args)


def test_admin_lists_show_the_corpus_as_escaped_text(family, editor_browser):
    statement = family.record("statement")
    link = statement.topic_links.get()
    pages = {}
    for key, record in family.records.items():
        shown = family.shown(*[(key, name) for name in ADMIN_COLUMNS.get(key, [])])
        pages.setdefault(admin_url(record, "changelist"), []).extend(shown)
    pages[admin_url(statement, "changelist")].append(excerpt(statement.quote, 90))
    pages[admin_url(link, "changelist")] = [str(link)]
    source = family.record("source")
    pages[query("/admin/positions/statement/", q=MARKUP[0])] = [MARKUP[0]]
    pages[query("/admin/positions/source/", publisher__exact=source.publisher)] = [source.title]
    pages[query("/admin/positions/actor/", q="alert")] = [statement.actor.name]
    check_pages(editor_browser, list(pages.items()))


def test_admin_change_forms_show_the_corpus_as_escaped_text(family, editor_browser):
    statement = family.record("statement")
    link = statement.topic_links.get()
    pages = [
        (admin_url(record), list(family.of(key).values()) + [str(record)])
        for key, record in family.refresh().records.items()
    ]
    pages.append((admin_url(link), [str(link)]))
    for key, text in family.texts.items():
        pages.append((admin_url(family.records[key]), [text]))
    check_pages(editor_browser, pages)


def test_admin_history_views_show_the_corpus_as_escaped_text(family, editor_browser):
    pages = []
    for key, record in family.refresh().records.items():
        rows = list(type(record).history.filter(id=record.pk).order_by("history_date"))
        pages.append((admin_url(record, "history"), [str(record), rows[-1].label]))
        # The revert form of the first version shows that version's values.
        first = rows[0]
        shown = [getattr(first, name) for name in FREE_TEXT.get(key, {})]
        pages.append((admin_url(record, "history", first.history_id), shown))
    check_pages(editor_browser, pages)


@pytest.mark.parametrize("key", ["party", "topic"])
def test_admin_revert_forms_of_parties_and_topics_show_the_corpus_as_escaped_text(
    families, editor_browser, key
):
    record = families["admin"].record(key)
    first = type(record).history.filter(id=record.pk).earliest("history_date")
    url = admin_url(record, "history", first.history_id)
    check_pages(editor_browser, [(url, [first.name])])


def test_admin_delete_and_deleted_views_show_the_corpus_as_escaped_text(family, editor_browser):
    key = "text-upload" if family.path == "web" else "spare-topic"
    record = family.record(key)
    pages = [(admin_url(record, "delete"), [str(record)])]
    for cited in ("actor", "source", "topic"):
        pages.append((admin_url(family.records[cited], "delete"), [str(family.record(cited))]))
    check_pages(editor_browser, pages)
    assert editor_browser.post(admin_url(record, "delete"), {"post": "yes"}).status_code == 302
    deletion = type(record).history.get(id=record.pk, history_type="-")
    deleted = f"/admin/positions/{record._meta.model_name}/deleted/"
    # The admin's log keeps the first 200 characters of what it names.
    recent = ("/admin/", [str(record)[:200]])
    check_pages(editor_browser, [(deleted, [deletion.label]), recent])


def test_a_restored_source_is_named_as_escaped_text(families, editor_browser):
    source = families["web"].record("text-upload")
    editor_browser.post(admin_url(source, "delete"), {"post": "yes"})
    deletion = Source.history.get(id=source.pk, history_type="-")
    url = f"/admin/positions/source/deleted/{deletion.history_id}/restore/"
    restored = editor_browser.post(url, follow=True)
    problems = html_problems("restored", restored, [f"Restored “{source}”.", source.text])
    assert not problems, "\n".join(problems)


def test_a_restored_topic_is_named_as_escaped_text(families, editor_browser):
    topic = families["admin"].record("spare-topic")
    editor_browser.post(admin_url(topic, "delete"), {"post": "yes"})
    deletion = Topic.history.get(id=topic.pk, history_type="-")
    url = f"/admin/positions/topic/deleted/{deletion.history_id}/restore/"
    restored = editor_browser.post(url, follow=True)
    problems = html_problems("restored", restored, [f"Restored “{topic}”."])
    assert not problems, "\n".join(problems)


def test_an_admin_conflict_shows_both_versions_as_escaped_text(family, editor_browser):
    actor = family.record("actor")
    url = admin_url(actor)
    data = form_data(editor_browser.get(url))
    data["based_on_version"] = actor.version - 1
    data["based_on_values"] = json.dumps({"name": "An older name"})
    response = editor_browser.post(url, data)
    problems = html_problems("conflict", response, [f"was “An older name”, now “{actor.name}”"])
    assert not problems, "\n".join(problems)


def test_admin_autocomplete_answers_the_corpus_as_json_data(family, editor_browser):
    actor = family.record("actor")
    response = editor_browser.get(
        "/admin/autocomplete/",
        {"app_label": "positions", "model_name": "statement", "field_name": "actor", "term": ""},
    )
    assert response["Content-Type"].startswith(JSON)
    results = {item["id"]: item["text"] for item in response.json()["results"]}
    assert results[str(actor.pk)] == str(actor)


# The API


RESOURCES = {
    "party": "parties",
    "actor": "actors",
    "topic": "topics",
    "spare-topic": "topics",
    "source": "sources",
    "meeting": "meetings",
    "proposal": "proposals",
    "statement": "statements",
}


def test_the_api_answers_the_corpus_as_exact_json_data(family, anonymous):
    for key, resource in RESOURCES.items():
        if key not in family.records:
            continue
        record = family.record(key)
        response = anonymous.get(f"/api/v1/{resource}/{record.pk}/")
        assert response["Content-Type"] == JSON, key
        data = json.loads(response.content)
        assert {name: data[name] for name in family.of(key)} == family.of(key), key
        listed = anonymous.get(f"/api/v1/{resource}/", {"page_size": 500})
        assert listed["Content-Type"] == JSON
        (item,) = [item for item in listed.json()["results"] if item["id"] == record.pk]
        shown = {name: item[name] for name in family.of(key) if name in item}
        assert shown == {name: family.value(key, name) for name in shown}, key
    source = family.record("source")
    assert anonymous.get(f"/api/v1/sources/{source.pk}/").json()["text"] == source.text
    if "parameter" in family.values:
        proposal = anonymous.get(f"/api/v1/proposals/{family.records['proposal'].pk}/").json()
        (numbers,) = proposal["parameters"]
        assert {name: numbers[name] for name in FREE_TEXT["parameter"]} == family.of("parameter")


def test_the_comparison_and_the_annotations_carry_the_corpus_as_exact_json(family, anonymous):
    statement = family.record("statement")
    topic = family.record("topic")
    response = anonymous.get("/api/v1/comparison/", {"topic": topic.slug})
    assert response["Content-Type"] == JSON
    (row,) = response.json()["topics"]
    assert row["topic"]["name"] == topic.name
    (cell,) = [cell for cell in row["parties"] if cell["party"] == statement.party.code]
    (listed,) = cell["statements"]
    assert (listed["quote"], listed["actor"]["name"]) == (statement.quote, statement.actor.name)
    if "proposal" in family.records:
        (proposal,) = cell["proposals"]
        assert proposal["title"] == family.value("proposal", "title")
    if "parameter" in family.records:
        (numbers,) = proposal["parameters"]
        assert (numbers["quantity"], numbers["unit"]) == (
            family.value("parameter", "quantity"),
            family.value("parameter", "unit"),
        )

    response = anonymous.get("/api/v1/statements/annotations/", {"actor": statement.actor_id})
    assert response["Content-Type"].startswith("application/ld+json")
    (item,) = response.json()["items"]
    assert item["target"]["selector"][0]["exact"] == statement.quote
    assert item["body"][0]["value"].startswith(f"{statement.actor.name} (")
    assert item["body"][0]["format"] == "text/plain"


@pytest.mark.parametrize(
    "accept", ["text/html", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"]
)
def test_the_api_never_answers_with_an_html_page(family, anonymous, accept):
    statement = family.record("statement")
    urls = [
        f"/api/v1/{resource}/{family.records[key].pk}/"
        for key, resource in RESOURCES.items()
        if key in family.records
    ]
    urls += [
        query("/api/v1/statements/", actor=statement.actor_id),
        query("/api/v1/comparison/", topic=family.records["topic"].slug),
        query("/api/v1/statements/annotations/", actor=statement.actor_id),
        "/api/v1/statements/csv/",
        "/api/v1/nowhere/",
    ]
    for url in urls:
        response = anonymous.get(url, headers={"Accept": accept})
        assert not response["Content-Type"].startswith("text/html"), (url, response.status_code)
        if response["Content-Type"].startswith(JSON):
            json.loads(response.content)


# CSV exports


def csv_table(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text, newline="")))


def formula_cells(table):
    """Every cell a spreadsheet would run as a formula."""
    return [
        (number, cell)
        for number, row in enumerate(table)
        for cell in row
        if cell.startswith(FORMULA_CHARACTERS)
    ]


def exported(table, pk):
    """The rows of the record ``pk`` in an export, by column name."""
    header, *rows = table
    return [dict(zip(header, row, strict=True)) for row in rows if row[0] == str(pk)]


def assert_neutralised(row, values):
    """Each value is in its column, an apostrophe before it if it starts a formula."""
    assert {name: row[name] for name in values} == {
        name: safe_cell(value) for name, value in values.items()
    }


def test_every_csv_export_neutralises_the_corpus_formulas(family, anonymous):
    statement = family.record("statement")
    statements = csv_table(anonymous, "/api/v1/statements/csv/")
    proposals = csv_table(anonymous, "/api/v1/proposals/csv/")
    meetings = csv_table(anonymous, "/api/v1/meetings/csv/")
    for table in (statements, proposals, meetings):
        assert formula_cells(table) == []
    values = {
        "actor": statement.actor.name,
        "actor_role": statement.actor.role,
        "quote": statement.quote,
        "source_title": statement.source.title,
    }
    if statement.meeting_id:
        values |= {"meeting": statement.meeting.title, "proposal": statement.proposal.title}
    (row,) = exported(statements, statement.pk)
    assert_neutralised(row, values)
    assert row["quote"] == "'" + statement.quote  # it starts with a tab or a CR
    assert len([value for value in values.values() if value != safe_cell(value)]) >= 2
    if "proposal" in family.records:
        proposal = family.record("proposal")
        (row,) = exported(proposals, proposal.pk)
        numbers = {name: family.value("parameter", name) for name in ("quantity", "unit")}
        assert_neutralised(row, {"title": proposal.title, **(numbers if numbers["unit"] else {})})
        meeting = family.record("meeting")
        (row,) = exported(meetings, meeting.pk)
        assert_neutralised(
            row, {name: getattr(meeting, name) for name in ("title", "location", "summary")}
        )


@pytest.mark.parametrize("start", FORMULA_STARTS.values(), ids=FORMULA_STARTS.keys())
def test_a_formula_at_the_start_of_any_exported_text_is_neutralised(anonymous, start):
    party = PartyFactory(code="XSD")
    source = SourceFactory(title=f"{start}title", text=f"Opening.\n{start} quoted\nClosing.")
    actor = ActorFactory(name=f"{start}name", role=f"{start}role", party=party)
    meeting = MeetingFactory(
        title=f"{start}meeting", location=f"{start}place", summary=f"{start}summary"
    )
    proposal = ProposalFactory(title=f"{start}proposal", party=party)
    ProposalParameterFactory(proposal=proposal, quantity=f"{start}quantity", unit=f"{start}unit")
    statement = StatementFactory(
        actor=actor,
        source=source,
        quote=f"{start} quoted",
        meeting=meeting,
        proposal=proposal,
        topics=[TopicFactory(slug="formula-topic")],
    )
    statements = csv_table(anonymous, "/api/v1/statements/csv/?topic=formula-topic")
    proposals = csv_table(anonymous, "/api/v1/proposals/csv/?party=XSD")
    meetings = csv_table(anonymous, "/api/v1/meetings/csv/")
    for table in (statements, proposals, meetings):
        assert formula_cells(table) == []
    (row,) = exported(statements, statement.pk)
    columns = ("actor", "actor_role", "quote", "meeting", "proposal", "source_title")
    assert all(row[name].startswith("'" + start) for name in columns), row
    (row,) = exported(proposals, proposal.pk)
    assert [row[name] for name in ("title", "quantity", "unit")] == [
        f"'{start}proposal",
        f"'{start}quantity",
        f"'{start}unit",
    ]
    (row,) = exported(meetings, meeting.pk)
    assert [row[name] for name in ("title", "location", "summary")] == [
        f"'{start}meeting",
        f"'{start}place",
        f"'{start}summary",
    ]


def test_numbers_dates_and_plain_text_are_exported_as_they_are(anonymous):
    statement = StatementFactory(quote="Ivanov", stated_on=datetime.date(2001, 8, 13))
    (row,) = exported(csv_table(anonymous, "/api/v1/statements/csv/"), statement.pk)
    assert (row["quote"], row["start"], row["stated_on"]) == ("Ivanov", "0", "2001-08-13")
    # No exported number can be negative (the models' fields and constraints); one that
    # were would be prefixed like text.
    assert (safe_cell(-5), safe_cell(5), safe_cell(None)) == ("'-5", "5", "")


# URLs that would run script


def source_form(**fields):
    return {
        "title": "A source",
        "published_on": DATE,
        "published_on_precision": "day",
        "text": "Some text.",
        **fields,
    }


def refused_by_the_api(client, url):
    source = SourceFactory()
    created = client.post(
        "/api/v1/sources/", source_form(url=url, text="Other text."), content_type=JSON
    )
    changed = client.patch(
        f"/api/v1/sources/{source.pk}/",
        {"url": url},
        content_type=JSON,
        headers={"If-Match": f'"{source.version}"'},
    )
    for response in (created, changed):
        assert response.status_code == 400, response.content
        assert response["Content-Type"] == JSON
        assert response.json()["url"] == ["Enter a valid URL."]
    return source


def refused_by_the_admin(client, url):
    source = SourceFactory()
    added = client.post("/admin/positions/source/add/", source_form(url=url, text="Other."))
    data = form_data(client.get(admin_url(source)))
    changed = client.post(admin_url(source), {**data, "url": url})
    for response in (added, changed):
        assert response.context["adminform"].form.errors["url"] == ["Enter a valid URL."]
        problems = html_problems("admin", response, [url.strip()])
        assert not problems, "\n".join(problems)
    return source


def refused_by_the_editors_pages(client, url):
    source = SourceFactory()
    added = client.post("/sources/new/", source_form(url=url, text="Other."))
    changed = client.post(
        f"/sources/{source.pk}/edit/",
        source_form(url=url, text=source.text, based_on_version=source.version),
    )
    for response in (added, changed):
        problems = html_problems("editors' pages", response, ["Enter a valid URL."], status=400)
        assert not problems, "\n".join(problems)
    return source


@pytest.mark.parametrize(
    "refused_by",
    [refused_by_the_api, refused_by_the_admin, refused_by_the_editors_pages],
    ids=["api", "admin", "web"],
)
@pytest.mark.parametrize("url", REFUSED_URLS.values(), ids=REFUSED_URLS.keys())
def test_a_url_that_would_run_script_is_refused_by_every_path(editor_browser, refused_by, url):
    source = refused_by(editor_browser, url)
    source.refresh_from_db()
    assert source.url == ""
    assert not Source.objects.filter(title="A source").exists()
