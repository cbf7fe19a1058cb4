"""
The audit trail: who changed which record, when, by which path, and what changed.

django-simple-history keeps one historical row for every save and delete of a content
model (see ``history = HistoricalRecords(...)`` on each). This module adds what it does not
do on its own:

- ``QuerySet.update()``, ``bulk_create()`` and ``bulk_update()`` record history too
  (AuditedQuerySet), one row per record they change;
- each row carries the ids of the record's many-to-many relations (a statement's topics,
  a meeting's participants) as they stand at the end of the change. The admin and the API
  save a record and then its relations; a change to the relations within the same
  operation updates that operation's row rather than adding another, so one edit is one
  row;
- each row says by which path the change came: "admin", "api", "web", or the name of a
  management command (the row's change reason).

An operation is a request (AuditMiddleware) or a block of code run under ``operation()``.
Outside any operation (a shell, a script) each change is recorded as it happens, so a
``set()`` that replaces links is a removal and an addition: two rows. Scripts that edit
links should run in ``operation("script name")``, as the management commands do.
"""

from contextlib import contextmanager
from dataclasses import dataclass, field

from asgiref.local import Local
from django.db import models, transaction
from django.utils import timezone
from simple_history.models import HistoricalRecords

from positions.quotes import excerpt

_state = Local()

# Records per query when writing history for a bulk change (SQLite limits parameters).
CHUNK = 500

# The many-to-many relations kept in each historical row, by model label.
RELATED = {
    "positions.statement": ["topics"],
    "positions.proposal": ["topics"],
    "positions.meeting": ["participants"],
}


class HistorySnapshot(models.Model):
    """Fields added to every historical model."""

    related_ids = models.JSONField(
        default=dict, blank=True, help_text="Ids of the record's many-to-many relations."
    )

    class Meta:
        abstract = True

    @property
    def label(self):
        """What the record was, in a few words, read from this row alone (no queries)."""
        if hasattr(self, "quote"):
            return f"“{excerpt(self.quote, 70)}”"
        for name in ("name", "title", "quantity"):
            if hasattr(self, name):
                return excerpt(str(getattr(self, name)), 70)
        return f"#{self.id}"


def history(*, timestamped=True, **kwargs):
    """The HistoricalRecords every content model uses. A timestamped model's updated_at is
    left out (each row has its own time); a model without one must not name it, or
    rebuilding a record from its history (revert, restore) fails."""
    return HistoricalRecords(
        bases=[HistorySnapshot],
        excluded_fields=["updated_at"] if timestamped else [],
        history_change_reason_field=models.TextField(null=True),
        **kwargs,
    )


@dataclass
class Operation:
    via: str
    user: object = None
    # (model label, pk) -> the historical row this operation wrote for that record.
    records: dict = field(default_factory=dict)


@contextmanager
def operation(via, user=None):
    """Run a block as one operation: each record it changes gets one history row."""
    previous = getattr(_state, "operation", None)
    _state.operation = Operation(via=via, user=user)
    try:
        yield _state.operation
    finally:
        _state.operation = previous


def current_operation():
    return getattr(_state, "operation", None)


def current_user():
    operation_ = current_operation()
    if operation_ and operation_.user is not None:
        return operation_.user
    request = getattr(HistoricalRecords.context, "request", None)
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def related_ids(instance):
    names = RELATED.get(instance._meta.label_lower, [])
    return {name: sorted(getattr(instance, name).values_list("pk", flat=True)) for name in names}


def related_ids_for_many(model, pks):
    """related_ids() for many records of one model, in one query per relation."""
    names = RELATED.get(model._meta.label_lower, [])
    result = {pk: {name: [] for name in names} for pk in pks}
    for name in names:
        through = model._meta.get_field(name).remote_field.through
        source_field = model._meta.get_field(name).m2m_field_name()
        target_field = model._meta.get_field(name).m2m_reverse_field_name()
        links = through.objects.filter(**{f"{source_field}__in": pks}).values_list(
            f"{source_field}_id", f"{target_field}_id"
        )
        for pk, related_pk in links:
            result[pk][name].append(related_pk)
    for values in result.values():
        for ids in values.values():
            ids.sort()
    return result


def change_reason():
    operation_ = current_operation()
    return operation_.via if operation_ else "code"


def on_pre_create_record(sender, instance, history_instance, **kwargs):
    if not history_instance.history_change_reason:
        history_instance.history_change_reason = change_reason()
    if history_instance.history_user is None:
        history_instance.history_user = current_user()
    if history_instance.history_type == "-":
        # Deleting a record deletes its links first; keep the last ones known.
        history_instance.related_ids = last_related_ids(sender, instance)
    else:
        history_instance.related_ids = related_ids(instance)


def content_changed():
    from positions import caching

    caching.bump()


def on_post_create_record(sender, instance, history_instance, **kwargs):
    content_changed()
    operation_ = current_operation()
    if operation_ is not None:
        operation_.records[(instance._meta.label_lower, instance.pk)] = history_instance


def last_related_ids(history_model, instance):
    if instance._meta.label_lower not in RELATED:
        return {}
    latest = (
        history_model.objects.filter(**{instance._meta.pk.attname: instance.pk})
        .order_by("-history_date", "-history_id")
        .first()
    )
    return latest.related_ids if latest else {}


def relations_changed(model, pk):
    """
    A record's many-to-many links changed: bring this operation's history row for it up to
    date, or write a new row if this operation has none yet.
    """
    key = (model._meta.label_lower, pk)
    if pk is None or key in deleting() or getattr(_state, "restoring", False):
        return
    operation_ = current_operation()
    record = operation_.records.get(key) if operation_ else None
    instance = model._base_manager.filter(pk=pk).first()
    if instance is None:
        return  # the record itself is being deleted; its deletion row keeps the links
    if record is not None:
        content_changed()
        record.related_ids = related_ids(instance)
        type(record)._base_manager.filter(pk=record.pk).update(related_ids=record.related_ids)
        return
    changed_in_bulk(model, [pk])


@contextmanager
def restoring():
    """Load a backup as it was: its links are its history's, not new changes to record."""
    _state.restoring = True
    try:
        yield
    finally:
        _state.restoring = False


def linking():
    """Records whose many-to-many links are being changed by add/remove/set right now."""
    if not hasattr(_state, "linking"):
        _state.linking = set()
    return _state.linking


def deleting():
    """Records being deleted right now, whose links go first; their deletion row suffices."""
    if not hasattr(_state, "deleting"):
        _state.deleting = set()
    return _state.deleting


def record_many(model, objs, history_type, reason=None):
    """One history row for each of ``objs``, written together (for bulk writes)."""
    objs = [obj for obj in objs if obj.pk is not None]
    if not objs:
        return []
    history_model = model.history.model
    related = {}
    for start in range(0, len(objs), CHUNK):
        related |= related_ids_for_many(model, [obj.pk for obj in objs[start : start + CHUNK]])
    now, user, reason = timezone.now(), current_user(), reason or change_reason()
    rows = [
        history_model(
            history_date=now,
            history_user=user,
            history_change_reason=reason,
            history_type=history_type,
            related_ids=related[obj.pk],
            **{f.attname: getattr(obj, f.attname) for f in history_model.tracked_fields},
        )
        for obj in objs
    ]
    rows = history_model.objects.bulk_create(rows)
    content_changed()
    operation_ = current_operation()
    if operation_ is not None:
        for obj, row in zip(objs, rows, strict=True):
            operation_.records[(model._meta.label_lower, obj.pk)] = row
    return rows


def changed_in_bulk(model, pks, reason=None):
    """
    After rows were changed without save() (QuerySet.update, bulk_update, a cascade): raise
    their versions, as save() would, so that an edit based on an older version is refused,
    and record a history row for each. Returns {pk: new version}.
    """
    versions = {}
    pks = list(pks)
    versioned = any(field.name == "version" for field in model._meta.concrete_fields)
    with transaction.atomic():
        for start in range(0, len(pks), CHUNK):
            rows = model._base_manager.filter(pk__in=pks[start : start + CHUNK])
            if versioned:
                models.QuerySet.update(rows, version=models.F("version") + 1)
            fresh = list(rows.order_by("pk"))
            record_many(model, fresh, "~", reason=reason)
            versions.update({row.pk: getattr(row, "version", None) for row in fresh})
    return versions


class AuditedQuerySet(models.QuerySet):
    """Bulk writes that record history, one row per record written."""

    def bulk_create(self, objs, *args, **kwargs):
        created = super().bulk_create(objs, *args, **kwargs)
        record_many(self.model, created, "+")
        return created

    def bulk_update(self, objs, fields, *args, **kwargs):
        objs = list(objs)
        with transaction.atomic(using=self.db):
            count = super().bulk_update(objs, fields, *args, **kwargs)
            set_versions(objs, changed_in_bulk(self.model, [obj.pk for obj in objs]))
        return count

    def update(self, **kwargs):
        with transaction.atomic(using=self.db):
            pks = list(self.values_list("pk", flat=True))
            count = super().update(**kwargs)
            changed_in_bulk(self.model, pks)
        return count


def set_versions(objs, versions):
    for obj in objs:
        if versions.get(obj.pk) is not None:
            obj.version = versions[obj.pk]


class AuditMiddleware:
    """Each request is one operation, named by the part of the site it came through."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        context = HistoricalRecords.context
        previous = getattr(context, "request", None)
        context.request = request
        try:
            with operation(self.via(request.path)):
                return self.get_response(request)
        finally:
            context.request = previous

    @staticmethod
    def via(path):
        if path.startswith("/admin/"):
            return "admin"
        if path.startswith("/api/"):
            return "api"
        return "web"


def connect_signals():
    from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
    from simple_history.signals import (
        post_create_historical_record,
        pre_create_historical_record,
    )

    from positions.models import Meeting, Proposal, Statement, StatementTopic

    pre_create_historical_record.connect(on_pre_create_record, dispatch_uid="audit-pre")
    post_create_historical_record.connect(on_post_create_record, dispatch_uid="audit-post")

    def topic_link_changed(sender, instance, raw=False, **kwargs):
        # A link saved or deleted on its own (the admin's inline); those that add(),
        # remove() and set() change are recorded once, by m2m_links_changed.
        key = ("positions.statement", instance.statement_id)
        if not raw and key not in linking():
            relations_changed(Statement, instance.statement_id)

    post_save.connect(topic_link_changed, sender=StatementTopic, dispatch_uid="audit-link-save")
    post_delete.connect(topic_link_changed, sender=StatementTopic, dispatch_uid="audit-link-del")

    def m2m_links_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
        if not reverse:
            key = (instance._meta.label_lower, instance.pk)
            if action.startswith("pre_"):
                linking().add(key)
            else:
                linking().discard(key)
        if not action.startswith("post_"):
            return
        if reverse:
            # Changed from the other side (e.g. topic.proposals.add(...)): each record on
            # this side whose links changed gets its row.
            owner = model
            for pk in pk_set or ():
                relations_changed(owner, pk)
        else:
            relations_changed(type(instance), instance.pk)

    def being_deleted(sender, instance, **kwargs):
        deleting().add((sender._meta.label_lower, instance.pk))

    def deleted(sender, instance, **kwargs):
        deleting().discard((sender._meta.label_lower, instance.pk))

    for model in (Statement, Proposal, Meeting):
        pre_delete.connect(being_deleted, sender=model, dispatch_uid=f"audit-deleting-{model}")
        # Connected after HistoricalRecords' own post_delete, so it runs after the row.
        post_delete.connect(deleted, sender=model, dispatch_uid=f"audit-deleted-{model}")

    for relation in (Statement.topics, Proposal.topics, Meeting.participants):
        m2m_changed.connect(
            m2m_links_changed, sender=relation.through, dispatch_uid=f"audit-{relation.through}"
        )
