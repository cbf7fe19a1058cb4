import datetime
import hashlib
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, Length
from django.urls import reverse

from positions import anchoring, audit, quotes


class DatePrecision(models.TextChoices):
    """How much of a stored date is known. A month-precision date is stored as its 1st."""

    DAY = "day", "Day"
    MONTH = "month", "Month"
    YEAR = "year", "Year"


def format_partial_date(value, precision):
    """Render a date no more precisely than it is known: "September 2001", never a made-up day."""
    if value is None:
        return "date unknown"
    if precision == DatePrecision.YEAR:
        return f"{value.year}"
    if precision == DatePrecision.MONTH:
        return value.strftime("%B %Y")
    return f"{value.day} {value.strftime('%B %Y')}"


def format_date_range(start, start_precision, end=None, end_precision=None):
    """A date or a range of dates, each no more precisely than it is known: "7–8 August
    2001", "August – September 2001", "13 August 2001"."""
    first = format_partial_date(start, start_precision)
    if end is None or start is None:
        return first
    last = format_partial_date(end, end_precision or start_precision)
    if first == last:
        return first
    if start_precision == end_precision == DatePrecision.DAY and start.year == end.year:
        if start.month == end.month:
            return f"{start.day}–{last}"
        return f"{start.day} {start:%B} – {last}"
    return f"{first} – {last}"


def format_dated(text, inferred, basis):
    """A date as shown, with its inference said: "13 August 2001 (inferred from the visit)"."""
    return f"{text} (inferred from {basis})" if inferred and basis else text


def validate_date_range(start, start_precision, end, end_precision, names):
    """A range's end is a partial date too, and never before its start."""
    start_name, end_name = names
    validate_partial_date(end, end_precision, end_name)
    if end is None:
        return
    if start is None:
        raise ValidationError({end_name: "Give the start of the range too."})
    if end < start:
        raise ValidationError({end_name: "The end of the range is before its start."})


def validate_inference(inferred, basis, dated):
    """An inferred date says what it is inferred from."""
    if inferred and not basis.strip():
        raise ValidationError(
            {"date_basis": "Say what the date is inferred from (e.g. “the visit”)."}
        )
    if inferred and not dated:
        raise ValidationError({"date_inferred": "There is no date to be inferred."})


def language_name(code):
    """ "Russian" for "ru"; the code itself if Django does not know it."""
    from django.conf.locale import LANG_INFO

    return LANG_INFO.get(code, {}).get("name", code)


def validate_language(code, field):
    from django.conf.locale import LANG_INFO

    if code and code not in LANG_INFO:
        raise ValidationError(
            {field: f"“{code}” is not a language code Django knows (e.g. “en”, “ru”)."}
        )


def validate_partial_date(value, precision, field):
    """Month and year precision dates are stored on the first day of their period."""
    if value is None:
        return
    if precision == DatePrecision.MONTH and value.day != 1:
        raise ValidationError(
            {field: f"With month precision, store the 1st of the month ({value:%Y-%m}-01)."}
        )
    if precision == DatePrecision.YEAR and (value.month, value.day) != (1, 1):
        raise ValidationError(
            {field: f"With year precision, store 1 January ({value.year}-01-01)."}
        )


class Stance(models.TextChoices):
    """A statement's position on the proposition of the topics it is tagged with."""

    SUPPORTS = "supports", "Supports"
    CONDITIONAL = "conditional", "Supports with conditions"
    UNDECIDED = "undecided", "Undecided or open"
    OPPOSES = "opposes", "Opposes"
    NEUTRAL = "neutral", "No position (descriptive)"


class AttributionKind(models.TextChoices):
    DIRECT_QUOTE = "direct_quote", "Direct quote"
    REPORTED = "reported", "Reported speech"
    PARAPHRASE = "paraphrase", "Paraphrase"
    MEDIA_REPORT = "media_report", "Media report"
    ANALYSIS = "analysis", "Author's analysis"
    NARRATION = "narration", "Author's narration"


# The author's own words: attributed to an actor with no party, never a side's position.
AUTHOR_KINDS = (AttributionKind.ANALYSIS, AttributionKind.NARRATION)


class Certainty(models.TextChoices):
    """How firmly the words hold the stance, separately from the stance itself."""

    FIRM = "firm", "Firm"
    HEDGED = "hedged", "Hedged"
    SPECULATIVE = "speculative", "Speculative"


class MeetingRelation(models.TextChoices):
    """What a statement's link to a meeting means."""

    SAID_AT = "said_at", "Said at"
    ABOUT = "about", "About"


class ProposalStance(models.TextChoices):
    """What a statement does to the proposal it speaks to."""

    PUTS_FORWARD = "puts_forward", "Puts it forward"
    ACCEPTS = "accepts", "Accepts"
    CONSIDERS = "considers", "Considers it"
    NONCOMMITTAL = "noncommittal", "Noncommittal"
    REJECTS = "rejects", "Rejects"


class ProposalKind(models.TextChoices):
    PROPOSAL = "proposal", "Proposal"
    DECLARATION = "declaration", "Declared intention"


class ProposalStatus(models.TextChoices):
    DECLARED = "declared", "Declared"
    PROPOSED = "proposed", "Proposed"
    UNDER_DISCUSSION = "under_discussion", "Under discussion"
    NO_RESPONSE = "no_response", "No response"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"


class AppliesTo(models.TextChoices):
    EACH_PARTY = "each_party", "Each party"
    COMBINED = "combined", "Both parties combined"
    PROPOSER = "proposer", "The proposing party"
    OTHER_PARTY = "other_party", "The other party"


class Limit(models.TextChoices):
    CEILING = "ceiling", "At most"
    LEVEL = "level", "Exactly"
    FLOOR = "floor", "At least"


class ActorKind(models.TextChoices):
    PERSON = "person", "Person"
    INSTITUTION = "institution", "Institution"


class MeetingKind(models.TextChoices):
    VISIT = "visit", "Visit"
    CONSULTATIONS = "consultations", "Consultations"
    BILATERAL = "bilateral", "Bilateral meeting"
    HEAD_OF_STATE = "head_of_state", "Meeting with a head of state"
    NEWS_CONFERENCE = "news_conference", "News conference"
    MINISTERIAL = "ministerial", "Ministerial meeting"


class MeetingStatus(models.TextChoices):
    HELD = "held", "Held"
    INTERRUPTED = "interrupted", "Interrupted"
    SCHEDULED = "scheduled", "Scheduled"
    CANCELLED = "cancelled", "Cancelled"


def choices_constraint(field, choices, name):
    return models.CheckConstraint(condition=Q(**{f"{field}__in": choices.values}), name=name)


class StaleVersion(Exception):
    """The record changed since the version an edit was based on."""

    def __init__(self, current):
        super().__init__(f"The record has changed since; it is now at version {current}.")
        self.current = current


class Versioned(models.Model):
    """
    A version number, raised by every save, so that an edit can say which version it was
    based on and be refused if someone else saved in between (see save_if_version).
    """

    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        abstract = True

    def save(self, *args, update_fields=None, **kwargs):
        if self._state.adding:
            # A record restored from its history continues its version numbers.
            self.version = getattr(self, "_restored_from_version", 0) + 1
            return super().save(*args, update_fields=update_fields, **kwargs)
        with transaction.atomic():
            # Raised in the database, and read back under the row lock that raise takes,
            # so that two saves never end on the same number; the instance holds a plain
            # number throughout, for whatever reads it on post_save.
            rows = type(self)._base_manager.filter(pk=self.pk)
            models.QuerySet.update(rows, version=F("version") + 1)
            self.version = rows.values_list("version", flat=True).get()
            if update_fields is not None:
                update_fields = {*update_fields, "version"}
            super().save(*args, update_fields=update_fields, **kwargs)

    def lock_before_edit(self):
        """
        Lock what an edit of this record must hold before it locks the record itself, so
        that every writer takes its locks in one order (see Statement). Nothing by default.
        """

    def save_if_version(self, expected, **kwargs):
        """
        Save, unless the stored record is no longer at version ``expected``: then raise
        StaleVersion and change nothing. The check and the write happen in one transaction,
        and the check's UPDATE locks the row until the write commits.
        """
        with transaction.atomic():
            self.lock_before_edit()
            rows = type(self)._base_manager.filter(pk=self.pk, version=expected)
            if not models.QuerySet.update(rows, version=expected):
                current = (
                    type(self)
                    ._base_manager.filter(pk=self.pk)
                    .values_list("version", flat=True)
                    .first()
                )
                raise StaleVersion(current)
            self.save(**kwargs)


class Timestamped(Versioned):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Party(Versioned):
    """A side in the talks."""

    code = models.CharField(
        max_length=8, unique=True, help_text='Short upper-case code, e.g. "RU" or "US".'
    )
    name = models.CharField(max_length=100, unique=True)
    sort_order = models.PositiveSmallIntegerField(
        default=100, help_text="Column order on the dashboard, lowest first."
    )

    objects = audit.AuditedQuerySet.as_manager()
    history = audit.history(timestamped=False)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name_plural = "parties"
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^[A-Z]{2,8}$"),
                name="party_code_upper_case",
                violation_error_message="A party code is 2 to 8 upper-case letters, e.g. RU.",
            ),
        ]

    def __str__(self):
        return self.name

    def natural_key(self):
        return (self.code,)


class Actor(Timestamped):
    """A person or an institution that speaks for, or acts for, a party (Popolo-style names)."""

    slug = models.SlugField(max_length=100, unique=True)
    kind = models.CharField(max_length=16, choices=ActorKind, default=ActorKind.PERSON)
    name = models.CharField(max_length=200, help_text="The name as commonly written.")
    honorific_prefix = models.CharField(
        max_length=100, blank=True, help_text='A rank or title, e.g. "Colonel-General".'
    )
    party = models.ForeignKey(
        Party,
        models.PROTECT,
        related_name="actors",
        null=True,
        blank=True,
        help_text="Empty only for actors who speak for no side, such as an article's author.",
    )
    role = models.CharField(
        max_length=300, blank=True, help_text="The role as stated in the source, verbatim."
    )
    note = models.TextField(blank=True)

    objects = audit.AuditedQuerySet.as_manager()
    history = audit.history()

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            choices_constraint("kind", ActorKind, "actor_kind_valid"),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        with transaction.atomic():
            party_changed = self.pk is not None and (
                Actor.objects.filter(pk=self.pk).exclude(party_id=self.party_id).exists()
            )
            if party_changed:
                self.check_party_change()
                # Its statements' sources first, as every writer of statements takes them.
                Source.locked(self.statements.values_list("source_id", flat=True).distinct())
            super().save(*args, **kwargs)
            if party_changed:
                # A statement's party is its actor's: keep them together.
                statements = self.statements.all()
                pks = list(statements.values_list("pk", flat=True))
                models.QuerySet.update(statements, party_id=self.party_id)
                audit.changed_in_bulk(Statement, pks)
                sync_topic_links(Statement._base_manager.filter(actor_id=self.pk))

    def get_absolute_url(self):
        return reverse("positions:actor-detail", args=[self.slug])

    def clean(self):
        if self.pk is not None:
            self.check_party_change()

    def check_party_change(self):
        """An actor who speaks for a side cannot lose it, nor the author gain one."""
        statements = Statement.objects.filter(actor_id=self.pk)
        if self.party_id is None and statements.positions().exists():
            raise ValidationError(
                {
                    "party": (
                        f"{self.name} has statements recorded as a side's position; an actor "
                        "without a party can only give the author's analysis."
                    )
                }
            )
        if self.party_id is not None and statements.analysis().exists():
            raise ValidationError(
                {
                    "party": (
                        f"{self.name} has statements recorded as the author's analysis, which "
                        "never belongs to a side."
                    )
                }
            )

    @property
    def label(self):
        """Name with rank, as a reader would want to see it."""
        return f"{self.honorific_prefix} {self.name}".strip()


class SourceQuerySet(audit.AuditedQuerySet):
    def update(self, **kwargs):
        if "text" in kwargs or "sha256" in kwargs:
            raise ValidationError(
                "A source's text is changed with save(), one source at a time, so that its "
                "hash is recomputed and its quotes are checked."
            )
        return super().update(**kwargs)

    def bulk_update(self, objs, fields, *args, **kwargs):
        fields = list(fields)
        if "text" in fields:
            with transaction.atomic(using=self.db):
                for source in objs:
                    source.save()
            fields = [name for name in fields if name not in ("text", "sha256")]
            if not fields:
                return len(objs)
        return super().bulk_update(objs, fields, *args, **kwargs)


class Source(Timestamped):
    """A document, kept as the text snapshot that quotes anchor to."""

    title = models.CharField(max_length=300)
    publisher = models.CharField(max_length=200, blank=True)
    published_on = models.DateField(null=True, blank=True)
    published_on_precision = models.CharField(
        max_length=8, choices=DatePrecision, default=DatePrecision.DAY
    )
    url = models.URLField(max_length=500, blank=True)
    text = models.TextField(
        help_text="The canonical snapshot. Quotes anchor to it by character offsets."
    )
    language = models.CharField(
        max_length=16, default="en", help_text='The language of the text, e.g. "en", "ru".'
    )
    translated_from = models.CharField(
        max_length=16,
        blank=True,
        help_text='If the text is a translation, the original\'s language, e.g. "ru".',
    )
    original = models.ForeignKey(
        "self",
        models.PROTECT,
        related_name="translations",
        null=True,
        blank=True,
        help_text="The original-language text, if it is stored as a source of its own.",
    )
    sha256 = models.CharField(
        max_length=64, unique=True, editable=False, help_text="SHA-256 of the UTF-8 text."
    )
    note = models.TextField(blank=True)

    objects = SourceQuerySet.as_manager()

    history = audit.history()

    class Meta:
        ordering = ["-published_on", "pk"]
        constraints = [
            choices_constraint(
                "published_on_precision", DatePrecision, "source_published_on_precision_valid"
            ),
            models.CheckConstraint(condition=~Q(text=""), name="source_text_not_empty"),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        self.validate_text()
        self.sha256 = self.text_hash(self.text)
        self.reanchoring = None
        with transaction.atomic():
            # The text as stored, read under the row's lock: statements are saved under
            # the same lock (Statement.save), so none can be anchored to a text that this
            # edit is replacing, and none is missed by the re-anchoring below.
            old_text = None if self.pk is None else Source.locked_text(self.pk)
            super().save(*args, **kwargs)
            if old_text is not None and old_text != self.text:
                self.reanchoring = self.carry_statements(old_text)
                self.reanchoring.unpaired = self.carry_original_words(old_text)

    def get_absolute_url(self):
        return reverse("positions:source-detail", args=[self.pk])

    @staticmethod
    def locked_text(pk):
        """The stored text of source ``pk`` (None if there is none), locking its row until
        the transaction ends: SELECT … FOR UPDATE on PostgreSQL; on SQLite every write
        transaction holds the database's write lock from its start (transaction_mode)."""
        return (
            Source._base_manager.select_for_update()
            .filter(pk=pk)
            .values_list("text", flat=True)
            .first()
        )

    @staticmethod
    def locked(pks):
        """The sources ``pks``, read with their rows locked until the transaction ends."""
        return Source._base_manager.select_for_update().in_bulk(sorted(set(pks)))

    def clean(self):
        self.validate_text()
        duplicate = (
            Source.objects.filter(sha256=self.text_hash(self.text)).exclude(pk=self.pk).first()
        )
        if duplicate:
            raise ValidationError(
                {
                    "text": (
                        f"This exact text is already stored as source {duplicate.pk}, "
                        f"“{duplicate.title}”."
                    )
                }
            )
        validate_partial_date(self.published_on, self.published_on_precision, "published_on")
        validate_language(self.language, "language")
        validate_language(self.translated_from, "translated_from")
        if self.translated_from and self.translated_from == self.language:
            raise ValidationError(
                {"translated_from": "A translation is from another language than its own."}
            )
        stored = Source._base_manager.filter(pk=self.pk).values_list("original_id", flat=True)
        if self.pk and stored and stored[0] != self.original_id:
            paired = self.statements.filter(original_start__isnull=False).count()
            if paired:
                raise ValidationError(
                    {
                        "original": (
                            f"{paired} statement(s) pair their words with words of the "
                            "current original; unpair them before linking another original."
                        )
                    }
                )
        if self.original_id:
            if self.original_id == self.pk:
                raise ValidationError({"original": "A source is not its own original."})
            if not self.translated_from:
                raise ValidationError(
                    {"translated_from": "Say which language this text is translated from."}
                )
            if self.original.language != self.translated_from:
                raise ValidationError(
                    {
                        "original": (
                            f"“{self.original}” is in {language_name(self.original.language)}, "
                            f"not {language_name(self.translated_from)}."
                        )
                    }
                )

    @property
    def translation_display(self):
        """ "translated from Russian", or "" for an original text."""
        if not self.translated_from:
            return ""
        return f"translated from {language_name(self.translated_from)}"

    def validate_text(self):
        if "\x00" in self.text:
            raise ValidationError({"text": "The text contains NUL characters; remove them."})
        if not self.text.strip():
            raise ValidationError({"text": "The text is empty."})

    @staticmethod
    def text_hash(text):
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    @property
    def published_on_display(self):
        return format_partial_date(self.published_on, self.published_on_precision)

    def highlighted_paragraphs(self, statements):
        """
        The text cut into paragraphs, and each paragraph into segments with the statements
        whose quotes cover them, so that overlapping quotes can all be shown and linked.
        """
        statements = list(statements)
        paragraphs, position = [], 0
        for line in self.text.split("\n"):
            start, end = position, position + len(line)
            position = end + 1
            if not line.strip():
                continue
            inside = [s for s in statements if s.start < end and s.end > start]
            cuts = sorted(
                {start, end}
                | {max(start, s.start) for s in inside}
                | {min(end, s.end) for s in inside}
            )
            paragraphs.append(
                Paragraph(
                    start,
                    [
                        Segment(
                            text=self.text[a:b],
                            statements=[s for s in inside if s.start <= a and s.end >= b],
                            starting=[s for s in inside if s.start == a],
                        )
                        for a, b in zip(cuts, cuts[1:], strict=False)
                    ],
                )
            )
        return paragraphs

    def carry_statements(self, old_text):
        """
        After the text changed from ``old_text``, carry each statement through the edit
        (positions/anchoring.py): one whose words and context came through unchanged moves
        with them; any other is flagged for review, never searched for and never attached
        to other words. A statement already awaiting review stays so. Returns a
        Reanchoring report.
        """
        report = Reanchoring()
        statements = list(self.statements.select_related(None).order_by("start", "pk"))
        placed = [s for s in statements if not s.needs_review]
        report.waiting = [s for s in statements if s.needs_review]
        spans = [(s.start, s.end) for s in placed]
        # A condition is a second span of the same text, carried by the same rule.
        conditioned = [s for s in placed if s.condition_start is not None]
        conditions = dict(
            zip(
                (s.pk for s in conditioned),
                anchoring.carry_spans(
                    old_text,
                    self.text,
                    [(s.condition_start, s.condition_end) for s in conditioned],
                ),
                strict=True,
            )
        )
        changed, unmoved = [], []
        for statement, carried in zip(
            placed, anchoring.carry_spans(old_text, self.text, spans), strict=True
        ):
            statement.source = self
            condition = conditions.get(statement.pk)
            if condition is not None and not (
                condition.carried
                and self.text[condition.start : condition.end] == statement.condition_quote
            ):
                carried = anchoring.Carried(
                    None,
                    None,
                    "the words of its condition were edited "
                    f"({condition.reason or 'they are no longer there'})",
                )
            if carried.carried and self.text[carried.start : carried.end] == statement.quote:
                # The context is unchanged, but near the start or end of the text it may
                # now reach further.
                anchor = quotes.anchor_at(self.text, carried.start, carried.end)
                new = (anchor.start, anchor.end, anchor.prefix, anchor.suffix)
                if condition is not None:
                    new += (condition.start, condition.end)
                old = (statement.start, statement.end, statement.prefix, statement.suffix)
                if condition is not None:
                    old += (statement.condition_start, statement.condition_end)
                if new != old:
                    if anchor.start != statement.start:
                        report.moved.append(statement)
                    statement.start, statement.end, statement.prefix, statement.suffix = new[:4]
                    if condition is not None:
                        statement.condition_start, statement.condition_end = new[4:]
                    statement.source_sha256 = self.sha256
                    changed.append(statement)
                else:
                    unmoved.append(statement.pk)
                continue
            statement.needs_review = True
            statement.review_note = (
                f"The source's text was edited (version {self.version}) and this quote was "
                f"not carried over: {carried.reason or 'its words are no longer there'}. "
                "Its offsets are those of the old text. Find its words in the new text and "
                "place it, edit it, or delete it."
            )
            report.flagged.append(statement)
            changed.append(statement)
        with transaction.atomic():
            # Those that stay where they were now count their offsets in this text too.
            models.QuerySet.update(
                Statement._base_manager.filter(pk__in=unmoved), source_sha256=self.sha256
            )
            if changed:
                # Carried spans were checked above, and their context is the old one by
                # construction; flagged ones keep their old offsets (and the old text's
                # hash) until an editor places them. The update() that bulk_update() makes
                # checks every anchor again, and brings the topic links' copy in step.
                fields = [
                    "start",
                    "end",
                    "prefix",
                    "suffix",
                    "condition_start",
                    "condition_end",
                    "source_sha256",
                    "needs_review",
                    "review_note",
                ]
                # Set aside first, so that no row clashes on the way with another's old
                # span (the one-span-per-actor rule counts placed statements only): one
                # statement may move onto the place that another of its actor's just left.
                models.QuerySet.update(
                    Statement._base_manager.filter(pk__in=[s.pk for s in changed]),
                    needs_review=True,
                )
                models.QuerySet.bulk_update(Statement.objects.all(), changed, fields)
            # Statements already awaiting review get a new version too: a place chosen on a
            # page (or by a client) that showed the old text is then refused.
            written = [s.pk for s in changed] + [s.pk for s in report.waiting]
            if written:
                reason = f"{audit.change_reason()}: re-anchored after source {self.pk} was edited"
                audit.changed_in_bulk(Statement, written, reason=reason)
            self.carry_dismissed_suggestions(old_text)
        return report

    def carry_original_words(self, old_text):
        """
        Carry the original-language words that translations' statements are paired with
        in this text, by the rule quotes follow. A pairing the edit touched is undone (the
        statement's history keeps it, with the reason), never left on other words; the
        statements' own quotes, in the translation, are not affected. Returns those undone.
        """
        paired = list(
            Statement._base_manager.filter(
                source__original=self, original_start__isnull=False
            ).order_by("pk")
        )
        if not paired:
            return []
        spans = [(s.original_start, s.original_end) for s in paired]
        moved, undone = [], []
        for statement, carried in zip(
            paired, anchoring.carry_spans(old_text, self.text, spans), strict=True
        ):
            if carried.carried and self.text[carried.start : carried.end] == (
                statement.original_quote
            ):
                if carried.start != statement.original_start:
                    statement.original_start, statement.original_end = carried.start, carried.end
                    moved.append(statement)
                continue
            statement.original_quote, statement.original_start = "", None
            statement.original_end = None
            undone.append(statement)
        fields = ["original_quote", "original_start", "original_end"]
        if moved or undone:
            models.QuerySet.bulk_update(Statement.objects.all(), moved + undone, fields)
            audit.changed_in_bulk(
                Statement,
                [s.pk for s in moved],
                reason=f"{audit.change_reason()}: original words carried after source "
                f"{self.pk} was edited",
            )
            audit.changed_in_bulk(
                Statement,
                [s.pk for s in undone],
                reason=f"{audit.change_reason()}: original words unpaired, as the edit of "
                f"source {self.pk} touched them",
            )
        return undone

    def carry_dismissed_suggestions(self, old_text):
        """Suggestions an editor dismissed follow their words too; one the edit touched is
        forgotten (it may be suggested again), never kept at offsets of other words."""
        dismissed = list(self.dismissed_suggestions.order_by("start", "end"))
        if not dismissed:
            return
        spans = [(d.start, d.end) for d in dismissed]
        kept = [
            DismissedSuggestion(
                source=self,
                start=carried.start,
                end=carried.end,
                dismissed_by_id=d.dismissed_by_id,
                dismissed_at=d.dismissed_at,
            )
            for d, carried in zip(
                dismissed, anchoring.carry_spans(old_text, self.text, spans), strict=True
            )
            if carried.carried
        ]
        # Written afresh, so that no row clashes on the way with another's old span, with
        # the time each was dismissed (which bulk_create would set to now).
        self.dismissed_suggestions.all().delete()
        times = [d.dismissed_at for d in kept]
        for suggestion, dismissed_at in zip(
            DismissedSuggestion.objects.bulk_create(kept), times, strict=True
        ):
            DismissedSuggestion.objects.filter(pk=suggestion.pk).update(dismissed_at=dismissed_at)


@dataclass
class Reanchoring:
    """What re-anchoring did after a source's text changed."""

    moved: list = field(default_factory=list)  # carried to new offsets with their words
    flagged: list = field(default_factory=list)  # flagged by this edit
    waiting: list = field(default_factory=list)  # flagged before, still awaiting review
    # statements of translations whose original-language words this edit touched
    unpaired: list = field(default_factory=list)

    def summary(self):
        parts = []
        if self.moved:
            parts.append(f"{len(self.moved)} quote(s) moved with their words")
        if self.flagged:
            parts.append(f"{len(self.flagged)} quote(s) were touched by the edit and await review")
        if self.waiting:
            parts.append(f"{len(self.waiting)} quote(s) still await review from before")
        if self.unpaired:
            parts.append(
                f"{len(self.unpaired)} translated quote(s) lost their pairing with these "
                "original-language words, which the edit touched: pair them again"
            )
        if not parts:
            return "every quote is on its own words, at the same offsets"
        if not self.flagged and not self.waiting:
            parts.append("every other quote is where it was")
        return "; ".join(parts)


class Paragraph(list):
    """The segments of one paragraph, and its offset in the text (for selecting from it)."""

    def __init__(self, start, segments):
        super().__init__(segments)
        self.start = start


@dataclass
class Segment:
    """A piece of a source paragraph and the statements that quote it."""

    text: str
    statements: list = field(default_factory=list)
    starting: list = field(default_factory=list)


class Topic(Versioned):
    """An issue under discussion, phrased so that a stance on it has a direction."""

    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(
        blank=True,
        help_text='What "supports" means on this topic, and what the topic covers.',
    )
    sort_order = models.PositiveSmallIntegerField(default=100)

    objects = audit.AuditedQuerySet.as_manager()
    history = audit.history(timestamped=False)

    class Meta:
        ordering = ["sort_order", "name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("positions:topic-detail", args=[self.slug])


class Meeting(Timestamped):
    """A meeting, held or announced; a visit is a meeting that contains others."""

    slug = models.SlugField(max_length=150, unique=True)
    title = models.CharField(max_length=300)
    kind = models.CharField(max_length=24, choices=MeetingKind)
    status = models.CharField(max_length=16, choices=MeetingStatus)
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    date_precision = models.CharField(
        max_length=8, choices=DatePrecision, default=DatePrecision.DAY
    )
    date_inferred = models.BooleanField(
        default=False, help_text="The source does not give these dates; they are inferred."
    )
    date_basis = models.CharField(
        max_length=300, blank=True, help_text="What an inferred date is inferred from."
    )
    location = models.CharField(max_length=200, blank=True)
    participants = models.ManyToManyField(Actor, related_name="meetings", blank=True)
    parent = models.ForeignKey(
        "self",
        models.PROTECT,
        related_name="children",
        null=True,
        blank=True,
        help_text="The event this meeting is part of, such as a visit.",
    )
    planned_minutes = models.PositiveIntegerField(null=True, blank=True)
    actual_minutes = models.PositiveIntegerField(null=True, blank=True)
    summary = models.TextField(blank=True)
    source = models.ForeignKey(
        Source,
        models.PROTECT,
        related_name="meetings",
        null=True,
        blank=True,
        help_text="Where this meeting is reported.",
    )

    objects = audit.AuditedQuerySet.as_manager()
    history = audit.history()

    class Meta:
        ordering = ["starts_on", "pk"]
        constraints = [
            choices_constraint("kind", MeetingKind, "meeting_kind_valid"),
            choices_constraint("status", MeetingStatus, "meeting_status_valid"),
            choices_constraint("date_precision", DatePrecision, "meeting_date_precision_valid"),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True)
                | Q(starts_on__isnull=True)
                | Q(ends_on__gte=F("starts_on")),
                name="meeting_ends_not_before_start",
            ),
            models.CheckConstraint(
                condition=Q(planned_minutes__isnull=True) | Q(planned_minutes__gt=0),
                name="meeting_planned_minutes_positive",
            ),
            models.CheckConstraint(
                condition=Q(actual_minutes__isnull=True) | Q(actual_minutes__gt=0),
                name="meeting_actual_minutes_positive",
            ),
            models.CheckConstraint(condition=~Q(parent=F("pk")), name="meeting_not_own_parent"),
            models.CheckConstraint(
                condition=Q(date_inferred=False) | ~Q(date_basis=""),
                name="meeting_inferred_date_has_basis",
            ),
        ]

    def __str__(self):
        return f"{self.title} ({self.dates_display})"

    def get_absolute_url(self):
        return reverse("positions:meeting-list") + f"?at={self.slug}#meeting-{self.slug}"

    def clean(self):
        validate_partial_date(self.starts_on, self.date_precision, "starts_on")
        validate_partial_date(self.ends_on, self.date_precision, "ends_on")
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": "The end date is before the start date."})
        validate_inference(self.date_inferred, self.date_basis, self.starts_on)
        ancestor = self.parent
        while ancestor is not None:
            if ancestor.pk is not None and ancestor.pk == self.pk:
                raise ValidationError({"parent": "A meeting cannot be contained in itself."})
            ancestor = ancestor.parent

    @property
    def dates_display(self):
        dates = format_date_range(
            self.starts_on, self.date_precision, self.ends_on, self.date_precision
        )
        return format_dated(dates, self.date_inferred, self.date_basis)

    @property
    def longest_minutes(self):
        return max(self.planned_minutes or 0, self.actual_minutes or 0)

    @property
    def overran_minutes(self):
        if self.planned_minutes and self.actual_minutes:
            return self.actual_minutes - self.planned_minutes
        return None


class Proposal(Timestamped):
    """Something a party put forward, with its numbers ("ceilings and levels")."""

    slug = models.SlugField(max_length=150, unique=True)
    title = models.CharField(max_length=300)
    kind = models.CharField(
        max_length=16,
        choices=ProposalKind,
        default=ProposalKind.PROPOSAL,
        help_text="A proposal asks the other side for something; a declared intention says "
        "what this side will do on its own.",
    )
    description = models.TextField(blank=True)
    party = models.ForeignKey(Party, models.PROTECT, related_name="proposals")
    actor = models.ForeignKey(
        Actor,
        models.PROTECT,
        related_name="proposals",
        null=True,
        blank=True,
        help_text="Whose proposal it is (the holder), e.g. the Russian government.",
    )
    reported_by = models.ForeignKey(
        Actor,
        models.PROTECT,
        related_name="reported_proposals",
        null=True,
        blank=True,
        help_text="Who relayed it, when that is not the holder, e.g. an official reporting "
        "his government's proposal.",
    )
    timing = models.CharField(
        max_length=300,
        blank=True,
        help_text='When it is to happen, in the source\'s own words ("within months").',
    )
    condition = models.CharField(
        max_length=500,
        blank=True,
        help_text="What it depends on, in the source's own words "
        '("Once these results are in, and if they are positive").',
    )
    meeting = models.ForeignKey(
        Meeting, models.PROTECT, related_name="proposals", null=True, blank=True
    )
    topics = models.ManyToManyField(Topic, related_name="proposals", blank=True)
    status = models.CharField(
        max_length=20, choices=ProposalStatus, default=ProposalStatus.PROPOSED
    )
    proposed_on = models.DateField(null=True, blank=True)
    proposed_on_precision = models.CharField(
        max_length=8, choices=DatePrecision, default=DatePrecision.DAY
    )
    proposed_until = models.DateField(
        null=True, blank=True, help_text="The last day, for a proposal made over several days."
    )
    proposed_until_precision = models.CharField(
        max_length=8, choices=DatePrecision, default=DatePrecision.DAY
    )
    date_inferred = models.BooleanField(
        default=False, help_text="The source does not give this date; it is inferred."
    )
    date_basis = models.CharField(
        max_length=300, blank=True, help_text="What an inferred date is inferred from."
    )
    source = models.ForeignKey(
        Source, models.PROTECT, related_name="proposals", null=True, blank=True
    )

    objects = audit.AuditedQuerySet.as_manager()
    history = audit.history()

    class Meta:
        ordering = ["party__sort_order", "proposed_on", "pk"]
        constraints = [
            choices_constraint("status", ProposalStatus, "proposal_status_valid"),
            choices_constraint("kind", ProposalKind, "proposal_kind_valid"),
            choices_constraint(
                "proposed_on_precision", DatePrecision, "proposal_proposed_on_precision_valid"
            ),
            choices_constraint(
                "proposed_until_precision",
                DatePrecision,
                "proposal_proposed_until_precision_valid",
            ),
            models.CheckConstraint(
                condition=Q(proposed_until__isnull=True)
                | Q(proposed_on__isnull=False, proposed_until__gte=F("proposed_on")),
                name="proposal_range_ordered",
            ),
            models.CheckConstraint(
                condition=Q(date_inferred=False) | ~Q(date_basis=""),
                name="proposal_inferred_date_has_basis",
            ),
            # A declared intention is this side's own act: nobody accepts or rejects it.
            models.CheckConstraint(
                condition=Q(
                    kind=ProposalKind.DECLARATION,
                    status__in=[ProposalStatus.DECLARED, ProposalStatus.WITHDRAWN],
                )
                | (~Q(kind=ProposalKind.DECLARATION) & ~Q(status=ProposalStatus.DECLARED)),
                name="proposal_declaration_status",
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("positions:proposal-list") + f"?at={self.slug}#proposal-{self.slug}"

    @property
    def responses(self):
        """Statements on this proposal from the other side(s); uses prefetched statements."""
        return [
            statement
            for statement in self.statements.all()
            if statement.party_id and statement.party_id != self.party_id
        ]

    @property
    def dates_display(self):
        dates = format_date_range(
            self.proposed_on,
            self.proposed_on_precision,
            self.proposed_until,
            self.proposed_until_precision,
        )
        return format_dated(dates, self.date_inferred, self.date_basis)

    @property
    def is_declaration(self):
        return self.kind == ProposalKind.DECLARATION

    def clean(self):
        errors = {}
        for check in (
            lambda: validate_partial_date(
                self.proposed_on, self.proposed_on_precision, "proposed_on"
            ),
            lambda: validate_date_range(
                self.proposed_on,
                self.proposed_on_precision,
                self.proposed_until,
                self.proposed_until_precision,
                ("proposed_on", "proposed_until"),
            ),
            lambda: validate_inference(self.date_inferred, self.date_basis, self.proposed_on),
        ):
            try:
                check()
            except ValidationError as error:
                errors.update(error.message_dict)
        if self.actor_id and self.party_id and self.actor.party_id != self.party_id:
            errors["actor"] = f"{self.actor} does not belong to {self.party}, the proposing party."
        if self.reported_by_id and self.reported_by_id == self.actor_id:
            errors["reported_by"] = "Leave this empty when the holder relays it themselves."
        if self.kind == ProposalKind.DECLARATION and self.status not in (
            ProposalStatus.DECLARED,
            ProposalStatus.WITHDRAWN,
        ):
            errors["status"] = "A declared intention is either declared or withdrawn."
        if self.kind != ProposalKind.DECLARATION and self.status == ProposalStatus.DECLARED:
            errors["status"] = "Only a declared intention has the status “declared”."
        # The timing and the condition are the source's own words, not a summary of them.
        text = self.source.text if self.source_id else None
        for name in ("timing", "condition"):
            words = getattr(self, name)
            if words and text is not None and words not in text:
                errors[name] = (
                    f"These words are not in the source: give the {name} exactly as the "
                    "source words it." + quotes.describe_near_miss(text, words)
                )
        if errors:
            raise ValidationError(errors)


class ProposalParameter(Versioned):
    """One number of a proposal: e.g. at most 1,500 warheads for each party."""

    proposal = models.ForeignKey(Proposal, models.CASCADE, related_name="parameters")
    quantity = models.CharField(
        max_length=200, help_text='What is counted, e.g. "deployed strategic nuclear warheads".'
    )
    limit = models.CharField(max_length=8, choices=Limit, default=Limit.CEILING)
    value = models.PositiveBigIntegerField()
    unit = models.CharField(max_length=50, help_text='e.g. "warheads", "aircraft".')
    applies_to = models.CharField(max_length=16, choices=AppliesTo, default=AppliesTo.EACH_PARTY)
    note = models.CharField(max_length=300, blank=True)
    sort_order = models.PositiveSmallIntegerField(default=0)

    objects = audit.AuditedQuerySet.as_manager()
    history = audit.history(timestamped=False)

    class Meta:
        ordering = ["proposal", "sort_order", "pk"]
        constraints = [
            choices_constraint("limit", Limit, "proposalparameter_limit_valid"),
            choices_constraint("applies_to", AppliesTo, "proposalparameter_applies_to_valid"),
            models.UniqueConstraint(
                fields=["proposal", "quantity", "applies_to"],
                name="proposalparameter_unique_quantity",
            ),
        ]

    def __str__(self):
        return (
            f"{self.quantity}: {self.get_limit_display().lower()} {self.value:,} {self.unit} "
            f"({self.get_applies_to_display().lower()})"
        )


class StatementQuerySet(audit.AuditedQuerySet):
    ANCHOR_FIELDS = {"quote", "start", "end", "prefix", "suffix", "source", "source_id"}
    # Copied onto each statement's topic links (StatementTopic).
    # What a statement's topic links copy (see StatementTopic).
    LINKED_FIELDS = {
        "actor",
        "actor_id",
        "party",
        "party_id",
        "stance",
        "stated_on",
        "stated_on_precision",
        "stated_until",
        "stated_until_precision",
        "date_inferred",
        "joint",
        "kind",
        "source",
        "source_id",
        "start",
    }

    def analysis(self):
        return self.filter(kind__in=AUTHOR_KINDS)

    def delete(self):
        with transaction.atomic(using=self.db):
            Source.locked(self.values_list("source_id", flat=True).distinct())
            return super().delete()

    def positions(self):
        """Statements that record a party's position, leaving out the author's analysis."""
        return self.exclude(kind__in=AUTHOR_KINDS)

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        with transaction.atomic(using=self.db):
            prepare_under_source_locks(objs)
            return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs, fields, *args, **kwargs):
        objs = list(objs)
        fields = set(fields)
        if fields & {"actor", "actor_id"}:
            fields.add("party")
        if fields & self.ANCHOR_FIELDS:
            fields |= {"quote", "start", "end", "prefix", "suffix", "source_sha256"}
        # Every object is validated below; the plain QuerySet's bulk_update writes them
        # without going through this class's update(), which refuses a bare party.
        plain = models.QuerySet(self.model, using=self.db)
        with transaction.atomic(using=self.db):
            prepare_under_source_locks(objs)
            count = plain.bulk_update(objs, sorted(fields), *args, **kwargs)
            pks = [o.pk for o in objs]
            audit.set_versions(objs, audit.changed_in_bulk(self.model, pks))
            if self.LINKED_FIELDS & fields:
                for start in range(0, len(pks), audit.CHUNK):
                    sync_topic_links(
                        self.model._base_manager.filter(pk__in=pks[start : start + audit.CHUNK])
                    )
        return count

    def update(self, **kwargs):
        """
        A statement's party is its actor's, so changing the actor changes the party, and the
        party cannot be set on its own. Updates that touch a quote's anchor are verified
        before they commit.
        """
        if kwargs.keys() & {"party", "party_id"}:
            raise ValidationError("A statement's party follows its actor; change the actor.")
        actor = kwargs.get("actor", kwargs.get("actor_id"))
        if actor is not None:
            actor = actor if isinstance(actor, Actor) else Actor.objects.get(pk=actor)
            kwargs["party_id"] = actor.party_id
        with transaction.atomic(using=self.db):
            if self.ANCHOR_FIELDS & kwargs.keys():
                Source.locked(self.values_list("source_id", flat=True).distinct())
            pks = list(self.values_list("pk", flat=True))
            count = super().update(**kwargs)
            changed = self.model._base_manager.filter(pk__in=pks)
            if self.LINKED_FIELDS & kwargs.keys():
                sync_topic_links(changed)
            if self.ANCHOR_FIELDS & kwargs.keys():
                for statement in changed.select_related("source"):
                    statement.validate_anchor()
        return count


def prepare_under_source_locks(statements):
    """Anchor ``statements`` to their sources' texts as read under the sources' locks (in
    the caller's transaction), as Statement.save() does one at a time."""
    sources = Source.locked(s.source_id for s in statements if s.source_id)
    for statement in statements:
        if statement.source_id in sources:
            statement.source = sources[statement.source_id]
        statement.prepare_for_save()


class Statement(Timestamped):
    """Who said what, verbatim, anchored to its place in a source."""

    actor = models.ForeignKey(Actor, models.PROTECT, related_name="statements")
    party = models.ForeignKey(
        Party,
        models.PROTECT,
        related_name="statements",
        null=True,
        blank=True,
        editable=False,
        help_text="The actor's party; empty for the author's analysis.",
    )
    source = models.ForeignKey(Source, models.PROTECT, related_name="statements")
    # Exactly as published: never trimmed, folded or paraphrased.
    quote = models.TextField(
        blank=True, help_text="Verbatim from the source. Leave empty to fill it from the offsets."
    )
    # Blank in forms so that either the quote or the offsets may be given; never null once saved.
    start = models.PositiveIntegerField(
        blank=True, help_text="Offset of the first character, in code points."
    )
    end = models.PositiveIntegerField(blank=True, help_text="Offset just past the last character.")
    prefix = models.TextField(blank=True, editable=False)
    suffix = models.TextField(blank=True, editable=False)
    source_sha256 = models.CharField(
        max_length=64,
        blank=True,
        editable=False,
        help_text=(
            "The SHA-256 of the source text that the offsets count in: the source's own "
            "while the statement is placed, an older text's while it awaits review."
        ),
    )
    topics = models.ManyToManyField(Topic, through="StatementTopic", related_name="statements")
    stance = models.CharField(max_length=16, choices=Stance)
    certainty = models.CharField(
        max_length=12,
        choices=Certainty,
        default=Certainty.FIRM,
        help_text="Firm; hedged (“so far”, “too early”); speculative (“possible”, “probably”).",
    )
    # The condition of a conditional stance: a second exact span of the same source.
    condition_quote = models.TextField(
        blank=True,
        help_text="The words that state the condition, verbatim from the same source.",
    )
    condition_start = models.PositiveIntegerField(null=True, blank=True)
    condition_end = models.PositiveIntegerField(null=True, blank=True)
    condition_topic = models.ForeignKey(
        Topic,
        models.PROTECT,
        related_name="conditioned_statements",
        null=True,
        blank=True,
        help_text="The position the condition depends on, e.g. the ABM Treaty standing.",
    )
    condition_proposal = models.ForeignKey(
        "Proposal",
        models.PROTECT,
        related_name="conditioned_statements",
        null=True,
        blank=True,
        help_text="The proposal the condition depends on.",
    )
    kind = models.CharField(
        "attribution kind", max_length=16, choices=AttributionKind, db_index=True
    )
    holder = models.ForeignKey(
        Actor,
        models.PROTECT,
        related_name="held_statements",
        null=True,
        blank=True,
        help_text="Whose position it is, when the speaker reports another's (an official "
        "relaying his government's proposal).",
    )
    joint = models.BooleanField(
        "joint claim",
        default=False,
        help_text="A claim about both sides (“both parties are much closer to…”): it is shown "
        "for the topic, but is neither side's own stance.",
    )
    stated_on = models.DateField(null=True, blank=True)
    stated_on_precision = models.CharField(
        max_length=8, choices=DatePrecision, default=DatePrecision.DAY
    )
    stated_until = models.DateField(
        null=True, blank=True, help_text="The end, when the date is a range (“August 7 and 8”)."
    )
    stated_until_precision = models.CharField(
        max_length=8, choices=DatePrecision, default=DatePrecision.DAY
    )
    date_inferred = models.BooleanField(
        default=False, help_text="The source does not date the words; the date is inferred."
    )
    date_basis = models.CharField(
        max_length=300, blank=True, help_text="What an inferred date is inferred from."
    )
    meeting = models.ForeignKey(
        Meeting, models.PROTECT, related_name="statements", null=True, blank=True
    )
    meeting_relation = models.CharField(
        max_length=8,
        choices=MeetingRelation,
        blank=True,
        help_text="Said at the meeting, or about it (said elsewhere or later).",
    )
    proposal = models.ForeignKey(
        Proposal, models.PROTECT, related_name="statements", null=True, blank=True
    )
    proposal_stance = models.CharField(max_length=16, choices=ProposalStance, blank=True)
    # The same words in the original language, when the source is a translation of
    # another stored source.
    original_quote = models.TextField(
        blank=True, help_text="The words in the original-language source, verbatim."
    )
    original_start = models.PositiveIntegerField(null=True, blank=True)
    original_end = models.PositiveIntegerField(null=True, blank=True)
    note = models.TextField(blank=True, help_text="Editorial note; not part of the quote.")
    needs_review = models.BooleanField(
        default=False,
        db_index=True,
        editable=False,
        help_text=(
            "Set when an edit of the source's text touched the quote or its context, so that "
            "it could not be carried over; its offsets are then the old text's, not to be "
            "trusted or published."
        ),
    )
    review_note = models.TextField(blank=True, editable=False)
    # NULL, not "", for no reference: it says "none given", and stays out of the unique
    # constraint below without a special case.
    client_reference = models.CharField(  # noqa: DJ001
        max_length=64,
        null=True,
        blank=True,
        editable=False,
        help_text=(
            "A reference the writing client chose for this statement (e.g. a UUID), so that "
            "sending the same new statement again, after a lost answer, cannot store it "
            "twice."
        ),
    )

    objects = StatementQuerySet.as_manager()

    history = audit.history()

    class Meta:
        ordering = ["stated_on", "source", "start", "pk"]
        indexes = [
            models.Index(fields=["source", "start"], name="statement_source_start"),
            # The lists' order: walked in order, a page of a filtered list stops early.
            models.Index(
                fields=["stated_on", "source", "start", "id"], name="statement_list_order"
            ),
            models.Index(fields=["party", "stated_on"], name="statement_party_stated_on"),
        ]
        constraints = [
            # Partial (references are optional), which also lets SQLite add it as an index
            # instead of rebuilding the table, which would drop its full-text triggers.
            models.UniqueConstraint(
                fields=["client_reference"],
                condition=Q(client_reference__isnull=False),
                name="statement_unique_client_reference",
                violation_error_message="A statement with this client reference is stored.",
            ),
            choices_constraint("stance", Stance, "statement_stance_valid"),
            choices_constraint("kind", AttributionKind, "statement_kind_valid"),
            choices_constraint(
                "stated_on_precision", DatePrecision, "statement_stated_on_precision_valid"
            ),
            models.CheckConstraint(
                condition=Q(proposal_stance="") | Q(proposal_stance__in=ProposalStance.values),
                name="statement_proposal_stance_valid",
            ),
            models.CheckConstraint(
                condition=Q(start__gte=0) & Q(end__gt=F("start")),
                name="statement_offsets_ordered",
            ),
            # Offsets count code points, as both SQLite's length() and PostgreSQL's do.
            models.CheckConstraint(
                condition=Q(end=F("start") + Length("quote")),
                name="statement_offsets_span_quote",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=AUTHOR_KINDS, party__isnull=True)
                | (~Q(kind__in=AUTHOR_KINDS) & Q(party__isnull=False)),
                name="statement_analysis_has_no_party",
            ),
            choices_constraint("certainty", Certainty, "statement_certainty_valid"),
            choices_constraint(
                "stated_until_precision", DatePrecision, "statement_stated_until_precision_valid"
            ),
            models.CheckConstraint(
                condition=Q(stated_until__isnull=True)
                | Q(stated_on__isnull=False, stated_until__gte=F("stated_on")),
                name="statement_range_ordered",
            ),
            models.CheckConstraint(
                condition=Q(date_inferred=False) | ~Q(date_basis=""),
                name="statement_inferred_date_has_basis",
            ),
            models.CheckConstraint(
                condition=Q(meeting__isnull=True, meeting_relation="")
                | Q(meeting__isnull=False, meeting_relation__in=MeetingRelation.values),
                name="statement_meeting_relation_valid",
            ),
            # A second span is whole or absent, and its words are the text between its
            # offsets (which Statement.anchor_second_spans() checks against the source).
            models.CheckConstraint(
                condition=Q(condition_start__isnull=True, condition_end__isnull=True)
                & Q(condition_quote="")
                | Q(
                    condition_start__gte=0,
                    condition_end=F("condition_start") + Length("condition_quote"),
                    condition_end__gt=F("condition_start"),
                ),
                name="statement_condition_span",
            ),
            models.CheckConstraint(
                condition=Q(original_start__isnull=True, original_end__isnull=True)
                & Q(original_quote="")
                | Q(
                    original_start__gte=0,
                    original_end=F("original_start") + Length("original_quote"),
                    original_end__gt=F("original_start"),
                ),
                name="statement_original_span",
            ),
            models.CheckConstraint(
                condition=Q(proposal__isnull=False) | Q(proposal_stance=""),
                name="statement_proposal_stance_needs_proposal",
            ),
            # Only among placed statements: the offsets of one awaiting review are an old
            # text's, and may equal a placed statement's in the new one.
            models.UniqueConstraint(
                fields=["source", "actor", "start", "end"],
                condition=Q(needs_review=False),
                name="statement_unique_span_per_actor",
                violation_error_message=(
                    "This actor already has a statement on exactly these words of the source."
                ),
            ),
        ]

    def __str__(self):
        try:
            who = self.actor
        except Actor.DoesNotExist:  # a historical version whose actor is gone
            who = f"Actor {self.actor_id} (deleted)"
        return f"{who}: “{quotes.excerpt(self.quote, 60)}”"

    def save(self, *args, update_fields=None, **kwargs):
        if update_fields is not None:
            # What prepare_for_save derives must be saved with what it was derived from.
            update_fields = set(update_fields) | {
                "party",
                "quote",
                "start",
                "end",
                "prefix",
                "suffix",
                "source_sha256",
                "needs_review",
                "review_note",
            }
        with transaction.atomic():
            # Anchored to the text as it is now, read under the source's lock, which an
            # edit of the text holds until it has carried every statement over: a save
            # and an edit of the text happen one after the other, never across each other.
            self.lock_before_edit()
            self.prepare_for_save()
            super().save(*args, update_fields=update_fields, **kwargs)
            sync_topic_links(Statement._base_manager.filter(pk=self.pk))

    def get_absolute_url(self):
        return reverse("positions:statement-detail", args=[self.pk])

    def delete(self, *args, **kwargs):
        with transaction.atomic():
            self.lock_before_edit()
            return super().delete(*args, **kwargs)

    def lock_before_edit(self):
        """Lock the source (both, when the statement moves to another one) before the
        statement's own row, the order every writer of statements and texts follows."""
        ids = {self.source_id} - {None}
        if self.pk is not None:
            ids |= set(
                Statement._base_manager.filter(pk=self.pk).values_list("source_id", flat=True)
            )
        sources = Source.locked(ids)
        if self.source_id in sources:
            self.source = sources[self.source_id]

    def clean(self):
        errors = {}
        self.party_id = self.actor.party_id if self.actor_id else None
        if self.actor_id and self.kind:
            is_author = self.kind in AUTHOR_KINDS
            if is_author and self.actor.party_id is not None:
                errors["kind"] = (
                    f"{self.actor} speaks for {self.actor.party}; the author's analysis or "
                    "narration must be attributed to an actor with no party, such as the "
                    "article's author."
                )
            elif not is_author and self.actor.party_id is None:
                errors["actor"] = (
                    f"{self.actor} speaks for no party, so this can only be recorded as the "
                    "author's analysis or narration."
                )
        if self.proposal_stance and not self.proposal_id:
            errors["proposal_stance"] = "Choose the proposal this stance is on."
        errors.update(self.codebook_errors())
        for check in (
            lambda: validate_partial_date(self.stated_on, self.stated_on_precision, "stated_on"),
            lambda: validate_date_range(
                self.stated_on,
                self.stated_on_precision,
                self.stated_until,
                self.stated_until_precision,
                ("stated_on", "stated_until"),
            ),
            lambda: validate_inference(self.date_inferred, self.date_basis, self.stated_on),
        ):
            try:
                check()
            except ValidationError as error:
                errors.update(error.message_dict)
        if self.source_id:
            try:
                self.resolve_review_state()
            except ValidationError as error:
                errors.update(error.message_dict)
        if self.source_id and not self.needs_review and "start" not in errors:
            # A statement awaiting review keeps its old offsets until it is placed; its
            # other fields can be edited meanwhile.
            try:
                self.anchor()
            except ValidationError as error:
                errors.update(error.message_dict)
        if errors:
            raise ValidationError(errors)

    def codebook_errors(self):
        """The rules of docs/codebook.md that tie one field to another, by field."""
        errors = {}
        author = self.kind in AUTHOR_KINDS
        if self.meeting_id and not self.meeting_relation:
            errors["meeting_relation"] = (
                "Say whether the words were said at the meeting or are about it."
            )
        if self.meeting_relation and not self.meeting_id:
            errors["meeting_relation"] = "Choose the meeting first, or leave this empty."
        if self.stance == Stance.CONDITIONAL and not (
            self.condition_quote or self.condition_start is not None
        ):
            errors["condition_quote"] = (
                "A conditional stance states its condition: give the words of the source "
                "that say it (select them, or give their offsets)."
            )
        if self.stance == Stance.NEUTRAL and (
            self.condition_quote
            or self.condition_start is not None
            or self.condition_topic_id
            or self.condition_proposal_id
        ):
            errors["stance"] = (
                "A statement that takes no position has no condition: choose its stance, "
                "or remove the condition."
            )
        if (self.condition_topic_id or self.condition_proposal_id) and not (
            self.condition_quote or self.condition_start is not None
        ):
            errors["condition_quote"] = (
                "Give the words of the source that state the condition first; what it "
                "depends on is recorded with them."
            )
        if self.holder_id and self.actor_id:
            if self.holder_id == self.actor_id:
                errors["holder"] = "Leave this empty when the speaker states their own position."
            elif author:
                errors["holder"] = (
                    "The author's own words hold no side's position; record the words as "
                    "the holder's, reported or paraphrased."
                )
            elif self.holder.party_id != self.actor.party_id:
                errors["holder"] = (
                    f"{self.holder} is not on {self.actor}'s side; record the words as "
                    f"{self.holder}'s, reported (kind “Reported speech”)."
                )
        if self.joint and author:
            errors["joint"] = (
                "A joint claim is a side's claim about both sides; the author's own "
                "description of both sides is narration or analysis."
            )
        if self.original_quote or self.original_start is not None:
            original = self.source.original if self.source_id else None
            if original is None:
                errors["original_quote"] = (
                    "The source is not linked to a stored original-language text; link it "
                    "(the source's “original”) before pairing the words."
                )
        return errors

    def anchor_second_spans(self):
        """
        Anchor the condition (in the same source) and the original-language words (in the
        source's original), as anchor() does the quote: the words must be the text at their
        offsets, or stand exactly once in it. Raises ValidationError by field.
        """
        errors = {}
        spans = [("condition", self.source.text)]
        original = self.source.original
        if (self.original_quote or self.original_start is not None) and original is not None:
            # (Without an original, codebook_errors() says what to do.)
            spans.append(("original", original.text))
        for name, text in spans:
            quote = getattr(self, f"{name}_quote")
            start, end = getattr(self, f"{name}_start"), getattr(self, f"{name}_end")
            if not quote and start is None and end is None:
                continue
            try:
                quote, start, end = quotes.exact_span(text, quote, start, end)
            except ValueError as error:
                errors[f"{name}_quote"] = str(error)
                continue
            setattr(self, f"{name}_quote", quote)
            setattr(self, f"{name}_start", start)
            setattr(self, f"{name}_end", end)
        if errors:
            raise ValidationError(errors)

    def prepare_for_save(self):
        """Derive the party and anchor the quote, or raise ValidationError rather than save."""
        if not self.source_id:
            raise ValidationError({"source": "A statement needs the source it quotes."})
        self.party_id = self.actor.party_id if self.actor_id else None
        self.resolve_review_state()
        if not self.needs_review:
            # A statement awaiting review keeps its quote and old offsets until an editor
            # places it; it is never re-anchored on the way.
            expected = getattr(self, "expected_source_sha256", None)
            if expected and expected != self.source.sha256:
                raise ValidationError(
                    {
                        "source": (
                            "The source's text was edited after these offsets were taken "
                            "from it, so they may now point at other words. Select the "
                            "words again."
                        )
                    }
                )
            self.anchor()

    def resolve_review_state(self):
        """
        Whether this write places a statement awaiting review, keeps it waiting, or sends
        an old version back to review. A statement is placed only by offsets an editor
        gives it in the text as it is now, never by searching the text for its words: the
        same words elsewhere may be someone else's. A version brought back from its
        history (a restore or a revert) returns flagged if its offsets count in another
        text than the source's.
        """
        if hasattr(self, "_restored_from_version") or getattr(self, "_reverted", False):
            self.check_restored_anchor()
            return
        if not self.needs_review or not self.anchor_edited():
            return
        if self.start is None:
            raise ValidationError(
                {
                    "start": (
                        "This statement awaits review: place it by giving the offset where "
                        "its words start in the text as it is now (it is never placed by "
                        "searching the text for its words)."
                    )
                }
            )
        self.needs_review, self.review_note = False, ""

    def check_restored_anchor(self):
        """
        A statement brought back from its deletion returns as it was: flagged if it was.
        If its source's text has changed since, its offsets count in a text that is gone,
        so it returns flagged too, for an editor to place.
        """
        if self.needs_review:
            return
        if self.pk is not None and not getattr(self, "_restored_from_version", None):
            stored = Statement._base_manager.filter(pk=self.pk).values_list(
                "needs_review", "review_note"
            )
            if stored and stored[0][0] and not self.anchor_edited():
                # A revert to a version from before the text was edited, of a statement
                # that edit flagged: it stays flagged where it is.
                self.needs_review, self.review_note = stored[0]
                return
        if self.source_sha256:
            changed = self.source_sha256 != self.source.sha256
        else:  # deleted before texts' hashes were recorded on statements
            found = quotes.anchor_at(self.source.text, self.start, self.end)
            changed = (self.source.text[self.start : self.end], found.prefix, found.suffix) != (
                self.quote,
                self.prefix,
                self.suffix,
            )
        if changed:
            self.needs_review = True
            self.review_note = (
                "Brought back from its history (a restore or a revert); the source's text "
                "was edited since that version, so its offsets are those of an old text. "
                "Find its words in the new text and place it, edit it, or delete it."
            )

    def anchor_edited(self):
        stored = (
            Statement._base_manager.filter(pk=self.pk)
            .values_list("source_id", "quote", "start", "end")
            .first()
        )
        return stored != (self.source_id, self.quote, self.start, self.end)

    def place(self, start):
        """Anchor a statement awaiting review at ``start``, where its quote must be."""
        self.start, self.end = start, start + len(self.quote)
        self.needs_review, self.review_note = False, ""
        self.anchor()

    def anchor(self):
        """
        Make quote, offsets and context agree with the source text, or raise ValidationError.

        With offsets, the quote must equal the text between them (an empty quote is filled in
        from them). Without offsets, the quote must occur exactly once in the source.
        """
        text = self.source.text
        quote = self.quote
        start, end = self.start, self.end

        if start is not None and end is None and quote:
            end = start + len(quote)
        if start is None and end is not None and quote:
            start = end - len(quote)

        if start is not None and end is not None:
            if start < 0 or end <= start:
                raise ValidationError({"end": "The end offset must be greater than the start."})
            if end > len(text):
                raise ValidationError(
                    {"end": f"The source is only {len(text)} characters long; end is {end}."}
                )
            actual = text[start:end]
            if not quote:
                quote = actual
            elif actual != quote:
                raise ValidationError(
                    {
                        "quote": (
                            f"The quote does not match the source at offsets {start}–{end}: "
                            f"the source there reads “{quotes.excerpt(actual)}”."
                            + self.located_elsewhere(text, quote)
                        )
                    }
                )
        else:
            if not quote:
                raise ValidationError({"quote": "Give the quote, its offsets, or both."})
            found = quotes.occurrences(text, quote)
            if not found:
                raise ValidationError(
                    {
                        "quote": "The quote is not in the source text."
                        + quotes.describe_near_miss(text, quote)
                    }
                )
            if len(found) > 1:
                listed = ", ".join(str(offset) for offset in found[:10])
                raise ValidationError(
                    {
                        "quote": (
                            f"The quote occurs {len(found)} times in the source (at offsets "
                            f"{listed}); give the start offset of the one you mean."
                        )
                    }
                )
            start, end = found[0], found[0] + len(quote)

        found = quotes.anchor_at(text, start, end)
        self.quote, self.start, self.end = quote, found.start, found.end
        self.prefix, self.suffix = found.prefix, found.suffix
        self.source_sha256 = self.source.sha256 or Source.text_hash(text)
        self.anchor_second_spans()

    @staticmethod
    def located_elsewhere(text, quote):
        found = quotes.occurrences(text, quote)
        if len(found) == 1:
            return f" The quote is at offset {found[0]}."
        if found:
            return f" The quote occurs at offsets {', '.join(map(str, found[:10]))}."
        return " The quote is not anywhere in the source." + quotes.describe_near_miss(text, quote)

    def validate_anchor(self):
        """Raise ValidationError if the stored quote is not what the source says at its offsets."""
        problem = self.anchor_problem()
        if problem:
            raise ValidationError({"quote": f"Statement {self.pk}: {problem}"})

    def anchor_problem(self):
        """Describe how the stored quote disagrees with its source, or return ""."""
        if self.needs_review:
            return ""  # known not to match, and listed for review
        text = self.source.text
        if self.start is None or self.end is None:
            return "it has no offsets."
        actual = text[self.start : self.end]
        if actual != self.quote:
            return (
                f"the quote “{quotes.excerpt(self.quote)}” does not match the source at "
                f"{self.start}–{self.end}, which reads “{quotes.excerpt(actual)}”."
            )
        expected = quotes.anchor_at(text, self.start, self.end)
        if (self.prefix, self.suffix) != (expected.prefix, expected.suffix):
            return (
                "the words match but the text around them does not: its stored context is "
                f"“{quotes.excerpt(self.prefix, 40)}” before and "
                f"“{quotes.excerpt(self.suffix, 40)}” after, the source has "
                f"“{quotes.excerpt(expected.prefix, 40)}” and "
                f"“{quotes.excerpt(expected.suffix, 40)}”, so it may be on other words that "
                "read the same."
            )
        if self.source_sha256 != self.source.sha256:
            return (
                "its offsets were counted in another version of the source's text "
                f"(SHA-256 {self.source_sha256[:12] or 'unknown'}…, the source's is "
                f"{self.source.sha256[:12]}…)."
            )
        return ""

    @property
    def stated_on_display(self):
        """The date as known, a range if it is one, with its inference said."""
        dates = format_date_range(
            self.stated_on,
            self.stated_on_precision,
            self.stated_until,
            self.stated_until_precision,
        )
        return format_dated(dates, self.date_inferred, self.date_basis)

    @property
    def is_author(self):
        return self.kind in AUTHOR_KINDS

    @property
    def is_speech(self):
        """Reported by its source as said: a speaker's own words or reported speech."""
        return self.kind in (AttributionKind.DIRECT_QUOTE, AttributionKind.REPORTED)

    @property
    def meeting_display(self):
        """ "at the Kremlin meeting" or "about the Kremlin meeting"."""
        if not self.meeting_id:
            return ""
        said = "at" if self.meeting_relation == MeetingRelation.SAID_AT else "about"
        return f"{said} {self.meeting.title}"

    def neighbour_on(self, topic, step):
        """The statement before (step -1) or after (step +1) this one on a topic, or None."""
        undated_last = Coalesce(
            "stated_on", models.Value(datetime.date.max), output_field=models.DateField()
        )
        key = (self.stated_on or datetime.date.max, self.source_id, self.start, self.pk)
        names = ("sort_date", "source_id", "start", "pk")
        beyond = "gt" if step > 0 else "lt"
        condition = Q()
        for depth, name in enumerate(names):
            equal = {names[i]: key[i] for i in range(depth)}
            condition |= Q(**equal, **{f"{name}__{beyond}": key[depth]})
        order = [name if step > 0 else f"-{name}" for name in names]
        return (
            Statement.objects.filter(topics=topic)
            .annotate(sort_date=undated_last)
            .filter(condition)
            .select_related("actor")
            .order_by(*order)
            .first()
        )

    def citation(self, url):
        """
        A ready-to-copy citation of this statement, its words verbatim. Only a direct quote
        is put in quotation marks after the speaker's name: reported speech, a paraphrase or
        a media report is the source's wording, so it is cited as the source's ("According
        to …, X said that …" would put words in a speaker's mouth if quoted).
        """
        actor = self.actor.label + (f" ({self.actor.role})" if self.actor.role else "")
        where = f", {self.meeting_display}" if self.meeting_id else ""
        source = self.source
        publisher = f", {source.publisher}" if source.publisher else ""
        translated = f", {source.translation_display}" if source.translated_from else ""
        place = (
            "its place in the text awaits review after an edit of the text"
            if self.needs_review
            else f"characters {self.start}–{self.end}"
        )
        if self.kind == AttributionKind.DIRECT_QUOTE:
            words = f"{actor}, {self.stated_on_display}{where}: “{self.quote}”"
        elif self.is_author:  # the author's own words are the source's
            words = (
                f"{actor}, {self.stated_on_display}{where} ({self.get_kind_display().lower()}):"
                f" “{self.quote}”"
            )
        else:
            words = (
                f"{actor}, {self.stated_on_display}{where} "
                f"({self.get_kind_display().lower()}, in the source's words, not the "
                f"speaker's): {self.quote}"
            )
        return (
            f"{words}. In: “{source.title}”{publisher}, {source.published_on_display}"
            f"{translated}, {place}. {url}"
        )

    @property
    def paragraph_bounds(self):
        """The offsets of the paragraph (or paragraphs) of the source that hold the quote."""
        text = self.source.text
        start = text.rfind("\n", 0, self.start) + 1
        end = text.find("\n", self.end)
        return start, len(text) if end == -1 else end


UNDATED = datetime.date(9999, 12, 31)  # an undated statement sorts after every dated one


class StatementTopicQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        created = super().bulk_create(objs, *args, **kwargs)
        statement_ids = sorted({link.statement_id for link in created})
        for start in range(0, len(statement_ids), audit.CHUNK):
            chunk = statement_ids[start : start + audit.CHUNK]
            sync_topic_links(Statement._base_manager.filter(pk__in=chunk))
        return created


def topic_links_added(sender, instance, action, reverse, pk_set, **kwargs):
    """add() and set() write topic links in bulk, without their copied fields: fill them."""
    if action != "post_add":
        return
    if reverse:
        sync_topic_links(Statement._base_manager.filter(pk__in=pk_set or ()))
    else:
        sync_topic_links(Statement._base_manager.filter(pk=instance.pk))


class StatementTopic(models.Model):
    """
    Tags a statement with a topic; a topic that statements cite cannot be deleted.

    It also carries a copy of its statement's party, stance, date, source and start, so
    that the dashboard reads each (topic, party) cell's first statements, and counts its
    stances, and the statements list reads a topic's page in list order, from an index on
    this table instead of joining every statement on the topic. The copy is kept by
    Statement.save(), StatementTopic.save() and sync_topic_links(), which every other
    write path calls; verify_quotes checks it.
    """

    statement = models.ForeignKey(Statement, models.CASCADE, related_name="topic_links")
    topic = models.ForeignKey(Topic, models.PROTECT, related_name="statement_links")
    party = models.ForeignKey(
        Party, models.DO_NOTHING, null=True, blank=True, editable=False, related_name="+"
    )
    # The statement's stance, or this topic's own where the direction differs between the
    # statement's topics (keeping the ABM Treaty supports the treaty and opposes a national
    # missile defense that it forbids).
    stance = models.CharField(max_length=16, blank=True, editable=False)
    stance_override = models.CharField(
        "stance on this topic",
        max_length=16,
        choices=Stance,
        blank=True,
        help_text="Only where the statement's stance has the other direction on this topic.",
    )
    sort_date = models.DateField(default=UNDATED, editable=False)
    # The statements list's order: (stated_on, source, start, statement), as Statement's.
    stated_on = models.DateField(null=True, blank=True, editable=False)
    # The rest of the statement's date, for positions in time (comparison.py).
    stated_on_precision = models.CharField(max_length=8, blank=True, editable=False)
    stated_until = models.DateField(null=True, blank=True, editable=False)
    stated_until_precision = models.CharField(max_length=8, blank=True, editable=False)
    date_inferred = models.BooleanField(default=False, editable=False)
    joint = models.BooleanField(default=False, editable=False)
    kind = models.CharField(max_length=16, blank=True, editable=False)
    # Where the statement stands among its cell's on the dashboard (see lead_rank()).
    lead_rank = models.PositiveSmallIntegerField(default=0, editable=False)
    source = models.ForeignKey(
        Source,
        models.DO_NOTHING,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        db_index=False,  # the list order index below covers what is looked up
    )
    start = models.PositiveIntegerField(null=True, blank=True, editable=False)

    objects = StatementTopicQuerySet.as_manager()

    class Meta:
        ordering = ["topic__sort_order", "pk"]
        indexes = [
            models.Index(
                fields=["topic", "party", "sort_date", "statement"],
                name="statementtopic_cell_order",
            ),
            models.Index(fields=["topic", "party", "stance"], name="statementtopic_cell_stance"),
            # The dashboard's order in a cell: the evidence that carries the position first,
            # newest first (see lead_rank()).
            models.Index(
                fields=["topic", "party", "lead_rank", "-sort_date", "-statement"],
                name="statementtopic_cell_lead",
            ),
            models.Index(
                fields=["topic", "stated_on", "source", "start", "statement"],
                name="statementtopic_list_order",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["statement", "topic"], name="statementtopic_unique_pair"
            ),
        ]

    def __str__(self):
        return f"{self.topic} ← statement {self.statement_id}"

    def save(self, *args, **kwargs):
        statement = Statement._base_manager.only(*COPIED_TO_LINKS, "stance").get(
            pk=self.statement_id
        )
        for name in COPIED_TO_LINKS:
            setattr(self, name, getattr(statement, name))
        self.stance = self.stance_override or statement.stance
        self.sort_date = statement.stated_on or UNDATED
        self.lead_rank = lead_rank(self.stance, self.kind, self.joint, self.stated_on)
        super().save(*args, **kwargs)

    def clean(self):
        if self.stance_override and self.statement_id:
            own = Statement._base_manager.filter(pk=self.statement_id).values_list(
                "stance", flat=True
            )
            if own and own[0] == self.stance_override:
                raise ValidationError(
                    {"stance_override": "This is the statement's own stance: leave it empty."}
                )


# Speech that carries a side's position most directly.
SPEECH_KINDS = ("direct_quote", "reported")


def lead_rank(stance, kind, joint, stated_on):
    """
    The order of a statement among its cell's on the dashboard: first what carries the
    side's position (a stance, in its own words or reported speech, then paraphrased or
    relayed), dated before undated; then what describes (no stance, or a joint claim).
    Within a rank, newest first. LEAD_RANK is the same rule in SQL.
    """
    if stance == Stance.NEUTRAL or joint:
        return 3 if stated_on else 4
    if stated_on is None:
        return 2
    return 0 if kind in SPEECH_KINDS else 1


LEAD_RANK = models.Case(
    models.When(Q(stance=Stance.NEUTRAL) | Q(joint=True), stated_on__isnull=False, then=3),
    models.When(Q(stance=Stance.NEUTRAL) | Q(joint=True), then=4),
    models.When(stated_on__isnull=True, then=2),
    models.When(kind__in=SPEECH_KINDS, then=0),
    default=1,
)


# The fields a topic link copies from its statement as they are (it also keeps sort_date,
# and the stance unless it has its own).
COPIED_TO_LINKS = (
    "kind",
    "party_id",
    "stated_on",
    "stated_on_precision",
    "stated_until",
    "stated_until_precision",
    "date_inferred",
    "joint",
    "source_id",
    "start",
)


def sync_topic_links(statements):
    """Copy party, stance, dates, joint flag, source and start from ``statements`` (a
    queryset) to their topic links."""
    own = Statement._base_manager.filter(pk=OuterRef("statement_id"))
    links = models.QuerySet(StatementTopic).filter(statement__in=statements.values("pk"))
    count = links.update(
        **{name: Subquery(own.values(name)[:1]) for name in COPIED_TO_LINKS},
        stance=models.Case(
            models.When(stance_override="", then=Subquery(own.values("stance")[:1])),
            default=F("stance_override"),
        ),
        sort_date=Coalesce(
            Subquery(own.values("stated_on")[:1]),
            models.Value(UNDATED),
            output_field=models.DateField(),
        ),
    )
    # From the link's own copy, now up to date.
    links.update(lead_rank=LEAD_RANK)
    return count


class DismissedSuggestion(models.Model):
    """A suggested span of a source that an editor judged not to be a statement."""

    source = models.ForeignKey(Source, models.CASCADE, related_name="dismissed_suggestions")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    dismissed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["source", "start", "end"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "start", "end"], name="dismissedsuggestion_unique_span"
            ),
        ]

    def __str__(self):
        return f"source {self.source_id}, {self.start}–{self.end}"


class SeedEntry(models.Model):
    """Records that one object of the seed data was loaded, so reloading never redoes it."""

    key = models.CharField(max_length=200, unique=True)
    object_id = models.PositiveBigIntegerField(
        null=True, help_text="The object it created, or the one already there that it kept."
    )
    loaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["key"]
        verbose_name_plural = "seed entries"

    def __str__(self):
        return self.key


class ContentVersion(models.Model):
    """
    One row, whose number goes up with every change to content, in the same transaction
    (see positions/caching.py). Cached pages are keyed by it, so an edit shows at once in
    every app process, whichever cache they share or do not share.
    """

    value = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="contentversion_single_row"),
        ]

    def __str__(self):
        return f"content version {self.value}"
