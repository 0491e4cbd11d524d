#!/usr/bin/env python3
"""The Django test service for resource-sync's integration tests (see README.md).

    serve.py --port P --db FILE [--seed] [--log FILE] [--page-size N]

Creates the tables in the SQLite file FILE, seeds 3 teams, 6 players and 6 stats with
--seed (only when there are no teams yet), and serves on 127.0.0.1:P with Django's
threaded development server until killed, once listening printing
`serving on http://127.0.0.1:PORT/` (with --port 0, the port the system chose).
--log appends one JSON line per request.
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
    return parser.parse_args(argv)


class RequestLog:
    """Middleware writing {method, path, status, content_type, body} per request, one line each."""

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
            line = json.dumps(
                {
                    "method": request.method,
                    "path": request.get_full_path(),
                    "status": response.status_code,
                    # wsgiref reports text/plain for a request without the header, so only with a body.
                    "content_type": request.META.get("CONTENT_TYPE") if body else None,
                    "body": logged,
                }
            )
            with RequestLog.lock, open(RequestLog.path, "a", encoding="utf-8") as log:
                log.write(line + "\n")
        return response


def configure(args):
    from django.conf import settings

    settings.configure(
        DEBUG=False,
        ALLOWED_HOSTS=["*"],
        SECRET_KEY="resource-sync-test-service",
        ROOT_URLCONF="app.urls",
        INSTALLED_APPS=["app", "rest_framework", "rest_framework_json_api", "django_filters", "drf_spectacular"],
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
            "DEFAULT_AUTHENTICATION_CLASSES": [],
            "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
            "UNAUTHENTICATED_USER": None,
            "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
            # JSON:API views answer JSON:API error documents; the /api/ views keep DRF's.
            "EXCEPTION_HANDLER": "rest_framework_json_api.exceptions.exception_handler",
        },
        SPECTACULAR_SETTINGS={
            "TITLE": "resource-sync test service (DRF)",
            "VERSION": "1.0.0",
            "SERVE_INCLUDE_SCHEMA": False,
        },
        LOGGING={
            "version": 1,
            "disable_existing_loggers": False,
            "handlers": {"stderr": {"class": "logging.StreamHandler"}},
            "loggers": {"django": {"handlers": ["stderr"], "level": "WARNING"}},
        },
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
    get_resolver().url_patterns  # import every view now, not on the first request
    application = get_wsgi_application()

    def on_bind(port):
        # With --port 0 this is how the caller learns the port.
        print(f"serving on http://127.0.0.1:{port}/", flush=True)

    run("127.0.0.1", args.port, application, ipv6=False, threading=True, on_bind=on_bind)


if __name__ == "__main__":
    main(sys.argv[1:])
