from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from attribution.api import views as attribution_views
from attribution.dni import snippet_view
from attribution.dni import views as dni_views
from campaigns.api import views as campaign_views
from config.health import healthz

router = SimpleRouter(trailing_slash=True)
router.register("campaigns", campaign_views.CampaignViewSet, basename="campaign")
router.register("keywords", campaign_views.KeywordViewSet, basename="keyword")
router.register("pools", campaign_views.PoolViewSet, basename="pool")
router.register("numbers", campaign_views.NumberViewSet, basename="number")
router.register("costs", campaign_views.CostViewSet, basename="cost")
router.register("sessions", attribution_views.SessionViewSet, basename="session")

api_v1 = [
    path("account/", campaign_views.AccountView.as_view(), name="account"),
    *router.urls,
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("dni/v1/sessions", dni_views.sessions, name="dni-sessions"),
    path("dni/v1/<str:public_key>.js", snippet_view.snippet, name="dni-snippet"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("admin/", admin.site.urls),
]
