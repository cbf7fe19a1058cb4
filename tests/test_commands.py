import json
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import models

from positions.models import Party, SeedEntry, Source, Statement
from tests.factories import SourceFactory, StatementFactory

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def run(*args):
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_verify_quotes_passes_when_every_quote_matches():
    StatementFactory.create_batch(3)
    out, err = run("verify_quotes")
    assert out.strip() == "All 3 statements match their sources exactly."
    assert err == ""


def test_verify_quotes_prints_each_mismatch_and_fails():
    good, bad = StatementFactory.create_batch(2)
    # Corrupt the row behind the model's back, as a bad import or a manual SQL fix might.
    # The same length, so that the database's own offsets check lets it through.
    models.QuerySet.update(Statement.objects.filter(pk=bad.pk), quote="X" + bad.quote[1:])
    with pytest.raises(CommandError, match="1 of 2 statements do not match"):
        run("verify_quotes")


def test_verify_quotes_reports_stale_context():
    statement = StatementFactory()
    models.QuerySet.update(Statement.objects.filter(pk=statement.pk), prefix="elsewhere")
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("verify_quotes", stdout=StringIO(), stderr=err)
    assert f"statement {statement.pk}" in err.getvalue()
    assert "the text around them does not" in err.getvalue()


def test_verify_quotes_reports_a_quote_moved_onto_look_alike_words():
    # The same words, said by two people: moving Ivanov's statement onto Rumsfeld's words
    # behind the model's back keeps the quote equal to the text at its offsets, but not
    # its context.
    text = (
        "At the press conference, Rumsfeld said no decision had been made; "
        "asked again later, Ivanov said no decision had been made."
    )
    statement = StatementFactory(
        source=SourceFactory(text=text), quote="no decision", start=text.rindex("no decision")
    )
    rumsfeld = text.index("no decision")
    models.QuerySet.update(
        Statement.objects.filter(pk=statement.pk),
        start=rumsfeld,
        end=rumsfeld + len("no decision"),
    )
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("verify_quotes", stdout=StringIO(), stderr=err)
    assert f"statement {statement.pk}" in err.getvalue()
    assert "may be on other words that read the same" in err.getvalue()


def test_verify_quotes_reports_offsets_counted_in_another_text():
    statement = StatementFactory()
    models.QuerySet.update(Statement.objects.filter(pk=statement.pk), source_sha256="0" * 64)
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("verify_quotes", stdout=StringIO(), stderr=err)
    assert "counted in another version of the source's text" in err.getvalue()


def test_create_local_admin_prints_a_generated_password_once():
    first, _ = run("create_local_admin")
    password = first.split("password: ")[1].split()[0]
    assert len(password) >= 20
    user = get_user_model().objects.get(username="admin")
    assert user.is_superuser and user.check_password(password)
    second, _ = run("create_local_admin")
    assert password not in second
    assert "printed when the account was created" in second


def test_two_local_admins_get_different_passwords():
    first, _ = run("create_local_admin", "--username", "one")
    second, _ = run("create_local_admin", "--username", "two")
    assert first.split("password: ")[1].split()[0] != second.split("password: ")[1].split()[0]


def write_seed(tmp_path, data):
    shutil.copytree(FIXTURES / "sources", tmp_path / "sources")
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


MINIMAL_SEED = {
    "parties": [{"code": "RU", "name": "Russia", "sort_order": 1}],
    "topics": [{"slug": "talks", "name": "Talks"}],
    "sources": [
        {
            "key": "seed",
            "file": "sources/000_79b4c53062299195.txt",
            "title": "Seed",
            "published_on": "2001-08-01",
            "published_on_precision": "month",
        }
    ],
    "actors": [{"slug": "ivanov", "name": "Sergei Ivanov", "party": "RU"}],
    "statements": [
        {
            "key": "no-wish",
            "source": "seed",
            "actor": "ivanov",
            "quote": "We have no wish to withdraw from any treaty or agreement,",
            "topics": ["talks"],
            "stance": "supports",
            "kind": "direct_quote",
        }
    ],
}


def test_load_seed_refuses_a_quote_that_is_not_in_the_source(tmp_path):
    data = json.loads(json.dumps(MINIMAL_SEED))
    data["statements"][0]["quote"] = "We have no wish to withdraw from any treaty."
    with pytest.raises(CommandError, match="statement:no-wish: The quote is not in the source"):
        run("load_seed", "--path", write_seed(tmp_path, data))
    # One transaction: nothing of a failed load stays behind.
    assert not Party.objects.exists()
    assert not SeedEntry.objects.exists()


def test_load_seed_refuses_an_unknown_topic(tmp_path):
    data = json.loads(json.dumps(MINIMAL_SEED))
    data["statements"][0]["topics"] = ["no-such-topic"]
    with pytest.raises(CommandError, match="unknown slugs: no-such-topic"):
        run("load_seed", "--path", write_seed(tmp_path, data))


def test_load_seed_refuses_a_source_file_that_changed(tmp_path):
    data = json.loads(json.dumps(MINIMAL_SEED))
    data["sources"][0]["sha256"] = "0" * 64
    with pytest.raises(CommandError, match="does not have the expected SHA-256"):
        run("load_seed", "--path", write_seed(tmp_path, data))


def test_load_seed_reports_a_missing_file():
    with pytest.raises(CommandError, match="Seed data not loaded"):
        run("load_seed", "--path", "/nonexistent/seed.json")


def test_load_seed_leaves_an_object_made_by_hand_alone(tmp_path, russia):
    russia.name = "Russian Federation"
    russia.save()
    out, _ = run("load_seed", "--path", write_seed(tmp_path, MINIMAL_SEED))
    russia.refresh_from_db()
    assert russia.name == "Russian Federation"
    assert "left as they were: 1 parties" in out


def test_load_seed_names_a_missing_meeting_instead_of_crashing(tmp_path):
    data = json.loads(json.dumps(MINIMAL_SEED))
    data["statements"][0]["meeting"] = "no-such-meeting"
    with pytest.raises(CommandError, match="statement:no-wish: refers to something missing"):
        run("load_seed", "--path", write_seed(tmp_path, data))


def test_load_seed_names_an_unknown_source_key(tmp_path):
    data = json.loads(json.dumps(MINIMAL_SEED))
    data["statements"][0]["source"] = "elsewhere"
    with pytest.raises(CommandError, match="refers to something missing: KeyError"):
        run("load_seed", "--path", write_seed(tmp_path, data))


def test_load_seed_names_an_unexpected_parameter_field(tmp_path):
    data = json.loads(json.dumps(MINIMAL_SEED))
    data["proposals"] = [{"slug": "p", "title": "P", "party": "RU", "parameters": [{"amount": 1}]}]
    with pytest.raises(CommandError, match="proposal:p: unexpected field"):
        run("load_seed", "--path", write_seed(tmp_path, data))


def test_new_seed_statements_attach_to_a_source_whose_text_was_corrected(tmp_path):
    first = json.loads(json.dumps(MINIMAL_SEED))
    later = json.loads(json.dumps(MINIMAL_SEED))
    first["statements"] = []
    run("load_seed", "--path", write_seed(tmp_path, first))
    source = Source.objects.get()
    source.text += "\n[Correction appended by an editor.]"
    source.save()
    (tmp_path / "seed.json").write_text(json.dumps(later), encoding="utf-8")
    run("load_seed", "--path", str(tmp_path / "seed.json"))
    assert Statement.objects.get().source == source
