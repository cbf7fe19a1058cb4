"""
Candidate statements in a source's text, for an editor to accept or dismiss.

Two kinds are found:

- quoted speech: the words between “ and ”, with the speaker named next to them
  ("Ivanov added, “…”", "“…,” added Ivanov") or, for "he said", the last person named
  before them;
- attributed reported speech: "According to X, …", "X said that …", "X emphasized
  that …" and the like, the clause after the cue up to the end of the sentence.

Speakers are matched to known actors by full name or surname. Nothing here changes the
text: every candidate is a span of it, to be checked like any other quote.
"""

import re
from dataclasses import dataclass

from positions.models import Actor, AttributionKind

SPEECH_VERBS = (
    "said",
    "says",
    "added",
    "noted",
    "stated",
    "emphasized",
    "emphasised",
    "stressed",
    "explained",
    "repeated",
    "declared",
    "announced",
    "insisted",
    "argued",
    "warned",
    "told",
    "believes",
    "clearly stated",
)
QUOTED = re.compile(r"“([^”]+)”")
SENTENCE_END = re.compile(r"[.!?](?=\s|$)")
PRONOUNS = {"he", "she", "him", "her"}
MIN_QUOTED_WORDS = 4  # shorter quoted words are terms ("controllable deterrence"), not speech
CONTEXT = 120  # characters either side of a quote searched for its speaker


@dataclass(frozen=True)
class Suggestion:
    start: int
    end: int
    quote: str
    kind: str
    actor: Actor | None
    cue: str

    @property
    def kind_label(self):
        return AttributionKind(self.kind).label

    @property
    def key(self):
        """Identifies a suggestion across requests, e.g. to dismiss it."""
        return f"{self.start}-{self.end}-{self.actor.pk if self.actor else 0}"


class Speakers:
    """Finds actors named in a piece of text, by full name or surname."""

    def __init__(self, actors):
        self.by_alias = {}
        for actor in actors:
            if actor.kind != "person" or actor.party_id is None:
                continue
            for alias in {actor.name, actor.name.split()[-1]}:
                self.by_alias.setdefault(alias, actor)
        names = sorted(self.by_alias, key=len, reverse=True)
        self.pattern = (
            re.compile(r"\b(" + "|".join(re.escape(n) for n in names) + r")\b") if names else None
        )

    def mentions(self, text, offset=0):
        """(position, actor) for each name in text, positions relative to the source."""
        if self.pattern is None:
            return []
        return [
            (offset + match.start(), self.by_alias[match.group(1)])
            for match in self.pattern.finditer(text)
        ]

    def last_before(self, text, position):
        found = self.mentions(text[:position])
        return found[-1][1] if found else None


def sentence_bounds(text, position):
    """The start and end of the sentence around a position."""
    start = 0
    for match in SENTENCE_END.finditer(text, 0, position):
        start = match.end()
    end_match = SENTENCE_END.search(text, position)
    end = end_match.end() if end_match else len(text)
    while start < len(text) and text[start].isspace():
        start += 1
    return start, end


def quoted_speech(text, speakers):
    for match in QUOTED.finditer(text):
        words = match.group(1)
        if len(words.split()) < MIN_QUOTED_WORDS:
            continue
        start, end = match.start(1), match.end(1)
        if words.endswith(","):  # “…,” added Ivanov: the comma belongs to the sentence
            end -= 1
        before = text[max(0, match.start() - CONTEXT) : match.start()]
        after = text[match.end() : match.end() + CONTEXT]
        actor, cue = speaker_of_quote(text, match.start(), before, after, speakers)
        yield Suggestion(start, end, text[start:end], AttributionKind.DIRECT_QUOTE, actor, cue)


def speaker_of_quote(text, quote_start, before, after, speakers):
    """The actor named right after ("…,” added Ivanov") or before the quote, or by "he"."""
    after_clause = re.match(r"\s*,?\s*(?:" + "|".join(SPEECH_VERBS) + r")\s+(\w+(?: \w+)?)", after)
    if after_clause:
        found = speakers.mentions(after_clause.group(1))
        if found:
            return found[0][1], after_clause.group(0).strip()
    sentence_start, _ = sentence_bounds(text, quote_start)
    lead = text[sentence_start:quote_start]
    found = speakers.mentions(lead)
    if found:
        return found[-1][1], lead.strip()
    if re.search(r"\b(?:he|she)\b", lead, re.IGNORECASE):
        return speakers.last_before(text, sentence_start), lead.strip()
    found = speakers.mentions(before)
    return (found[-1][1] if found else None), before.strip()[-60:]


def reported_speech(text, speakers):
    if speakers.pattern is None:
        return
    names = speakers.pattern.pattern[3:-3]  # the alternation of known names
    who = rf"(?P<who>{names}|he|she|him|her)"
    verbs = "|".join(re.escape(verb) for verb in SPEECH_VERBS)
    cues = [
        # A rank may stand before the name: "According to Lieutenant-General Anatoly ...".
        re.compile(rf"\bAccording to (?:[A-Z][a-z]+(?:-[A-Z][a-z]+)* )?{who},\s*"),
        re.compile(rf"\b{who}\s+(?:(?:also|clearly|repeatedly)\s+)?(?:{verbs})(?:,)?\s+that\s+"),
        re.compile(rf"\b{who}\s+(?:{verbs}),\s+(?=[^“])"),
    ]
    for cue in cues:
        for match in cue.finditer(text):
            start = match.end()
            if start < len(text) and text[start] == "“":
                continue  # quoted speech, found above
            _, sentence_end = sentence_bounds(text, start)
            end = sentence_end - 1 if text[sentence_end - 1] in ".!?" else sentence_end
            if end - start < 10:
                continue
            name = match.group("who")
            if name.lower() in PRONOUNS:
                actor = speakers.last_before(text, match.start())
            else:
                actor = speakers.by_alias.get(name)
            yield Suggestion(
                start, end, text[start:end], AttributionKind.REPORTED, actor, match.group(0)
            )


def suggest(source, *, actors=None, captured=None):
    """
    Candidate statements in ``source``, in text order, leaving out any that an existing
    statement already covers (the same speaker on an overlapping span, or the same span).
    """
    text = source.text
    speakers = Speakers(actors if actors is not None else Actor.objects.all())
    if captured is None:
        # Not those awaiting review: their offsets are an old text's.
        placed = source.statements.filter(needs_review=False)
        captured = list(placed.values_list("start", "end", "actor_id"))
    found = {}
    for suggestion in [*quoted_speech(text, speakers), *reported_speech(text, speakers)]:
        if already_captured(suggestion, captured):
            continue
        found.setdefault((suggestion.start, suggestion.end), suggestion)
    return sorted(found.values(), key=lambda s: (s.start, s.end))


def already_captured(suggestion, captured):
    for start, end, actor_id in captured:
        same_span = (start, end) == (suggestion.start, suggestion.end)
        overlap = min(end, suggestion.end) - max(start, suggestion.start)
        same_speaker = suggestion.actor is not None and actor_id == suggestion.actor.pk
        if same_span or (same_speaker and overlap > 0):
            return True
    return False


def quality(source, statements, actors):
    """
    How many of the source's captured direct quotes the suggestions find with the right
    speaker, as if none had been captured yet: (found, total).
    """
    suggestions = suggest(source, actors=actors, captured=[])
    quotes = [s for s in statements if s.kind == AttributionKind.DIRECT_QUOTE]
    found = 0
    for statement in quotes:
        if any(
            c.start <= statement.start
            and statement.end <= c.end
            and c.actor is not None
            and c.actor.pk == statement.actor_id
            for c in suggestions
        ):
            found += 1
    return found, len(quotes)
