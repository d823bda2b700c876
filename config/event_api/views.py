"""The event API, served: public, as the OpenAPI schema is, and built once per process."""

import functools
import json

import yaml
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from messaging import asyncapi

from . import catalog


@require_GET
def document_json(request: HttpRequest) -> HttpResponse:
    return HttpResponse(_json(), content_type="application/json")


@require_GET
def document_yaml(request: HttpRequest) -> HttpResponse:
    return HttpResponse(_yaml(), content_type="application/yaml; charset=utf-8")


@require_GET
def events(request: HttpRequest) -> HttpResponse:
    document = asyncapi.document()
    return render(
        request,
        "event_api/events.html",
        {"info": document["info"], "topics": _topics(), "servers": document["servers"]},
    )


# Serialised once, like the document: every record's ce_dataschema points here.
@functools.cache
def _json() -> str:
    return json.dumps(asyncapi.document(), indent=2, ensure_ascii=False)


@functools.cache
def _yaml() -> str:
    return yaml.dump(
        asyncapi.document(), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100
    )


@functools.cache
def _topics() -> list[catalog.Topic]:
    return catalog.topics(asyncapi.document())


class _Dumper(yaml.SafeDumper):
    """Descriptions of several paragraphs as YAML block text, readable as written."""


def _text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _text)
