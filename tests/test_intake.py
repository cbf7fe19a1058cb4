import codecs
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile

from positions.intake import html_to_text, normalize_text, text_from_paste, text_from_upload

TYPOGRAPHY = "“Quoted” and ‘single’ — em – en … non\u00a0breaking, zero\u200bwidth, naïve"


def refusal(function, *args, **kwargs):
    """The ValidationError ``function`` raises, which must have a single message."""
    with pytest.raises(ValidationError) as caught:
        function(*args, **kwargs)
    return caught.value


def upload(content, name="source.txt"):
    return SimpleUploadedFile(name, content)


class CountingFile(io.BytesIO):
    """A file that records how many bytes were read from it."""

    bytes_read = 0

    def read(self, size=-1):
        data = super().read(size)
        self.bytes_read += len(data)
        return data


# normalize_text


def test_normalize_converts_crlf_and_lone_cr_to_lf():
    assert normalize_text("one\r\ntwo\rthree\nfour") == "one\ntwo\nthree\nfour"


def test_normalize_removes_only_a_leading_bom():
    assert normalize_text("\ufeffText with \ufeff inside") == "Text with \ufeff inside"


def test_normalize_keeps_typography_byte_identical():
    assert normalize_text(TYPOGRAPHY).encode() == TYPOGRAPHY.encode()


def test_normalize_strips_only_the_whole_text():
    assert normalize_text("\n  \tFirst line  \n\n\tSecond\t\n \n") == "First line  \n\n\tSecond"


def test_normalize_refuses_nul():
    error = refusal(normalize_text, "first\nsecond\x00 line")
    assert error.code == "nul"
    assert error.message == (
        "The text contains a NUL character (U+0000) on line 2, after “second”. "
        "It may be binary data rather than text."
    )


@pytest.mark.parametrize("character", ["\x01", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x1f"])
def test_normalize_refuses_control_characters(character):
    error = refusal(normalize_text, f"line one\r\nline two\rthe{character}end")
    assert error.code == "control"
    assert f"U+{ord(character):04X}" in error.message
    assert "on line 3, after “the”" in error.message


def test_normalize_reports_a_control_character_at_the_start_of_a_line():
    error = refusal(normalize_text, "one\n\x07two")
    assert error.code == "control"
    assert "U+0007 at the start of line 2." in error.message


def test_normalize_keeps_tabs_and_line_feeds():
    assert normalize_text("a\tb\nc") == "a\tb\nc"


def test_normalize_refuses_lone_surrogates():
    error = refusal(normalize_text, "broken \ud83d pair")
    assert error.code == "encoding"
    assert "U+D83D" in error.message


@pytest.mark.parametrize("text", ["", " ", "\r\n\t \n", "\ufeff", "\ufeff \u00a0\u3000"])
def test_normalize_refuses_empty_text(text):
    assert refusal(normalize_text, text).code == "empty"


# html_to_text


def test_html_paragraphs_one_per_line():
    html = "<h1>Title</h1><p>First paragraph.</p>\n\n<p>Second\nparagraph.</p><ul><li>a</li><li>b"
    assert html_to_text(html) == "Title\nFirst paragraph.\nSecond paragraph.\na\nb"


def test_html_inline_elements_do_not_break_paragraphs():
    html = "<p>Some <b>bold</b>, <i>italic</i> and <a href='/x'>linked</a><span>text</span>.</p>"
    assert html_to_text(html) == "Some bold, italic and linkedtext."


def test_html_whitespace_collapses_as_in_a_browser():
    assert html_to_text("<p>\n   Many \t spaces\n\n and\r\nlines  </p>") == "Many spaces and lines"


def test_html_nested_blocks_do_not_create_empty_paragraphs():
    html = (
        "<article><div><div><p>One</p></div>\n<div> </div><section>\n</section></div>"
        "<div><blockquote><p>Two</p></blockquote></div></article>"
    )
    assert html_to_text(html) == "One\nTwo"


def test_html_text_between_blocks_is_its_own_paragraph():
    assert html_to_text("<div>before<p>inside</p>after</div>") == "before\ninside\nafter"


@pytest.mark.parametrize(
    "element",
    ["script", "style", "noscript", "template", "svg", "iframe", "object", "title", "video"],
)
def test_html_drops_content_of(element):
    html = f"<p>Before</p><{element}>SECRET <p>para</p> <b>bold</b></{element}><p>After</p>"
    assert html_to_text(html) == "Before\nAfter"


def test_html_drops_script_and_style_content():
    html = (
        "<html><head><style>p { color: red }</style><script>var s = '<p>x</p>';</script>"
        "</head><body><p>Text</p><script type='module'>alert(1)</script></body></html>"
    )
    text = html_to_text(html)
    assert text == "Text"
    assert "color" not in text
    assert "alert" not in text


def test_html_drops_head_content():
    html = "<html><head><title>Page title</title><meta charset='utf-8'>stray</head><body>Body"
    assert html_to_text(html) == "Body"


def test_html_unclosed_head_ends_at_the_body():
    html = "<!doctype html><head><meta charset=utf-8><title>T</title><p>Body text</p>"
    assert html_to_text(html) == "Body text"


def test_html_never_outputs_attributes():
    html = (
        '<p onclick="steal()">Click <a href="javascript:alert(1)" onmouseover="evil()">here'
        '</a><img src=x onerror="alert(2)" alt="Alt text"></p>'
    )
    text = html_to_text(html)
    assert text == "Click here"
    for fragment in ("javascript", "alert", "steal", "evil", "onerror", "Alt text"):
        assert fragment not in text


def test_html_decodes_entities():
    html = "<p>AT&amp;T &lt;tag&gt; &#8220;quoted&#x201D; &mdash; &eacute; &quot;</p>"
    assert html_to_text(html) == 'AT&T <tag> “quoted” — é "'


def test_html_keeps_non_breaking_spaces():
    assert html_to_text("<p>10&nbsp;km&nbsp;&nbsp;away</p>") == "10\u00a0km\u00a0\u00a0away"


def test_html_drops_paragraphs_of_non_breaking_spaces():
    assert html_to_text("<p>One</p><p>&nbsp;</p><p>Two</p>") == "One\nTwo"


def test_html_keeps_typography_byte_identical():
    assert html_to_text(f"<p>{TYPOGRAPHY}</p>").encode() == TYPOGRAPHY.encode()


def test_html_keeps_whitespace_in_pre():
    html = "<p>Intro</p><pre>\n  indented\tline\n\n    more  spaces\n</pre><p>Outro</p>"
    assert html_to_text(html) == "Intro\n  indented\tline\n\n    more  spaces\nOutro"


def test_html_pre_with_inline_markup_and_crlf():
    html = "<p>x</p><pre>\r\n<b>bold</b>   text\r\n  next<br>after br</pre>"
    assert html_to_text(html) == "x\nbold   text\n  next\nafter br"


def test_html_br_is_a_line_break():
    assert html_to_text("<p>one<br>two<br/>three <br /> four</p>") == "one\ntwo\nthree\nfour"


def test_html_consecutive_br_do_not_make_blank_lines():
    assert html_to_text("<p>one<br><br>\n<br>two</p>") == "one\ntwo"


def test_html_table_rows_are_lines_and_cells_are_separated():
    html = (
        "<table><tr><th>Year</th><th>Warheads</th></tr>"
        "<tr><td>1986</td><td>40,159</td></tr><tr><td>2023</td><td>5,889</td></tr></table>"
    )
    assert html_to_text(html) == "Year Warheads\n1986 40,159\n2023 5,889"


def test_html_drops_comments_doctype_and_processing_instructions():
    html = (
        '<?xml version="1.0"?><!DOCTYPE html><!-- a comment --><p>Text<!-- another -->'
        "<![CDATA[cdata]]> here</p>"
    )
    assert html_to_text(html) == "Text here"


@pytest.mark.parametrize(
    "html, expected",
    [
        ("<p>Unclosed <b>bold <i>italic", "Unclosed bold italic"),
        ("</div></p>Stray end tags</span></li>", "Stray end tags"),
        ("<p>One<p>Two<li>Three", "One\nTwo\nThree"),
        ("<div><p>Misnested</div> tags</p>", "Misnested\ntags"),
        ("<p>Cut off <b", "Cut off"),
        ("<p>Cut off</p><!-- unclosed comment <p>hidden", "Cut off"),
        ("<p>Text</p><script>unclosed script <p>hidden", "Text"),
        ("<p>a < b and c > d</p>", "a < b and c > d"),
        ("<p>Fish &amp chips &unknown; &#0; done", "Fish & chips &unknown; \ufffd done"),
        ("<svg><svg></svg>still hidden</svg>shown", "shown"),
        ("<p>Text</p></script></style></svg>More", "Text\nMore"),
    ],
)
def test_html_malformed(html, expected):
    assert html_to_text(html) == expected


def test_html_removes_bom():
    assert html_to_text("\ufeff<p>Text</p>") == "Text"


@pytest.mark.parametrize(
    "html", ["", "   ", "<html><head><title>T</title></head><body> </body></html>", "<p></p>"]
)
def test_html_without_text_is_empty(html):
    error = refusal(html_to_text, html)
    assert error.code == "empty"
    assert error.message.startswith("No text was found in the HTML")


def test_html_with_a_control_character_is_refused():
    assert refusal(html_to_text, "<p>bell\x07</p>").code == "control"


def test_html_with_nul_is_refused():
    assert refusal(html_to_text, "<p>nul\x00</p>").code == "nul"


# text_from_upload


def test_upload_text_file():
    assert text_from_upload(upload(b"  First\r\nSecond\rThird  \n")) == "First\nSecond\nThird"


@pytest.mark.parametrize("name", ["source.txt", "SOURCE.TXT", "notes.text", "page.Text"])
def test_upload_text_extensions(name):
    assert text_from_upload(upload(b"<p>kept as is</p>", name)) == "<p>kept as is</p>"


@pytest.mark.parametrize("name", ["page.html", "PAGE.HTM", "page.Html"])
def test_upload_html_extensions(name):
    assert text_from_upload(upload(b"<p>One</p><p>Two</p>", name)) == "One\nTwo"


@pytest.mark.parametrize(
    "start", [b"<!DOCTYPE html>", b"\n  <html lang='en'>", b"\xef\xbb\xbf<!doctype HTML>"]
)
def test_upload_text_file_that_is_html_is_read_as_html(start):
    content = start + b"<head><title>T</title></head><body><p>One</p><p>Two</p></body></html>"
    assert text_from_upload(upload(content, "saved.txt")) == "One\nTwo"


def test_upload_keeps_typography_byte_identical():
    assert text_from_upload(upload(TYPOGRAPHY.encode())).encode() == TYPOGRAPHY.encode()


def test_upload_utf8_with_bom():
    assert text_from_upload(upload(codecs.BOM_UTF8 + "“Text”".encode())) == "“Text”"


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_upload_utf16_and_utf32_with_bom(encoding):
    content = "\ufeff“Text” — in UTF\r\n".encode(encoding)
    assert text_from_upload(upload(content)) == "“Text” — in UTF"


def test_upload_utf16_html_with_bom():
    content = "\ufeff<!doctype html><p>Привет</p>".encode("utf-16-le")
    assert text_from_upload(upload(content, "page.html")) == "Привет"


def test_upload_invalid_utf16_is_an_encoding_error():
    content = codecs.BOM_UTF16_LE + "ab".encode("utf-16-le") + b"\x00\xd8c\x00"
    error = refusal(text_from_upload, upload(content))
    assert error.code == "encoding"
    assert "offset 6" in error.message


def test_upload_latin1_without_declaration_is_an_encoding_error():
    error = refusal(text_from_upload, upload("Line one\nCafé au lait".encode("latin-1")))
    assert error.code == "encoding"
    assert error.message == (
        "The file is not UTF-8 text: the byte at offset 12 (line 2), 0xE9, is not valid "
        "UTF-8. Open the file in a text editor, save it with the encoding UTF-8, and upload "
        "it again."
    )


def test_upload_latin1_html_without_declaration_is_an_encoding_error():
    error = refusal(text_from_upload, upload("<p>Café</p>".encode("latin-1"), "page.html"))
    assert error.code == "encoding"
    assert "offset 6" in error.message


def test_upload_html_declared_windows_1251_is_decoded():
    html = (
        '<html><head><meta charset="windows-1251"><title>Заголовок</title></head>'
        "<body><p>«Договор СНВ-3» — продлён</p></body></html>"
    )
    assert text_from_upload(upload(html.encode("cp1251"), "page.html")) == (
        "«Договор СНВ-3» — продлён"
    )


def test_upload_html_declared_with_http_equiv_is_decoded():
    html = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=KOI8-R">'
        "</head><body><p>Москва</p></body></html>"
    )
    assert text_from_upload(upload(html.encode("koi8-r"), "page.htm")) == "Москва"


def test_upload_html_declared_iso_8859_1_is_read_as_windows_1252():
    content = b'<meta charset="iso-8859-1"><p>\x93Caf\xe9\x94 \x96 \xa0ok</p>'
    assert text_from_upload(upload(content, "page.html")) == "“Café” – \u00a0ok"


def test_upload_text_file_that_is_html_uses_the_declared_encoding():
    content = '<!DOCTYPE html><meta charset="windows-1251"><p>Мир</p>'.encode("cp1251")
    assert text_from_upload(upload(content, "page.txt")) == "Мир"


def test_upload_declared_encoding_is_ignored_when_the_file_is_utf8():
    content = '<meta charset="windows-1251"><p>“Мир”</p>'.encode()
    assert text_from_upload(upload(content, "page.html")) == "“Мир”"


def test_upload_declared_encoding_is_not_used_for_text_files():
    content = '<meta charset="windows-1251">Мир'.encode("cp1251")
    assert refusal(text_from_upload, upload(content, "page.txt")).code == "encoding"


@pytest.mark.parametrize("charset", ["x-klingon", "utf-7", "unicode_escape", "rot13"])
def test_upload_html_declaring_an_unusable_encoding(charset):
    content = f'<meta charset="{charset}"><p>Caf\xe9</p>'.encode("latin-1")
    error = refusal(text_from_upload, upload(content, "page.html"))
    assert error.code == "encoding"
    assert f"declares its character encoding as “{charset}”" in error.message


def test_upload_html_declaring_utf8_that_is_not():
    content = '<meta charset="utf-8"><p>Caf\xe9</p>'.encode("latin-1")
    error = refusal(text_from_upload, upload(content, "page.html"))
    assert error.code == "encoding"
    assert error.message.startswith("The file is not UTF-8 text: the byte at offset 28")


def test_upload_html_bytes_invalid_in_the_declared_encoding():
    content = b'<meta charset="windows-1252"><p>\x81</p>'
    error = refusal(text_from_upload, upload(content, "page.html"))
    assert error.code == "encoding"
    assert "offset 32 (0x81)" in error.message


def test_upload_html_declaration_after_the_first_1024_bytes_is_not_used():
    content = b"<!-- " + b"x" * 1100 + b' --><meta charset="windows-1251"><p>\xcc\xe8\xf0</p>'
    assert refusal(text_from_upload, upload(content, "page.html")).code == "encoding"


@pytest.mark.parametrize(
    "content, description",
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "a PDF file"),
        (b"PK\x03\x04\x14\x00\x06\x00", "a ZIP archive, such as a Word (.docx)"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00", "an older Microsoft Office file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a PNG image"),
        (b"GIF89a\x01\x00\x01\x00", "a GIF image"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "a JPEG image"),
        (rb"{\rtf1\ansi\deff0 {\fonttbl {\f0 Times;}} Hello}", "a Rich Text (RTF) document"),
    ],
)
def test_upload_refuses_binary_formats(content, description):
    error = refusal(text_from_upload, upload(content, "disguised.txt"))
    assert error.code == "binary"
    assert error.message.startswith(f"This looks like {description}")
    assert "Save it as plain text (.txt) or as a web page (.html)" in error.message


def test_upload_refuses_nul_bytes():
    error = refusal(text_from_upload, upload(b"Looks like text\x00\x00 but is not"))
    assert error.code == "binary"
    assert "NUL bytes" in error.message


def test_upload_refuses_utf16_without_bom():
    assert refusal(text_from_upload, upload("Text".encode("utf-16-le"))).code == "binary"


def test_upload_refuses_nul_in_utf16_text():
    content = "\ufeffText\x00".encode("utf-16-le")
    assert refusal(text_from_upload, upload(content)).code == "nul"


def test_upload_over_the_limit():
    error = refusal(text_from_upload, upload(b"x" * (3 * 1024 * 1024 + 200_000)))
    assert error.code == "too_large"
    assert error.message.startswith("The file is 3.2 MB, larger than the limit of 2 MB.")


def test_upload_limit_comes_from_settings(settings):
    settings.SOURCE_UPLOAD_MAX_BYTES = 1536
    error = refusal(text_from_upload, upload(b"x" * 2048))
    assert error.code == "too_large"
    assert error.message.startswith("The file is 2 KB, larger than the limit of 1.5 KB.")


def test_upload_at_the_limit_is_accepted():
    assert text_from_upload(upload(b"x" * 10), max_bytes=10) == "x" * 10


def test_upload_just_over_the_limit():
    error = refusal(text_from_upload, upload(b"x" * 11), max_bytes=10)
    assert error.code == "too_large"
    assert error.message.startswith("The file is 11 bytes, larger than the limit of 10 bytes.")


def test_upload_whose_size_lies_is_read_only_up_to_the_limit():
    file = CountingFile(b"x" * 1_000_000)
    lying = UploadedFile(file, name="small.txt", content_type="text/plain", size=100)
    error = refusal(text_from_upload, lying, max_bytes=1000)
    assert error.code == "too_large"
    assert error.message.startswith("The file is larger than the limit of 1000 bytes.")
    assert file.bytes_read == 1001


def test_upload_is_read_from_its_start():
    file = upload(b"Whole text")
    file.read(5)
    assert text_from_upload(file) == "Whole text"


@pytest.mark.parametrize("content", [b"", b" \r\n\t ", codecs.BOM_UTF8, codecs.BOM_UTF16_LE])
def test_upload_empty(content):
    assert refusal(text_from_upload, upload(content)).code == "empty"


def test_upload_empty_file_message():
    assert refusal(text_from_upload, upload(b"")).message == "The file is empty."


def test_upload_html_without_text_is_empty():
    content = b"<html><head><script>x()</script></head><body>\n</body></html>"
    assert refusal(text_from_upload, upload(content, "page.html")).code == "empty"


@pytest.mark.parametrize(
    "name", ["source.pdf", "source.docx", "source", "source.txt.exe", "source.html.zip", ".txt"]
)
def test_upload_wrong_extension(name):
    error = refusal(text_from_upload, upload(b"text", name))
    assert error.code == "extension"
    assert f"“{name}”" in error.message
    assert ".txt, .text, .htm, .html" in error.message


def test_upload_refuses_control_characters():
    error = refusal(text_from_upload, upload(b"page one\x0cpage two"))
    assert error.code == "control"
    assert "U+000C on line 1, after “page one”" in error.message


# text_from_paste


def test_paste_is_normalized():
    assert text_from_paste("\ufeff  “Quote” —\r\nnext\r ") == "“Quote” —\nnext"


def test_paste_over_the_limit_is_refused_not_truncated():
    error = refusal(text_from_paste, "x" * 1_001, max_chars=1_000)
    assert error.code == "too_large"
    assert error.message.startswith(
        "The text is 1,001 characters long, more than the limit of 1,000 characters."
    )


def test_paste_at_the_limit_is_accepted():
    assert text_from_paste("x" * 1_000, max_chars=1_000) == "x" * 1_000


def test_paste_is_measured_after_normalization():
    assert text_from_paste("a\r\nb\r\n", max_chars=3) == "a\nb"


def test_paste_limit_comes_from_settings(settings):
    settings.SOURCE_TEXT_MAX_CHARS = 5
    assert refusal(text_from_paste, "six ch").code == "too_large"
    assert text_from_paste("five.") == "five."


def test_paste_default_limit_is_a_million_characters():
    assert text_from_paste("x" * 1_000_000) == "x" * 1_000_000
    assert refusal(text_from_paste, "x" * 1_000_001).code == "too_large"


@pytest.mark.parametrize(
    "text, code", [("", "empty"), ("  \n ", "empty"), ("a\x00b", "nul"), ("a\x1bb", "control")]
)
def test_paste_refusals(text, code):
    assert refusal(text_from_paste, text).code == code
