"""
Editing a source's text, through the API, the admin and the editor page: after any edit
each statement is either on its own words (which the scenario knows, since it made the
edit), with their context renewed, or flagged for review with its old quote and offsets.
A statement never ends up unflagged on other words, and an edit far from a quote (its
words, its paragraph and at least 32 characters on each side untouched) never flags it.

Each scenario is an old text, the statements on it, an edit (splices of the old text) and,
per statement, where its own words went: KEPT (they stayed in unchanged text, at the old
start carried through the splices), a new start (for words the edit moved), or GONE (the
edit destroyed them, or the new text cannot tell which of two places is theirs).
"""

import io
import re
from dataclasses import dataclass, field

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from rest_framework.authtoken.models import Token

from positions.anchoring import guarded
from positions.models import Source
from positions.quotes import anchor_at
from tests.factories import ActorFactory, PartyFactory, SourceFactory, StatementFactory

pytestmark = pytest.mark.django_db

KEPT = "kept"
GONE = None

SPEAKERS = {
    "ivanov": ("Sergei Ivanov", "RU"),
    "rumsfeld": ("Donald Rumsfeld", "US"),
    "powell": ("Colin Powell", "US"),
    "baluyevsky": ("Yuri Baluyevsky", "RU"),
    "putin": ("Vladimir Putin", "RU"),
    "ministry": ("Russian Defense Ministry", "RU"),
}


@dataclass(frozen=True)
class Quote:
    speaker: str
    words: str
    nth: int = 0  # which occurrence of the words in the text the statement is made on
    flagged: bool = False  # flagged for review by an editor before the edit


@dataclass(frozen=True)
class Splice:
    """old[start:end] replaced by ``text`` (an insertion when start == end)."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Scenario:
    name: str
    old: str
    quotes: dict
    splices: tuple
    expect: dict  # statement name: KEPT, a start in the new text, or GONE
    # A text the statements were made on, edited into ``old`` (through Source.save())
    # before the edit under test.
    first: str | None = None
    new: str = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "new", apply(self.old, self.splices))
        assert set(self.expect) == set(self.quotes), self.name


def apply(text, splices):
    splices = sorted(splices, key=lambda splice: (splice.start, splice.end))
    for before, after in zip(splices, splices[1:], strict=False):
        assert before.end <= after.start, f"overlapping splices {before} and {after}"
    parts, position = [], 0
    for splice in splices:
        parts += [text[position : splice.start], splice.text]
        position = splice.end
    return "".join(parts) + text[position:]


def find(text, words, nth=0):
    index = -1
    for _ in range(nth + 1):
        index = text.index(words, index + 1)
    return index


def insert_at(offset, text):
    return Splice(offset, offset, text)


def insert_before(old, words, text, nth=0):
    return insert_at(find(old, words, nth), text)


def insert_after(old, words, text, nth=0):
    return insert_at(find(old, words, nth) + len(words), text)


def replace(old, words, text, nth=0):
    start = find(old, words, nth)
    return Splice(start, start + len(words), text)


def delete(old, words, nth=0):
    return replace(old, words, "", nth)


def every(old, words, text):
    """Splices that replace every occurrence of ``words`` with ``text``."""
    return [Splice(m.start(), m.end(), text) for m in re.finditer(re.escape(words), old)]


def crlf(text):
    return text.replace("\n", "\r\n")


def carried_through(splices, start):
    """Where old offset ``start``, outside every splice, is in the new text."""
    return start + sum(len(s.text) - (s.end - s.start) for s in splices if s.end <= start)


def window(text, start, end):
    """What an edit must leave alone for the quote to be carried: its paragraph, and at
    least CONTEXT_LENGTH characters on each side (positions/anchoring.py)."""
    return guarded(text, start, end)


def touches(splice, low, high):
    """Whether the splice changes any character of text[low:high] or inserts inside it."""
    if splice.start == splice.end:
        return low < splice.start < high
    return splice.start < high and splice.end > low


def stands_once(text, words):
    first = text.find(words)
    return first != -1 and text.find(words, first + 1) == -1


# The article, paragraph by paragraph.

HEADLINE = "Rumsfeld and Ivanov hold three hours of talks in Moscow"
LEAD = (
    "MOSCOW, August 13, 2001. U.S. Defense Secretary Donald Rumsfeld and Russian Defense "
    "Minister Sergei Ivanov met for three hours at the Defense Ministry on Monday, their "
    "first talks since the presidents met in Genoa last month."
)
ABM = (
    "Ivanov said the 1972 Anti-Ballistic Missile Treaty remained, as it had always been, "
    "“the cornerstone of strategic stability” and that Moscow saw no reason to amend it "
    "or to withdraw from it."
)
RELIC = (
    "Rumsfeld told reporters that the treaty was a relic of the Cold War and that the "
    "United States would move beyond it “at a time of our choosing” and not before "
    "consulting its allies in Europe."
)
CUTS = (
    "The ministers also discussed deep cuts in offensive arms. Moscow has proposed a "
    "ceiling of 1,500 warheads for each side; Washington has not yet named a figure of "
    "its own."
)
GENERAL = (
    "Colonel General Yuri Baluyevsky, the first deputy chief of the General Staff, told "
    "reporters after the meeting that the talks had been “frank and useful” but that the "
    "two positions remained far apart."
)
TRAVEL = (
    "Rumsfeld is to fly on to Kiev on Tuesday. Ivanov is expected in Washington in "
    "September for further consultations with his American counterpart."
)
ARTICLE = "\n".join([HEADLINE, LEAD, ABM, RELIC, CUTS, GENERAL, TRAVEL])
ARTICLE_QUOTES = {
    "ivanov": Quote("ivanov", "the cornerstone of strategic stability"),
    "relic": Quote("rumsfeld", "the treaty was a relic of the Cold War"),
    "choosing": Quote("rumsfeld", "at a time of our choosing"),
    "ceiling": Quote("ivanov", "a ceiling of 1,500 warheads for each side"),
    "general": Quote("baluyevsky", "the talks had been “frank and useful”"),
}


SCENARIOS = []


def scenario(*args, **kwargs):
    SCENARIOS.append(Scenario(*args, **kwargs))


def article_scenario(name, splices, **expect):
    """A scenario on the article with its usual statements: KEPT unless said otherwise."""
    expect = dict.fromkeys(ARTICLE_QUOTES, KEPT) | expect
    scenario(name, ARTICLE, ARTICLE_QUOTES, tuple(splices), expect)


# Insertions

article_scenario(
    "paragraph-inserted-at-the-top",
    [insert_at(0, "Updated on August 14 with the Kremlin's reaction.\n")],
)
article_scenario(
    "paragraph-appended-at-the-end",
    [insert_at(len(ARTICLE), "\nThe Pentagon released no transcript of the meeting.")],
)
article_scenario(
    "paragraph-inserted-between-quoted-paragraphs",
    [
        insert_before(
            ARTICLE, CUTS, "Officials on both sides called the atmosphere businesslike.\n"
        )
    ],
)
article_scenario(
    "sentence-added-to-the-quotes-paragraph-far-from-it",
    [insert_after(ARTICLE, "or to withdraw from it.", " He did not elaborate on the point.")],
)
article_scenario(
    "word-inserted-inside-a-quote",
    [insert_before(ARTICLE, "strategic stability", "global ")],
    ivanov=GONE,
)
article_scenario(
    "words-inserted-exactly-where-a-quote-starts",
    [insert_before(ARTICLE, "the treaty was a relic", "in his view ")],
    relic=find(ARTICLE, "the treaty was a relic") + len("in his view "),
)
article_scenario(
    "words-inserted-exactly-where-a-quote-ends",
    [insert_after(ARTICLE, "a relic of the Cold War", " era")],
)
article_scenario(
    "word-inserted-into-the-context-before-a-quote",
    [insert_before(ARTICLE, "meeting that the talks", "Monday ")],
    general=find(ARTICLE, "the talks had been") + len("Monday "),
)
article_scenario(
    "word-inserted-into-the-context-after-a-quote",
    [insert_after(ARTICLE, "our choosing”", ",")],
)
article_scenario(
    "word-inserted-just-beyond-the-context-before-a-quote",
    # "told reporters after the meeting that " is 38 characters: beyond the 32 of context.
    [insert_before(ARTICLE, "told reporters after the meeting", "also ")],
)
article_scenario(
    "word-inserted-just-beyond-the-context-after-a-quote",
    # "” and that Moscow saw no reason to amend it" is 43 characters.
    [insert_after(ARTICLE, "no reason to amend it", " now")],
)
article_scenario(
    # The context after the quote is "” and that Moscow saw no reason ", 32 characters.
    "word-inserted-exactly-where-a-quotes-context-ends",
    [insert_before(ARTICLE, "to amend it", "ever ")],
)
article_scenario(
    "copy-of-a-quote-inserted-in-an-earlier-paragraph",
    [
        insert_before(
            ARTICLE,
            ABM,
            "A Kremlin aide said the treaty was the cornerstone of strategic stability for "
            "Russia and would stay so.\n",
        )
    ],
)
article_scenario(
    "copy-of-a-quote-inserted-in-a-later-paragraph",
    [
        insert_at(
            len(ARTICLE),
            "\nIn Washington, officials dismissed the idea that the treaty was the "
            "cornerstone of strategic stability.",
        )
    ],
)
article_scenario(
    "copy-of-a-quote-inserted-exactly-at-its-old-offset",
    [insert_before(ARTICLE, "the cornerstone", "the cornerstone of strategic stability, ")],
    ivanov=GONE,
)
article_scenario(
    "copy-of-a-quote-inserted-exactly-at-its-old-end",
    [insert_after(ARTICLE, "of strategic stability", ", the cornerstone of strategic stability")],
    ivanov=GONE,
)
article_scenario(
    "quoted-paragraph-pasted-again-above-itself",
    [insert_before(ARTICLE, ABM, ABM + "\n")],
    ivanov=find(ARTICLE, "the cornerstone") + len(ABM) + 1,
)
article_scenario(
    "quoted-paragraph-pasted-again-below-itself",
    [insert_before(ARTICLE, RELIC, ABM + "\n")],
)
article_scenario(
    "paragraph-with-two-speakers-quotes-pasted-again-at-the-end",
    [insert_at(len(ARTICLE), "\n" + RELIC)],
)

# Deletions

article_scenario("quoted-paragraph-deleted", [delete(ARTICLE, ABM + "\n")], ivanov=GONE)
article_scenario("part-of-a-quote-deleted", [delete(ARTICLE, "strategic ")], ivanov=GONE)
article_scenario(
    "context-before-a-quote-deleted",
    [delete(ARTICLE, ", as it had always been")],
    ivanov=find(ARTICLE, "the cornerstone") - len(", as it had always been"),
)
article_scenario(
    "context-after-a-quote-deleted",
    [delete(ARTICLE, " and not before consulting its allies in Europe")],
)
article_scenario(
    "unquoted-passage-between-quotes-deleted",
    [delete(ARTICLE, " Moscow has proposed a ceiling of 1,500 warheads for each side;")],
    ceiling=GONE,
)
article_scenario(
    "lead-paragraph-deleted-before-every-quote",
    [delete(ARTICLE, LEAD + "\n")],
)
article_scenario(
    "everything-but-one-paragraph-deleted",
    [
        Splice(0, find(ARTICLE, ABM), ""),
        Splice(find(ARTICLE, ABM) + len(ABM), len(ARTICLE), ""),
    ],
    relic=GONE,
    choosing=GONE,
    ceiling=GONE,
    general=GONE,
)

# Replacements

article_scenario(
    "word-of-a-quote-replaced", [replace(ARTICLE, "cornerstone", "foundation")], ivanov=GONE
)
article_scenario(
    "word-of-the-same-length-replaced-far-away",
    [replace(ARTICLE, "on Monday", "on Sunday")],
)
article_scenario(
    "sentence-rewritten-far-away",
    [replace(ARTICLE, "Rumsfeld is to fly on to Kiev on Tuesday.", "Rumsfeld flew to Kiev.")],
)
article_scenario(
    "words-of-the-context-replaced",
    [replace(ARTICLE, "as it had always been", "as it always has been")],
)
ABM_LEAD = "Ivanov said the 1972 Anti-Ballistic Missile Treaty remained, as it had always been, “"
ABM_LEAD_REWRITTEN = "In remarks to reporters, Ivanov called the ABM Treaty “"
article_scenario(
    "quotes-paragraph-rewritten-up-to-the-quote",
    [replace(ARTICLE, ABM_LEAD, ABM_LEAD_REWRITTEN)],
    ivanov=find(ARTICLE, "the cornerstone") - len(ABM_LEAD) + len(ABM_LEAD_REWRITTEN),
)

# Paragraphs swapped or moved

SAID_NO = "no to the plan for joint work on missile defense"
IVANOV_NO = f"Ivanov said {SAID_NO}, according to a Russian spokesman."
POWELL_NO = f"Powell said {SAID_NO}, according to a State Department official."
SWAPPED = "\n".join([HEADLINE, LEAD, IVANOV_NO, POWELL_NO, GENERAL])
SWAPPED_QUOTES = {
    "ivanov": Quote("ivanov", SAID_NO, nth=0),
    "powell": Quote("powell", SAID_NO, nth=1),
    "general": Quote("baluyevsky", "the talks had been “frank and useful”"),
}
scenario(
    "two-paragraphs-swapped",
    SWAPPED,
    SWAPPED_QUOTES,
    (replace(SWAPPED, f"{IVANOV_NO}\n{POWELL_NO}", f"{POWELL_NO}\n{IVANOV_NO}"),),
    {
        "ivanov": find(SWAPPED, IVANOV_NO) + len(POWELL_NO) + 1 + IVANOV_NO.index(SAID_NO),
        "powell": find(SWAPPED, IVANOV_NO) + POWELL_NO.index(SAID_NO),
        "general": KEPT,
    },
)
IVANOV_NO_LONG = (
    "On Monday evening the Russian defense minister, Sergei Ivanov, said "
    f"{SAID_NO}, according to a Russian spokesman."
)
POWELL_NO_LONG = (
    "On Monday evening the American secretary of state, Colin Powell, said "
    f"{SAID_NO}, according to a State Department official."
)
SWAPPED_LONG = "\n".join([HEADLINE, LEAD, IVANOV_NO_LONG, POWELL_NO_LONG, GENERAL])
scenario(
    "two-paragraphs-swapped-quotes-deep-inside-them",
    SWAPPED_LONG,
    SWAPPED_QUOTES,
    (
        replace(
            SWAPPED_LONG,
            f"{IVANOV_NO_LONG}\n{POWELL_NO_LONG}",
            f"{POWELL_NO_LONG}\n{IVANOV_NO_LONG}",
        ),
    ),
    {
        "ivanov": find(SWAPPED_LONG, IVANOV_NO_LONG)
        + len(POWELL_NO_LONG)
        + 1
        + IVANOV_NO_LONG.index(SAID_NO),
        "powell": find(SWAPPED_LONG, IVANOV_NO_LONG) + POWELL_NO_LONG.index(SAID_NO),
        "general": KEPT,
    },
)
MOVED = apply(ARTICLE, [delete(ARTICLE, ABM + "\n"), insert_at(len(ARTICLE), "\n" + ABM)])
article_scenario(
    "quoted-paragraph-moved-to-the-end",
    [delete(ARTICLE, ABM + "\n"), insert_at(len(ARTICLE), "\n" + ABM)],
    ivanov=find(MOVED, "the cornerstone"),
)
ROTATED_AT = find(ARTICLE, ABM)
article_scenario(
    "three-paragraphs-rotated",
    [replace(ARTICLE, f"{ABM}\n{RELIC}\n{CUTS}", f"{RELIC}\n{CUTS}\n{ABM}")],
    ivanov=ROTATED_AT + len(RELIC) + len(CUTS) + 2 + ABM.index("the cornerstone"),
    relic=ROTATED_AT + RELIC.index("the treaty was"),
    choosing=ROTATED_AT + RELIC.index("at a time"),
    ceiling=ROTATED_AT + len(RELIC) + 1 + CUTS.index("a ceiling"),
)
USEFUL = "the talks had been useful and businesslike"
TWIN_IVANOV = (
    f"Sergei Ivanov, asked by reporters after the meeting how it had gone, said {USEFUL}, "
    "and that the next round would be held in Washington in September."
)
TWIN_RUMSFELD = (
    f"Donald Rumsfeld, asked by reporters after the meeting how it had gone, said {USEFUL}, "
    "and that the next round would be held in Washington in September."
)
TWINS = "\n".join([HEADLINE, LEAD, TWIN_IVANOV, TWIN_RUMSFELD, GENERAL])
TWINS_QUOTES = {
    "ivanov": Quote("ivanov", USEFUL, nth=0),
    "rumsfeld": Quote("rumsfeld", USEFUL, nth=1),
    "general": Quote("baluyevsky", "the talks had been “frank and useful”"),
}
scenario(
    "paragraphs-that-differ-only-in-the-speakers-name-swapped",
    TWINS,
    TWINS_QUOTES,
    (replace(TWINS, f"{TWIN_IVANOV}\n{TWIN_RUMSFELD}", f"{TWIN_RUMSFELD}\n{TWIN_IVANOV}"),),
    {
        "ivanov": find(TWINS, TWIN_IVANOV) + len(TWIN_RUMSFELD) + 1 + TWIN_IVANOV.index(USEFUL),
        "rumsfeld": find(TWINS, TWIN_IVANOV) + TWIN_RUMSFELD.index(USEFUL),
        "general": KEPT,
    },
)
scenario(
    # The same words with the same context twice: which is which cannot be told from any
    # edit, so even an edit far away flags them.
    "same-words-and-context-twice-and-an-edit-far-away",
    TWINS,
    TWINS_QUOTES,
    (replace(TWINS, "three hours", "four hours"),),
    dict.fromkeys(TWINS_QUOTES, KEPT),
)

# Look-alike passages

FRAMEWORK = "any new framework must leave room for deep cuts in offensive arms"
MOSCOW_VIEW = f"Speaking for Moscow, Ivanov insisted that {FRAMEWORK}."
WASHINGTON_VIEW = f"Speaking for Washington, Rumsfeld agreed that {FRAMEWORK}."
SAME_ENDING = "\n".join([HEADLINE, LEAD, MOSCOW_VIEW, WASHINGTON_VIEW, GENERAL])
SAME_ENDING_QUOTES = {
    "ivanov": Quote("ivanov", FRAMEWORK, nth=0),
    "rumsfeld": Quote("rumsfeld", FRAMEWORK, nth=1),
    "general": Quote("baluyevsky", "the talks had been “frank and useful”"),
}
scenario(
    "passage-deleted-where-the-next-passage-has-the-same-ending",
    SAME_ENDING,
    SAME_ENDING_QUOTES,
    (delete(SAME_ENDING, MOSCOW_VIEW + "\n"),),
    {"ivanov": GONE, "rumsfeld": KEPT, "general": KEPT},
)
scenario(
    "passage-deleted-where-the-previous-passage-has-the-same-ending",
    SAME_ENDING,
    SAME_ENDING_QUOTES,
    (delete(SAME_ENDING, "\n" + WASHINGTON_VIEW),),
    {"ivanov": KEPT, "rumsfeld": GONE, "general": KEPT},
)
NO_DECISION = (
    "Asked whether the two sides had agreed on a timetable for missile defense, Rumsfeld "
    "said no decision had been made; Ivanov said no decision had been made."
)
DECISION = "\n".join([HEADLINE, LEAD, ABM, NO_DECISION, GENERAL])
DECISION_QUOTES = {
    "rumsfeld": Quote("rumsfeld", "no decision had been made", nth=0),
    "ivanov": Quote("ivanov", "no decision had been made", nth=1),
    "abm": Quote("ivanov", "the cornerstone of strategic stability"),
}
scenario(
    "second-of-two-identical-clauses-deleted",
    DECISION,
    DECISION_QUOTES,
    (delete(DECISION, "; Ivanov said no decision had been made"),),
    {"rumsfeld": KEPT, "ivanov": GONE, "abm": KEPT},
)
scenario(
    "first-of-two-identical-clauses-deleted",
    DECISION,
    DECISION_QUOTES,
    (delete(DECISION, "Rumsfeld said no decision had been made; "),),
    {"rumsfeld": GONE, "ivanov": KEPT, "abm": KEPT},
)
scenario(
    "two-identical-clauses-and-an-edit-far-away",
    DECISION,
    DECISION_QUOTES,
    (replace(DECISION, "three hours", "four hours"),),
    dict.fromkeys(DECISION_QUOTES, KEPT),
)
ON_MONDAY = (
    "On Monday, after the first round at the Defense Ministry, Ivanov said the talks had "
    "been useful."
)
ON_TUESDAY = "On Tuesday, before Rumsfeld left for Kiev, Ivanov said the talks had been useful."
LOOKALIKES = "\n".join([HEADLINE, LEAD, ON_MONDAY, ABM, ON_TUESDAY, GENERAL])
LOOKALIKE_QUOTES = {
    "monday": Quote("ivanov", "the talks had been useful", nth=0),
    "tuesday": Quote("ivanov", "the talks had been useful", nth=1),
    "abm": Quote("ivanov", "the cornerstone of strategic stability"),
}
scenario(
    "look-alike-sentence-deleted",
    LOOKALIKES,
    LOOKALIKE_QUOTES,
    (delete(LOOKALIKES, ON_MONDAY + "\n"),),
    {"monday": GONE, "tuesday": KEPT, "abm": KEPT},
)
scenario(
    "look-alike-sentences-words-changed",
    LOOKALIKES,
    LOOKALIKE_QUOTES,
    (replace(LOOKALIKES, "been useful", "been difficult", nth=0),),
    {"monday": GONE, "tuesday": KEPT, "abm": KEPT},
)
# Paragraphs of the same length with a statement of the same speaker at the same place in
# each: an edit can carry one statement onto the very offsets that another of the same
# speaker had before it.
ON_MONDAY_AT_THE_MINISTRY = (
    "On Monday, speaking at the Defense Ministry, Ivanov said the talks had been useful."
)
ON_FRIDAY_AT_THE_MINISTRY = (
    "On Friday, speaking at the Defense Ministry, Ivanov said the talks had been useful."
)
ON_SUNDAY_AT_THE_MINISTRY = (
    "On Sunday, speaking at the Defense Ministry, Ivanov said the talks had been useful."
)
SAME_LENGTH = "\n".join(
    [HEADLINE, LEAD, ON_MONDAY_AT_THE_MINISTRY, ON_FRIDAY_AT_THE_MINISTRY, GENERAL]
)
MONDAY_FIRST = {
    "monday": Quote("ivanov", "the talks had been useful", nth=0),
    "friday": Quote("ivanov", "the talks had been useful", nth=1),
}
FRIDAY_FIRST = {name: MONDAY_FIRST[name] for name in ("friday", "monday")}
# The one-span-per-actor rule is checked row by row, in the order of the rows' ids, so
# each scenario is run with the statements made in both orders.
for made_first, quotes in (("monday", MONDAY_FIRST), ("friday", FRIDAY_FIRST)):
    scenario(
        # The Monday statement is flagged, keeping its offsets, and the Friday one is
        # carried onto them.
        f"paragraph-deleted-carrying-a-statement-onto-its-speakers-flagged-one-{made_first}"
        "-made-first",
        SAME_LENGTH,
        quotes,
        (delete(SAME_LENGTH, ON_MONDAY_AT_THE_MINISTRY + "\n"),),
        {"monday": GONE, "friday": KEPT},
    )
    scenario(
        f"paragraph-inserted-carrying-a-statement-onto-its-speakers-next-one-{made_first}"
        "-made-first",
        SAME_LENGTH,
        quotes,
        (insert_before(SAME_LENGTH, ON_MONDAY_AT_THE_MINISTRY, ON_SUNDAY_AT_THE_MINISTRY + "\n"),),
        {"monday": KEPT, "friday": KEPT},
    )
scenario(
    # The two paragraphs differ only in the day, further from the quotes than their
    # context reaches: the new text reads the same whether the paragraphs were swapped or
    # the two days exchanged, so which sentence is the Friday statement's cannot be told.
    "same-length-paragraphs-of-one-speaker-swapped",
    SAME_LENGTH,
    MONDAY_FIRST,
    (
        replace(
            SAME_LENGTH,
            f"{ON_MONDAY_AT_THE_MINISTRY}\n{ON_FRIDAY_AT_THE_MINISTRY}",
            f"{ON_FRIDAY_AT_THE_MINISTRY}\n{ON_MONDAY_AT_THE_MINISTRY}",
        ),
    ),
    {"monday": GONE, "friday": GONE},
)
INTERFAX = (
    "Ivanov told Interfax: “We will not accept any unilateral withdrawal from the treaty, "
    "and we said so clearly.” He added that the talks had been "
)
REPEATED = "\n".join([HEADLINE, LEAD, INTERFAX + "useful.", INTERFAX + "frank.", GENERAL])
scenario(
    # A paragraph was pasted twice, the second time with its last word corrected, and the
    # first copy is deleted. The new text reads the same whether the first copy or the
    # span from its last word to the second copy's last word was deleted, so the first
    # copy's quote cannot be told from the second's: it must be flagged.
    "first-of-two-near-identical-paragraphs-deleted",
    REPEATED,
    {
        "first": Quote("ivanov", "We will not accept any unilateral withdrawal", nth=0),
        "second": Quote("ivanov", "We will not accept any unilateral withdrawal", nth=1),
        "frank": Quote("ivanov", "the talks had been frank"),
    },
    (delete(REPEATED, INTERFAX + "useful.\n"),),
    {"first": GONE, "second": KEPT, "frank": KEPT},
)

# Whitespace

article_scenario(
    "double-space-typed-inside-a-quote",
    [replace(ARTICLE, "of strategic", "of  strategic")],
    ivanov=GONE,
)
article_scenario(
    "space-in-the-context-made-a-tab", [replace(ARTICLE, "always been", "always\tbeen")]
)
article_scenario(
    "space-inside-a-quote-made-non-breaking",
    [replace(ARTICLE, "strategic stability", "strategic\u00a0stability")],
    ivanov=GONE,
)
article_scenario(
    "spaces-far-away-made-non-breaking",
    [replace(ARTICLE, "1,500 warheads", "1,500\u00a0warheads")],
    ceiling=GONE,
)
ARTICLE_NBSP = ARTICLE.replace("1,500 warheads", "1,500\u00a0warheads")
NBSP_QUOTES = ARTICLE_QUOTES | {
    "ceiling": Quote("ivanov", "a ceiling of 1,500\u00a0warheads for each side")
}
scenario(
    "quote-holding-a-non-breaking-space-and-an-edit-far-away",
    ARTICLE_NBSP,
    NBSP_QUOTES,
    (insert_at(0, "Updated on August 14.\n"),),
    dict.fromkeys(NBSP_QUOTES, KEPT),
)
scenario(
    "non-breaking-space-in-a-quote-made-a-plain-space",
    ARTICLE_NBSP,
    NBSP_QUOTES,
    (replace(ARTICLE_NBSP, "\u00a0", " "),),
    dict.fromkeys(NBSP_QUOTES, KEPT) | {"ceiling": GONE},
)
article_scenario(
    "paragraph-indented-with-a-tab-and-trailing-spaces-far-away",
    [insert_after(ARTICLE, LEAD, "  "), insert_before(ARTICLE, TRAVEL, "\t")],
)
article_scenario("blank-line-inserted-between-paragraphs", [insert_before(ARTICLE, CUTS, "\n")])

# Characters outside the Basic Multilingual Plane

SOCIAL = (
    "Ivanov's spokesman wrote on social media after the talks: “Frank talks 🤝 with our "
    "American colleagues, more to come in September.”"
)
ARTICLE_EMOJI = "\n".join([HEADLINE + " 🇷🇺🇺🇸", LEAD, SOCIAL, ABM, GENERAL])
EMOJI_QUOTES = {
    "post": Quote("ivanov", "Frank talks 🤝 with our American colleagues"),
    "ivanov": Quote("ivanov", "the cornerstone of strategic stability"),
    "general": Quote("baluyevsky", "the talks had been “frank and useful”"),
}
EMOJI_KEPT = dict.fromkeys(EMOJI_QUOTES, KEPT)
scenario(
    "emoji-inserted-far-before-the-quotes",
    ARTICLE_EMOJI,
    EMOJI_QUOTES,
    (insert_before(ARTICLE_EMOJI, "MOSCOW", "🛰️ "),),
    EMOJI_KEPT,
)
scenario(
    "emoji-deleted-far-before-the-quotes",
    ARTICLE_EMOJI,
    EMOJI_QUOTES,
    (delete(ARTICLE_EMOJI, " 🇷🇺🇺🇸"),),
    EMOJI_KEPT,
)
scenario(
    # U+1F91D and U+1F91C share their first UTF-16 code unit.
    "emoji-in-a-quote-replaced-by-its-neighbour",
    ARTICLE_EMOJI,
    EMOJI_QUOTES,
    (replace(ARTICLE_EMOJI, "🤝", "🤜"),),
    EMOJI_KEPT | {"post": GONE},
)
scenario(
    "emoji-inserted-inside-a-quote",
    ARTICLE_EMOJI,
    EMOJI_QUOTES,
    (insert_after(ARTICLE_EMOJI, "American", " 🇺🇸"),),
    EMOJI_KEPT | {"post": GONE},
)
scenario(
    "emoji-inserted-just-before-a-quote",
    ARTICLE_EMOJI,
    EMOJI_QUOTES,
    (insert_before(ARTICLE_EMOJI, "“Frank", "💬 "),),
    EMOJI_KEPT | {"post": find(ARTICLE_EMOJI, "Frank talks") + 2},
)

# Combining marks (e + U+0301 is é in two code points)

DETENTE = (
    "Some commentators in Moscow spoke of a new détente; officials on both sides avoided the word."
)
COMMUNIQUE = (
    "Ivanov said that “no communique\u0301 was needed” because the positions of both "
    "governments were already well known."
)
ARTICLE_ACCENTS = "\n".join([HEADLINE, LEAD, DETENTE, ABM, COMMUNIQUE, GENERAL])
ACCENT_QUOTES = {
    "ivanov": Quote("ivanov", "the cornerstone of strategic stability"),
    "communique": Quote("ivanov", "no communique\u0301 was needed"),
    "bare": Quote("ministry", "no communique"),  # ends between the e and its accent
    "general": Quote("baluyevsky", "the talks had been “frank and useful”"),
}
ACCENTS_KEPT = dict.fromkeys(ACCENT_QUOTES, KEPT)
scenario(
    "accent-removed-inside-a-quote",
    ARTICLE_ACCENTS,
    ACCENT_QUOTES,
    (delete(ARTICLE_ACCENTS, "\u0301"),),
    ACCENTS_KEPT | {"communique": GONE},
)
scenario(
    "precomposed-letter-decomposed-far-away",
    ARTICLE_ACCENTS,
    ACCENT_QUOTES,
    (replace(ARTICLE_ACCENTS, "é", "e\u0301"),),
    ACCENTS_KEPT,
)
scenario(
    "whole-text-normalised-to-nfc",
    ARTICLE_ACCENTS,
    ACCENT_QUOTES,
    tuple(every(ARTICLE_ACCENTS, "e\u0301", "é")),
    ACCENTS_KEPT | {"communique": GONE, "bare": GONE},
)
scenario(
    "quote-ending-before-an-accent-and-an-edit-far-away",
    ARTICLE_ACCENTS,
    ACCENT_QUOTES,
    (replace(ARTICLE_ACCENTS, "three hours", "four hours"),),
    ACCENTS_KEPT,
)
PLAIN = ARTICLE_ACCENTS.replace("e\u0301", "e")
PLAIN_QUOTES = ACCENT_QUOTES | {"communique": Quote("ivanov", "no communique was needed")}
scenario(
    "accent-added-right-after-a-quotes-last-letter",
    PLAIN,
    PLAIN_QUOTES,
    (insert_after(PLAIN, "no communique", "\u0301"),),
    dict.fromkeys(PLAIN_QUOTES, KEPT) | {"communique": GONE},
)

# Several statements on overlapping and identical spans

OVERLAP_QUOTES = {
    "ivanov": Quote("ivanov", "the cornerstone of strategic stability"),
    "ministry": Quote("ministry", "the cornerstone of strategic stability"),
    "outer": Quote(
        "putin",
        "the 1972 Anti-Ballistic Missile Treaty remained, as it had always been, “the "
        "cornerstone of strategic stability”",
    ),
    "tail": Quote("baluyevsky", "strategic stability” and that Moscow saw no reason to amend it"),
    "relic": Quote("rumsfeld", "the treaty was a relic of the Cold War"),
}
OVERLAP_KEPT = dict.fromkeys(OVERLAP_QUOTES, KEPT)
scenario(
    "identical-and-overlapping-spans-and-an-edit-far-away",
    ARTICLE,
    OVERLAP_QUOTES,
    (insert_at(0, "Updated on August 14.\n"),),
    OVERLAP_KEPT,
)
scenario(
    "identical-and-overlapping-spans-sharing-a-changed-word",
    ARTICLE,
    OVERLAP_QUOTES,
    (replace(ARTICLE, "strategic", "global"),),
    OVERLAP_KEPT | dict.fromkeys(["ivanov", "ministry", "outer", "tail"], GONE),
)
scenario(
    "overlapping-spans-one-of-which-loses-words",
    ARTICLE,
    OVERLAP_QUOTES,
    (delete(ARTICLE, ", as it had always been"),),
    OVERLAP_KEPT
    | {
        "outer": GONE,
        "ivanov": find(ARTICLE, "the cornerstone") - len(", as it had always been"),
        "ministry": find(ARTICLE, "the cornerstone") - len(", as it had always been"),
        "tail": find(ARTICLE, "strategic stability”") - len(", as it had always been"),
    },
)
scenario(
    "overlapping-spans-words-inserted-in-one-only",
    ARTICLE,
    OVERLAP_QUOTES,
    (insert_after(ARTICLE, "saw no reason", " at all"),),
    OVERLAP_KEPT | {"tail": GONE},
)

# Statements flagged before the edit

scenario(
    "statement-flagged-by-an-editor-and-an-edit-far-away",
    ARTICLE,
    ARTICLE_QUOTES
    | {"ivanov": Quote("ivanov", "the cornerstone of strategic stability", flagged=True)},
    (insert_at(0, "Updated on August 14.\n"),),
    dict.fromkeys(ARTICLE_QUOTES, KEPT) | {"ivanov": GONE},
)
GLOBAL = ARTICLE.replace("strategic stability", "global stability")
scenario(
    # The edit puts its words back at its old offsets: it still waits for an editor.
    "statement-flagged-by-an-earlier-edit-whose-words-come-back",
    GLOBAL,
    ARTICLE_QUOTES
    | {"ivanov": Quote("ivanov", "the cornerstone of strategic stability", flagged=True)},
    (replace(GLOBAL, "global stability", "strategic stability"),),
    dict.fromkeys(ARTICLE_QUOTES, KEPT) | {"ivanov": GONE},
    first=ARTICLE,
)
TRAVEL_QUOTE = "further consultations with his American counterpart"
SHORTER = ARTICLE.replace("further consultations", "talks")
scenario(
    "statement-flagged-by-an-earlier-edit-whose-offsets-fall-past-the-new-end",
    SHORTER,
    ARTICLE_QUOTES | {"travel": Quote("ivanov", TRAVEL_QUOTE, flagged=True)},
    (delete(SHORTER, "\n" + SHORTER.split("\n")[-1]),),
    dict.fromkeys(ARTICLE_QUOTES, KEPT) | {"travel": GONE},
    first=ARTICLE,
)

# Line breaks (through the API the text is stored byte for byte; a form posts CRLF, and a
# text that differs only in its line breaks is the stored text, unchanged)

WRITTEN = (
    "Ivanov's written statement read:\n“We have no wish to withdraw from any treaty.\n"
    "We are ready to listen to the American arguments.”"
)
ARTICLE_LINES = "\n".join([HEADLINE, LEAD, ABM, WRITTEN, CUTS, GENERAL])
LINE_QUOTES = {
    "ivanov": Quote("ivanov", "the cornerstone of strategic stability"),
    "across": Quote("ivanov", "any treaty.\nWe are ready to listen"),
    "line": Quote("ministry", "We have no wish to withdraw from any treaty."),
    "listen": Quote("putin", "ready to listen to the American arguments"),
    "ceiling": Quote("ivanov", "a ceiling of 1,500 warheads for each side"),
    "general": Quote("baluyevsky", "the talks had been “frank and useful”"),
}
LINES_KEPT = dict.fromkeys(LINE_QUOTES, KEPT)
CRLF_LINE_QUOTES = LINE_QUOTES | {
    "across": Quote("ivanov", "any treaty.\r\nWe are ready to listen")
}
scenario(
    "every-line-break-made-crlf",
    ARTICLE_LINES,
    LINE_QUOTES,
    tuple(every(ARTICLE_LINES, "\n", "\r\n")),
    LINES_KEPT | {"across": GONE},
)
scenario(
    "every-line-break-made-lf-again",
    crlf(ARTICLE_LINES),
    CRLF_LINE_QUOTES,
    tuple(every(crlf(ARTICLE_LINES), "\r\n", "\n")),
    LINES_KEPT | {"across": GONE},
)
scenario(
    "one-line-break-made-crlf",
    ARTICLE_LINES,
    LINE_QUOTES,
    (insert_before(ARTICLE_LINES, "\nWe are ready", "\r"),),
    LINES_KEPT | {"across": GONE},
)
CRLF_ARTICLE = crlf(ARTICLE)
scenario(
    "crlf-text-paragraph-inserted",
    CRLF_ARTICLE,
    ARTICLE_QUOTES,
    (insert_before(CRLF_ARTICLE, CUTS, "Officials on both sides called it businesslike.\r\n"),),
    dict.fromkeys(ARTICLE_QUOTES, KEPT),
)
scenario(
    "crlf-text-word-of-a-quote-replaced",
    CRLF_ARTICLE,
    ARTICLE_QUOTES,
    (replace(CRLF_ARTICLE, "cornerstone", "foundation"),),
    dict.fromkeys(ARTICLE_QUOTES, KEPT) | {"ivanov": GONE},
)
scenario("crlf-text-saved-unchanged", crlf(ARTICLE_LINES), CRLF_LINE_QUOTES, (), LINES_KEPT)
scenario("lf-text-saved-unchanged", ARTICLE_LINES, LINE_QUOTES, (), LINES_KEPT)
TRAILING = ARTICLE + "\n"
END_QUOTES = ARTICLE_QUOTES | {"travel": Quote("ivanov", TRAVEL_QUOTE + ".")}
scenario(
    "text-ending-in-a-line-break-edited-in-the-middle",
    TRAILING,
    END_QUOTES,
    (replace(TRAILING, "three hours", "four hours"),),
    dict.fromkeys(END_QUOTES, KEPT),
)
INDENTED = "  " + ARTICLE
scenario(
    "text-starting-with-spaces-edited-in-the-middle",
    INDENTED,
    ARTICLE_QUOTES,
    (replace(INDENTED, "three hours", "four hours"),),
    dict.fromkeys(ARTICLE_QUOTES, KEPT),
)

# The edges of the text

OPENING = "\n".join([ABM, RELIC, CUTS])
OPENING_QUOTES = {
    "opening": Quote("ivanov", "Ivanov said the 1972 Anti-Ballistic Missile Treaty remained"),
    "relic": Quote("rumsfeld", "the treaty was a relic of the Cold War"),
}
scenario(
    "headline-inserted-before-a-quote-at-the-very-start",
    OPENING,
    OPENING_QUOTES,
    (insert_at(0, HEADLINE + "\n"),),
    dict.fromkeys(OPENING_QUOTES, KEPT),
)
scenario(
    "paragraph-appended-after-a-quote-at-the-very-end",
    ARTICLE,
    END_QUOTES,
    (insert_at(len(ARTICLE), "\nThe Pentagon released no transcript of the meeting."),),
    dict.fromkeys(END_QUOTES, KEPT),
)


# Running a scenario


def lf(text):
    return re.sub(r"\r\n?", "\n", text)


def as_a_browser_posts(text):
    """A textarea's value as a browser submits it: every line break CRLF."""
    return re.sub(r"\r\n|\r|\n", "\r\n", text)


def stored_after_form(old, new):
    """What a form that posts ``new`` (with browser line breaks) should store over ``old``:
    the stored text byte for byte if only line breaks differ, else the new text with the
    stored text's kind of line break, nothing trimmed."""
    if lf(new) == lf(old):
        return old
    if "\r\n" in old and old.count("\r\n") == lf(old).count("\n"):
        return lf(new).replace("\n", "\r\n")
    return lf(new)


def common_prefix(a, b):
    length = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        length += 1
    return length


def common_suffix(a, b):
    return common_prefix(a[::-1], b[::-1])


def reach(old, splice):
    """
    The part of the old text that a comparison of the two texts may take the splice to
    have changed: a passage inserted or deleted next to text that reads the same can be
    placed anywhere along it (deleting "ab" from "abab" deletes either pair).
    """
    new = apply(old, [splice])
    prefix = common_prefix(old, new)
    after_prefix = common_suffix(old[prefix:], new[prefix:])
    suffix = common_suffix(old, new)
    before_suffix = common_prefix(old[: len(old) - suffix], new[: len(new) - suffix])
    return Splice(
        min(splice.start, prefix, before_suffix),
        max(splice.end, len(old) - after_prefix, len(old) - suffix),
        "",
    )


@dataclass(frozen=True)
class Before:
    quote: str
    start: int
    end: int
    prefix: str
    suffix: str
    needs_review: bool

    @classmethod
    def of(cls, statement):
        return cls(*(getattr(statement, name) for name in cls.__dataclass_fields__))


def make_source(scenario):
    """The source and its statements as they are just before the edit under test."""
    text = scenario.first or scenario.old
    source = SourceFactory(text=text)
    parties = {
        "RU": PartyFactory(code="RU", name="Russia"),
        "US": PartyFactory(code="US", name="United States"),
    }
    actors, statements = {}, {}
    for name, quote in scenario.quotes.items():
        if quote.speaker not in actors:
            full_name, party = SPEAKERS[quote.speaker]
            actors[quote.speaker] = ActorFactory(name=full_name, party=parties[party])
        statement = StatementFactory(
            source=source,
            actor=actors[quote.speaker],
            quote=quote.words,
            start=find(text, quote.words, quote.nth),
        )
        if quote.flagged and scenario.first is None:
            statement.needs_review = True
            statement.review_note = "Flagged by an editor: is this Ivanov or his spokesman?"
            statement.save()
        statements[name] = statement
    if scenario.first is not None:
        source.text = scenario.old
        source.save()
    for name, statement in statements.items():
        statement.refresh_from_db()
        assert statement.needs_review == scenario.quotes[name].flagged, name
    source.refresh_from_db()
    assert source.text == scenario.old
    return source, statements


def through_api(client, editor, source, text):
    token, _ = Token.objects.get_or_create(user=editor)
    return Client().patch(
        f"/api/v1/sources/{source.pk}/",
        {"text": text},
        content_type="application/json",
        headers={"Authorization": f"Token {token.key}", "If-Match": f'"{source.version}"'},
    )


def through_form(client, url, context_name, text):
    response = client.get(url)
    form = response.context[context_name]
    form = getattr(form, "form", form)
    data = {name: form[name].value() or "" for name in form.fields}
    data["text"] = as_a_browser_posts(text)
    return client.post(url, data)


def edit(path, client, editor, source, text):
    if path == "api":
        return through_api(client, editor, source, text), 200
    if path == "admin":
        url = f"/admin/positions/source/{source.pk}/change/"
        return through_form(client, url, "adminform", text), 302
    return through_form(client, f"/sources/{source.pk}/edit/", "form", text), 302


def refusal(response):
    if response.context is None:
        return response.content.decode()[:2000]
    for name in ("adminform", "form"):
        form = response.context.get(name)
        if form is not None:
            return getattr(form, "form", form).errors.as_json()
    return response.content.decode()[:2000]


def expected_start(scenario, name, before, new):
    """Where the statement's own words start in the new text, or None."""
    expected = scenario.expect[name]
    if expected is GONE:
        return None
    if expected == KEPT:
        for splice in scenario.splices:
            assert not touches(splice, before.start, before.end), (name, splice)
        expected = carried_through(scenario.splices, before.start)
    assert new[expected : expected + len(before.quote)] == before.quote, name
    return expected


def problems_after_edit(scenario, statements, before, source):
    """What is wrong with each statement after the edit, one line each."""
    old, new = scenario.old, source.text
    problems = []
    for name, statement in statements.items():
        statement.refresh_from_db()
        was = before[name]
        expected = expected_start(scenario, name, was, new)
        low, high = window(old, was.start, was.end)
        context = old[low:high]
        must_flag = (
            was.needs_review
            or expected is None
            or not stands_once(old, context)
            or not stands_once(new, context)
        )
        must_carry = not must_flag and not any(
            touches(reach(old, splice), low, high) for splice in scenario.splices
        )
        where = f"{name} ({was.start}–{was.end} “{was.quote}”)"
        if statement.needs_review:
            if must_carry:
                problems.append(
                    f"{where}: flagged though the edit left its words and context alone: "
                    f"{statement.review_note}"
                )
            if (statement.quote, statement.start, statement.end) != (
                was.quote,
                was.start,
                was.end,
            ):
                problems.append(
                    f"{where}: flagged, but moved to {statement.start}–{statement.end} "
                    f"“{statement.quote}”"
                )
            if not statement.review_note:
                problems.append(f"{where}: flagged without a note saying why")
            continue
        anchor = anchor_at(new, statement.start, statement.end)
        if must_flag:
            problems.append(
                f"{where}: not flagged, on {statement.start}–{statement.end} "
                f"“{new[statement.start : statement.end]}”, expected it flagged"
            )
        elif statement.start != expected:
            problems.append(f"{where}: on {statement.start}, not on its own words at {expected}")
        if statement.quote != was.quote or new[statement.start : statement.end] != was.quote:
            problems.append(
                f"{where}: its quote is now “{statement.quote}”, the text there "
                f"“{new[statement.start : statement.end]}”"
            )
        if (statement.prefix, statement.suffix) != (anchor.prefix, anchor.suffix):
            problems.append(f"{where}: its context is not the text around it")
        if statement.source_sha256 != source.sha256:
            problems.append(f"{where}: not counted in the new text (source_sha256)")
    return problems


def problems_if_unchanged(statements, before):
    problems = []
    for name, statement in statements.items():
        statement.refresh_from_db()
        if Before.of(statement) != before[name]:
            problems.append(f"{name}: changed by a save that left the text as it was")
    return problems


def verify_quotes():
    errors = io.StringIO()
    try:
        call_command("verify_quotes", stdout=io.StringIO(), stderr=errors)
    except CommandError as error:
        pytest.fail(f"verify_quotes: {error}\n{errors.getvalue()}")


@pytest.mark.parametrize("path", ["api", "admin", "editor"])
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda scenario: scenario.name)
def test_after_an_edit_each_statement_is_on_its_own_words_or_flagged(
    scenario, path, editor, editor_client
):
    source, statements = make_source(scenario)
    before = {name: Before.of(statement) for name, statement in statements.items()}
    stored = scenario.new if path == "api" else stored_after_form(scenario.old, scenario.new)
    assert stored in (scenario.old, scenario.new), "the scenario does not fit this path"

    response, status = edit(path, editor_client, editor, source, scenario.new)

    assert response.status_code == status, refusal(response)
    source.refresh_from_db()
    assert source.text == stored
    assert source.sha256 == Source.text_hash(stored)
    if stored == scenario.old:
        problems = problems_if_unchanged(statements, before)
    else:
        problems = problems_after_edit(scenario, statements, before, source)
    assert not problems, "\n".join(problems)
    verify_quotes()
    if path != "api":
        return  # the pages show what is stored, which is the same on every path (above)
    pages = [f"/sources/{source.pk}/", "/review/"]
    pages += [f"/statements/{statement.pk}/" for statement in statements.values()]
    for url in pages:
        assert editor_client.get(url).status_code == 200, url
