"""DRF's paginations, stricter. A page or page size they cannot use is refused (400) instead
of quietly answered with something the client did not ask for (the first page, the default
size); a cursor someone tampered with is a 404 like any unknown cursor, not a server error.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import pagination, serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request


def _query_number(request: Request, name: str, *, most: int | None = None) -> int | None:
    """The positive whole number in the query parameter `name`, if it is there."""
    asked = request.query_params.get(name)
    if asked is None:
        return None
    try:
        return serializers.IntegerField(min_value=1, max_value=most).run_validation(asked)
    except serializers.ValidationError as invalid:
        raise serializers.ValidationError({name: invalid.detail}) from None


def _bounded(parameters: list[dict], name: str, **bounds: int) -> list[dict]:
    for parameter in parameters:
        if parameter["name"] == name:
            parameter["schema"].update(bounds)
    return parameters


class PageNumberPagination(pagination.PageNumberPagination):
    # A number past the last page is still DRF's 404.
    def get_page_number(self, request: Request, paginator) -> int:
        return _query_number(request, self.page_query_param) or 1

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        return _bounded(parameters, self.page_query_param, minimum=1)


class CursorPagination(pagination.CursorPagination):
    # An unknown cursor is still DRF's 404.

    def paginate_queryset(self, queryset, request: Request, view=None) -> list | None:
        try:
            return super().paginate_queryset(queryset, request, view)
        except DjangoValidationError:
            # DRF checks that a cursor decodes, not that the position inside it fits the
            # ordering field; the client holds the cursor and may have changed it.
            raise NotFound(self.invalid_cursor_message) from None

    def get_page_size(self, request: Request) -> int:
        if self.page_size_query_param is None:
            return self.page_size
        asked = _query_number(request, self.page_size_query_param, most=self.max_page_size)
        return asked or self.page_size

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        if self.page_size_query_param is None:
            return parameters
        bounds = {"minimum": 1, "maximum": self.max_page_size}
        return _bounded(parameters, self.page_size_query_param, **bounds)
