//! Profiles (SPEC section 8) against real frameworks: a flask-smorest service, whose
//! marshmallow schemas refuse an `id` in a write body and whose pages past the end are
//! empty, and json-server 1.0, which answers its last page again for any `_page` past the
//! end. Each test checks what the server then holds, its request log and the files.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::server::frameworks::{JsonServer1, SmorestServer};
use crate::util::*;

/// The flask-smorest service by hand: the id is the server's, never sent.
const SMOREST_BY_HAND: &str = "\
next: page:page
size: page_size
create: post
readonly: [id]
types:
  authors:
    path: authors/
    item: authors/{id}
  books:
    path: books/
    item: books/{id}
    parents: {author_id: authors}
  reviews:
    path: reviews/
    item: reviews/{id}
    parents: {book_id: books}
";

/// The seed's resources: 3 authors, 5 books, 4 reviews.
const SEEDED: usize = 12;

fn write_profile(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    write_file(&path, text);
    path
}

/// `--api PROFILE -l 2 [extra] ORIGIN DESTINATION` (two members a page, so every
/// collection takes several), which must exit 0.
fn sync(profile: &Path, extra: &[&str], origin: &str, destination: &str) -> Run {
    let mut args = vec!["--api", path_str(profile), "-l", "2"];
    args.extend_from_slice(extra);
    args.extend([origin, destination]);
    let done = run(&args);
    let text = read(profile);
    assert_eq!(done.code, 0, "{}\nprofile:\n{text}", done.stderr);
    done
}

/// The resource files below `root` with their text (the `.resource-sync-origin` note left
/// out: it names the URL pulled from).
fn tree(root: &Path) -> Vec<(String, String)> {
    list_files(root)
        .into_iter()
        .filter(|file| !file.starts_with('.'))
        .map(|file| {
            let text = read(&root.join(&file));
            (file, text)
        })
        .collect()
}

/// What a smorest server holds, with each id replaced by what it names: a clone's ids are
/// the destination's own.
fn state(server: &SmorestServer) -> Vec<String> {
    let (authors, books) = (server.all("authors"), server.all("books"));
    let named = |members: &[Value], id: &Value, field: &str| -> String {
        let found = members.iter().find(|member| member["id"] == *id);
        found.unwrap_or_else(|| panic!("no member {id} in {members:?}"))[field].to_string()
    };
    let mut out: Vec<String> = authors
        .iter()
        .map(|a| format!("author {} born {}", a["name"], a["born"]))
        .collect();
    for book in &books {
        let author = named(&authors, &book["author_id"], "name");
        out.push(format!(
            "book {} ({}) by {author}",
            book["title"], book["year"]
        ));
    }
    for review in server.all("reviews") {
        let book = named(&books, &review["book_id"], "title");
        let (rating, text) = (&review["rating"], &review["text"]);
        out.push(format!("review {rating} {text} of {book}"));
    }
    out.sort();
    out
}

/// An author and a book already at `server`, so the ids a clone gets there are not the
/// origin's; returns the lines `state` shows for them.
fn add_strangers(server: &SmorestServer) -> Vec<String> {
    let (status, author) = server.send(
        "POST",
        "/authors/",
        Some(&json!({"name": "Stranger", "born": 1950})),
    );
    assert_eq!(status, 201, "{author}");
    let book = json!({"title": "Elsewhere", "year": 2001, "author_id": author["id"]});
    let (status, answer) = server.send("POST", "/books/", Some(&book));
    assert_eq!(status, 201, "{answer}");
    vec![
        "author \"Stranger\" born 1950".to_string(),
        "book \"Elsewhere\" (2001) by \"Stranger\"".to_string(),
    ]
}

/// `state(origin)` with `extra` lines, as a clone into a server holding `extra` leaves it.
fn state_with(origin: &SmorestServer, extra: Vec<String>) -> Vec<String> {
    let mut expected = state(origin);
    expected.extend(extra);
    expected.sort();
    expected
}

/// Every write the server logged after the first `before` ones, as `METHOD path`.
fn write_lines(server: &SmorestServer, before: usize) -> Vec<String> {
    server.writes()[before..]
        .iter()
        .map(|entry| {
            let (method, path) = (entry["method"].as_str(), entry["path"].as_str());
            format!("{} {}", method.unwrap_or("?"), path.unwrap_or("?"))
        })
        .collect()
}

/// No logged write carried an `id`, and every parent field went as a JSON number.
fn assert_no_id_and_numeric_parents(server: &SmorestServer) {
    let writes = server.writes();
    for entry in &writes {
        let body = &entry["body"];
        assert!(body.get("id").is_none(), "an id was sent: {entry}");
        for parent in ["author_id", "book_id"] {
            if let Some(value) = body.get(parent) {
                assert!(value.is_u64(), "{parent} not sent as a number: {entry}");
            }
        }
    }
}

/// The id of the one member of `collection` whose `field` is `value`.
fn id_where(server: &SmorestServer, collection: &str, field: &str, value: &str) -> u64 {
    let members = server.all(collection);
    let found = members.iter().find(|member| member[field] == value);
    let found = found.unwrap_or_else(|| panic!("no {field} {value:?} in {members:?}"));
    found["id"].as_u64().expect("an integer id")
}

/// Replaces `from` with `to` in the file at `path`, which must hold `from`.
fn edit(path: &Path, from: &str, to: &str) {
    let text = read(path);
    assert!(
        text.contains(from),
        "{from:?} not in {}:\n{text}",
        path.display()
    );
    write_file(path, &text.replace(from, to));
}

/// Clones the tree `pulled` (from `origin`) into `destination` (holding `strangers`) with
/// an id map, then edits one book and pushes again: the clone POSTs every resource without
/// its id and with its parents' new ids as numbers, the push one PUT at the book's new id.
fn assert_clones_then_updates(
    profile: &Path,
    pulled: &Path,
    origin: &SmorestServer,
    destination: &SmorestServer,
    strangers: Vec<String>,
) {
    let ids = pulled.with_file_name("ids.yaml");
    let id_map = ["--id-map", path_str(&ids)];
    let before = destination.writes().len();
    let clone = sync(profile, &id_map, path_str(pulled), &destination.base_url());
    let counts = summary(&clone.stderr);
    assert_eq!(
        (counts.created, counts.failed),
        (SEEDED, 0),
        "{}",
        clone.stderr
    );
    assert_eq!(state(destination), state_with(origin, strangers));
    let posts = write_lines(destination, before);
    assert_eq!(posts.len(), SEEDED, "{posts:?}");
    assert!(
        posts.iter().all(|line| line.starts_with("POST ")),
        "{posts:?}"
    );
    assert_no_id_and_numeric_parents(destination);

    let revised = "Invisible Cities, revised";
    edit(&pulled.join("books/3.yaml"), "Invisible Cities", revised);
    let before = destination.writes().len();
    let update = sync(profile, &id_map, path_str(pulled), &destination.base_url());
    let counts = summary(&update.stderr);
    assert_eq!(
        (counts.created, counts.updated, counts.unchanged),
        (0, 1, SEEDED - 1),
        "{}",
        update.stderr
    );
    let new_book = id_where(destination, "books", "title", revised);
    let calvino = id_where(destination, "authors", "name", "Italo Calvino");
    assert_eq!(
        write_lines(destination, before),
        [format!("PUT /books/{new_book}")]
    );
    let put = &destination.writes()[before];
    assert_eq!(
        (&put["status"], &put["body"]),
        (
            &json!(200),
            &json!({"author_id": calvino, "title": revised, "year": 1972})
        )
    );
}

#[test]
fn smorest_profile_clones_a_tree_without_ids_then_updates_one_book() {
    let origin = SmorestServer::start(true);
    let destination = SmorestServer::start(false);
    let strangers = add_strangers(&destination);
    let dir = temp_dir();
    let profile = write_profile(dir.path(), "smorest.yaml", SMOREST_BY_HAND);
    let pulled = dir.path().join("tree");
    sync(&profile, &[], &origin.base_url(), path_str(&pulled));
    let files = tree(&pulled);
    assert_eq!(files.len(), SEEDED, "{files:?}");
    let book = files.iter().find(|(file, _)| file == "books/3.yaml");
    assert_eq!(
        book.map(|(_, text)| text.as_str()),
        Some("---\nauthor_id: 2\nid: 3\ntitle: Invisible Cities\nyear: 1972\n")
    );
    assert_clones_then_updates(&profile, &pulled, &origin, &destination, strangers);
}

#[test]
fn smorest_generated_profile_pulls_clones_and_updates_without_edits() {
    let origin = SmorestServer::start(true);
    let destination = SmorestServer::start(false);
    let strangers = add_strangers(&destination);
    let document = format!("{}/openapi.json", origin.base_url());
    let generated = run(&["--generate", "profile", &document]).ok().stdout;
    let dir = temp_dir();
    let profile = write_profile(dir.path(), "generated.yaml", &generated);
    let by_hand = write_profile(dir.path(), "by-hand.yaml", SMOREST_BY_HAND);
    let (pulled, pulled_by_hand) = (dir.path().join("generated"), dir.path().join("by-hand"));
    sync(&profile, &[], &origin.base_url(), path_str(&pulled));
    sync(&by_hand, &[], &origin.base_url(), path_str(&pulled_by_hand));
    assert_eq!(tree(&pulled), tree(&pulled_by_hand));
    assert_clones_then_updates(&profile, &pulled, &origin, &destination, strangers);
}

#[test]
fn smorest_pull_edit_push_back_sends_one_put_and_no_post() {
    let server = SmorestServer::start(true);
    let dir = temp_dir();
    let profile = write_profile(dir.path(), "smorest.yaml", SMOREST_BY_HAND);
    let pulled = dir.path().join("tree");
    let api = server.base_url();
    sync(&profile, &[], &api, path_str(&pulled));

    edit(&pulled.join("reviews/3.yaml"), "rating: 5", "rating: 3");
    let push = sync(&profile, &[], path_str(&pulled), &api);
    let counts = summary(&push.stderr);
    assert_eq!(
        (counts.created, counts.updated, counts.unchanged),
        (0, 1, SEEDED - 1),
        "{}",
        push.stderr
    );
    assert_eq!(write_lines(&server, 0), ["PUT /reviews/3"]);
    let put = &server.writes()[0];
    assert_eq!(
        (&put["status"], &put["body"]),
        (
            &json!(200),
            &json!({"book_id": 3, "rating": 3, "text": "Short and endless."})
        )
    );
    assert_eq!(server.get_json("/reviews/3")["rating"], 3);
    assert_eq!(server.all("reviews").len(), 4);
    // What made the push an update in place: the pull's note of its origin.
    let note = pulled.join(".resource-sync-origin");
    assert_eq!(read(&note).trim_end(), api);
}

#[test]
fn json_server_1_page_chain_ends_on_the_last_page_answered_again() {
    const NOTES: usize = 7;
    let notes: Vec<Value> = (1..=NOTES)
        .map(|n| json!({"id": n.to_string(), "text": format!("Note {n}")}))
        .collect();
    let server = JsonServer1::start(&json!({ "notes": notes }), "/notes");
    // What the test rests on: past the end, the last page again (not an empty one).
    let past_the_end = server.get_json("/notes?_page=9&_per_page=2");
    assert_eq!(
        (&past_the_end["next"], &past_the_end["data"]),
        (&Value::Null, &json!([{"id": "7", "text": "Note 7"}]))
    );

    let dir = temp_dir();
    let profile = write_profile(
        dir.path(),
        "json-server-1.yaml",
        "records: data\nnext: page:_page\nsize: _per_page\ntypes:\n  notes:\n    path: notes\n",
    );
    let pulled = dir.path().join("tree");
    // A chain that never ends fails at 20 pages, not after 10,000.
    let pull = run(&[
        "--api",
        path_str(&profile),
        "-l",
        "2",
        "-v",
        "--max-pages",
        "20",
        &server.base_url(),
        path_str(&pulled),
    ]);
    assert_eq!(pull.code, 0, "{}\n{}", pull.stderr, server.output());
    assert_eq!(summary(&pull.stderr).read, NOTES, "{}", pull.stderr);
    let expected: Vec<String> = (1..=NOTES).map(|n| format!("notes/{n}.yaml")).collect();
    let files: Vec<String> = tree(&pulled).into_iter().map(|(file, _)| file).collect();
    assert_eq!(files, expected);
    assert_eq!(
        read(&pulled.join("notes/7.yaml")),
        "---\nid: '7'\ntext: Note 7\n"
    );

    // Four pages hold the notes; at most one more (the repeated last page) is read.
    let gets: Vec<String> = pull
        .stderr
        .lines()
        .filter_map(|line| line.strip_prefix("GET "))
        .filter_map(|line| line.split(" -> ").next())
        .map(str::to_string)
        .collect();
    assert_all_distinct(&gets, "a page read");
    let pages: Vec<u32> = gets
        .iter()
        .filter_map(|url| url.split("_page=").nth(1))
        .filter_map(|rest| rest.split('&').next()?.parse().ok())
        .collect();
    assert_eq!(pages.len(), gets.len(), "{gets:?}");
    assert!(pages.iter().all(|page| (1..=5).contains(page)), "{gets:?}");
}
