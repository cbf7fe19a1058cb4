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
class Relocation:
    """Where a quote was found again after its source text changed, and how."""

    start: int | None
    how: str  # "in place", "by context", "by prefix", "by suffix", or "" if not found
    note: str = ""


def relocate(text, quote, start, prefix, suffix):
    """
    Find ``quote`` again in a changed ``text``: first at its old offset, then, anywhere
    else, with its old prefix and suffix context around it, then with one side of that
    context. A quote found on none of these terms, or found more than once, is not moved:
    the result's start is None and its note says why. The quote alone is never enough,
    since the same words elsewhere may be another passage.
    """
    if text[start : start + len(quote)] == quote:
        return Relocation(start, "in place")
    attempts = [
        ("by context", prefix + quote + suffix, len(prefix)),
        ("by prefix", prefix + quote, len(prefix)),
        ("by suffix", quote + suffix, 0),
    ]
    for how, needle, lead in attempts:
        if not (prefix if how == "by prefix" else suffix if how == "by suffix" else True):
            continue  # no context on that side to go by (the quote was at an edge)
        found = occurrences(text, needle)
        if len(found) == 1:
            return Relocation(found[0] + lead, how)
        if len(found) > 1:
            return Relocation(
                None, "", f"the quote with its context occurs {len(found)} times in the new text"
            )
    if quote in text:
        count = len(occurrences(text, quote))
        return Relocation(
            None,
            "",
            f"the words occur {count} time{'s' if count > 1 else ''} in the new text, but not "
            "with their old context",
        )
    return Relocation(None, "", "the words are no longer in the text")
