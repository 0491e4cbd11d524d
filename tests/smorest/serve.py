#!/usr/bin/env python3
"""The flask-smorest test service for resource-sync's integration tests (see README.md).

    serve.py --port P --db FILE [--seed] [--log FILE]

Serves authors, books (each by an author) and reviews (each of a book) from the SQLite
file FILE, creating its tables if missing, on 127.0.0.1:P with Werkzeug's threaded server
until killed; once listening it prints `serving on http://127.0.0.1:PORT/` (with --port 0,
the port the system chose). --seed adds 3 authors, 5 books and 4 reviews to an empty
database; --log appends one JSON line per request.
"""

import argparse
import io
import json
import logging
import sys
import threading

import marshmallow as ma
from flask import Flask
from flask.views import MethodView
from flask_smorest import Api, Blueprint, abort
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event, exc
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from werkzeug.serving import make_server


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class Author(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    born: Mapped[int | None]


class Book(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    year: Mapped[int]
    author_id: Mapped[int] = mapped_column(db.ForeignKey("author.id"))


class Review(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    rating: Mapped[int]
    text: Mapped[str]
    book_id: Mapped[int] = mapped_column(db.ForeignKey("book.id"))


# `id` is dump_only: the server assigns it, and marshmallow refuses it in a request body
# (422 "Unknown field.") as it refuses any field the schema does not load.
class AuthorSchema(ma.Schema):
    id = ma.fields.Int(dump_only=True)
    name = ma.fields.Str(required=True)
    born = ma.fields.Int(allow_none=True, load_default=None)


class BookSchema(ma.Schema):
    id = ma.fields.Int(dump_only=True)
    title = ma.fields.Str(required=True)
    year = ma.fields.Int(required=True)
    author_id = ma.fields.Int(required=True)


class ReviewSchema(ma.Schema):
    id = ma.fields.Int(dump_only=True)
    rating = ma.fields.Int(required=True, validate=ma.validate.Range(min=1, max=5))
    text = ma.fields.Str(load_default="")
    book_id = ma.fields.Int(required=True)


def commit():
    """Commits the session; a row naming a missing parent, or a parent still named by
    rows, is refused with 409 (SQLite enforces the foreign keys)."""
    try:
        db.session.commit()
    except exc.IntegrityError as error:
        db.session.rollback()
        abort(409, message=str(error.orig))


def crud_blueprint(name, model, schema, id_param):
    """The blueprint of one collection as flask-smorest's documentation writes it:
    `/NAME/` (GET a page, POST) and `/NAME/<id_param>` (GET, PUT, DELETE)."""
    blp = Blueprint(name, __name__, url_prefix=f"/{name}", description=f"The {name}.")

    @blp.route("/")
    class Collection(MethodView):
        @blp.response(200, schema(many=True))
        @blp.paginate()
        def get(self, pagination_parameters):
            """One page of the collection, by id"""
            query = db.select(model).order_by(model.id)
            pagination_parameters.item_count = db.session.scalar(
                db.select(db.func.count()).select_from(model)
            )
            page = query.limit(pagination_parameters.page_size).offset(
                pagination_parameters.first_item
            )
            return db.session.scalars(page).all()

        @blp.arguments(schema)
        @blp.response(201, schema)
        def post(self, fields):
            """Create one, with an id the server chooses"""
            row = model(**fields)
            db.session.add(row)
            commit()
            return row

    @blp.route(f"/<int:{id_param}>")
    class Item(MethodView):
        @blp.response(200, schema)
        def get(self, **ids):
            """One by id"""
            return db.get_or_404(model, ids[id_param])

        @blp.arguments(schema)
        @blp.response(200, schema)
        def put(self, fields, **ids):
            """Replace one"""
            row = db.get_or_404(model, ids[id_param])
            for field, value in fields.items():
                setattr(row, field, value)
            commit()
            return row

        @blp.response(204)
        def delete(self, **ids):
            """Delete one"""
            db.session.delete(db.get_or_404(model, ids[id_param]))
            commit()

    return blp


def seed():
    if db.session.scalar(db.select(Author).limit(1)) is not None:
        return
    authors = [
        Author(name="Ursula K. Le Guin", born=1929),
        Author(name="Italo Calvino", born=1923),
        Author(name="Jorge Luis Borges", born=1899),
    ]
    books = [
        Book(title="A Wizard of Earthsea", year=1968, author_id=1),
        Book(title="The Dispossessed", year=1974, author_id=1),
        Book(title="Invisible Cities", year=1972, author_id=2),
        Book(title="The Baron in the Trees", year=1957, author_id=2),
        Book(title="Ficciones", year=1944, author_id=3),
    ]
    reviews = [
        Review(rating=5, text="A school for wizards, before it was a genre.", book_id=1),
        Review(rating=4, text="Cities that are all one city.", book_id=3),
        Review(rating=5, text="Short and endless.", book_id=3),
        Review(rating=5, text="Labyrinths.", book_id=5),
    ]
    # Parents first, committed one list at a time, so the ids are 1, 2, 3... in order.
    for rows in (authors, books, reviews):
        db.session.add_all(rows)
        db.session.commit()


class RequestLog:
    """WSGI middleware appending {method, path, status, content_type, body} per request."""

    def __init__(self, app, path):
        self.app = app
        self.path = path
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        status = []

        def recording_start_response(line, headers, exc_info=None):
            status.append(int(line.split(" ", 1)[0]))
            return start_response(line, headers, exc_info)

        chunks = list(self.app(environ, recording_start_response))
        text = body.decode("utf-8", "replace")
        try:
            logged = json.loads(text) if text else None
        except ValueError:
            logged = text
        query = environ.get("QUERY_STRING")
        entry = {
            "method": environ["REQUEST_METHOD"],
            "path": environ.get("PATH_INFO", "") + (f"?{query}" if query else ""),
            "status": status[0] if status else None,
            "content_type": environ.get("CONTENT_TYPE") if body else None,
            "body": logged,
        }
        with self.lock, open(self.path, "a", encoding="utf-8") as log:
            log.write(json.dumps(entry) + "\n")
        return chunks


def create_app(database):
    app = Flask(__name__)
    app.config.update(
        API_TITLE="resource-sync test service (flask-smorest)",
        API_VERSION="1.0.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}",
        # Requests run in threads: a writer waits for SQLite's lock instead of failing.
        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"timeout": 20}},
    )
    db.init_app(app)
    api = Api(app)
    api.register_blueprint(crud_blueprint("authors", Author, AuthorSchema, "author_id"))
    api.register_blueprint(crud_blueprint("books", Book, BookSchema, "book_id"))
    api.register_blueprint(crud_blueprint("reviews", Review, ReviewSchema, "review_id"))
    with app.app_context():
        # SQLite checks foreign keys only when each connection asks it to.
        event.listen(db.engine, "connect", lambda connection, _: connection.execute("PRAGMA foreign_keys=ON"))
        db.create_all()
    return app


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--port", type=int, required=True, help="0: any free port, printed")
    parser.add_argument("--db", required=True, help="SQLite database file (created if missing)")
    parser.add_argument("--seed", action="store_true", help="3 authors, 5 books, 4 reviews")
    parser.add_argument("--log", help="append one JSON line per request to this file")
    return parser.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    app = create_app(args.db)
    if args.seed:
        with app.app_context():
            seed()
    application = RequestLog(app.wsgi_app, args.log) if args.log else app.wsgi_app
    app.wsgi_app = application
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", args.port, app, threaded=True)
    # With --port 0 this is how the caller learns the port.
    print(f"serving on http://127.0.0.1:{server.server_port}/", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
