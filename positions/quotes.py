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
