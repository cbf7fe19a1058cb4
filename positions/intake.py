"""
Turning what an editor pastes or uploads into the text snapshot of a source.

A source is kept as plain text, and statements' quotes anchor to it by character
offsets, so the snapshot is made once, here, and never silently rewritten afterwards.
The rules:

* Characters are kept exactly as they are: typographic quotation marks, dashes,
  non-breaking spaces and the like are never replaced by look-alikes, so that a quote
  copied from the original matches the snapshot code point for code point.
* Line breaks are normalised to "\\n" (CRLF and lone CR), and a byte-order mark at the
  start is removed.
* Leading and trailing whitespace of the whole text is stripped. This is safe only
  because the snapshot is being created: nothing is anchored to it yet. Whitespace
  inside the text, trailing spaces on a line included, is kept.
* Text that cannot be anchored to reliably is refused rather than repaired: NUL and
  other control characters (tab and line feed apart), lone surrogates, text that is
  empty or only whitespace, text that is too long. Nothing is ever truncated.
* Uploads are .txt/.text (plain text) or .htm/.html (a web page, reduced to the text a
  reader would see: one paragraph per line, see html_to_text()). A file must be UTF-8,
  or UTF-16/UTF-32 with a byte-order mark; an HTML page that is not UTF-8 may be read
  in the encoding its <meta charset> declares. Encodings are never guessed.

Every refusal is a django.core.exceptions.ValidationError with a message for the editor
and a code: "nul", "control", "encoding", "empty", "too_large", "extension", "binary".
"""

import codecs
import io
import os
import re
from html.parser import HTMLParser

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile

DEFAULT_UPLOAD_MAX_BYTES = 2 * 1024 * 1024
DEFAULT_TEXT_MAX_CHARS = 1_000_000
READ_CHUNK_SIZE = 64 * 1024

TEXT_EXTENSIONS = (".txt", ".text")
HTML_EXTENSIONS = (".htm", ".html")

NEWLINES = re.compile(r"\r\n?")
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
CONTROL_CHARACTER = re.compile("[\x00-\x08\x0b-\x1f]")  # C0 controls but tab and LF.
CONTEXT_LENGTH = 20

# A text file that starts like this is an HTML page.
HTML_START = re.compile(r"[\ufeff\s]*<(?:!doctype\s+html|html)\b", re.IGNORECASE)

# Formats that are not text, recognised by their first bytes.
BINARY_SIGNATURES = (
    (b"%PDF", "a PDF file"),
    (b"PK\x03\x04", "a ZIP archive, such as a Word (.docx) or OpenDocument (.odt) file"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an older Microsoft Office file, such as a .doc"),
    (b"\x89PNG", "a PNG image"),
    (b"GIF8", "a GIF image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"{\\rtf", "a Rich Text (RTF) document, whose formatting codes would end up in the text"),
)

# The UTF-32 marks come first: the little-endian one starts with the UTF-16 one.
BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# <meta charset="..."> or <meta http-equiv="Content-Type" content="...; charset=...">,
# looked for in the first 1024 bytes, as browsers do.
META_CHARSET = re.compile(rb"""<meta\b[^>]*?\bcharset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
CHARSET_PRESCAN_BYTES = 1024

# Legacy encodings a page may declare, by Python codec name. The Unicode encodings are
# not among them: a page that declares UTF-8 (or, meaninglessly, UTF-16) must be UTF-8.
DECLARABLE_ENCODINGS = frozenset(
    {f"cp{number}" for number in range(1250, 1259)}
    | {f"iso8859-{number}" for number in (2, 3, 4, 5, 6, 7, 8, 10, 13, 14, 15, 16)}
    | {"cp866", "cp874", "koi8-r", "koi8-u", "mac-roman"}
    | {"gbk", "gb18030", "big5hkscs", "euc_jp", "iso2022_jp", "cp932", "cp949"}
)
# Encodings that browsers (following the WHATWG Encoding Standard) read as a superset;
# pages labelled ISO-8859-1 routinely contain Windows-1252 curly quotes, for example.
BROWSER_SUPERSETS = {
    "ascii": "cp1252",
    "iso8859-1": "cp1252",
    "iso8859-9": "cp1254",
    "iso8859-11": "cp874",
    "tis-620": "cp874",
    "gb2312": "gbk",
    "big5": "big5hkscs",
    "shift_jis": "cp932",
    "euc_kr": "cp949",
}

# HTML elements whose content is not text a reader sees.
DROPPED_ELEMENTS = frozenset(
    {"head", "title", "script", "style", "noscript", "template", "svg", "iframe", "object"}
    | {"audio", "video", "canvas"}  # Their content is fallback for older browsers.
)
# The elements that may be in <head>; any other start tag ends an unclosed <head>.
HEAD_ELEMENTS = frozenset(
    {"title", "meta", "link", "base", "style", "script", "noscript", "template"}
)
BLOCK_ELEMENTS = frozenset(
    {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "pre", "blockquote", "address"}
    | {"ul", "ol", "li", "dl", "dt", "dd", "menu", "table", "caption", "tr"}
    | {"section", "article", "header", "footer", "main", "aside", "nav", "hgroup"}
    | {"figure", "figcaption", "details", "summary", "form", "fieldset", "legend", "center"}
)
CELL_ELEMENTS = frozenset({"td", "th"})
CELL_SEPARATOR = " "
# The whitespace that HTML collapses; U+00A0 NO-BREAK SPACE is not part of it.
HTML_WHITESPACE = re.compile(r"[ \t\n\r\f]+")
# What close() would otherwise output as text: a tag or comment cut off by the end.
UNFINISHED_MARKUP = re.compile(r"<[a-zA-Z/!?]")


def normalize_text(text: str) -> str:
    """
    Return ``text`` as a source snapshot: LF line breaks, no byte-order mark at the
    start, no whitespace around it, every other character untouched.

    Raise ValidationError if the text contains a NUL ("nul"), another control
    character ("control") or a lone surrogate ("encoding"), or if nothing but
    whitespace is left ("empty").
    """
    text = normalize_newlines(text).removeprefix("\ufeff")
    check_characters(text)
    text = text.strip()
    if not text:
        raise ValidationError("There is no text: it is empty or only whitespace.", code="empty")
    return text


def intake_changes(raw, text):
    """What normalize_text() changed in ``raw`` to give ``text``, in an editor's words."""
    changes = []
    if "\r" in raw:
        changes.append("line breaks made LF (\\n)")
    if raw.startswith("\ufeff"):
        changes.append("the byte-order mark at the start removed")
    stripped = len(normalize_newlines(raw).removeprefix("\ufeff")) - len(text)
    if stripped:
        changes.append(f"{stripped} blank character(s) at the start or end removed")
    return changes


def edited_text(posted, stored):
    """
    The text an edit form's textarea means for a source whose text is ``stored``.

    A browser sends every line break of a textarea as CRLF, whatever the text had, so a
    text that differs from the stored one only in its line breaks is the stored text,
    unchanged, byte for byte. A changed text keeps the stored text's line breaks (CRLF if
    it has only CRLF, else LF), and is not trimmed: only what the editor changed changes.
    Raise ValidationError for characters that no source text may hold.
    """
    text = normalize_newlines(posted)
    if text == normalize_newlines(stored):
        return stored
    check_characters(text)
    if not text.strip():
        raise ValidationError("There is no text: it is empty or only whitespace.", code="empty")
    if "\r\n" in stored and stored.count("\r\n") == normalize_newlines(stored).count("\n"):
        text = text.replace("\n", "\r\n")
    return text


def check_characters(text):
    """Raise ValidationError for a NUL, another control character or a lone surrogate."""
    if match := LONE_SURROGATE.search(text):
        raise ValidationError(
            f"The text contains U+{ord(match[0]):04X}, half of a surrogate pair, "
            f"{describe_position(text, match.start())}. It is not a character: "
            "copy the text again from the original.",
            code="encoding",
        )
    if match := CONTROL_CHARACTER.search(text):
        if match[0] == "\x00":
            raise ValidationError(
                f"The text contains a NUL character (U+0000) "
                f"{describe_position(text, match.start())}. "
                "It may be binary data rather than text.",
                code="nul",
            )
        raise ValidationError(
            f"The text contains the control character U+{ord(match[0]):04X} "
            f"{describe_position(text, match.start())}. "
            "Remove it (it is invisible in most editors) and try again.",
            code="control",
        )


def normalize_newlines(text):
    return NEWLINES.sub("\n", text)


def describe_position(text, index):
    """Where ``index`` is, for an editor: the line number and the words before it."""
    line_start = text.rfind("\n", 0, index) + 1
    line = text.count("\n", 0, index) + 1
    before = text[line_start:index][-CONTEXT_LENGTH:].lstrip()
    if not before:
        return f"at the start of line {line}"
    return f"on line {line}, after “{before}”"


def html_to_text(html: str) -> str:
    """
    Return the text of an HTML page as a reader sees it, one paragraph per line.

    Scripts, styles, the <head> and other content that is not displayed are dropped,
    as are comments, the doctype and all attributes. Block elements (p, div, li, h1,
    tr…) start and end paragraphs, and <br> ends a line. Whitespace collapses into a
    single space as in a browser (U+00A0 NO-BREAK SPACE is kept, not collapsed) and
    each paragraph is stripped; paragraphs that are only whitespace are dropped. In a
    <pre> every space and line break is kept, apart from blank lines at its start and
    end. Table cells in a row are separated by a space. Malformed HTML is read as far
    as it goes; it is never an error. The result goes through normalize_text().
    """
    parser = TextExtractor()
    parser.feed(normalize_newlines(html).removeprefix("\ufeff"))
    parser.close()
    try:
        return normalize_text("\n".join(parser.paragraphs))
    except ValidationError as error:
        if error.code == "empty":
            raise ValidationError(
                "No text was found in the HTML: it has no content a reader would see "
                "(scripts, styles and markup are not kept).",
                code="empty",
            ) from None
        raise


class TextExtractor(HTMLParser):
    """Collect the paragraphs of text an HTML document displays."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.paragraphs = []
        self.pieces = []  # The text of the current paragraph.
        self.dropped = []  # The open elements whose content is dropped, innermost last.
        self.pre_depth = 0

    def handle_starttag(self, tag, attrs):
        if self.dropped == ["head"] and tag not in HEAD_ELEMENTS:
            # A browser ends an unclosed <head> at the first element of the body.
            self.dropped.pop()
        if self.dropped or tag in DROPPED_ELEMENTS:
            if tag in DROPPED_ELEMENTS:
                self.dropped.append(tag)
        elif tag == "br":
            self.line_break()
        elif tag in CELL_ELEMENTS:
            self.pieces.append(CELL_SEPARATOR)
        elif tag in BLOCK_ELEMENTS:
            self.end_paragraph()
            if tag == "pre":
                self.pre_depth += 1

    def handle_endtag(self, tag):
        if tag in self.dropped:
            # Close it, and anything left unclosed inside it.
            while self.dropped.pop() != tag:
                pass
        elif not self.dropped and tag in BLOCK_ELEMENTS:
            self.end_paragraph()
            if tag == "pre" and self.pre_depth:
                self.pre_depth -= 1

    def handle_data(self, data):
        if not self.dropped:
            self.pieces.append(data)

    def close(self):
        # A tag or comment cut off by the end of the document is dropped, as browsers
        # do, rather than output as text.
        if UNFINISHED_MARKUP.match(self.rawdata):
            self.rawdata = ""
        super().close()
        self.end_paragraph()

    def line_break(self):
        if self.pre_depth:
            self.pieces.append("\n")
        else:
            self.end_paragraph()

    def end_paragraph(self):
        text = "".join(self.pieces)
        self.pieces = []
        if self.pre_depth:
            text = strip_blank_lines(text)
        else:
            text = HTML_WHITESPACE.sub(" ", text).strip(" ")
        if text.strip():
            self.paragraphs.append(text)


def strip_blank_lines(text):
    """Remove the lines at the start and end of ``text`` that are only whitespace."""
    lines = text.split("\n")
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return "\n".join(lines[start:end])


def text_from_upload(upload: UploadedFile, *, max_bytes: int | None = None) -> str:
    """
    Return the snapshot text of an uploaded .txt/.text or .htm/.html file.

    Raise ValidationError for a file of another type ("extension"), over ``max_bytes``
    (default: the SOURCE_UPLOAD_MAX_BYTES setting, or 2 MB) ("too_large"), that is not
    text ("binary"), that cannot be decoded ("encoding"), or has no text ("empty"), and
    for any of normalize_text()'s reasons. At most ``max_bytes`` + 1 bytes are read.
    """
    if max_bytes is None:
        max_bytes = getattr(settings, "SOURCE_UPLOAD_MAX_BYTES", DEFAULT_UPLOAD_MAX_BYTES)
    name = upload.name or ""
    extension = os.path.splitext(name)[1].lower()
    if extension not in TEXT_EXTENSIONS + HTML_EXTENSIONS:
        allowed = ", ".join(TEXT_EXTENSIONS + HTML_EXTENSIONS)
        raise ValidationError(
            f"“{name}” is not a file type that can be used. Upload plain text or a web page: "
            f"a file ending in {allowed}.",
            code="extension",
        )
    if upload.size is not None and upload.size > max_bytes:
        raise too_large(upload.size, max_bytes)
    data = read_at_most(upload, max_bytes + 1)
    if len(data) > max_bytes:
        raise too_large(None, max_bytes)  # Its size was not what it claimed.
    if not data:
        raise ValidationError("The file is empty.", code="empty")
    refuse_binary(data)
    is_html = extension in HTML_EXTENSIONS
    text = decode(data, is_html)
    if is_html or HTML_START.match(text):
        return html_to_text(text)
    return normalize_text(text)


def read_at_most(upload, limit):
    """Read ``upload`` from its start, but no more than ``limit`` bytes of it."""
    try:
        upload.seek(0)
    except (AttributeError, io.UnsupportedOperation):
        pass
    chunks = []
    remaining = limit
    while remaining > 0:
        chunk = upload.read(min(remaining, READ_CHUNK_SIZE))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def too_large(size, limit):
    """The error for a file of ``size`` bytes (None if unknown) over ``limit`` bytes."""
    limit = human_size(limit)
    if size is None or human_size(size) == limit:
        description = f"The file is larger than the limit of {limit}."
    else:
        description = f"The file is {human_size(size)}, larger than the limit of {limit}."
    return ValidationError(
        f"{description} Upload a file with only the source's text.", code="too_large"
    )


def human_size(size):
    """``size`` bytes in words, in units of 1024: "512 bytes", "1.5 KB", "2 MB"."""
    if size < 1024:
        return f"{size} bytes"
    for unit in ("KB", "MB", "GB"):
        size /= 1024
        if size < 1024 or unit == "GB":
            return f"{size:.1f}".removesuffix(".0") + f" {unit}"


def refuse_binary(data):
    """Raise ValidationError if ``data`` is a known binary format or contains NUL bytes."""
    advice = (
        "Save it as plain text (.txt) or as a web page (.html) and upload that, "
        "or copy its text and paste it."
    )
    for signature, description in BINARY_SIGNATURES:
        if data.startswith(signature):
            raise ValidationError(
                f"This looks like {description}, not a text or HTML file. {advice}",
                code="binary",
            )
    if b"\x00" in data and not byte_order_mark_encoding(data):
        raise ValidationError(
            "The file contains NUL bytes, so it is not UTF-8 text: it may be a binary file "
            f"(such as a word-processor document) or text in UTF-16 without a byte-order "
            f"mark. {advice}",
            code="binary",
        )


def byte_order_mark_encoding(data):
    """The UTF-16 or UTF-32 codec that ``data``'s byte-order mark names, or None."""
    for mark, encoding in BYTE_ORDER_MARKS:
        if data.startswith(mark):
            return encoding
    return None


def decode(data, is_html):
    """
    Decode ``data`` as UTF-16 or UTF-32 if a byte-order mark says so, else as UTF-8
    (a UTF-8 byte-order mark is left for normalize_text() to remove). An HTML page that
    is not UTF-8 is decoded with the encoding it declares, if it declares one.
    """
    if encoding := byte_order_mark_encoding(data):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as error:
            raise ValidationError(
                f"The file starts with a {encoding.upper()} byte-order mark but is not valid "
                f"{encoding.upper()}: the bytes at offset {error.start} cannot be decoded. "
                "Save the file as UTF-8 and upload it again.",
                code="encoding",
            ) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        utf8_error = error
    if is_html or HTML_START.match(data.decode("latin-1")):
        if match := META_CHARSET.search(data, 0, CHARSET_PRESCAN_BYTES):
            return decode_declared(data, match[1].decode("ascii"), utf8_error)
    raise not_utf8(data, utf8_error)


def decode_declared(data, label, utf8_error):
    """Decode ``data``, which is not UTF-8, with the encoding its HTML declares."""
    try:
        encoding = codecs.lookup(label).name
    except LookupError:
        encoding = None
    encoding = BROWSER_SUPERSETS.get(encoding, encoding)
    if encoding in ("utf-8", "utf-16", "utf-16-le", "utf-16-be"):
        raise not_utf8(data, utf8_error)
    if encoding not in DECLARABLE_ENCODINGS:
        raise ValidationError(
            f"The page declares its character encoding as “{label}”, which is not one that "
            "can be read. Save the file as UTF-8 and upload it again.",
            code="encoding",
        )
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        raise ValidationError(
            f"The page declares its character encoding as “{label}”, but the byte at offset "
            f"{error.start} (0x{data[error.start]:02X}) is not valid in it. "
            "Save the file as UTF-8 and upload it again.",
            code="encoding",
        ) from None


def not_utf8(data, error):
    """The error for ``data``, which UTF-8 decoding failed on with ``error``."""
    offset = error.start
    line = data.count(b"\n", 0, offset) + 1
    return ValidationError(
        f"The file is not UTF-8 text: the byte at offset {offset} (line {line}), "
        f"0x{data[offset]:02X}, is not valid UTF-8. Open the file in a text editor, save it "
        "with the encoding UTF-8, and upload it again.",
        code="encoding",
    )


def text_from_paste(text: str, *, max_chars: int | None = None) -> str:
    """
    Return the snapshot text of pasted ``text``, as normalize_text() does.

    Raise ValidationError ("too_large") if, once normalised, it is longer than
    ``max_chars`` (default: the SOURCE_TEXT_MAX_CHARS setting, or 1,000,000) characters.
    It is never truncated.
    """
    if max_chars is None:
        max_chars = getattr(settings, "SOURCE_TEXT_MAX_CHARS", DEFAULT_TEXT_MAX_CHARS)
    text = normalize_text(text)
    if len(text) > max_chars:
        raise ValidationError(
            f"The text is {len(text):,} characters long, more than the limit of "
            f"{max_chars:,} characters. Nothing was cut: paste only the source's text.",
            code="too_large",
        )
    return text
