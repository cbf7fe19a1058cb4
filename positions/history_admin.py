"""
History in the admin: each record's changes with a diff and a revert (django-simple-history's
history pages), and a list of deleted records that can be restored.

A revert is an edit like any other: it goes through the record's form and model checks (a
statement's quote must still be in its source), it is refused if someone saved in between,
and it is recorded. A statement's topics, and other many-to-many links, come back with it.
"""

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from simple_history.admin import SimpleHistoryAdmin

from positions import audit
from positions.forms import VersionedModelForm

DELETED_PER_PAGE = 100


class AuditedAdmin(SimpleHistoryAdmin):
    history_list_per_page = 50

    def get_history_list_display(self, request):
        if self.opts.label_lower in audit.RELATED:
            return ["related_display"]
        return []

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
                self.fields["based_on_version"].initial = current.version
                self.fields["based_on_values"].initial = json.dumps(
                    form(instance=current).shown_values()
                )

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
        try:
            with transaction.atomic():
                obj.save()
                missing = restore_relations(obj, record)
        except ValidationError as error:
            messages.error(request, f"Not restored: {' '.join(error.messages)}")
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
