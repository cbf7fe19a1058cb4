"""
Statements saved while their source's text is being edited, on PostgreSQL: real threads,
each with its own client and database connection, one request 0–30 ms after the other.

A statement whose offsets were counted in the old text is either refused (400, 412), or
saved where its quote stands in the text it is stored with, and the edit of the text then
carries it over or flags it for review: never is it stored on offsets that do not hold its
quote in the current text, and neither request fails. Three ways in: the API's create,
the capture page, and the API's PATCH that moves a statement to other words; each races
an edit of the text (PATCH /api/v1/sources/<id>/) that inserts text before the quote, so
that its offsets shift, or changes the quote's own words.
"""

import random
import threading
import time
import traceback
from dataclasses import dataclass
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.core.signals import got_request_exception
from django.db import connection
from django.test import Client

from positions import quotes
from positions.models import AttributionKind, Source, Stance, Statement
from tests.accounts import sign_in
from tests.factories import ActorFactory, TopicFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

JSON = "application/json"
TRIALS = 100
MOST_DELAY = 0.030  # seconds between the two requests, at most

QUOTE = "We have no wish to withdraw from the treaty."
EARLIER = "The talks between the two ministers lasted three hours."


def article(tag):
    """A fresh text (sources are unique by their hash). A line longer than the context
    (32 characters) separates EARLIER from QUOTE, so that an edit near one leaves the
    other's context alone."""
    return (
        f"Report {tag}, Moscow.\n"
        f"{EARLIER}\n"
        "Officials on both sides described the atmosphere as businesslike and calm.\n"
        f"Ivanov said: “{QUOTE}”\n"
        "Rumsfeld said the United States needed fewer warheads than before.\n"
    )


INSERTIONS = ["As expected, ", "Officials confirmed it. ", "In a statement after the talks, "]
REWORDINGS = ["no intention of withdrawing", "no desire to withdraw", "no wish to leave"]


def insert_at_start(text, rng):
    """Shifts every statement on the text, and so raises their versions."""
    return rng.choice(INSERTIONS) + text


def insert_before_line(text, rng):
    """Shifts QUOTE, but leaves EARLIER and its context where they were."""
    at = text.index("Ivanov said")
    return text[:at] + rng.choice(INSERTIONS) + text[at:]


def insert_before_words(text, rng):
    """Shifts QUOTE and changes its context: a statement on it is flagged."""
    at = text.index(QUOTE)
    return text[:at] + rng.choice(INSERTIONS) + text[at:]


def reword(text, rng):
    return text.replace("no wish to withdraw", rng.choice(REWORDINGS))


EDITS = [insert_at_start, insert_before_line, insert_before_words, reword]


@pytest.fixture(autouse=True)
def postgresql():
    if connection.vendor == "sqlite":
        pytest.skip(
            "The in-memory SQLite test database cannot hold two writers at once (a second "
            "fails with 'database table is locked' instead of waiting; see the race tests "
            "in tests/test_api.py): these races run on PostgreSQL."
        )


TRACEBACKS = {}  # the traceback of a request that failed, by the thread that sent it


@pytest.fixture(autouse=True)
def request_tracebacks():
    """
    The test client keeps a failed request's exception where every client looks (its
    receiver has one dispatch_uid), so with two threads it may raise the other request's.
    The clients here answer 500 instead of raising, and each thread's traceback is kept.
    """

    def keep(sender, **kwargs):
        TRACEBACKS[threading.get_ident()] = traceback.format_exc()

    got_request_exception.connect(keep, dispatch_uid="race-tracebacks")
    yield
    got_request_exception.disconnect(dispatch_uid="race-tracebacks")


@dataclass
class Outcome:
    status: int | None = None
    body: str = ""
    error: str = ""  # the traceback, if the request raised

    def __str__(self):
        if self.error:
            return f"{self.status}, {self.error.strip().splitlines()[-1]}"
        return f"{self.status} {self.body[:200]}"


def race(write, edit, rng):
    """
    Send ``write`` and ``edit`` (each makes one request) from two threads, released
    together, one of them (chosen at random) 0–30 ms after the other. Each thread has its
    own database connection, closed when it is done.
    """
    released = threading.Barrier(2, timeout=15)
    late, delay = rng.randrange(2), rng.uniform(0, MOST_DELAY)
    outcomes = [Outcome(), Outcome()]

    def send(number, request):
        TRACEBACKS.pop(threading.get_ident(), None)  # a finished thread's, whose id is reused
        try:
            released.wait()
            if number == late:
                time.sleep(delay)
            response = request()
            outcomes[number].status = response.status_code
            outcomes[number].body = response.content.decode(errors="replace")
            outcomes[number].error = TRACEBACKS.pop(threading.get_ident(), "")
        except Exception:
            outcomes[number].error = traceback.format_exc()
        finally:
            connection.close()

    threads = [
        threading.Thread(target=send, args=(number, request))
        for number, request in enumerate((write, edit))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
        if thread.is_alive():
            pytest.fail("A request was still running after 30 s: a deadlock or a lock wait.")
    return outcomes


def anchoring_problems(source):
    """Each statement of ``source`` that is not on its quote, as a sentence; and what
    verify_quotes finds."""
    source.refresh_from_db()
    text, problems = source.text, []
    for statement in Statement.objects.filter(source=source, needs_review=False).order_by("pk"):
        start, end = statement.start, statement.end
        anchor = quotes.anchor_at(text, start, end)
        stored = (statement.prefix, statement.suffix, statement.source_sha256)
        if text[start:end] != statement.quote:
            problems.append(
                f"statement {statement.pk} is stored at {start}–{end} with the quote "
                f"{statement.quote!r}, but the text there reads {text[start:end]!r}"
            )
        elif stored != (anchor.prefix, anchor.suffix, source.sha256):
            problems.append(
                f"statement {statement.pk} is on its words, but its context and text hash "
                f"are not the current text's: {stored!r}"
            )
    errors = StringIO()
    try:
        call_command("verify_quotes", stdout=StringIO(), stderr=errors)
    except CommandError as error:
        problems.append(f"verify_quotes: {error} {errors.getvalue().strip()}")
    return problems


class Trials:
    """One source, given a fresh text for each trial; two signed-in editors' clients."""

    def __init__(self, editor, label):
        self.seed = random.randrange(2**32)
        self.rng = random.Random(self.seed)
        self.label = label
        self.writer = sign_in(Client(raise_request_exception=False), editor)
        self.text_editor = sign_in(Client(raise_request_exception=False), editor)
        self.actor = ActorFactory()
        self.topic = TopicFactory()
        self.source = Source.objects.create(title="Race", text=article(f"{label} setup"))
        self.off_quote = []  # trials that left a statement off its quote
        self.failures = []  # trials with any other failure
        self.first_traceback = ""

    def begin(self, number):
        """Give the source a fresh text with no statements; return it, its edit and how."""
        Statement.objects.filter(source=self.source).delete()
        self.source.text = old = article(f"{self.label} {number}")
        self.source.save()
        edit = EDITS[number % len(EDITS)]
        return old, edit(old, self.rng), edit.__name__

    def edit_text(self, new_text):
        url, version = f"/api/v1/sources/{self.source.pk}/", self.source.version
        return lambda: self.text_editor.patch(
            url, {"text": new_text}, content_type=JSON, headers={"If-Match": f'"{version}"'}
        )

    def judge(self, number, how, outcomes, expected, new_text, stored_as_answered):
        """Record what went wrong in a trial, in one line each: statements off their
        quotes apart from other failures (answers outside ``expected``, 500s, deadlocks,
        answers that do not say what was stored)."""
        write, text_edit = outcomes
        failed = []
        if write.status not in expected or write.error:
            failed.append(f"the statement write answered {write}")
        if text_edit.status != 200 or text_edit.error:
            failed.append(f"the text edit answered {text_edit}")
        failed += stored_as_answered(write.status)
        off_quote = anchoring_problems(self.source)
        if self.source.text != new_text:
            failed.append("the source's text is not the edited text")
        where = f"trial {number} ({how}, write {write.status}, text edit {text_edit.status})"
        if off_quote:
            self.off_quote.append(f"{where}: " + "; ".join(off_quote))
        if failed:
            self.failures.append(f"{where}: " + "; ".join(failed))
            self.first_traceback = self.first_traceback or write.error or text_edit.error

    @property
    def failed(self):
        return bool(self.off_quote or self.failures)

    def report(self):
        lines = [
            f"Of {TRIALS} trials (seed {self.seed}), {len(self.off_quote)} left a statement "
            f"off its quote, {len(self.failures)} answered unexpectedly.",
            *self.off_quote[:10],
            *self.failures[:10],
        ]
        if self.first_traceback:
            lines.append(f"The first failed request raised:\n{self.first_traceback}")
        return "\n".join(lines)


def create_trial(trials, number):
    """POST /api/v1/statements/ with offsets counted in the text before the edit."""
    old, new, how = trials.begin(number)
    source, start = trials.source, old.index(QUOTE)
    body = {
        "actor": trials.actor.pk,
        "source": source.pk,
        "topics": [trials.topic.slug],
        "quote": QUOTE,
        "selector": {"start": start, "end": start + len(QUOTE)},
        "stance": Stance.OPPOSES,
        "kind": AttributionKind.DIRECT_QUOTE,
    }

    def create():
        return trials.writer.post("/api/v1/statements/", body, content_type=JSON)

    def stored_as_answered(status):
        stored = list(Statement.objects.filter(source=source).values_list("quote", "topics__slug"))
        if stored != ([(QUOTE, trials.topic.slug)] if status == 201 else []):
            return [f"the create answered {status}, and the source holds {stored!r}"]
        return []

    outcomes = race(create, trials.edit_text(new), trials.rng)
    trials.judge(number, how, outcomes, {201, 400}, new, stored_as_answered)


def capture_trial(trials, number):
    """POST /sources/<id>/capture/ with the selection's offsets in the text before the edit."""
    old, new, how = trials.begin(number)
    source, start = trials.source, old.index(QUOTE)
    data = {
        "start": start,
        "end": start + len(QUOTE),
        # The quote the page showed, and the hash of the text it was selected in: the
        # form takes one or the other, depending on its version.
        "quote": QUOTE,
        "source_sha256": source.sha256,
        "actor": trials.actor.pk,
        "topics": [trials.topic.pk],
        "stance": Stance.OPPOSES,
        "kind": AttributionKind.DIRECT_QUOTE,
        "stated_on_precision": "day",
        "based_on_version": "",
        "based_on_values": "",
    }

    def capture():
        return trials.writer.post(f"/sources/{source.pk}/capture/", data)

    def stored_as_answered(status):
        stored = list(Statement.objects.filter(source=source).values_list("quote", "topics__slug"))
        if stored != ([(QUOTE, trials.topic.slug)] if status == 302 else []):
            return [f"the capture answered {status}, and the source holds {stored!r}"]
        return []

    outcomes = race(capture, trials.edit_text(new), trials.rng)
    trials.judge(number, how, outcomes, {302, 400}, new, stored_as_answered)


def patch_trial(trials, number):
    """PATCH a statement on EARLIER onto QUOTE, at QUOTE's offsets before the edit."""
    old, new, how = trials.begin(number)
    statement = Statement(
        actor=trials.actor,
        source=trials.source,
        quote=EARLIER,
        stance=Stance.OPPOSES,
        kind=AttributionKind.DIRECT_QUOTE,
    )
    statement.save()
    statement.topics.set([trials.topic])
    statement.refresh_from_db()  # setting its topics raised its version
    url, version = f"/api/v1/statements/{statement.pk}/", statement.version
    start = old.index(QUOTE)

    def move():
        return trials.writer.patch(
            url,
            {"quote": QUOTE, "selector": {"start": start, "end": start + len(QUOTE)}},
            content_type=JSON,
            headers={"If-Match": f'"{version}"'},
        )

    def stored_as_answered(status):
        quote = Statement.objects.values_list("quote", flat=True).get(pk=statement.pk)
        if quote != (QUOTE if status == 200 else EARLIER):
            return [f"the PATCH answered {status}, and the statement quotes {quote!r}"]
        return []

    outcomes = race(move, trials.edit_text(new), trials.rng)
    trials.judge(number, how, outcomes, {200, 400, 412}, new, stored_as_answered)


def run_trials(editor, label, trial):
    trials = Trials(editor, label)
    for number in range(TRIALS):
        trial(trials, number)
    return trials


def test_an_api_create_racing_an_edit_of_the_text_is_refused_or_anchored_to_the_new_text(
    editor,
):
    trials = run_trials(editor, "create", create_trial)
    assert not trials.failed, trials.report()


def test_a_capture_racing_an_edit_of_the_text_is_refused_or_anchored_to_the_new_text(editor):
    trials = run_trials(editor, "capture", capture_trial)
    assert not trials.failed, trials.report()


def test_a_quote_patch_racing_an_edit_of_the_text_is_refused_or_anchored_to_the_new_text(
    editor,
):
    trials = run_trials(editor, "patch", patch_trial)
    assert not trials.failed, trials.report()


def test_without_the_source_lock_a_create_racing_an_edit_stays_on_the_old_offsets(
    editor, monkeypatch
):
    """
    The lock is what the trials above rely on. With Source.locked locking nothing, and
    leaving each statement with the source it read before (as before the fix), a create
    that read the old text commits after the edit has carried the statements it could
    see, and stays on the old text's offsets.
    """
    monkeypatch.setattr(Source, "locked", staticmethod(lambda pks: {}))
    trials = Trials(editor, "unlocked")
    for number in range(TRIALS):
        create_trial(trials, number)
        if trials.off_quote:
            break
    assert trials.off_quote, f"No statement was left off its quote in {TRIALS} trials."
    assert "is stored at" in trials.off_quote[0], trials.report()
