"""The API's refusals that DRF has no class for, and contract errors as field messages."""

from typing import TypeVar

import pydantic
from rest_framework import serializers, status
from rest_framework.exceptions import APIException


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the order's current state."


class Unprocessable(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The request is well-formed but cannot be processed."


T = TypeVar("T", bound=pydantic.BaseModel)


def contract(model: type[T], data: dict) -> T:
    """Build a message contract from validated input; the contract has the last word.

    The serializers mirror the contracts with friendlier messages; whatever a contract
    still refuses becomes a 400 with a message per field, never a server error.
    """
    try:
        return model(**data)
    except pydantic.ValidationError as invalid:
        raise serializers.ValidationError(
            {
                ".".join(map(str, e["loc"])) or "non_field_errors": [e["msg"]]
                for e in invalid.errors()
            }
        ) from None
