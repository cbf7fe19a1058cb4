import json

from django import forms
from django.core.exceptions import ValidationError


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
        current = model._base_manager.select_for_update().get(pk=self.instance.pk)
        if current.version != based_on:
            self.report_conflict(current)
        return cleaned

    def report_conflict(self, current):
        try:
            seen = json.loads(self.cleaned_data.get("based_on_values") or "{}")
        except ValueError:
            seen = {}
        now = type(self)(instance=current).shown_values()
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
