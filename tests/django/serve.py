#!/usr/bin/env python3
"""The Django test service for resource-sync's integration tests (see README.md).

    serve.py --port P --db FILE [--seed] [--log FILE] [--page-size N]
             [--oauth2 [--token-lifetime SECONDS] [--client ID:SECRET]...]

Creates the tables in the SQLite file FILE, seeds 3 teams, 6 players and 6 stats with
--seed (only when there are no teams yet), and serves on 127.0.0.1:P with Django's
threaded development server until killed, once listening printing
`serving on http://127.0.0.1:PORT/` (with --port 0, the port the system chose).
--log appends one JSON line per request. With --oauth2 the APIs answer only requests with a
valid OAuth2 bearer token, issued by django-oauth-toolkit at /o/token/ to the --client
applications (client credentials grant).
"""

import argparse
import json
import os
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--port", type=int, required=True, help="0: any free port, printed")
    parser.add_argument("--db", required=True, help="SQLite database file (created if missing)")
    parser.add_argument("--seed", action="store_true", help="3 teams, 6 players, 6 stats")
    parser.add_argument("--log", help="append one JSON line per request to this file")
    parser.add_argument("--page-size", type=int, default=2, help="default page size (2)")
    parser.add_argument(
        "--oauth2", action="store_true", help="the APIs need an OAuth2 bearer token from /o/token/"
    )
    parser.add_argument(
        "--token-lifetime",
        type=int,
        default=3600,
        metavar="SECONDS",
        help="lifetime of an access token (the expires_in answered; 3600)",
    )
    parser.add_argument(
        "--client",
        action="append",
        default=[],
        metavar="ID:SECRET",
        help="register a confidential application with the client credentials grant; repeatable",
    )
    args = parser.parse_args(argv)
    if args.client and not args.oauth2:
        parser.error("--client needs --oauth2")
    for client in args.client:
        if ":" not in client:
            parser.error(f"--client {client!r}: expected ID:SECRET")
    return args


class RequestLog:
    """Middleware writing {method, path, status, content_type, body} per request, one line each,
    with the Authorization header as `authorization` when the request carried one."""

    path = None
    lock = threading.Lock()

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        body = request.body  # read (and cached for the view) before the view runs
        response = self.get_response(request)
        if RequestLog.path:
            text = body.decode("utf-8", "replace")
            try:
                logged = json.loads(text) if text else None
            except ValueError:
                logged = text
            entry = {
                "method": request.method,
                "path": request.get_full_path(),
                "status": response.status_code,
                # wsgiref reports text/plain for a request without the header, so only with a body.
                "content_type": request.META.get("CONTENT_TYPE") if body else None,
                "body": logged,
            }
            # Only when sent, so the lines of requests without credentials keep their shape.
            authorization = request.META.get("HTTP_AUTHORIZATION")
            if authorization is not None:
                entry["authorization"] = authorization
            line = json.dumps(entry)
            with RequestLog.lock, open(RequestLog.path, "a", encoding="utf-8") as log:
                log.write(line + "\n")
        return response


def access_settings(args):
    """The settings that decide who may use the APIs: anyone, or (--oauth2) the holders of a
    valid access token."""
    if not args.oauth2:
        return {
            "apps": [],
            "authentication": [],
            "permission": "rest_framework.permissions.AllowAny",
            "extra": {},
        }
    return {
        "apps": ["django.contrib.contenttypes", "django.contrib.auth", "oauth2_provider"],
        "authentication": ["oauth2_provider.contrib.rest_framework.OAuth2Authentication"],
        "permission": "app.permissions.HasAccessToken",
        "extra": {
            "OAUTH2_PROVIDER": {"ACCESS_TOKEN_EXPIRE_SECONDS": args.token_lifetime},
            # Client secrets are stored hashed with the first hasher. Django's default (PBKDF2,
            # a million rounds) costs over half a second per token request; a salted MD5 keeps
            # the hashing real and the tests fast. Never for a real service.
            "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
        },
    }


def configure(args):
    from django.conf import settings

    access = access_settings(args)
    settings.configure(
        DEBUG=False,
        ALLOWED_HOSTS=["*"],
        SECRET_KEY="resource-sync-test-service",
        ROOT_URLCONF="app.urls",
        INSTALLED_APPS=[
            "app",
            "rest_framework",
            "rest_framework_json_api",
            "django_filters",
            "drf_spectacular",
            *access["apps"],
        ],
        MIDDLEWARE=["serve.RequestLog"],
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": os.path.abspath(args.db),
                # Threads write concurrently: wait for the lock instead of failing.
                "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
            }
        },
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        USE_TZ=True,
        REST_FRAMEWORK={
            "PAGE_SIZE": args.page_size,
            "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
            "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
            "DEFAULT_AUTHENTICATION_CLASSES": access["authentication"],
            "DEFAULT_PERMISSION_CLASSES": [access["permission"]],
            "UNAUTHENTICATED_USER": None,
            "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
            # JSON:API views answer JSON:API error documents; the /api/ views keep DRF's.
            "EXCEPTION_HANDLER": "rest_framework_json_api.exceptions.exception_handler",
        },
        SPECTACULAR_SETTINGS={
            "TITLE": "resource-sync test service (DRF)",
            "VERSION": "1.0.0",
            "SERVE_INCLUDE_SCHEMA": False,
            # The document is the API's too: with --oauth2 it needs a token like the rest.
            "SERVE_PERMISSIONS": [access["permission"]],
        },
        LOGGING={
            "version": 1,
            "disable_existing_loggers": False,
            "handlers": {"stderr": {"class": "logging.StreamHandler"}},
            "loggers": {"django": {"handlers": ["stderr"], "level": "WARNING"}},
        },
        **access["extra"],
    )
    RequestLog.path = args.log


def seed():
    from app.models import Player, Stat, Team

    if Team.objects.exists():
        return
    teams = [
        Team.objects.create(name=name, city=city)
        for name, city in [("Lions", "Leeds"), ("Tigers", "Turin"), ("Bears", "Bern")]
    ]
    names = ["Ann", "Ben", "Cid", "Dee", "Eve", "Fay"]
    players = [Player.objects.create(name=name, team=teams[i // 2]) for i, name in enumerate(names)]
    for i, player in enumerate(players):
        Stat.objects.create(points=10 * (i + 1), player=player)


def register_clients(clients):
    """One confidential client credentials application per ID:SECRET, replacing any of that id.
    The secret is given in plain text: saving the model hashes it, as the admin would."""
    if not clients:
        return
    from oauth2_provider.models import Application

    for client in clients:
        client_id, secret = client.split(":", 1)
        Application.objects.filter(client_id=client_id).delete()
        Application.objects.create(
            name=client_id,
            client_id=client_id,
            client_secret=secret,
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        )


def main(argv):
    args = parse_args(argv)
    sys.path.insert(0, HERE)
    sys.modules.setdefault("serve", sys.modules[__name__])
    configure(args)

    import django
    from django.core.management import call_command
    from django.core.servers.basehttp import run
    from django.core.wsgi import get_wsgi_application
    from django.urls import get_resolver

    django.setup()
    call_command("migrate", run_syncdb=True, verbosity=0)
    if args.seed:
        seed()
    register_clients(args.client)
    get_resolver().url_patterns  # import every view now, not on the first request
    application = get_wsgi_application()

    def on_bind(port):
        # With --port 0 this is how the caller learns the port.
        print(f"serving on http://127.0.0.1:{port}/", flush=True)

    run("127.0.0.1", args.port, application, ipv6=False, threading=True, on_bind=on_bind)


if __name__ == "__main__":
    main(sys.argv[1:])
