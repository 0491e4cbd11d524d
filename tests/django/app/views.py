"""DRF viewsets for /api/ and DRF JSON:API viewsets for /jsonapi/."""

from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import generics, pagination, viewsets
from rest_framework_json_api import pagination as jsonapi_pagination
from rest_framework_json_api import parsers as jsonapi_parsers
from rest_framework_json_api import renderers as jsonapi_renderers
from rest_framework_json_api import views as jsonapi_views
from rest_framework_json_api.schemas.openapi import AutoSchema as JsonApiAutoSchema

from . import serializers
from .models import Player, Stat, Team


class PagePagination(pagination.PageNumberPagination):
    """`?page=N&page_size=M`; the default size is `--page-size` (REST_FRAMEWORK's PAGE_SIZE)."""

    page_size_query_param = "page_size"
    max_page_size = 1000


class ApiViewSet(viewsets.ModelViewSet):
    """Page-numbered, filtered by the `filterset_fields` (`?team=`, `?player=`)."""

    pagination_class = PagePagination
    filter_backends = [DjangoFilterBackend]


class TeamViewSet(ApiViewSet):
    queryset = Team.objects.all()
    serializer_class = serializers.TeamSerializer


class PlayerViewSet(ApiViewSet):
    queryset = Player.objects.all()
    serializer_class = serializers.PlayerSerializer
    filterset_fields = ["team"]


class StatViewSet(ApiViewSet):
    queryset = Stat.objects.all()
    serializer_class = serializers.StatSerializer
    filterset_fields = ["player"]


class TeamPlayers(generics.ListCreateAPIView):
    """`/api/teams/{team}/players/`: that team's players; a POST creates one in that team."""

    serializer_class = serializers.NestedPlayerSerializer
    pagination_class = PagePagination

    def team(self):
        return get_object_or_404(Team, pk=self.kwargs["team"])

    def get_queryset(self):
        return Player.objects.filter(team=self.team())

    def perform_create(self, serializer):
        serializer.save(team=self.team())


class JsonApiPagination(jsonapi_pagination.JsonApiPageNumberPagination):
    """`?page[number]=N&page[size]=M`, `links.next`; the default size is `--page-size`."""

    max_page_size = 1000


class JsonApiViewSet(jsonapi_views.ModelViewSet):
    """JSON:API only: `application/vnd.api+json` in and out, no PUT (JSON:API updates by PATCH)."""

    renderer_classes = [jsonapi_renderers.JSONRenderer]
    parser_classes = [jsonapi_parsers.JSONParser]
    pagination_class = JsonApiPagination
    # No filters: DJA's schema generator needs a filter API django-filter 25+ no longer has.
    filter_backends = []
    schema = JsonApiAutoSchema()
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]


class JsonApiTeamViewSet(JsonApiViewSet):
    queryset = Team.objects.all()
    serializer_class = serializers.JsonApiTeamSerializer


class JsonApiPlayerViewSet(JsonApiViewSet):
    queryset = Player.objects.all()
    serializer_class = serializers.JsonApiPlayerSerializer


class JsonApiStatViewSet(JsonApiViewSet):
    queryset = Stat.objects.all()
    serializer_class = serializers.JsonApiStatSerializer
