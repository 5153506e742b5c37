"""Output serializers of the report endpoints (attribution.api.reports): the shapes of the
OpenAPI schema, and decimals as strings of their shown precision (`"1234.50"`), never floats.
They serialize the `shown()` dicts of attribution.reports.results."""

from rest_framework import serializers

from attribution.reports import figures


def _decimal(places: int, **kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=None, decimal_places=places, **kwargs)


def _ratio(places: int, help_text: str) -> serializers.DecimalField:
    return _decimal(places, allow_null=True, help_text=f"{help_text}; null when it is 0.")


MONEY, RATE = figures.MONEY_PLACES, figures.RATE_PLACES


class MetaOutput(serializers.Serializer):
    account = serializers.IntegerField()
    account_name = serializers.CharField()
    currency = serializers.CharField()
    time_zone = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    group_by = serializers.CharField()
    data_freshness = serializers.DateTimeField(
        help_text="Every change committed before this instant is in the figures."
    )


class FiguresOutput(serializers.Serializer):
    calls = _decimal(RATE, help_text="Σ credit of the calls.")
    answered_calls = _decimal(RATE, help_text="Σ credit of the answered calls.")
    unique_callers = serializers.IntegerField(
        help_text="Distinct caller numbers among the calls with credit."
    )
    qualified_calls = _decimal(RATE, help_text="Σ credit of calls with a qualified/won outcome.")
    conversions = _decimal(RATE, help_text="Σ credit of the won outcomes.")
    revenue = _decimal(MONEY, help_text="Σ credit × value of the won outcomes.")
    cost = _decimal(MONEY, help_text="Σ spend with its date in the range.")
    conversion_rate = _ratio(RATE, "conversions / calls")
    cost_per_call = _ratio(MONEY, "cost / calls")
    cost_per_answered_call = _ratio(MONEY, "cost / answered_calls")
    cpa = _ratio(MONEY, "cost / conversions")
    roi = _ratio(RATE, "(revenue − cost) / cost")
    roas = _ratio(RATE, "revenue / cost")


class _GroupedRow(serializers.Serializer):
    """A row whose group fields depend on `group_by`: only the ones the row has are shown,
    first, in its order (a field absent from the row is not null, it is not there)."""

    def to_representation(self, instance):
        data = super().to_representation(instance)
        return {name: data[name] for name in instance if name in data}


class RoiRowOutput(_GroupedRow, FiguresOutput):
    """The group's fields depend on `group_by`; the figures follow."""

    campaign = serializers.IntegerField(
        required=False, allow_null=True, help_text="By campaign or keyword; null: Unattributed."
    )
    campaign_name = serializers.CharField(required=False)
    keyword = serializers.IntegerField(required=False, allow_null=True)
    keyword_text = serializers.CharField(required=False, allow_null=True)
    channel = serializers.CharField(required=False, allow_null=True)
    channel_name = serializers.CharField(required=False)
    period = serializers.DateField(
        required=False, help_text="The day, the week's Monday or the month's first day."
    )


class RoiOutput(MetaOutput):
    model = serializers.CharField()
    rows = RoiRowOutput(many=True)
    totals = FiguresOutput()


class CostFiguresOutput(serializers.Serializer):
    cost = _decimal(MONEY)
    calls = _decimal(RATE)
    answered_calls = _decimal(RATE)
    cost_per_call = _ratio(MONEY, "cost / calls")
    cost_per_answered_call = _ratio(MONEY, "cost / answered_calls")
    conversions = _decimal(RATE)
    revenue = _decimal(MONEY)
    cpa = _ratio(MONEY, "cost / conversions")
    roi = _ratio(RATE, "(revenue − cost) / cost")


class CostPerCallRowOutput(CostFiguresOutput):
    period = serializers.CharField(help_text="start/end by campaign; else the ISO date.")
    campaign = serializers.IntegerField(allow_null=True)
    campaign_name = serializers.CharField()
    channel = serializers.CharField(allow_null=True)


class CostPerCallOutput(MetaOutput):
    model = serializers.CharField()
    rows = CostPerCallRowOutput(many=True)
    totals = CostFiguresOutput()


class CallCountsOutput(serializers.Serializer):
    calls = serializers.IntegerField(help_text="Non-spam calls.")
    answered = serializers.IntegerField()
    answer_rate = _ratio(RATE, "answered / calls")
    abandoned = serializers.IntegerField()
    abandonment_rate = _ratio(RATE, "abandoned / calls")
    average_handle_seconds = _decimal(
        1, allow_null=True, help_text="Mean talk time of the answered calls."
    )
    transferred = serializers.IntegerField()
    transfer_rate = _ratio(RATE, "transferred / answered")
    repeat_calls = serializers.IntegerField(help_text="Calls from a number that called before.")
    repeat_caller_rate = _ratio(RATE, "repeat_calls / calls with a caller number")
    first_time_callers = serializers.IntegerField()
    spam_calls = serializers.IntegerField()
    spam_share = _ratio(RATE, "spam_calls / all calls")
    conversions = serializers.IntegerField(help_text="Won outcomes of the calls.")
    conversion_rate = _ratio(RATE, "conversions / calls")


class KpiRowOutput(_GroupedRow, CallCountsOutput):
    campaign = serializers.IntegerField(required=False, allow_null=True)
    campaign_name = serializers.CharField(required=False)
    channel = serializers.CharField(required=False, allow_null=True)
    channel_name = serializers.CharField(required=False)
    period = serializers.DateField(required=False)


class AgentOutput(serializers.Serializer):
    agent = serializers.CharField(allow_null=True)
    calls = serializers.IntegerField()
    conversions = serializers.IntegerField()
    conversion_rate = _ratio(RATE, "conversions / calls")


class HeatCellOutput(serializers.Serializer):
    weekday = serializers.IntegerField(help_text="0 Monday … 6 Sunday, account's time zone.")
    hour = serializers.IntegerField(help_text="0 … 23, account's time zone.")
    calls = serializers.IntegerField()
    conversions = serializers.IntegerField()
    conversion_rate = _ratio(RATE, "conversions / calls")


class CallKpisOutput(MetaOutput):
    rows = KpiRowOutput(many=True)
    totals = CallCountsOutput()
    agents = AgentOutput(many=True)
    heat_map = HeatCellOutput(many=True)
