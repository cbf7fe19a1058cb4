import json

from django import forms
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.text import slugify

from positions import intake
from positions.models import (
    AUTHOR_KINDS,
    Actor,
    Certainty,
    DatePrecision,
    Meeting,
    Party,
    Proposal,
    Source,
    Statement,
    Topic,
)


class VersionedModelForm(forms.ModelForm):
    """
    An edit form that refuses to save over someone else's change.

    The form carries the version it was opened at, and the values it showed then. If the
    record has been saved since, validation fails with a message naming each field that
    changed in between (what it was, what it is now); the editor's own entries stay in
    the form, and saving again applies them over the new version. The stored row is read
    with SELECT ... FOR UPDATE, and the admin validates and saves in one transaction, so
    two editors cannot both pass the check.
    """

    based_on_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    based_on_values = forms.CharField(widget=forms.HiddenInput, required=False, strip=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["based_on_version"].initial = self.instance.version
            self.fields["based_on_values"].initial = json.dumps(self.shown_values())

    def shown_values(self):
        """What each field shows before any edit, as text."""
        return {
            name: str(self.initial.get(name, field.initial) or "")
            for name, field in self.fields.items()
            if not name.startswith("based_on_")
        }

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None:
            return cleaned
        based_on = cleaned.get("based_on_version")
        if based_on is None:
            raise ValidationError(
                "This form does not say which version of the record it edits; reload it."
            )
        model = type(self.instance)
        self.instance.lock_before_edit()
        current = model._base_manager.select_for_update().get(pk=self.instance.pk)
        if current.version != based_on:
            self.report_conflict(current)
        return cleaned

    def form_for(self, instance):
        """An unbound form of this kind on ``instance``, to show its values."""
        return type(self)(instance=instance)

    def report_conflict(self, current):
        try:
            seen = json.loads(self.cleaned_data.get("based_on_values") or "{}")
        except ValueError:
            seen = {}
        now = self.form_for(current).shown_values()
        changed = [
            f"{self.fields[name].label or name}: was “{seen.get(name, '')}”, now “{value}”"
            for name, value in now.items()
            if name in self.fields and seen.get(name) != value
        ]
        # The next save is based on the version the editor has now been shown.
        self.data = self.data.copy()
        self.data[self.add_prefix("based_on_version")] = current.version
        self.data[self.add_prefix("based_on_values")] = json.dumps(now)
        listing = "; ".join(changed) if changed else "no field shown here"
        raise ValidationError(
            f"Someone else saved this record while you were editing it (it is now at version "
            f"{current.version}). Changed in between: {listing}. Your entries are still in the "
            "form: check those fields, then save again to apply your version."
        )


def source_url_field():
    # Django 6 makes https the default scheme of a URL typed without one; choose it now.
    return forms.URLField(label="URL", max_length=500, required=False, assume_scheme="https")


class SourceLanguageFields(forms.Form):
    """A source's language, and whether it is a translation (and of which stored text)."""

    language = forms.CharField(
        required=False,
        max_length=16,
        help_text='The language of the text as a code, e.g. "en" or "ru"; empty means "en".',
    )

    def clean_language(self):
        return self.cleaned_data["language"].strip() or "en"


class SourceAddForm(SourceLanguageFields, forms.ModelForm):
    """A new source: its metadata, and its text pasted or uploaded (.txt or .html)."""

    url = source_url_field()
    text = forms.CharField(
        label="Paste the text",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text="Or upload a file below. Paragraphs are kept, one per line.",
    )
    upload = forms.FileField(
        label="Or upload a file",
        required=False,
        help_text=".txt or .html; HTML is reduced to its text (scripts and styles dropped).",
        widget=forms.ClearableFileInput(attrs={"accept": ".txt,.text,.htm,.html"}),
    )

    class Meta:
        model = Source
        fields = [
            "title",
            "publisher",
            "published_on",
            "published_on_precision",
            "url",
            "language",
            "translated_from",
            "original",
            "note",
        ]
        widgets = {"published_on": forms.DateInput(attrs={"type": "date"})}

    duplicate = None
    intake_changes = ()

    def clean(self):
        cleaned = super().clean()
        pasted, upload = cleaned.get("text") or "", cleaned.get("upload")
        if pasted.strip() and upload:
            raise ValidationError("Paste the text or upload a file, not both.")
        try:
            if upload:
                text = intake.text_from_upload(upload)
            elif pasted:
                text = intake.text_from_paste(pasted)
            else:
                raise ValidationError("Paste the source's text, or upload it as a file.")
        except ValidationError as error:
            self.add_error("upload" if upload else "text", error)
            return cleaned
        self.instance.text = text
        self.intake_changes = [] if upload else intake.intake_changes(pasted, text)
        self.duplicate = Source.objects.filter(sha256=Source.text_hash(text)).first()
        if self.duplicate:
            self.add_error(
                "upload" if upload else "text",
                f"This exact text is already stored, as “{self.duplicate.title}”.",
            )
        return cleaned

    def _post_clean(self):
        super()._post_clean()
        # The text field is not a model field here; check it as the model would.
        if self.instance.text and not self.has_error("text") and not self.has_error("upload"):
            try:
                self.instance.validate_text()
            except ValidationError as error:
                self.add_error("text", error.message_dict["text"])


class SourceForm(SourceLanguageFields, VersionedModelForm):
    """A source as the admin edits it: the text kept exactly as entered."""

    url = source_url_field()
    # Never strip: quotes anchor to this exact text.
    text = forms.CharField(
        strip=False,
        widget=forms.Textarea(attrs={"rows": 24, "class": "vLargeTextField source-text"}),
        help_text=(
            "The canonical snapshot that quotes anchor to, kept exactly as entered. Line "
            "breaks keep the stored text's kind (a browser sends every one as \\r\\n), and "
            "a save that changes only other fields leaves the text byte for byte as it was. "
            "After an edit, each quote whose words and surrounding text the edit left alone "
            "moves with them; any other is flagged and listed on the review page."
        ),
    )

    class Meta:
        model = Source
        fields = [
            "title",
            "publisher",
            "published_on",
            "published_on_precision",
            "url",
            "language",
            "translated_from",
            "original",
            "text",
            "note",
        ]

    def clean_text(self):
        posted = self.cleaned_data["text"]
        if self.instance.pk is None:
            return intake.normalize_newlines(posted)
        stored = Source._base_manager.values_list("text", flat=True).get(pk=self.instance.pk)
        return intake.edited_text(posted, stored)


class SourceEditForm(SourceForm):
    """
    A source as editors edit it on the site: the text goes through the same rules as a
    pasted new source (positions/intake.py). Changing it re-anchors the quotes on it.
    """

    text = forms.CharField(
        strip=False,
        widget=forms.Textarea(attrs={"rows": 24}),
        help_text=(
            "Only what you change here changes: line breaks keep their kind and nothing is "
            "trimmed. Each quote whose words and surrounding text your edit leaves alone "
            "moves with them; any other is listed for review, never moved onto other words."
        ),
    )

    class Meta(SourceForm.Meta):
        widgets = {"published_on": forms.DateInput(attrs={"type": "date"})}

    def clean_text(self):
        text = super().clean_text()
        limit = getattr(settings, "SOURCE_TEXT_MAX_CHARS", intake.DEFAULT_TEXT_MAX_CHARS)
        if len(text) > limit:
            raise ValidationError(
                f"The text is {len(text):,} characters long, more than the limit of "
                f"{limit:,} characters. Nothing was cut.",
                code="too_large",
            )
        return text


class ActorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, actor):
        return f"{actor.label} ({actor.party.code if actor.party_id else 'author'})" + (
            f" — {actor.role}" if actor.role else ""
        )


class CaptureForm(VersionedModelForm):
    """
    A statement captured from a selection of a source's text. The offsets come from the
    selection; the quote is the text between them, shown for the editor to confirm and
    checked again on save, so that nothing captured differs from the source.
    """

    start = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    end = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    # The text the selection was made in: the quote is read from the source's own text at
    # the offsets, so what a browser does to line breaks cannot change it.
    source_sha256 = forms.CharField(widget=forms.HiddenInput, max_length=64)
    actor = ActorChoiceField(
        queryset=Actor.objects.select_related("party").order_by("party__sort_order", "name"),
        required=False,
        empty_label="— choose, or add a new actor below —",
    )
    new_actor_name = forms.CharField(label="New actor's name", required=False, max_length=200)
    new_actor_prefix = forms.CharField(
        label="Rank or title", required=False, max_length=100, help_text="e.g. Colonel-General"
    )
    new_actor_party = forms.ModelChoiceField(
        label="Speaks for",
        queryset=Party.objects.all(),
        required=False,
        empty_label="No side (the article's author)",
    )
    new_actor_role = forms.CharField(
        label="Role, as the source states it", required=False, max_length=300
    )
    topics = forms.ModelMultipleChoiceField(
        queryset=Topic.objects.all(), widget=forms.CheckboxSelectMultiple
    )
    note = forms.CharField(required=False, strip=False, widget=forms.Textarea(attrs={"rows": 2}))
    # Exact spans, like the quote: never stripped.
    condition_quote = forms.CharField(
        label="Condition, in the source's words",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="For “Supports with conditions”: copy the words of this source that state "
        "the condition (they must stand once in the text).",
    )
    original_quote = forms.CharField(
        label="The same words in the original",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Copied from the original-language text this source translates.",
    )

    class Meta:
        model = Statement
        fields = [
            "start",
            "end",
            "actor",
            "holder",
            "topics",
            "stance",
            "certainty",
            "condition_quote",
            "condition_topic",
            "condition_proposal",
            "kind",
            "joint",
            "stated_on",
            "stated_on_precision",
            "stated_until",
            "stated_until_precision",
            "date_inferred",
            "date_basis",
            "meeting",
            "meeting_relation",
            "proposal",
            "proposal_stance",
            "original_quote",
            "note",
        ]
        widgets = {
            "stated_on": forms.DateInput(attrs={"type": "date"}),
            "stated_until": forms.DateInput(attrs={"type": "date"}),
        }

    duplicate = None

    def __init__(self, *args, source, **kwargs):
        self.source = source
        super().__init__(*args, **kwargs)
        self.instance.source = source
        self.fields["meeting"].queryset = Meeting.objects.order_by("starts_on", "title")
        self.fields["proposal"].queryset = Proposal.objects.select_related("party")
        self.fields["condition_proposal"].queryset = Proposal.objects.select_related("party")
        self.fields["holder"].queryset = Actor.objects.select_related("party").order_by(
            "party__sort_order", "name"
        )
        # Firm, and a range's end to the day, unless the editor says otherwise.
        self.fields["certainty"].required = False
        self.fields["stated_until_precision"].required = False
        if not source.original_id:
            del self.fields["original_quote"]
        if self.instance.pk is not None:
            self.initial.setdefault("topics", list(self.instance.topics.all()))
        self.initial.setdefault("source_sha256", source.sha256)

    def form_for(self, instance):
        return type(self)(instance=instance, source=self.source)

    def _update_errors(self, errors):
        # The model's errors on what this form does not show (the quote, read from the
        # text; the source) concern the whole selection.
        if hasattr(errors, "error_dict"):
            for name in [name for name in errors.error_dict if name not in self.fields]:
                if name != NON_FIELD_ERRORS:
                    moved = errors.error_dict.pop(name)
                    errors.error_dict.setdefault(NON_FIELD_ERRORS, []).extend(moved)
        super()._update_errors(errors)

    def clean_certainty(self):
        return self.cleaned_data["certainty"] or Certainty.FIRM

    def clean_stated_until_precision(self):
        return self.cleaned_data["stated_until_precision"] or DatePrecision.DAY

    def clean(self):
        cleaned = super().clean()
        self.check_span(cleaned)
        self.check_actor(cleaned)
        return cleaned

    def check_span(self, cleaned):
        start, end = cleaned.get("start"), cleaned.get("end")
        if start is not None and end is not None and end <= start:
            raise ValidationError("The selection is empty: select at least one word.")
        if None in (start, end) or "source_sha256" not in cleaned:
            return
        instance = self.instance
        if instance.pk is not None and instance.needs_review:
            if (start, end) == (instance.start, instance.end):
                return  # not placed again: it keeps its quote and awaits review
        if cleaned["source_sha256"] != self.source.sha256:
            raise ValidationError(
                "The source's text was edited after you selected these words, so the "
                "selection may now point at other words. Select the words again."
            )
        text = self.source.text
        if end > len(text):
            raise ValidationError(
                f"The selection ends past the end of the text ({len(text)} characters)."
            )
        if not text[start:end].strip():
            raise ValidationError("The selection holds only spaces: select some words.")
        instance.quote = text[start:end]
        # Checked again when it is saved, under the source's lock.
        instance.expected_source_sha256 = cleaned["source_sha256"]

    def check_actor(self, cleaned):
        actor, name = cleaned.get("actor"), cleaned.get("new_actor_name", "").strip()
        if actor and name:
            self.add_error("new_actor_name", "Choose an actor or add a new one, not both.")
            return
        if not actor and not name:
            self.add_error("actor", "Choose who said it, or add a new actor.")
            return
        if name:
            actor = Actor(
                name=name,
                honorific_prefix=cleaned.get("new_actor_prefix", "").strip(),
                party=cleaned.get("new_actor_party"),
                role=cleaned.get("new_actor_role", "").strip(),
                slug=unique_actor_slug(name),
            )
            try:
                actor.full_clean()
            except ValidationError as error:
                for message in error.messages:
                    self.add_error("new_actor_name", message)
                return
            self.new_actor = actor
            kind = cleaned.get("kind")
            if kind in AUTHOR_KINDS and actor.party is not None:
                self.add_error("kind", "The author's analysis or narration belongs to no side.")
            if kind and kind not in AUTHOR_KINDS and actor.party is None:
                self.add_error(
                    "new_actor_party",
                    "An actor with no side can only give the author's analysis or narration: "
                    "choose a side.",
                )
            return
        start, end = cleaned.get("start"), cleaned.get("end")
        self.duplicate = (
            Statement.objects.filter(source=self.source, actor=actor, start=start, end=end)
            .exclude(pk=self.instance.pk)
            .first()
        )
        if self.duplicate:
            raise ValidationError(
                f"{actor} already has a statement on exactly these words (statement "
                f"{self.duplicate.pk}); open it to edit it rather than capture it twice."
            )

    new_actor = None

    def save(self, commit=True):
        if self.new_actor is not None:
            self.new_actor.save()
            self.instance.actor = self.new_actor
        statement = super().save(commit=False)
        statement.save()
        statement.topics.set(self.cleaned_data["topics"])
        return statement


class FindQuoteForm(forms.Form):
    """The keyboard path to a capture: type or paste the words instead of selecting them."""

    words = forms.CharField(
        label="Find words in the text",
        strip=False,
        max_length=5000,
        help_text="Type or paste them exactly; the capture form opens where they occur.",
    )


def unique_actor_slug(name):
    base = slugify(name)[:90] or "actor"
    slug, number = base, 2
    while Actor.objects.filter(slug=slug).exists():
        slug, number = f"{base}-{number}", number + 1
    return slug
