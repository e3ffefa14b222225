import uuid

from django import forms


class TopUpForm(forms.Form):
    amount = forms.IntegerField(min_value=1, max_value=10_000_000)
    note = forms.CharField(max_length=500, required=False)
    # Rendered once per form; a double submission carries the same value and tops up once.
    idempotency_key = forms.CharField(widget=forms.HiddenInput, initial=lambda: uuid.uuid4().hex)
