"""The event API served (config.event_api): the AsyncAPI document as JSON and YAML."""

import json

import yaml
from django.test import Client

from messaging.asyncapi import document


def test_the_document_is_served_as_json_and_yaml_to_anyone():
    client = Client()

    as_json = client.get("/api/asyncapi.json")
    as_yaml = client.get("/api/asyncapi.yaml")

    assert as_json.status_code == as_yaml.status_code == 200
    assert as_json["Content-Type"] == "application/json"
    assert as_yaml["Content-Type"] == "application/yaml; charset=utf-8"
    assert json.loads(as_json.content) == document()
    assert yaml.safe_load(as_yaml.content) == json.loads(as_json.content)

