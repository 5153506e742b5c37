"""The dashboard's filters: which account, which days, which attribution model, which order.

Every dashboard view (page, JSON, export) reads its parameters through `ReportForm`, so the
account scoping lives in one place: the account field offers only the accounts the user is a
member of (every account for a superuser), and another account's id is "Select a valid
choice", never its figures.
"""

import datetime as dt
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django import forms
from django.utils import timezone

from attribution.dashboard import tables
from attribution.models.credits import AttributionModel
from attribution.reports import groups
from campaigns.selectors import accounts_of_user

DEFAULT_DAYS = 30


def today_in(account) -> dt.date:
    return timezone.now().astimezone(ZoneInfo(account.time_zone)).date()


class ReportForm(forms.Form):
    """Bound to the query string; every field may be left out. `cleaned_data` then holds the
    defaults: the user's first account by name, the last DEFAULT_DAYS days to today in that
    account's time zone, last touch, and the table's default order."""

    account = forms.ModelChoiceField(queryset=None, required=False, empty_label=None)
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    model = forms.ChoiceField(
        choices=AttributionModel.choices, required=False, label="Attribution model"
    )
    o = forms.ChoiceField(
        choices=[(key, key) for key in tables.SORT_KEYS], required=False, widget=forms.HiddenInput
    )

    def __init__(self, data, *, user):
        super().__init__(data)
        self.fields["account"].queryset = accounts_of_user(user=user).order_by("name", "pk")

    def clean_account(self):
        account = self.cleaned_data["account"] or self.fields["account"].queryset.first()
        if account is None:
            raise forms.ValidationError("You are not a member of any account.")
        return account

    def clean_model(self):
        return self.cleaned_data["model"] or groups.DEFAULT_MODEL

    def clean_o(self):
        return self.cleaned_data["o"] or tables.DEFAULT_SORT

    def clean(self):
        cleaned = super().clean()
        account = cleaned.get("account")
        if account is None or "start" in self.errors or "end" in self.errors:
            return cleaned
        end = cleaned.get("end") or today_in(account)
        start = cleaned.get("start") or end - dt.timedelta(days=DEFAULT_DAYS - 1)
        try:
            groups.check_range(start, end)
        except groups.BadRange as exc:
            self.add_error("end", str(exc))
            return cleaned
        cleaned.update(start=start, end=end)
        return cleaned

    @property
    def picks_account(self) -> bool:
        """Whether the user has accounts to choose from (else the field is not shown)."""
        return self.fields["account"].queryset.count() > 1

    def query(self, **changes) -> str:
        """The cleaned filters as a query string, with `changes` (a link keeping the filters;
        a change to None drops the parameter)."""
        data = self.cleaned_data
        params = {
            "account": data["account"].pk,
            "start": data["start"].isoformat(),
            "end": data["end"].isoformat(),
            "model": data["model"],
            "o": data["o"],
            **changes,
        }
        return urlencode({k: v for k, v in params.items() if v is not None})


class ExportForm(ReportForm):
    """The finance export's parameters: the dashboard's filters, rows per campaign, day or
    month, and the file format."""

    GROUP_BYS = (
        ("campaign", "campaign"),
        ("day", "day and campaign"),
        ("month", "month and campaign"),
    )

    group_by = forms.ChoiceField(choices=GROUP_BYS, required=False, label="Rows per")
    format = forms.ChoiceField(choices=(("csv", "CSV"), ("xlsx", "XLSX")))

    def clean_group_by(self):
        return self.cleaned_data["group_by"] or "campaign"
