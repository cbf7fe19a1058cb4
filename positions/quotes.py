"""
Anchoring quotes to the text of their source.

A quote is located by code-point offsets into the source text, plus a little context on
either side, in the manner of the W3C Web Annotation TextPositionSelector and
TextQuoteSelector. Nothing here trims, folds or normalises a quote: it either matches
the source exactly or it is an error.
"""

from dataclasses import dataclass

CONTEXT_LENGTH = 32

# Typographic characters an editor is likely to have typed as their ASCII look-alikes.
LOOKALIKES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-"})


@dataclass(frozen=True)
class Anchor:
    start: int
    end: int
    prefix: str
    suffix: str


def occurrences(text, quote):
    """Every offset at which ``quote`` starts in ``text``, overlapping ones included."""
    found = []
    index = text.find(quote)
    while index != -1:
        found.append(index)
        index = text.find(quote, index + 1)
    return found


def anchor_at(text, start, end):
    return Anchor(
        start=start,
        end=end,
        prefix=text[max(0, start - CONTEXT_LENGTH) : start],
        suffix=text[end : end + CONTEXT_LENGTH],
    )


def exact_span(text, quote, start, end):
    """
    The span of ``text`` that ``quote`` and its offsets name, as (quote, start, end): the
    words must be the text between the offsets (empty words are filled in from them), or,
    without offsets, stand exactly once in the text. Raises ValueError saying what is wrong.
    """
    if start is not None and end is None and quote:
        end = start + len(quote)
    if start is None and end is not None and quote:
        start = end - len(quote)
    if start is not None and end is not None:
        if start < 0 or end <= start:
            raise ValueError("The end offset must be greater than the start.")
        if end > len(text):
            raise ValueError(f"The text is only {len(text)} characters long; end is {end}.")
        actual = text[start:end]
        if quote and actual != quote:
            raise ValueError(
                f"The words do not match the text at offsets {start}–{end}, which reads "
                f"“{excerpt(actual)}”."
            )
        return actual, start, end
    if not quote:
        raise ValueError("Give the words, their offsets, or both.")
    found = occurrences(text, quote)
    if not found:
        raise ValueError("These words are not in the text." + describe_near_miss(text, quote))
    if len(found) > 1:
        listed = ", ".join(str(offset) for offset in found[:10])
        raise ValueError(
            f"These words occur {len(found)} times in the text (at offsets {listed}); give "
            "the start offset of the one you mean."
        )
    return quote, found[0], found[0] + len(quote)


def describe_near_miss(text, quote):
    """A hint for a quote that is not in the text as typed, or "" if there is none."""
    if quote != quote.strip() and quote.strip() and quote.strip() in text:
        return (
            " The text without its leading or trailing whitespace is in the source; "
            "quotes are stored exactly, so remove the extra whitespace or adjust the offsets."
        )
    if quote.translate(LOOKALIKES) in text.translate(LOOKALIKES):
        return (
            " It is there with different quotation marks or dashes: the source uses "
            "typographic characters (such as ‘ ’ “ ” –), so copy the quote from the source."
        )
    if " ".join(quote.split()) in " ".join(text.split()):
        return " It is there with different spacing or line breaks."
    return ""


def excerpt(text, limit=80):
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Candidate:
    """A place where a quote awaiting review might be, for an editor to judge."""

    start: int
    how: str  # "with its context", "with the text before it", "with the text after it", …


def candidates(text, quote, prefix, suffix, limit=20):
    """
    Where ``quote`` stands in ``text``, best first: with its old prefix and suffix context
    around it, then with one side of it, then the bare words. Only ever shown to an editor
    as a suggestion: the same words in another place may be someone else's.
    """
    found, seen = [], set()
    attempts = [
        ("with the text before and after it, as before", prefix + quote + suffix, len(prefix)),
        ("with the text before it, as before", prefix + quote, len(prefix)),
        ("with the text after it, as before", quote + suffix, 0),
        ("the words only, in another context", quote, 0),
    ]
    for how, needle, lead in attempts:
        if needle == quote and how != attempts[-1][0]:
            continue  # no context on that side to go by (the quote was at an edge)
        for offset in occurrences(text, needle):
            start = offset + lead
            if start not in seen:
                seen.add(start)
                found.append(Candidate(start, how))
            if len(found) >= limit:
                return found
    return found
