"""Forms of the campaigns admin: the checks the REST serializers make, on the same rules
(campaigns.rules, campaigns.phones), so the admin cannot store what the API would refuse."""

from django import forms

from campaigns import phones, rules
from campaigns.admin_scoping import AccountScopedForm
from campaigns.models import TrackingNumber


def normalise_phone(form: AccountScopedForm, name: str) -> None:
    text, account = form.cleaned_data.get(name), form.account()
    if text and account:
        try:
            form.cleaned_data[name] = phones.parse_configured_number(text, region=account.region)
        except phones.InvalidPhoneNumber as exc:
            form.add_error(name, str(exc))


def check_keyword_of_campaign(form: AccountScopedForm) -> None:
    keyword, campaign = form.cleaned_data.get("keyword"), form.cleaned_data.get("campaign")
    if keyword and campaign and keyword.campaign_id != campaign.pk:
        form.add_error("keyword", "This keyword belongs to another campaign.")


class AccountForm(AccountScopedForm):
    # The token signs Twilio's webhooks: it is never sent back to the browser, and a blank
    # field keeps the stored one (a form re-submitted with its placeholder must not wipe it).
    twilio_auth_token = forms.CharField(
        required=False,
        max_length=128,
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave blank to keep the current token.",
    )
    clear_twilio_auth_token = forms.BooleanField(required=False, label="Remove the token")

    def clean_currency(self):
        if not rules.is_currency(self.cleaned_data["currency"]):
            raise forms.ValidationError("Not an ISO 4217 currency code.")
        return self.cleaned_data["currency"]

    def clean_time_zone(self):
        if not rules.is_time_zone(self.cleaned_data["time_zone"]):
            raise forms.ValidationError("Not an IANA time zone like 'America/New_York'.")
        return self.cleaned_data["time_zone"]

    def clean_region(self):
        if not rules.is_region(self.cleaned_data["region"]):
            raise forms.ValidationError("Not a region code like 'US' or 'GB'.")
        return self.cleaned_data["region"]

    def clean_allowed_origins(self):
        try:
            return sorted({rules.normalise_origin(o) for o in self.cleaned_data["allowed_origins"]})
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_retention_days(self):
        # The API's bounds (and the database's), said in words rather than a constraint name.
        days = self.cleaned_data.get("retention_days")
        if days is not None and not 30 <= days <= 3650:
            raise forms.ValidationError("Keep data 30 to 3650 days, or leave empty to keep it.")
        return days

    def clean_twilio_auth_token(self):
        return self.cleaned_data["twilio_auth_token"] or self.instance.twilio_auth_token

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("clear_twilio_auth_token"):
            cleaned["twilio_auth_token"] = ""
        return cleaned


# Sentences said to callers and businesses: room to read them whole.
SPOKEN_FIELDS = ["whisper_message", "voicemail_prompt", "unavailable_message"]


class CampaignForm(AccountScopedForm):
    class Meta:
        widgets = {name: forms.Textarea(attrs={"rows": 2}) for name in SPOKEN_FIELDS}

    def clean(self):
        cleaned = super().clean()
        normalise_phone(self, "forward_to")
        return cleaned


class PoolForm(AccountScopedForm):
    def clean(self):
        cleaned = super().clean()
        check_keyword_of_campaign(self)
        return cleaned


class NumberForm(AccountScopedForm):
    def clean(self):
        cleaned = super().clean()
        normalise_phone(self, "e164")
        kind, pool = cleaned.get("kind"), cleaned.get("pool")
        if kind == TrackingNumber.Kind.POOL:
            if pool is None:
                self.add_error("pool", "A pool number names its pool.")
            else:  # a pool number's campaign is its pool's
                cleaned["campaign"] = pool.campaign
        elif kind == TrackingNumber.Kind.STATIC:
            cleaned["pool"] = None
            if cleaned.get("campaign") is None:
                self.add_error("campaign", "A static number names its campaign.")
        return cleaned


class CostForm(AccountScopedForm):
    currency = forms.CharField(
        max_length=3, required=False, help_text="Leave blank for the account's currency."
    )

    def clean(self):
        cleaned = super().clean()
        check_keyword_of_campaign(self)
        account = self.account()
        if account is not None:
            currency = cleaned.get("currency") or account.currency
            if currency != account.currency:
                message = f"This account reports in {account.currency}; convert the amount."
                self.add_error("currency", message)
            cleaned["currency"] = currency
        return cleaned
