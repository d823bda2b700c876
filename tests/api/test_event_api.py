"""The event API served (config.event_api): the AsyncAPI document as JSON and YAML, and the
page that reads it for people, open to anyone and complete without the network."""

import json
import re

import pytest
import yaml
from django.test import Client

from config.event_api import catalog
from messaging.asyncapi import document

# The page's links include the storefront's, whose pages read the catalog.
pytestmark = pytest.mark.django_db


def test_the_document_is_served_as_json_and_yaml_to_anyone():
    client = Client()

    as_json = client.get("/api/asyncapi.json")
    as_yaml = client.get("/api/asyncapi.yaml")

    assert as_json.status_code == as_yaml.status_code == 200
    assert as_json["Content-Type"] == "application/json"
    assert as_yaml["Content-Type"] == "application/yaml; charset=utf-8"
    assert json.loads(as_json.content) == document()
    assert yaml.safe_load(as_yaml.content) == json.loads(as_json.content)


def test_the_page_lists_each_topic_with_its_messages_and_their_fields():
    page = Client().get("/api/events/")

    html = page.content.decode()
    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")
    assert 'id="topic-orders"' in html
    assert 'id="shop.OrderPlaced"' in html
    assert "<code>customer.email</code>" in html  # a nested model's field, expanded
    # An older version, still read, is shown with its own fields.
    assert "warehouse.DispatchOrder.v1" in html
    assert "<code>lines[].sku</code>" in html
    assert 'href="/api/asyncapi.json#/components/schemas/shop.PlaceOrder.v1"' in html


def test_the_page_loads_only_what_we_serve():
    client = Client()

    html = client.get("/api/events/").content.decode()

    urls = set(re.findall(r'(?:src|href)="([^"#][^"]*)"', html))
    assert urls and not re.search(r"<script", html)
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), url
        assert client.get(url.split("#")[0]).status_code == 200, url


def test_a_field_table_shows_types_requirement_and_constraints():
    [shop_commands] = [t for t in catalog.topics(document()) if t.name == "shop.commands"]
    [place_order] = [m for m in shop_commands.messages if m.type == "shop.PlaceOrder"]

    rows = {f.path: f for f in place_order.current.fields}

    assert (place_order.kind, place_order.owner, place_order.key_field) == (
        "command",
        "shop",
        "order_id",
    )
    assert place_order.senders == ["shop"]
    assert "shop" in place_order.receivers
    assert (rows["order_id"].type, rows["order_id"].required) == ("string (uuid)", True)
    assert (rows["customer"].type, rows["customer.name"].depth) == ("Customer", 1)
    assert rows["customer.name"].constraints == ["1 to 100 characters"]
    assert rows["lines"].type == "array of RequestedLine"
    assert rows["lines"].constraints == ["1 to 50 items"]
    assert rows["lines[].quantity"].constraints == ["1 to 20"]
    assert rows["account_id"].type == "integer or null"
    assert (rows["account_id"].required, rows["account_id"].constraints) == (
        False,
        ["default null"],
    )


def test_the_site_and_the_rest_api_docs_link_to_the_page():
    client = Client()

    catalog_page = client.get("/").content.decode()
    rest_schema = client.get("/api/schema/").content.decode()

    assert 'href="/api/events/"' in catalog_page
    assert "(/api/events/)" in rest_schema
