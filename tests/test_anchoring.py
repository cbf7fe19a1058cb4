"""
Carrying quotes through edits of their source (positions/anchoring.py), on its own: the
cases the outside probe found, and property-based tests on random texts and random edits.

The property: after any edit, every span is either flagged or on characters that come from
its very own characters, with the same words and the same context around them. Which
characters a character of the new text "comes from" is known here because the tests make
the edits themselves, one operation at a time, and follow every character through them.
"""

import os
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from positions.anchoring import Carried, carry_spans, unchanged_blocks
from positions.quotes import CONTEXT_LENGTH


def carried(old, new, *spans, context=CONTEXT_LENGTH):
    return carry_spans(old, new, list(spans), context=context)


def span_of(text, words, occurrence=0):
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(words, start + 1)
    return start, start + len(words)


# The cases the outside probe reproduced, each of which attached a quote to other words.


def test_swapped_paragraphs_never_leave_a_quote_inside_the_other_paragraph():
    ivanov = "Ivanov said no to the plan for a joint missile defence system.\n"
    powell = "Powell said no to the plan for a joint missile defence system.\n"
    old = "Moscow, 13 August.\n" + ivanov + powell + "The talks go on."
    new = "Moscow, 13 August.\n" + powell + ivanov + "The talks go on."
    words = "said no to the plan"
    (result,) = carried(old, new, span_of(old, words, 0))
    # Ivanov's words are now in the second paragraph; the first is Powell's.
    assert result.start != span_of(new, words, 0)[0]
    if result.carried:
        assert new[result.start - 7 : result.start] == "Ivanov "


def test_a_deleted_passage_does_not_pass_its_quote_to_a_passage_with_the_same_suffix():
    rumsfeld_line = "First, Rumsfeld spoke of it: the treaty is a relic of the Cold War.\n"
    between = "The two then went on to the question of offensive weapons.\n"
    ivanov_line = "Then Ivanov spoke of it: the treaty is a relic of the Cold War.\n"
    old = rumsfeld_line + between + ivanov_line + "The talks ended at noon."
    new = rumsfeld_line + between + "The talks ended at noon."
    ivanov = span_of(old, "the treaty is a relic", 1)
    rumsfeld = span_of(old, "the treaty is a relic", 0)
    result_ivanov, result_rumsfeld = carried(old, new, ivanov, rumsfeld)
    assert not result_ivanov.carried
    assert "changed or removed" in result_ivanov.reason
    assert (result_rumsfeld.start, result_rumsfeld.end) == rumsfeld


def test_the_same_words_two_clauses_later_are_not_the_same_evidence():
    old = (
        "In Moscow, Rumsfeld said no decision had been made; "
        "Ivanov said no decision had been made."
    )
    new = "In Moscow, Rumsfeld said no decision had been made."
    words = "no decision had been made"
    rumsfeld, ivanov = span_of(old, words, 0), span_of(old, words, 1)
    result_rumsfeld, result_ivanov = carried(old, new, rumsfeld, ivanov)
    assert not result_ivanov.carried
    # Rumsfeld's own words survive, but their context (“; Ivanov said…”) was cut off.
    assert not result_rumsfeld.carried
    assert "around the quote" in result_rumsfeld.reason


def test_a_copy_inserted_at_the_old_offset_does_not_capture_the_quote():
    quote = "we have no doubts about the cuts"
    old = f"Rumsfeld said: “{quote}.” Ivanov said nothing."
    start = old.index(quote)
    new = old[:start] + quote + " " + old[start:]
    (result,) = carried(old, new, (start, start + len(quote)))
    assert not result.carried


def test_an_edit_elsewhere_moves_the_quote_by_exactly_the_edit():
    old = "A" * 40 + "\nIvanov: “The treaty is the cornerstone of stability.”\n" + "B" * 100
    span = span_of(old, "The treaty is the cornerstone")
    new = "Inserted lead paragraph.\n" + old[:-50] + "changed tail"
    (result,) = carried(old, new, span)
    shift = len("Inserted lead paragraph.\n")
    assert (result.start, result.end) == (span[0] + shift, span[1] + shift)
    assert new[result.start : result.end] == "The treaty is the cornerstone"


def test_unchanged_text_carries_every_span_as_it_is():
    text = "x" * 50
    assert carried(text, text, (0, 5), (10, 20)) == [Carried(0, 5), Carried(10, 20)]


def test_near_the_start_or_end_of_the_text_the_context_is_what_there_is():
    old = "No decision had been made, Ivanov said on Monday in the Kremlin."
    span = (0, len("No decision had been made"))
    (result,) = carried(old, "Moscow. " + old, span)
    assert (result.start, result.end) == (span[0] + 8, span[1] + 8)
    (result,) = carried(old, old + " More text.", span)
    assert (result.start, result.end) == span
    # The context it had (up to 32 characters after it) must still be there.
    (result,) = carried(old, old.replace("Ivanov", "Sergei Ivanov"), span)
    assert not result.carried


def test_the_same_passage_twice_is_flagged_on_any_edit():
    passage = (
        "Ivanov said again and again that the treaty was the cornerstone of strategic "
        "stability, now and in the years to come."
    )
    old = f"{passage}\n{passage}\nEnd."
    spans = [span_of(old, "the cornerstone", 0), span_of(old, "the cornerstone", 1)]
    results = carried(old, old.replace("End.", "The end."), *spans)
    assert not any(result.carried for result in results)
    assert all("more than once" in result.reason for result in results)


def test_offsets_count_code_points_outside_the_basic_plane_and_combining_marks():
    old = (
        "🚀 Moscow, 13 August, by our correspondent. Ivanov: “Cafe\u0301 talks on 🛰 "
        "defence are over.” Rumsfeld disagreed at length afterwards."
    )
    span = span_of(old, "talks on 🛰 defence")
    new = "🚀🚀 " + old
    (result,) = carried(old, new, span)
    assert new[result.start : result.end] == "talks on 🛰 defence"
    # Taking the accent off the letter before the quote changes its context.
    (result,) = carried(old, old.replace("e\u0301", "é"), span)
    assert not result.carried


def test_offsets_outside_the_old_text_are_not_carried():
    (result,) = carried("short text", "short text!", (5, 50))
    assert not result.carried


def test_unchanged_blocks_cover_the_common_text():
    blocks = unchanged_blocks("abcdef", "abXdef")
    assert [(b.old, b.new, b.size) for b in blocks] == [(0, 0, 2), (3, 3, 3)]


# Property-based: random texts made of look-alike phrases, random edits.

PHRASES = [
    "Ivanov said ",
    "Powell said ",
    "Rumsfeld said ",
    "no to the plan",
    "no decision had been made",
    ". ",
    "; ",
    "\n",
    "“",
    "”",
    "e\u0301",
    "🚀",
]
# What edits insert: characters that are never in the original text, so that any character
# of the new text that reads like the old text came from the old text (moved or copied),
# and the test knows which one.
INSERTED = "#@0123456789ЖΩ\t\r\u00a0"


@dataclass(frozen=True)
class Char:
    value: str
    origin: int | None  # the index in the original text it comes from (moved or copied)


def apply(chars, operation, data):
    size = len(chars)

    def position():
        return data.draw(st.integers(0, size))

    def cut():
        start = data.draw(st.integers(0, max(0, size - 1)))
        return start, data.draw(st.integers(start, size))

    if operation == "insert":
        at = position()
        added = data.draw(st.text(alphabet=INSERTED, min_size=1, max_size=5))
        return chars[:at] + [Char(c, None) for c in added] + chars[at:]
    if operation == "delete":
        start, end = cut()
        return chars[:start] + chars[end:]
    if operation == "replace":
        start, end = cut()
        added = data.draw(st.text(alphabet=INSERTED, min_size=1, max_size=5))
        return chars[:start] + [Char(c, None) for c in added] + chars[end:]
    if operation == "copy":  # a duplicate of a passage, somewhere
        start, end = cut()
        at = position()
        return chars[:at] + chars[start:end] + chars[at:]
    if operation == "move":  # a passage cut and pasted elsewhere (two swapped paragraphs)
        start, end = cut()
        rest = chars[:start] + chars[end:]
        at = data.draw(st.integers(0, len(rest)))
        return rest[:at] + chars[start:end] + rest[at:]
    if operation == "line endings":
        breaks = [i for i, c in enumerate(chars) if c.value == "\n"]
        if not breaks:
            return chars
        at = data.draw(st.sampled_from(breaks))
        return chars[:at] + [Char("\r", None)] + chars[at:]
    raise AssertionError(operation)


# Copies are left out of the random sequences: a copy of some characters put where others
# were deleted can rebuild the old text exactly (“. . ” → “. . ”), and then no comparison
# of the two texts can tell which characters are which. Duplicates have their own test.
EDITS = ["insert", "delete", "replace", "move", "line endings"]


def check_property(data, context, operations=EDITS):
    phrases = data.draw(st.lists(st.sampled_from(PHRASES), min_size=1, max_size=25))
    old = "".join(phrases)
    spans = data.draw(
        st.lists(
            st.integers(0, len(old) - 1).flatmap(
                lambda start: st.tuples(st.just(start), st.integers(start + 1, len(old)))
            ),
            min_size=1,
            max_size=8,
        )
    )
    chars = [Char(c, i) for i, c in enumerate(old)]
    for operation in data.draw(st.lists(st.sampled_from(operations), min_size=1, max_size=4)):
        chars = apply(chars, operation, data)
    new = "".join(c.value for c in chars)

    results = carry_spans(old, new, spans, context=context)
    assert len(results) == len(spans)
    for (start, end), result in zip(spans, results, strict=True):
        if not result.carried:
            assert result.reason
            continue
        # On the same words, with the context they had (to the edges of the text)…
        assert new[result.start : result.end] == old[start:end]
        before = old[max(0, start - context) : start]
        after = old[end : end + context]
        assert new[: result.start].endswith(before)
        assert new[result.end :].startswith(after)
        # …and on characters that come from the very characters it was on, which the test
        # knows as it made the edits. Two things cannot be told apart from that by anyone,
        # as the text is the same either way: identical characters of the passage swapped
        # among themselves (“\n\n” with its two line breaks swapped), and a character
        # deleted while an identical one was moved into its place. Both are accepted, as
        # long as the quote is made of its passage's own characters: a quote built from
        # other characters would be other words.
        surviving = {c.origin for c in chars}
        own = 0
        passage = range(max(0, start - context), min(len(old), end + context))
        quoted = chars[result.start : result.end]
        for char, expected in zip(quoted, range(start, end), strict=True):
            if char.origin in passage:
                own += 1
            else:
                assert expected not in surviving, (old, new, (start, end), result)
        assert own, (old, new, (start, end), result)


@settings(
    max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", 1500)),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_no_span_is_ever_carried_onto_other_characters(data):
    check_property(data, CONTEXT_LENGTH)


@settings(
    max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", 1500)),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data(), context=st.integers(1, 6))
def test_no_span_is_ever_carried_onto_other_characters_with_short_context(data, context):
    # Short context makes look-alike windows common, which tests the "stands once" rule.
    check_property(data, context)


@settings(
    max_examples=800,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data(), context=st.sampled_from([0, 3, CONTEXT_LENGTH]))
def test_a_duplicate_passage_never_takes_a_quote_away_from_its_words(data, context):
    # Copies alone leave every old character where it was: each span must stay on its own
    # characters or be flagged, never move onto the copy.
    check_property(data, context, operations=["copy"])


@pytest.mark.parametrize("size", [10_000, 200_000])
def test_an_edit_in_a_long_text_moves_only_what_it_must(size):
    filler = "".join(f"Paragraph {i}: the delegations met again.\n" for i in range(size // 40))
    old = filler + "Ivanov: “The cornerstone of stability.”\n" + filler[::-1]
    span = span_of(old, "The cornerstone of stability.")
    new = "A new first line.\n" + old.replace("Paragraph 3:", "Paragraph three:", 1)
    (result,) = carried(old, new, span)
    assert new[result.start : result.end] == "The cornerstone of stability."
