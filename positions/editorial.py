"""
The editors' pages: adding a source, capturing statements from its text by selection,
suggestions, placing quotes that lost their place after an edit, and recent changes.

Every page here needs the matching model permission (the Editors group has them). Writes
happen in one transaction each, and edits of existing records are refused if someone
saved in between (VersionedModelForm).
"""

import functools

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from positions import quotes, suggestions
from positions.forms import CaptureForm, FindQuoteForm, SourceAddForm, SourceEditForm
from positions.models import (
    Actor,
    AttributionKind,
    DismissedSuggestion,
    Meeting,
    Party,
    Proposal,
    ProposalParameter,
    Source,
    StaleVersion,
    Statement,
    Topic,
)

CHANGES_PER_PAGE = 50
MAX_PAGES = 40  # recent changes go back this far; each record's full history is in the admin
FIND_LIMIT = 20  # occurrences of searched words listed at most


def editor_required(permission):
    """Send anonymous visitors to log in; refuse (403) users without ``permission``."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not request.user.has_perm(permission):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


@editor_required("positions.add_source")
@require_http_methods(["GET", "POST"])
def source_add(request):
    posted = request.method == "POST"
    form = SourceAddForm(request.POST if posted else None, request.FILES if posted else None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            source = form.save()
        normalised = (
            f" On intake: {'; '.join(form.intake_changes)}; every other character is as given."
            if form.intake_changes
            else ""
        )
        messages.success(
            request,
            f"Source added ({len(source.text):,} characters).{normalised} Select words in its "
            "text to capture a statement, or review the suggestions.",
        )
        return HttpResponseRedirect(source.get_absolute_url())
    status = 400 if form.errors else 200
    return render(request, "positions/source_form.html", {"form": form}, status=status)


@editor_required("positions.change_source")
@require_http_methods(["GET", "POST"])
def source_edit(request, pk):
    source = get_object_or_404(Source, pk=pk)
    if request.method == "POST":
        with transaction.atomic():
            form = SourceEditForm(request.POST, instance=source)
            if form.is_valid():
                source = form.save()
                report = source.reanchoring
                if report is None:
                    messages.success(request, "Saved; the text is unchanged.")
                elif report.flagged:
                    messages.warning(
                        request,
                        f"Saved. {report.summary().capitalize()}: see the review page.",
                    )
                else:
                    messages.success(request, f"Saved. {report.summary().capitalize()}.")
                return HttpResponseRedirect(source.get_absolute_url())
    else:
        form = SourceEditForm(instance=source)
    status = 400 if form.errors else 200
    context = {"form": form, "source": source}
    return render(request, "positions/source_edit.html", context, status=status)


def render_panel(request, template, context, status=200):
    """A page, or for htmx only its panel: the template's "panel" partial."""
    if request.htmx:
        template += "#panel"
    return render(request, template, context, status=status)


def trimmed_span(text, start, end):
    """Shrink a selection past the whitespace at its edges (a double-click takes a space)."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def parse_offset(value):
    return int(value) if value is not None and value.isascii() and value.isdigit() else None


@editor_required("positions.add_statement")
@require_http_methods(["GET", "POST"])
def capture(request, pk):
    """The capture form for a selection (GET ?start=&end=), and its save (POST)."""
    source = get_object_or_404(Source, pk=pk)
    if request.method == "POST":
        form = CaptureForm(request.POST, source=source)
        statement = save_capture(form)
        if statement is not None:
            return captured(request, source, statement)
        return render_capture(request, source, form, status=400)

    start, end = parse_offset(request.GET.get("start")), parse_offset(request.GET.get("end"))
    text = source.text
    if start is None or end is None:
        return capture_refused(request, source, "The selection's offsets are missing.")
    if end > len(text) or start >= end:
        return capture_refused(
            request, source, "The selection is empty or goes beyond the text: select again."
        )
    start, end = trimmed_span(text, start, end)
    if start == end:
        return capture_refused(request, source, "The selection holds only spaces.")
    quote = text[start:end]
    initial = {
        "start": start,
        "end": end,
        "quote": quote,
        "stated_on": source.published_on,
        "stated_on_precision": source.published_on_precision,
        "kind": AttributionKind.DIRECT_QUOTE if quote.startswith("“") else "",
    }
    actor = Actor.objects.filter(pk=parse_offset(request.GET.get("actor"))).first()
    if actor:
        initial["actor"] = actor
    if request.GET.get("kind") in AttributionKind.values:
        initial["kind"] = request.GET["kind"]
    return render_capture(request, source, CaptureForm(initial=initial, source=source))


def capture_refused(request, source, message):
    return render_panel(
        request,
        "positions/capture.html",
        {"source": source, "refusal": message},
        status=400,
    )


def render_capture(request, source, form, status=200):
    data = form.data if form.is_bound else form.initial
    start, end = parse_offset(str(data.get("start", ""))), parse_offset(str(data.get("end", "")))
    valid_span = start is not None and end is not None and start < end <= len(source.text)
    instance = form.instance
    unplaced = instance.pk is not None and instance.needs_review
    if unplaced and (start, end) == (instance.start, instance.end):
        # Its offsets are an old text's: show its own words as they stood, not what the
        # new text has there.
        context = {
            "source": source,
            "form": form,
            "awaiting_review": True,
            "selection": instance.quote,
            "before": instance.prefix,
            "after": instance.suffix,
        }
        return render_panel(request, "positions/capture.html", context, status=status)
    context = {
        "source": source,
        "form": form,
        "selection": source.text[start:end] if valid_span else "",
        "before": source.text[max(0, start - 80) : start] if valid_span else "",
        "after": source.text[end : end + 80] if valid_span else "",
    }
    return render_panel(request, "positions/capture.html", context, status=status)


def save_capture(form):
    """
    Validate and save a capture form in one transaction; return the statement, or None
    with the form's errors set. A colleague who captured the same span for the same actor
    a moment earlier (after this form was checked) makes it a duplicate, reported as such.
    """
    try:
        with transaction.atomic():
            # The source first, as every writer of statements takes it (Statement), and
            # the form checks the selection against its text as it is now.
            form.source = Source.locked([form.source.pk])[form.source.pk]
            form.instance.source = form.source
            if form.is_valid():
                return form.save()
    except ValidationError as error:
        # Found only under the source's lock: the text changed after the form was checked.
        for message in error.messages:
            form.add_error(None, message)
    except IntegrityError:
        form.duplicate = (
            Statement.objects.filter(
                source=form.source,
                actor=form.instance.actor_id,
                start=form.cleaned_data.get("start"),
                end=form.cleaned_data.get("end"),
            )
            .exclude(pk=form.instance.pk)
            .first()
        )
        form.add_error(
            None,
            "Someone captured these exact words for this actor a moment ago; open their "
            "statement rather than capture it twice."
            if form.duplicate
            else "The statement could not be saved as it clashes with one saved meanwhile.",
        )
    return None


def captured(request, source, statement):
    if not request.htmx:
        messages.success(request, f"Captured statement {statement.pk}.")
        return HttpResponseRedirect(f"{source.get_absolute_url()}#s-{statement.pk}")
    statements = visible_statements(source)
    context = {
        "source": source,
        "statement": statement,
        "paragraphs": source.highlighted_paragraphs(statements),
        "statements": statements,
    }
    return render(request, "positions/capture_saved.html", context)


def visible_statements(source):
    """The statements highlighted on a source: those whose offsets can be trusted."""
    return (
        source.statements.filter(needs_review=False)
        .select_related("actor", "party")
        .order_by("start", "pk")
    )


@editor_required("positions.add_statement")
def find_words(request, pk):
    """The keyboard path: find typed words in the text, then capture one occurrence."""
    source = get_object_or_404(Source, pk=pk)
    form = FindQuoteForm(request.GET)
    context = {"source": source, "form": form}
    if not form.is_valid():
        return render_panel(request, "positions/find_words.html", context, status=400)
    words = form.cleaned_data["words"].replace("\r\n", "\n")
    stripped = words.strip()
    found = quotes.occurrences(source.text, stripped) if stripped else []
    if len(found) == 1:
        url = reverse("positions:capture", args=[source.pk])
        return HttpResponseRedirect(f"{url}?start={found[0]}&end={found[0] + len(stripped)}")
    context["occurrences"] = [
        {
            "start": offset,
            "end": offset + len(stripped),
            "before": source.text[max(0, offset - 60) : offset],
            "after": source.text[offset + len(stripped) : offset + len(stripped) + 60],
        }
        for offset in found[:FIND_LIMIT]
    ]
    context["words"] = stripped
    context["total"] = len(found)
    context["hint"] = "" if found else quotes.describe_near_miss(source.text, stripped)
    return render_panel(request, "positions/find_words.html", context)


@editor_required("positions.add_statement")
def suggestion_list(request, pk):
    source = get_object_or_404(Source, pk=pk)
    dismissed = set(source.dismissed_suggestions.values_list("start", "end"))
    candidates = [
        suggestion
        for suggestion in suggestions.suggest(source)
        if (suggestion.start, suggestion.end) not in dismissed
    ]
    context = {
        "source": source,
        "suggestions": candidates,
        "dismissed": len(dismissed),
    }
    return render_panel(request, "positions/suggestions.html", context)


@editor_required("positions.add_statement")
@require_POST
def suggestion_dismiss(request, pk):
    source = get_object_or_404(Source, pk=pk)
    start, end = parse_offset(request.POST.get("start")), parse_offset(request.POST.get("end"))
    if start is None or end is None or not 0 <= start < end <= len(source.text):
        messages.error(request, "That suggestion's span is not in this source.")
    else:
        DismissedSuggestion.objects.get_or_create(
            source=source, start=start, end=end, defaults={"dismissed_by": request.user}
        )
        if not request.htmx:
            messages.info(request, "Suggestion dismissed; it will not be suggested again.")
    if request.htmx:
        return suggestion_list(request, pk)
    return HttpResponseRedirect(reverse("positions:suggestions", args=[source.pk]))


@editor_required("positions.change_statement")
@require_http_methods(["GET", "POST"])
def statement_edit(request, pk):
    statement = get_object_or_404(Statement.objects.select_related("source"), pk=pk)
    source = statement.source
    if request.method == "POST":
        form = CaptureForm(request.POST, instance=statement, source=source)
        if save_capture(form) is not None:
            messages.success(request, "Saved.")
            return HttpResponseRedirect(statement.get_absolute_url())
        return render_capture(request, source, form, status=400)
    return render_capture(request, source, CaptureForm(instance=statement, source=source))


@editor_required("positions.change_statement")
def review(request):
    """
    Statements that an edit of their source's text did not carry over, each with where it
    was, and the places in the new text where its words stand now, best first. Those are
    only suggestions: the same words elsewhere may be someone else's, so nothing is placed
    until an editor chooses.
    """
    flagged = list(
        Statement.objects.filter(needs_review=True)
        .select_related("actor", "source")
        .order_by("source", "start", "pk")
    )
    for statement in flagged:
        text = statement.source.text
        statement.candidates = [
            {
                "start": found.start,
                "how": found.how,
                "before": sentence_before(text, found.start),
                "after": sentence_after(text, found.start + len(statement.quote)),
            }
            for found in quotes.candidates(
                text, statement.quote, statement.prefix, statement.suffix, limit=FIND_LIMIT
            )
        ]
    return render(request, "positions/review.html", {"statements": flagged})


SENTENCE_ENDS = (". ", "! ", "? ", ".” ", "\n")
SENTENCE_REACH = 300  # characters looked at on either side for the sentence's edges


def sentence_before(text, start):
    """The text from the start of the sentence that holds ``start`` up to it."""
    reach = text[max(0, start - SENTENCE_REACH) : start]
    edge = max(reach.rfind(end) + len(end) if end in reach else -1 for end in SENTENCE_ENDS)
    return reach[edge:] if edge >= 0 else ("…" + reach if start > SENTENCE_REACH else reach)


def sentence_after(text, end):
    """The text from ``end`` to the end of its sentence."""
    reach = text[end : end + SENTENCE_REACH]
    edges = [reach.find(stop) + 1 for stop in SENTENCE_ENDS if stop in reach]
    if not edges:
        return reach + ("…" if end + SENTENCE_REACH < len(text) else "")
    return reach[: min(edges)].rstrip("\n")


@editor_required("positions.delete_statement")
@require_POST
def statement_delete(request, pk):
    """Delete a statement (from the review page), unless someone changed it meanwhile."""
    statement = Statement.objects.filter(pk=pk).first()
    version = parse_offset(request.POST.get("version"))
    if statement is None:
        messages.info(request, f"Statement {pk} is already deleted.")
        return HttpResponseRedirect(reverse("positions:review"))
    if version is None:
        messages.error(request, "This form does not say which version it deletes; reload it.")
        return HttpResponseRedirect(reverse("positions:review"))
    with transaction.atomic():
        statement.lock_before_edit()
        current = (
            Statement._base_manager.select_for_update()
            .filter(pk=pk)
            .values_list("version", flat=True)
            .first()
        )
        if current != version:
            messages.error(
                request,
                f"Not deleted: someone changed statement {pk} while you were looking at it; "
                "check it again below.",
            )
            return HttpResponseRedirect(reverse("positions:review"))
        statement.delete()
    messages.success(
        request,
        f"Statement {pk} deleted. It can be restored from the admin's deleted statements.",
    )
    return HttpResponseRedirect(reverse("positions:review"))


@editor_required("positions.change_statement")
@require_POST
def statement_place(request, pk):
    """Anchor a statement awaiting review at the occurrence an editor chose."""
    statement = get_object_or_404(Statement.objects.select_related("source"), pk=pk)
    start, version = parse_offset(request.POST.get("start")), request.POST.get("version")
    if start is None or parse_offset(version) is None:
        messages.error(request, "Choose one of the places listed.")
        return HttpResponseRedirect(reverse("positions:review"))
    try:
        with transaction.atomic():
            statement.place(start)
            statement.save_if_version(int(version))
    except ValidationError as error:
        messages.error(request, f"Not placed: {' '.join(error.messages)}")
    except StaleVersion:
        messages.error(
            request,
            "Someone changed this statement while you were looking at it; check it again "
            "below before placing it.",
        )
    except IntegrityError:
        messages.error(
            request, "Not placed: the same actor already has a statement on those words."
        )
    else:
        messages.success(request, f"Statement {statement.pk} is anchored again.")
    return HttpResponseRedirect(reverse("positions:review"))


AUDITED = [Statement, Source, Actor, Proposal, ProposalParameter, Meeting, Topic, Party]


@editor_required("positions.view_statement")
def recent_changes(request):
    """The latest edits across the site, newest first, with who, how and what changed."""
    raw = request.GET.get("page", "1")
    page = int(raw) if raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_PAGES else 1
    # Each model's newest rows down to this page, merged: the same queries on every page.
    depth = page * CHANGES_PER_PAGE
    rows = []
    for model in AUDITED:
        history = model.history.all()
        earlier = model.history.filter(
            id=OuterRef("id"), history_date__lt=OuterRef("history_date")
        ).order_by("-history_date", "-history_id")
        rows.extend(
            history.select_related("history_user")
            .annotate(previous_id=Subquery(earlier.values("history_id")[:1]))
            .order_by("-history_date", "-history_id")[: depth + 1]
        )
    rows.sort(key=lambda row: (row.history_date, row.history_id), reverse=True)
    more = len(rows) > depth and page < MAX_PAGES
    rows = rows[depth - CHANGES_PER_PAGE : depth]
    previous = previous_records(rows)
    for row in rows:
        before = previous.get((row.instance_type, row.previous_id))
        row.changed_fields = changed_fields(before, row) if before else []
        row.model_name = row.instance_type._meta.verbose_name
        row.history_url = reverse(
            f"admin:positions_{row.instance_type._meta.model_name}_history", args=[row.id]
        )
    context = {"changes": rows, "page": page, "older": page + 1 if more else None}
    return render(request, "positions/recent_changes.html", context)


def previous_records(rows):
    """
    The rows before the given ones on the same records, by model and id (each model
    numbers its history rows on its own): a query per model.
    """
    wanted = {}
    for row in rows:
        if row.previous_id is not None:
            wanted.setdefault(row.instance_type, set()).add(row.previous_id)
    return {
        (model, record.history_id): record
        for model, ids in wanted.items()
        for record in model.history.filter(history_id__in=ids)
    }


def changed_fields(before, after):
    names = [
        field.name
        for field in after.instance_type._meta.concrete_fields
        if field.name not in {"version", "updated_at", "created_at", "prefix", "suffix"}
        and hasattr(after, field.attname)
        and getattr(before, field.attname) != getattr(after, field.attname)
    ]
    if before.related_ids != after.related_ids:
        names.extend(sorted(after.related_ids))
    return names
