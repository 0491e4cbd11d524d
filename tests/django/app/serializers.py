"""Two serializations of the same models: plain DRF for /api/ and JSON:API for /jsonapi/."""

from rest_framework import serializers
from rest_framework_json_api import serializers as jsonapi

from .models import Player, Stat, Team

# /api/: `id` is the integer primary key, `url` the absolute self link, and a relationship
# is the related row's integer id (`team`, `player`).


class TeamSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api-team-detail")

    class Meta:
        model = Team
        fields = ["id", "url", "name", "city"]


class PlayerSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api-player-detail")

    class Meta:
        model = Player
        fields = ["id", "url", "name", "team"]


class NestedPlayerSerializer(PlayerSerializer):
    """Players under /api/teams/{team}/players/: the team comes from the URL."""

    class Meta(PlayerSerializer.Meta):
        read_only_fields = ["team"]


class StatSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api-stat-detail")

    class Meta:
        model = Stat
        fields = ["id", "url", "points", "player"]


# /jsonapi/: `id` is the primary key as a string, `url` becomes `links.self` (and the
# Location of a 201), and `team` / `player` are resource identifier relationships.


class JsonApiTeamSerializer(jsonapi.ModelSerializer):
    url = jsonapi.HyperlinkedIdentityField(view_name="jsonapi-team-detail")

    class Meta:
        model = Team
        fields = ["url", "name", "city"]


class JsonApiPlayerSerializer(jsonapi.ModelSerializer):
    url = jsonapi.HyperlinkedIdentityField(view_name="jsonapi-player-detail")
    team = jsonapi.ResourceRelatedField(queryset=Team.objects.all())

    class Meta:
        model = Player
        fields = ["url", "name", "team"]


class JsonApiStatSerializer(jsonapi.ModelSerializer):
    url = jsonapi.HyperlinkedIdentityField(view_name="jsonapi-stat-detail")
    player = jsonapi.ResourceRelatedField(queryset=Player.objects.all())

    class Meta:
        model = Stat
        fields = ["url", "points", "player"]
