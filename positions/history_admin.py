"""
History in the admin: each record's changes with a diff and a revert (django-simple-history's
history pages), and a list of deleted records that can be restored.

A revert is an edit like any other: it goes through the record's form and model checks (a
statement's quote must still be in its source), it is refused if someone saved in between,
and it is recorded. A statement's topics, and other many-to-many links, come back with it.
"""

import json

from asgiref.local import Local
from django.contrib import admin, messages
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from simple_history.admin import SimpleHistoryAdmin

from positions import audit
from positions.forms import VersionedModelForm

DELETED_PER_PAGE = 100

# The names of linked records, loaded once for a history page (see AuditedAdmin.links).
_names = Local()


class AuditedAdmin(SimpleHistoryAdmin):
    history_list_per_page = 50
    # Simple-history's list, labelling each row from its own fields: a label read through
    # the row's object (a statement's actor) would cost a query per row, and fail once
    # that actor is deleted.
    object_history_list_template = "admin/positions/object_history_list.html"

    def get_history_list_display(self, request):
        if self.opts.label_lower in audit.RELATED:
            return ["links"]
        return []

    def history_view(self, request, object_id, extra_context=None):
        _names.value = {}
        try:
            return super().history_view(request, object_id, extra_context)
        finally:
            _names.value = None

    @admin.display(description="links")
    def links(self, record):
        """A row's topics or participants by name, with one query per linked model a page."""
        parts = []
        for name, ids in sorted(record.related_ids.items()):
            model = self.model._meta.get_field(name).related_model
            cache = _names.value if _names.value is not None else {}
            if model not in cache:
                cache[model] = dict(model._base_manager.values_list("pk", "name"))
            labels = [cache[model].get(pk, f"#{pk} (deleted)") for pk in ids]
            parts.append(f"{name}: {', '.join(labels) or '—'}")
        return "; ".join(parts)

    change_list_template = "admin/positions/audited_change_list.html"

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        record = self.model.history.filter(history_id=version_id).first()
        if record is not None and not self.model._base_manager.filter(pk=record.id).exists():
            messages.info(request, "This record has been deleted; restore it from here.")
            return HttpResponseRedirect(self.deleted_url())
        request.reverting_to = record
        # Like the admin's own change view: the version check and the save in one transaction.
        with transaction.atomic():
            return super().history_form_view(request, object_id, version_id, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        record = getattr(request, "reverting_to", None)
        if record is None or not issubclass(form, VersionedModelForm):
            return form
        current = self.model._base_manager.get(pk=record.id)

        class RevertForm(form):
            """Based on the version stored now, which the revert replaces."""

            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                # A version from history: a statement's offsets in it may count in an
                # older text (see Statement.resolve_review_state).
                self.instance._reverted = True
                self.fields["based_on_version"].initial = current.version
                self.fields["based_on_values"].initial = json.dumps(
                    form(instance=current).shown_values()
                )

            def clean(self):
                cleaned = super().clean()
                check_required_relations(self.instance, record)
                return cleaned

        return RevertForm

    def save_model(self, request, obj, form, change):
        record = getattr(request, "reverting_to", None)
        if record is not None:
            obj._change_reason = f"admin: reverted to version {record.version}"
        super().save_model(request, obj, form, change)
        if record is not None:
            missing = restore_relations(obj, record)
            if missing:
                messages.warning(request, missing)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "deleted/",
                self.admin_site.admin_view(self.deleted_view),
                name="{}_{}_deleted".format(*info),
            ),
            path(
                "deleted/<int:history_id>/restore/",
                self.admin_site.admin_view(self.restore_view),
                name="{}_{}_restore".format(*info),
            ),
            *super().get_urls(),
        ]

    def deleted_url(self):
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_deleted")

    def deleted_records(self):
        """The last deletion row of each record that no longer exists, newest first."""
        history = self.model.history
        pk_name = self.opts.pk.attname
        existing = self.model._base_manager.values(pk_name)
        return (
            history.filter(history_type="-")
            .exclude(**{f"{pk_name}__in": existing})
            .select_related("history_user")
            .order_by("-history_date", "-history_id")
        )

    def deleted_view(self, request):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        records, seen = [], set()
        for record in self.deleted_records()[: DELETED_PER_PAGE * 2]:
            if record.id not in seen:
                seen.add(record.id)
                records.append(record)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Deleted {self.opts.verbose_name_plural}",
            "opts": self.opts,
            "records": records[:DELETED_PER_PAGE],
            "can_restore": self.has_add_permission(request),
        }
        return TemplateResponse(request, "admin/positions/deleted_records.html", context)

    def restore_view(self, request, history_id):
        if request.method != "POST":
            return HttpResponseRedirect(self.deleted_url())
        if not self.has_add_permission(request):
            raise PermissionDenied
        record = get_object_or_404(self.model.history, history_id=history_id, history_type="-")
        if self.model._base_manager.filter(pk=record.id).exists():
            messages.info(request, f"“{record}” is already back; nothing to restore.")
            return HttpResponseRedirect(self.deleted_url())
        obj = record.instance
        obj._change_reason = f"admin: restored from deletion (history {record.history_id})"
        obj._restored_from_version = getattr(record, "version", 0)
        try:
            with transaction.atomic():
                check_required_relations(obj, record)
                obj.save()
                keep_creation_time(obj, record)
                missing = restore_relations(obj, record)
        except ValidationError as error:
            messages.error(request, f"Not restored: {' '.join(error.messages)}")
            return HttpResponseRedirect(self.deleted_url())
        except ObjectDoesNotExist as error:
            messages.error(
                request,
                f"Not restored: it refers to a record that has since been deleted ({error}). "
                "Restore that record first.",
            )
            return HttpResponseRedirect(self.deleted_url())
        except IntegrityError:
            messages.error(
                request,
                "Not restored: it would clash with a record that exists now (the same name, "
                "slug, text or span), or it refers to a record that has since been deleted. "
                "Restore or change that record first.",
            )
            return HttpResponseRedirect(self.deleted_url())
        self.log_addition(request, obj, [{"added": {}}])
        messages.success(request, f"Restored “{obj}”.")
        if missing:
            messages.warning(request, missing)
        return HttpResponseRedirect(
            reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk])
        )


# Relations a record cannot be without: a statement is always on at least one topic.
REQUIRED_RELATIONS = {"positions.statement": ["topics"]}


def check_required_relations(obj, record):
    """Refuse to bring back a version whose required links have all been deleted since."""
    for name in REQUIRED_RELATIONS.get(obj._meta.label_lower, []):
        ids = record.related_ids.get(name, [])
        model = obj._meta.get_field(name).related_model
        if not model._base_manager.filter(pk__in=ids).exists():
            raise ValidationError(
                f"every one of its {name} at that version has since been deleted "
                f"({', '.join(map(str, ids)) or 'none recorded'}); it cannot be without "
                f"{name}. Edit the current version instead."
            )


def keep_creation_time(obj, record):
    """A restored record was created when it first was, not when it was restored."""
    created_at = getattr(record, "created_at", None)
    if created_at is None:
        return
    model = type(obj)
    models.QuerySet.update(model._base_manager.filter(pk=obj.pk), created_at=created_at)
    operation = audit.current_operation()
    row = operation.records.get((obj._meta.label_lower, obj.pk)) if operation else None
    if row is not None:
        type(row)._base_manager.filter(pk=row.pk).update(created_at=created_at)
    obj.created_at = created_at


def restore_relations(obj, record):
    """Put back the many-to-many links a history row recorded; say which no longer exist."""
    notes = []
    for name, ids in record.related_ids.items():
        relation = getattr(obj, name)
        existing = set(
            relation.model._base_manager.filter(pk__in=ids).values_list("pk", flat=True)
        )
        relation.set(sorted(existing))
        gone = sorted(set(ids) - existing)
        if gone:
            notes.append(f"{name} {', '.join(map(str, gone))} no longer exist and were left out")
    return "; ".join(notes)
