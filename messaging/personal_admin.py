"""Personal data on the apps' own admin pages: shown to staff with the permission to see it,
masked for everyone else, as the message log masks it in payloads (messaging.personal).

An app's admin says which of its model's fields hold a person, and nothing else:

    @admin.register(Order)
    class OrderAdmin(PersonalFieldsAdmin, admin.ModelAdmin):
        personal_fields = ("customer_name", "email", "phone", "address")

and which hold free text that may quote one (an error): `free_text_fields`, shown without
what it quotes (messaging.personal.scrubbed). For staff without the permission each of
them is shown masked in the list and on the object's page, where it is read only and out
of the form, so nothing masked is ever saved back. It is also left out of the search, the
filters and the sorting, and a lookup on it in the URL (`?email__startswith=a`) is
refused: finding out who is a customer by probing for their email tells as much as reading it.
"""

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import models
from django.db.models.constants import LOOKUP_SEP

from .personal import MASK, scrubbed

PERMISSION = "messaging.view_personal_data"


def may_see_personal_data(request) -> bool:
    return request.user.has_perm(PERMISSION)


def masked_name(field: str) -> str:
    """The admin attribute that shows `field` masked (in lists, forms and fieldsets)."""
    return f"{field}__masked"


class PersonalFieldsAdmin:
    """A mixin, before admin.ModelAdmin (or an inline), for a model that holds customers'
    personal data."""

    # The model's fields that hold a person's data, and those of free text that may quote it.
    personal_fields: Sequence[str] = ()
    free_text_fields: Sequence[str] = ()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for field in self.personal_fields:
            setattr(self, masked_name(field), _masked_display(self.model, field, _mask))
        for field in self.free_text_fields:
            setattr(self, masked_name(field), _masked_display(self.model, field, scrubbed))

    @property
    def _hidden(self) -> tuple[str, ...]:
        return (*self.personal_fields, *self.free_text_fields)

    def shows_personal_data(self, request) -> bool:
        return not self._hidden or may_see_personal_data(request)

    def _masking(self, request, names: Iterable) -> list:
        """`names` with each personal field's name replaced by its masked one, for a viewer
        who may not see it."""
        names = list(names)
        if self.shows_personal_data(request):
            return names
        return [masked_name(n) if n in self._hidden else n for n in names]

    def get_list_display(self, request):
        return self._masking(request, super().get_list_display(request))

    def get_list_display_links(self, request, list_display):
        links = super().get_list_display_links(request, list_display)
        return links if links is None else self._masking(request, links)

    def get_exclude(self, request, obj=None):
        # Out of the form: an editable personal field is shown (masked) among the read-only
        # ones instead, so the form can neither show it nor write a mask back.
        exclude = super().get_exclude(request, obj)
        if self.shows_personal_data(request):
            return exclude
        return [*(exclude or ()), *self._hidden]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if self.shows_personal_data(request):
            return readonly
        excluded = self.exclude or ()
        editable = [f for f in self._hidden if f not in readonly and f not in excluded]
        return _unique(self._masking(request, [*readonly, *editable]))

    def get_fields(self, request, obj=None):
        return _unique(self._masking(request, super().get_fields(request, obj)))

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if self.shows_personal_data(request) or not self.fieldsets:
            return fieldsets  # built from get_fields, masked already
        return [
            (title, {**options, "fields": _masked_lines(self, request, options["fields"])})
            for title, options in fieldsets
        ]

    def get_search_fields(self, request):
        fields = super().get_search_fields(request)
        if self.shows_personal_data(request):
            return fields
        return [f for f in fields if _field_of(f) not in self._hidden]

    def get_list_filter(self, request):
        filters = super().get_list_filter(request)
        if self.shows_personal_data(request):
            return filters
        return [f for f in filters if not (isinstance(f, str) and _field_of(f) in self._hidden)]

    def lookup_allowed(self, lookup, value, request=None):
        if (
            request is not None
            and not self.shows_personal_data(request)
            and _field_of(lookup) in self._hidden
        ):
            return False
        return super().lookup_allowed(lookup, value, request)


def _mask(value: Any) -> str:
    return MASK


def _masked_display(
    model: type[models.Model], field: str, hide: Callable[[Any], str]
) -> Callable[[Any], str]:
    model_field = model._meta.get_field(field)
    attname = model_field.attname  # a foreign key's id: no query to learn it is set

    def display(obj) -> str:
        value = getattr(obj, attname, None)
        # An empty value hides nothing, and says it is empty.
        return hide(value) if value not in (None, "") else ""

    display.short_description = model_field.verbose_name
    display.__name__ = masked_name(field)
    return display


def _masked_lines(model_admin, request, lines: Sequence) -> list:
    return [
        tuple(model_admin._masking(request, line))
        if isinstance(line, list | tuple)
        else model_admin._masking(request, [line])[0]
        for line in lines
    ]


def _field_of(lookup: str) -> str:
    """The model field a search field or lookup starts from: "^email" and "email__iexact"
    are the email."""
    return lookup.lstrip("^=@").split(LOOKUP_SEP, 1)[0]


def _unique(names: list) -> list:
    return list(dict.fromkeys(names))
