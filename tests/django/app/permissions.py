"""Who may use the APIs when the service runs with --oauth2."""

from rest_framework.permissions import BasePermission


class HasAccessToken(BasePermission):
    """A request that OAuth2Authentication accepted: it sets `request.auth` to the access
    token. A client credentials token has no user, so DRF's IsAuthenticated would refuse it."""

    def has_permission(self, request, view):
        return request.auth is not None
