from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.auth.forms import AuthenticationForm, BaseUserCreationForm, PasswordResetForm
from django.utils import timezone

from parsing.labels import PLATFORM_CHOICES

from .models import ApiKey, User


def _normalise_email(value: str) -> str:
    return User.objects.normalize_email((value or "").strip()).lower()


class SignupForm(BaseUserCreationForm):
    """Email and password (twice), checked against the configured password validators."""

    class Meta:
        model = User
        fields = ("email",)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.attrs.update(autocomplete="email", autofocus=True)
        self.fields["password1"].widget.attrs["autocomplete"] = "new-password"
        self.fields["password2"].widget.attrs["autocomplete"] = "new-password"

    def validate_password_for_user(self, user, password_field_name: str = "password1") -> None:
        """A weak password's error goes under the password itself, not under its confirmation."""
        super().validate_password_for_user(user, password_field_name="password1")

    def clean_email(self) -> str:
        email = _normalise_email(self.cleaned_data["email"])
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this email address already exists.")
        return email


class LoginForm(AuthenticationForm):
    """Django's login form; the email is matched case-insensitively, as sign-up stores it lowercased."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "Please enter a correct email and password. The password is case-sensitive.",
    }

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "Email"
        self.fields["username"].widget.input_type = "email"
        self.fields["username"].widget.attrs["autocomplete"] = "email"

    def clean_username(self) -> str:
        return _normalise_email(self.cleaned_data.get("username", ""))


class EmailPasswordResetForm(PasswordResetForm):
    def clean_email(self) -> str:
        return _normalise_email(self.cleaned_data["email"])


class ApiKeyForm(forms.Form):
    """Name, optional expiry and platform scope of a key; the token is never part of the form."""

    ALL, SOME = "all", "some"

    name = forms.CharField(max_length=100, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    expires_on = forms.DateField(
        required=False, label="Expires on", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="The last day the key works (UTC). Leave blank for a key that never expires.",
    )
    scope = forms.ChoiceField(choices=[(ALL, "All platforms"), (SOME, "Only these platforms")],
                              widget=forms.RadioSelect, initial=ALL, label="Platforms")
    platforms = forms.MultipleChoiceField(choices=PLATFORM_CHOICES, required=False,
                                          widget=forms.CheckboxSelectMultiple, label="Allowed platforms")
    # A one-time number per rendered creation form: posting it again (a reload, a double click) creates nothing.
    nonce = forms.UUIDField(required=False, widget=forms.HiddenInput)

    @classmethod
    def for_key(cls, key: ApiKey, data: object = None) -> ApiKeyForm:
        initial = {"name": key.name, "expires_on": key.expires_on, "platforms": list(key.platforms),
                   "scope": cls.ALL if key.all_platforms else cls.SOME}
        return cls(data, initial=initial)

    def clean_expires_on(self) -> dt.date | None:
        value = self.cleaned_data.get("expires_on")
        unchanged = value is not None and value == self.initial.get("expires_on")
        if value and not unchanged and value < timezone.now().date():
            raise forms.ValidationError("Choose today or a later date, or leave it blank.")
        return value

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("scope") == self.ALL:
            cleaned["platforms"] = []
        elif cleaned.get("scope") == self.SOME and not cleaned.get("platforms"):
            self.add_error("platforms", "Choose at least one platform, or allow all platforms.")
        return cleaned
