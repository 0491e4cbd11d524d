from django.db import models


class Team(models.Model):
    name = models.CharField(max_length=100)
    city = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        ordering = ["id"]

    class JSONAPIMeta:
        resource_name = "teams"


class Player(models.Model):
    name = models.CharField(max_length=100)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="players")

    class Meta:
        ordering = ["id"]

    class JSONAPIMeta:
        resource_name = "players"


class Stat(models.Model):
    points = models.IntegerField(default=0)
    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="stats")

    class Meta:
        ordering = ["id"]

    class JSONAPIMeta:
        resource_name = "stats"
