"""
Carrying quotes through an edit of their source's text.

When a source's text changes, every quote on it must either stay on its own characters or
be flagged for an editor: it must never land on other words that read the same. So a quote
is never looked for again in the new text. Instead the old and the new text are compared
character by character, and each quote is carried through that difference:

- a quote whose characters, and the text around them, all come through the edit unchanged
  and in one piece moves to where they went. The text around them is the quote's
  paragraph (up to PARAGRAPH_REACH characters on each side), and never less than its
  stored context (CONTEXT_LENGTH characters on each side, or up to the start or end of
  the text): who said the words, and when, is told in the paragraph, often further than
  the context reaches ("On Friday, speaking at the Defense Ministry, Ivanov said the
  talks had been useful"), and swapping two such paragraphs, or their days, must not
  leave a quote in the other one;
- any other quote (its words changed, deleted or split, text inserted into it or its
  paragraph, or its context cut off) is not carried: it is flagged, with a reason.

One further rule keeps look-alike passages apart: where the same words with the same
context stand twice, in the old text or in the new, a comparison of the two texts cannot
tell which of them is which, so quotes on them are flagged rather than guessed. (Near the
start or the end of the text, the context is what there is, down to the edge.)

The comparison is Google's diff-match-patch (Myers' O(ND) algorithm, with the common start
and end of the two texts taken off first and a time limit). It was chosen over difflib's
SequenceMatcher because SequenceMatcher is quadratic in the worst case and, by default,
treats frequent characters (spaces, "e") of texts over 200 characters as junk, which
makes a character-level comparison of an article meaningless. If the time limit cuts the
comparison short, the difference it returns is still correct, only coarser: more quotes
are flagged, none is moved wrongly.

Nothing here touches the database: text in, spans out (see Source.save() for its use).
"""

import bisect
from dataclasses import dataclass

from diff_match_patch import diff_match_patch

from positions.quotes import CONTEXT_LENGTH

# Seconds the comparison may take before it settles for a coarser (still correct) result.
DIFF_TIMEOUT = 2.0

# How far into its paragraph, on each side, a quote's guard reaches (see guarded()).
PARAGRAPH_REACH = 400


@dataclass(frozen=True)
class Carried:
    """Where a span went, or why it was not carried (start and end are then None)."""

    start: int | None
    end: int | None
    reason: str = ""

    @property
    def carried(self):
        return self.start is not None


@dataclass(frozen=True)
class Block:
    """A run of characters the edit left as it was: old[old:old+size] == new[new:new+size]."""

    old: int
    new: int
    size: int


def unchanged_blocks(old, new, timeout=DIFF_TIMEOUT):
    """The runs of characters that the edit from ``old`` to ``new`` left unchanged, in order."""
    differ = diff_match_patch()
    differ.Diff_Timeout = timeout
    blocks, old_position, new_position = [], 0, 0
    for operation, chunk in differ.diff_main(old, new, checklines=False):
        if operation == differ.DIFF_EQUAL:
            blocks.append(Block(old_position, new_position, len(chunk)))
            old_position += len(chunk)
            new_position += len(chunk)
        elif operation == differ.DIFF_DELETE:
            old_position += len(chunk)
        else:
            new_position += len(chunk)
    return blocks


def carry_spans(
    old, new, spans, context=CONTEXT_LENGTH, reach=PARAGRAPH_REACH, timeout=DIFF_TIMEOUT
):
    """
    Carry each (start, end) span of ``old`` through the edit to ``new``: one Carried per
    span, in the same order. See the module's docstring for the rules.
    """
    if old == new:
        return [Carried(start, end) for start, end in spans]
    blocks = unchanged_blocks(old, new, timeout)
    starts = [block.old for block in blocks]
    return [carry(old, new, blocks, starts, start, end, context, reach) for start, end in spans]


def guarded(text, start, end, context=CONTEXT_LENGTH, reach=PARAGRAPH_REACH):
    """
    The part of ``text`` that must come through an edit unchanged for the quote at
    [start, end) to be carried: its paragraph, up to ``reach`` characters on each side,
    and never less than ``context`` characters (or up to the edge of the text).
    """
    paragraph_start = text.rfind("\n", 0, start) + 1
    paragraph_end = text.find("\n", end)
    if paragraph_end == -1:
        paragraph_end = len(text)
    low = min(start - context, max(paragraph_start, start - reach))
    high = max(end + context, min(paragraph_end, end + reach))
    return max(0, low), min(len(text), high)


def carry(old, new, blocks, starts, start, end, context, reach=PARAGRAPH_REACH):
    if not 0 <= start < end <= len(old):
        return Carried(None, None, "its offsets were not inside the old text")
    window_start, window_end = guarded(old, start, end, context, reach)
    block = block_holding(blocks, starts, window_start, window_end)
    if block is None:
        if block_holding(blocks, starts, start, end) is None:
            return Carried(None, None, "the edit changed or removed words of the quote itself")
        if block_holding(blocks, starts, *guarded(old, start, end, context, 0)) is None:
            return Carried(None, None, "the edit changed the text right around the quote")
        return Carried(
            None,
            None,
            "the edit changed its paragraph, where who said it and when are told, so it "
            "may now belong to someone else",
        )
    shift = block.new - block.old
    window = old[window_start:window_end]
    if not stands_once(old, window) or not stands_once(new, window):
        return Carried(
            None,
            None,
            "the same words with the same context stand more than once, so which of them "
            "is this quote cannot be told from the edit",
        )
    return Carried(start + shift, end + shift)


def block_holding(blocks, starts, start, end):
    """The unchanged block that holds old[start:end] whole, or None."""
    index = bisect.bisect_right(starts, start) - 1
    if index < 0:
        return None
    block = blocks[index]
    return block if end <= block.old + block.size else None


def stands_once(text, words):
    first = text.find(words)
    return first != -1 and text.find(words, first + 1) == -1
