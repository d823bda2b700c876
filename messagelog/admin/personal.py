"""Personal data in the message log's admin: shown to staff with the permission to see it,
masked for everyone else.

What is personal is the contracts' word (messaging.personal): each payload is masked by
its type's marks, an unknown type's or an unreadable record's wholly, and free text (an
error, a traceback, a header) loses what it may quote of a person. Every page reads rows
through a `Viewer`, set on the rows of a list and on the object of a page, and a row
without one is masked: forgetting it hides data, it never shows it.
"""

import json
from dataclasses import dataclass
from typing import Any

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList

from messaging.personal import MASK, masked, scrubbed
from messaging.personal_admin import PERMISSION


@dataclass(frozen=True)
class Viewer:
    may_see_personal_data: bool = False

    @classmethod
    def of(cls, request) -> "Viewer":
        return cls(request.user.has_perm(PERMISSION))

    def payload(self, type_name: str, payload: Any) -> Any:
        if payload is None or self.may_see_personal_data:
            return payload
        return masked(type_name, payload)

    def value(self, type_name: str, text: str) -> str:
        """A record's value as stored (text): JSON is masked by its type, the rest wholly."""
        if not text or self.may_see_personal_data:
            return text
        try:
            payload = json.loads(text)
        except ValueError:
            return MASK
        return json.dumps(masked(type_name, payload), ensure_ascii=False)

    def text(self, text: str) -> str:
        return text if self.may_see_personal_data else scrubbed(text)

    def headers(self, headers: dict) -> dict:
        return {name: self.text(value) for name, value in headers.items()}


MASKED = Viewer()


def is_personal(search_term: str) -> bool:
    """Whether a search names a person (an email): finding their conversations would tell
    who is a customer, so only staff who may see personal data search by it."""
    return "@" in search_term


def viewer_of(row) -> Viewer:
    return getattr(row, "viewer", MASKED)


class ViewerChangeList(ChangeList):
    def get_results(self, request) -> None:
        super().get_results(request)
        viewer = Viewer.of(request)
        self.result_list = list(self.result_list)
        for row in self.result_list:
            row.viewer = viewer


class PersonalDataAdmin(admin.ModelAdmin):
    """An admin whose rows, listed or opened, carry the viewer's `Viewer`."""

    def get_changelist(self, request, **kwargs):
        return ViewerChangeList

    def get_object(self, request, object_id, from_field=None):
        row = super().get_object(request, object_id, from_field)
        if row is not None:
            row.viewer = Viewer.of(request)
        return row
