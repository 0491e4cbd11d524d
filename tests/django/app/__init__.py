"""The `app` Django application: teams, players and their stats, served as DRF and JSON:API."""
