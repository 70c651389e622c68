from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from whatworks.accounts.models import LoginFailure
from whatworks.accounts.services import (
    address_throttled_message,
    client_address,
    login_address_failed,
    login_address_wait,
)


class ApiTokenCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Token name"),
        max_length=100,
        help_text=_("What the token is for, for example the nightly export."),
    )


class ThrottledAuthenticationForm(AuthenticationForm):
    """The password form, refusing an address with too many recent failures.

    The refusal comes before the password is checked and reads the same whatever the
    username, so it tells nothing about which accounts exist.
    """

    def clean(self):
        address = client_address(self.request) if self.request is not None else "unknown"
        wait = login_address_wait(address=address, kind=LoginFailure.Kind.PASSWORD)
        if wait is not None:
            raise ValidationError(address_throttled_message(wait), code="address_throttled")
        try:
            return super().clean()
        except ValidationError as error:
            if error.code == "invalid_login":
                login_address_failed(address=address, kind=LoginFailure.Kind.PASSWORD)
            raise


class TwoFactorCodeForm(forms.Form):
    token = forms.CharField(
        label=_("Code from your authenticator app"),
        max_length=16,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
                "pattern": "[0-9 ]*",
            }
        ),
        help_text=_("Six digits. A new code appears every 30 seconds."),
    )
