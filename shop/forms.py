from django import forms
from pydantic import ValidationError

from .contracts import MAX_QUANTITY, Customer


class BuyForm(forms.Form):
    quantity = forms.IntegerField(
        min_value=1,
        max_value=MAX_QUANTITY,
        initial=1,
        error_messages={
            "invalid": "Enter the quantity as a whole number.",
            "min_value": "Choose at least 1.",
            "max_value": f"At most {MAX_QUANTITY} per order.",
            "required": "Choose a quantity.",
        },
    )
    name = forms.CharField(max_length=100, label="Your name")
    email = forms.EmailField(max_length=254)
    phone = forms.RegexField(
        regex=r"^\+?[0-9 ()-]{6,20}$",
        max_length=20,
        error_messages={"invalid": "Enter a phone number: digits, spaces, + ( ) -, 6 to 20."},
    )
    address = forms.CharField(
        max_length=500, label="Shipping address", widget=forms.Textarea(attrs={"rows": 3})
    )

    CUSTOMER_FIELDS = ("name", "email", "phone", "address")
    # Django accepts some addresses (user@localhost) that the Customer contract refuses.
    CONTRACT_MESSAGES = {"email": "Enter an email address with a domain, like name@example.com."}

    def clean(self) -> dict:
        cleaned = super().clean()
        if not any(f in self.errors for f in self.CUSTOMER_FIELDS):
            try:
                self.customer = Customer(**self.customer_data())
            except ValidationError as exc:
                for error in exc.errors():
                    field = str(error["loc"][0])
                    self.add_error(field, self.CONTRACT_MESSAGES.get(field, error["msg"]))
        return cleaned

    def customer_data(self) -> dict:
        return {f: self.cleaned_data[f] for f in self.CUSTOMER_FIELDS}
