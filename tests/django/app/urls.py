"""URL map: DRF under /api/ (trailing slashes), JSON:API under /jsonapi/ (none), an
OpenAPI 3 document for each, and with --oauth2 django-oauth-toolkit's endpoints under /o/."""

from django.apps import apps
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.renderers import JSONOpenAPIRenderer
from rest_framework.routers import DefaultRouter
from rest_framework.schemas import get_schema_view
from rest_framework_json_api.schemas.openapi import SchemaGenerator as JsonApiSchemaGenerator

from . import views

api_router = DefaultRouter()
api_router.register("teams", views.TeamViewSet, basename="api-team")
api_router.register("players", views.PlayerViewSet, basename="api-player")
api_router.register("stats", views.StatViewSet, basename="api-stat")

api_patterns = [
    path("api/teams/<int:team>/players/", views.TeamPlayers.as_view(), name="api-team-players"),
    path("api/", include(api_router.urls)),
]

jsonapi_router = DefaultRouter(trailing_slash=False)
jsonapi_router.include_root_view = False
jsonapi_router.register("teams", views.JsonApiTeamViewSet, basename="jsonapi-team")
jsonapi_router.register("players", views.JsonApiPlayerViewSet, basename="jsonapi-player")
jsonapi_router.register("stats", views.JsonApiStatViewSet, basename="jsonapi-stat")

jsonapi_patterns = [path("jsonapi/", include(jsonapi_router.urls))]

urlpatterns = [
    # drf-spectacular; YAML by default, JSON with ?format=json.
    path("api/schema/", SpectacularAPIView.as_view(patterns=api_patterns), name="api-schema"),
    # DRF JSON:API's own generator (on DRF's built-in OpenAPI support), JSON only.
    path(
        "jsonapi/schema",
        get_schema_view(
            title="resource-sync test service (JSON:API)",
            version="1.0.0",
            generator_class=JsonApiSchemaGenerator,
            patterns=jsonapi_patterns,
            renderer_classes=[JSONOpenAPIRenderer],
            public=True,
        ),
        name="jsonapi-schema",
    ),
    *api_patterns,
    *jsonapi_patterns,
]

if apps.is_installed("oauth2_provider"):
    # /o/token/ issues client credentials tokens; /o/revoke_token/ revokes one.
    urlpatterns.append(path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")))
