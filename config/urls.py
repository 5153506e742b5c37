from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from attribution.api import conversions as conversion_views
from attribution.api import crm as crm_views
from attribution.api import outcomes as outcome_views
from attribution.api import privacy as privacy_views
from attribution.api import reports as report_views
from attribution.api import views as attribution_views
from attribution.dni import snippet_view
from attribution.dni import views as dni_views
from calls.api import context as call_context
from calls.api import views as call_views
from calls.twilio import views as twilio_views
from campaigns.api import views as campaign_views
from campaigns.audit import views as audit_views
from config.health import healthz

router = SimpleRouter(trailing_slash=True)
router.register("campaigns", campaign_views.CampaignViewSet, basename="campaign")
router.register("keywords", campaign_views.KeywordViewSet, basename="keyword")
router.register("pools", campaign_views.PoolViewSet, basename="pool")
router.register("numbers", campaign_views.NumberViewSet, basename="number")
router.register("costs", campaign_views.CostViewSet, basename="cost")
router.register("sessions", attribution_views.SessionViewSet, basename="session")
router.register("calls", call_views.CallViewSet, basename="call")
router.register("blocklist", call_views.BlocklistViewSet, basename="blocked-number")
router.register("outcomes", outcome_views.OutcomeViewSet, basename="outcome")
router.register("crm-stages", crm_views.CrmStageMappingViewSet, basename="crm-stage")
router.register("destinations", conversion_views.DestinationViewSet, basename="destination")
router.register("conversions", conversion_views.ConversionViewSet, basename="conversion")
router.register("audit-events", audit_views.AuditEventViewSet, basename="audit-event")

api_v1 = [
    path("account/", campaign_views.AccountView.as_view(), name="account"),
    path("calls/<int:pk>/context/", call_context.CallContextView.as_view(), name="call-context"),
    # Before the router: its outcomes/<pk>/ would take these paths.
    path("outcomes/hubspot/", crm_views.HubSpotView.as_view(), name="outcomes-hubspot"),
    path("outcomes/salesforce/", crm_views.SalesforceView.as_view(), name="outcomes-salesforce"),
    path("reports/roi/", report_views.RoiView.as_view(), name="report-roi"),
    path("reports/cost-per-call/", report_views.CostPerCallView.as_view(), name="report-cost"),
    path("reports/call-kpis/", report_views.CallKpisView.as_view(), name="report-call-kpis"),
    path("privacy/erasure/", privacy_views.ErasureView.as_view(), name="privacy-erasure"),
    *router.urls,
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("dni/v1/sessions", dni_views.sessions, name="dni-sessions"),
    path("webhooks/twilio/voice", twilio_views.voice, name="twilio-voice"),
    path("webhooks/twilio/status", twilio_views.status, name="twilio-status"),
    path("webhooks/twilio/dial", twilio_views.dial, name="twilio-dial"),
    path("webhooks/twilio/recording", twilio_views.recording, name="twilio-recording"),
    path("webhooks/twilio/whisper", twilio_views.whisper, name="twilio-whisper"),
    path("dni/v1/<str:public_key>.js", snippet_view.snippet, name="dni-snippet"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("admin/", admin.site.urls),
]

# A URL no route matches answers JSON under /api/ (config.exceptions.not_found).
handler404 = "config.exceptions.not_found"
