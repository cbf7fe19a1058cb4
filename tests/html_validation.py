"""Validate HTML with the Nu HTML checker (vnu.jar, from npm's vnu-jar; run with java).

    from tests.html_validation import html_errors

    def test_pages_are_valid_html(client):
        pages = {url: client.get(url).content.decode() for url in ["/", "/statements/"]}
        assert html_errors(pages) == []

Check many documents with one call: each call starts a JVM (2-4 s). Errors only, no
warnings; htmx's ``hx-*`` attributes are not reported. ``make browser-deps`` (run by
``make test``) installs the checker. If java or the jar is missing, or the checker does
not run properly, this raises: it never passes silently.
"""

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlparse

VNU_JAR = (
    Path(__file__).resolve().parent
    / "js"
    / "node_modules"
    / "vnu-jar"
    / "build"
    / "dist"
    / "vnu.jar"
)
# htmx attributes, including hx-on:click and hx-on::after-request.
HTMX_ATTRIBUTE_FILTER = r".*Attribute .hx-[a-z:-]+. not allowed.*"
# Checked with every batch: if the checker does not report this document's error, it did
# not really check anything, and the empty result must not count as a pass.
CANARY_NAME = "canary"
CANARY_HTML = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>canary</title>'
    "</head><body><span><div>block in inline</div></span></body></html>"
)
TIMEOUT_SECONDS = 180


class HTMLValidatorUnavailable(RuntimeError):
    """The checker could not be run, or did not produce a believable report."""


def html_errors(documents):
    """Validate ``{name: html}`` in one run of the Nu checker and return its errors as
    readable lines, ``"<name>:<line>:<column>: <message> [near: <source>]"``; ``[]`` when
    every document is valid. Names are only labels (a URL or a template name will do)."""
    java = shutil.which("java")
    if java is None:
        raise HTMLValidatorUnavailable(
            "java is not on PATH; the Nu HTML checker needs Java 17 or newer."
        )
    if not VNU_JAR.is_file():
        raise HTMLValidatorUnavailable(
            f"{VNU_JAR} is missing: run `make browser-deps` (or `make test`)."
        )

    with tempfile.TemporaryDirectory(prefix="html-validation-") as tmp:
        directory = Path(tmp)
        names_by_file = {}
        for index, (name, html) in enumerate([(CANARY_NAME, CANARY_HTML), *documents.items()]):
            slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", str(name)).strip("-.")[:60] or "document"
            path = directory / f"{index:03d}-{slug}.html"
            path.write_text(html, encoding="utf-8")
            names_by_file[path.name] = name
        canary_file = next(iter(names_by_file))

        command = [
            java,
            "-jar",
            str(VNU_JAR),
            "--errors-only",
            "--format",
            "json",
            "--stdout",
            "--asciiquotes",
            "--filterpattern",
            HTMX_ATTRIBUTE_FILTER,
            *sorted(str(directory / file_name) for file_name in names_by_file),
        ]
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False
        )
        # Exit status 1 means "errors found"; anything else, or no JSON, is a broken run.
        try:
            messages = json.loads(completed.stdout)["messages"]
        except (ValueError, KeyError) as error:
            raise HTMLValidatorUnavailable(
                f"The Nu HTML checker did not report (exit status {completed.returncode}):\n"
                f"{completed.stdout[-2000:]}{completed.stderr[-2000:]}"
            ) from error
        if completed.returncode not in (0, 1):
            raise HTMLValidatorUnavailable(
                f"The Nu HTML checker failed (exit status {completed.returncode}):\n"
                f"{completed.stderr[-2000:]}"
            )

    errors = []
    canary_seen = False
    for message in messages:
        file_name = Path(unquote(urlparse(message.get("url", "")).path)).name
        if file_name == canary_file:
            canary_seen = True
            continue
        if message.get("type") == "non-document-error":
            raise HTMLValidatorUnavailable(
                f"The Nu HTML checker could not check {file_name}: {message.get('message')}"
            )
        name = names_by_file.get(file_name, file_name or "?")
        where = f"{name}:{message.get('lastLine', '?')}"
        if "firstColumn" in message or "lastColumn" in message:
            where += f":{message.get('firstColumn', message.get('lastColumn'))}"
        text = f"{where}: {message.get('message', '').strip()}"
        extract = " ".join(message.get("extract", "").split())
        if extract:
            text += f" [near: {extract}]"
        errors.append(text)
    if not canary_seen:
        raise HTMLValidatorUnavailable(
            "The Nu HTML checker did not report the canary document's known error, so its "
            "empty report cannot be trusted:\n"
            f"{completed.stdout[-2000:]}{completed.stderr[-2000:]}"
        )
    return errors
