"""The admin mixin that masks personal fields: an editable one leaves the form too."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from messaging.personal import MASK
from messaging.personal_admin import PersonalFieldsAdmin, masked_name
from shop.models import Order


class EditableOrderAdmin(PersonalFieldsAdmin, admin.ModelAdmin):
    personal_fields = ("email", "phone")
    search_fields = ["id", "^email", "phone__iexact"]


class Viewer(AnonymousUser):
    def __init__(self, *, sees_personal_data: bool) -> None:
        self.sees_personal_data = sees_personal_data

    def has_perm(self, perm, obj=None) -> bool:
        return self.sees_personal_data and perm == "messaging.view_personal_data"


def request(*, sees_personal_data: bool):
    asked = RequestFactory().get("/")
    asked.user = Viewer(sees_personal_data=sees_personal_data)
    return asked


@pytest.fixture
def model_admin() -> EditableOrderAdmin:
    return EditableOrderAdmin(Order, admin.site)


def test_an_editable_personal_field_is_shown_masked_and_out_of_the_form(model_admin):
    masked = request(sees_personal_data=False)

    form = model_admin.get_form(masked)
    fields = model_admin.get_fields(masked)

    assert "email" not in form.base_fields and "phone" not in form.base_fields
    assert "customer_name" in form.base_fields  # not declared personal here
    assert masked_name("email") in fields and "email" not in fields
    assert masked_name("email") in model_admin.get_readonly_fields(masked)
    assert getattr(model_admin, masked_name("email"))(Order(email="a@b.example")) == MASK
    assert getattr(model_admin, masked_name("phone"))(Order(phone="")) == ""
    assert model_admin.get_search_fields(masked) == ["id"]


def test_staff_who_may_see_it_edit_it_as_before(model_admin):
    seeing = request(sees_personal_data=True)

    assert "email" in model_admin.get_form(seeing).base_fields
    assert masked_name("email") not in model_admin.get_fields(seeing)
    assert model_admin.get_search_fields(seeing) == ["id", "^email", "phone__iexact"]
