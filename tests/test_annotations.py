"""
The statements as W3C Web Annotations (/api/v1/statements/annotations/), checked against
the Web Annotation Working Group's own test assertions.

tests/w3c/ holds a copy of the files needed from the WG's test suite (the public
repository w3c/web-annotation-tests; W3C test-suite licence, see tests/w3c/license.md):
the JSON Schemas (draft 4) of the assertions that annotations/annotationMusts.test lists,
the definitions they refer to, and the sample annotations the suite uses to check a
validator. The schemas refer to one another by bare file name, so each is registered
under its name. jsonschema has no checker for the "uri" and "date-time" formats that the
schemas use unless optional packages are installed, so the two are checked here, to
RFC 3986 (an absolute URI) and RFC 3339.
"""

import datetime
import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from positions.models import Source, Statement

pytestmark = pytest.mark.django_db

W3C = Path(__file__).with_name("w3c")
SAMPLES = W3C / "tools" / "samples"

SCHEMAS = {
    path.name: json.loads(path.read_text())
    for folder in ("annotations", "definitions")
    for path in sorted((W3C / folder).rglob("*.json"))
}
REGISTRY = Registry().with_resources(
    (name, Resource.from_contents(schema, default_specification=DRAFT4))
    for name, schema in SCHEMAS.items()
)
MUSTS = json.loads((W3C / "annotations" / "annotationMusts.test").read_text())["assertions"]

FORMATS = FormatChecker(formats=())
ABSOLUTE_URI = re.compile(r'^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>"{}|\\^`]*$')
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$", re.I)


@FORMATS.checks("uri")
def is_uri(value):
    return not isinstance(value, str) or bool(ABSOLUTE_URI.match(value))


@FORMATS.checks("date-time", raises=ValueError)
def is_date_time(value):
    if not isinstance(value, str):
        return True
    if not RFC3339.match(value):
        return False
    datetime.datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    return True


def validator(assertion):
    schema = SCHEMAS[Path(assertion).name]
    assert schema.get("expectedResult", "valid") == "valid", assertion
    return Draft4Validator(schema, registry=REGISTRY, format_checker=FORMATS)


VALIDATORS = {assertion: validator(assertion) for assertion in MUSTS}


def failed_musts(annotation):
    return [name for name, check in VALIDATORS.items() if not check.is_valid(annotation)]


def sample(path):
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError:
        return None


# The suite's README: some incorrect samples are deliberately not JSON, and the samples
# with a composite or list target (a SpecificResource-less choice of several) do not pass
# these schemas, though correct.
COMPOSITE_OR_LIST_TARGETS = {"anno11.json", "anno12.json", "anno13.json"}


@pytest.fixture
def exported(client, seeded):
    response = client.get("/api/v1/statements/annotations/")
    assert response.status_code == 200
    return response.json()


# The validator itself


def test_every_must_assertion_and_definition_is_in_the_repository():
    assert len(MUSTS) == 54
    for assertion in MUSTS:
        assert (W3C / assertion).is_file(), assertion
    assert (W3C / "license.md").is_file()
    refs = re.findall(r'"\$ref"\s*:\s*"([^"#]+)#', json.dumps(SCHEMAS))
    assert set(refs) <= set(SCHEMAS)


@pytest.mark.parametrize(
    "path",
    sorted((SAMPLES / "correct").glob("*.json")),
    ids=lambda path: path.name,
)
def test_the_suites_correct_annotations_pass_every_must(path):
    annotation = sample(path)
    if annotation.get("type") != "Annotation":
        pytest.skip("a collection or a page of annotations, not an annotation")
    if path.name in COMPOSITE_OR_LIST_TARGETS:
        pytest.skip("a composite or list target, which these schemas do not recognise")
    assert failed_musts(annotation) == []


@pytest.mark.parametrize(
    "path",
    sorted((SAMPLES / "incorrect").glob("*.json")),
    ids=lambda path: path.name,
)
def test_the_suites_incorrect_annotations_fail_a_must(path):
    annotation = sample(path)
    if annotation is None:
        pytest.skip("deliberately not JSON")
    assert failed_musts(annotation), path.name


def test_an_id_that_is_not_a_uri_fails_so_formats_are_checked():
    annotation = sample(SAMPLES / "incorrect" / "anno6.json")
    assert annotation["id"] == "not a uri"
    assert failed_musts(annotation) == ["annotations/3.1-annotationIdValidated.json"]


# The export


@pytest.mark.parametrize("assertion", MUSTS, ids=lambda name: Path(name).stem)
def test_every_exported_annotation_passes_each_must(exported, assertion):
    check = VALIDATORS[assertion]
    failing = {
        item["id"]: [error.message for error in check.iter_errors(item)]
        for item in exported["items"]
        if not check.is_valid(item)
    }
    assert failing == {}


def test_every_statement_is_exported_as_an_annotation(exported):
    assert exported["type"] == "AnnotationPage"
    assert exported["@context"] == "http://www.w3.org/ns/anno.jsonld"
    assert exported["partOf"]["type"] == "AnnotationCollection"
    assert exported["partOf"]["total"] == Statement.objects.count() == len(exported["items"])
    assert exported["startIndex"] == 0
    assert "next" not in exported and "prev" not in exported


def test_each_annotation_targets_its_source_with_quote_and_position_selectors(exported):
    source = Source.objects.get()
    statements = Statement.objects.in_bulk()
    for item in exported["items"]:
        statement = statements[int(item["id"].rstrip("/").rsplit("/", 1)[1])]
        assert item["type"] == "Annotation"
        assert item["target"]["source"] == f"http://testserver/sources/{source.pk}/"
        quote, position = item["target"]["selector"]
        assert quote == {
            "type": "TextQuoteSelector",
            "exact": statement.quote,
            "prefix": statement.prefix,
            "suffix": statement.suffix,
        }
        assert position == {
            "type": "TextPositionSelector",
            "start": statement.start,
            "end": statement.end,
        }
        assert source.text[position["start"] : position["end"]] == quote["exact"]
        assert source.text[: position["start"]].endswith(quote["prefix"])
        assert source.text[position["end"] :].startswith(quote["suffix"])


def test_each_annotation_describes_the_speaker_and_tags_the_topics(exported):
    item = next(
        item
        for item in exported["items"]
        if item["target"]["selector"][0]["exact"].startswith("We have no wish")
    )
    describing, *tags = item["body"]
    assert describing == {
        "type": "TextualBody",
        "purpose": "describing",
        "value": (
            "Sergei Ivanov (Russia): direct quote, stance supports; August 2001, at Joint "
            "news conference of Ivanov and Rumsfeld; the source is translated from Russian"
        ),
        "format": "text/plain",
        "language": "en",
    }
    assert tags == [
        {"type": "TextualBody", "purpose": "tagging", "value": "abm-treaty"},
        {"type": "TextualBody", "purpose": "tagging", "value": "national-missile-defense"},
    ]
    assert item["motivation"] == "describing"


def test_the_export_is_served_as_json_ld_with_the_annotation_profile(client, seeded):
    response = client.get("/api/v1/statements/annotations/")
    assert response["Content-Type"] == (
        'application/ld+json; profile="http://www.w3.org/ns/anno.jsonld"'
    )


def test_the_export_honours_the_statement_filters(client, seeded):
    data = client.get("/api/v1/statements/annotations/?party=US&topic=abm-treaty").json()
    expected = Statement.objects.filter(party__code="US", topics__slug="abm-treaty").count()
    assert data["partOf"]["total"] == len(data["items"]) == expected > 0
    assert data["partOf"]["id"] == (
        "http://testserver/api/v1/statements/annotations/?party=US&topic=abm-treaty"
    )
    assert data["id"] == (
        "http://testserver/api/v1/statements/annotations/?party=US&topic=abm-treaty&page=1"
    )


@pytest.mark.parametrize(("page", "status"), [("2", 404), ("0", 404), ("abc", 400)])
def test_a_page_of_annotations_past_the_end_is_a_404_and_a_bad_one_a_400(
    client, seeded, page, status
):
    response = client.get(f"/api/v1/statements/annotations/?page={page}")
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
