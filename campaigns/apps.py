from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "Campaigns and numbers"

    def ready(self) -> None:
        from campaigns.audit import signals  # noqa: F401  (connects the log-in receivers)
