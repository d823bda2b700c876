import pytest

pytestmark = pytest.mark.django_db


def test_an_unknown_api_url_answers_json(client):
    response = client.get("/api/orders/not-a-uuid/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_an_unknown_page_answers_html(client):
    response = client.get("/no/such/page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
