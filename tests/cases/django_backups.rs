//! Backups and undo (SPEC section 12) against the real Django service (tests/django), through
//! Django REST framework and through DRF JSON:API: a pull, an edited tree pushed back with
//! `--backup`, then `--undo`. Both APIs assign ids (`create: post`), so what the push deleted
//! comes back under new ids, which the undo names; apart from those ids (and the parent
//! fields pointing at them) the server then holds exactly what it held before the push.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Value};

use crate::server::django::{require_django, DjangoServer};
use crate::util::*;

/// The record beside the backup's copies.
const RECORD: &str = ".backup.yaml";

/// Every member of each collection, as the API lists them, ordered by id.
type Dump = BTreeMap<String, Vec<Value>>;

/// The collections, parents first.
const KINDS: [&str; 3] = ["teams", "players", "stats"];

/// Parent type, dependent collection, and the dependent's field naming the parent.
const DEPENDENTS: [(&str, &str, &str); 2] =
    [("teams", "players", "team"), ("players", "stats", "player")];

/// One of the service's two APIs (one SQLite file serves both), as a test reads and edits it.
struct Api {
    /// The API root on the server.
    root: &'static str,
    /// Its profile, without `key`: the tree pulled from it is pushed back matched by id.
    profile: &'static str,
    /// What ends a collection's or an item's URL after its name or id.
    suffix: &'static str,
    /// The query listing a whole collection on one page.
    whole: &'static str,
    /// Where a page holds its members, and the pointer to its next page.
    records: &'static str,
    next: &'static str,
    /// Pointer prefix of a member's own fields, of its parent fields (before and after the
    /// field's name), and the pointer of its self link.
    attributes: &'static str,
    relationship: (&'static str, &'static str),
    self_link: &'static str,
    /// How the API takes an update.
    update: &'static str,
    /// The file of the player the push adds to team 2, with the tree's id 100.
    new_player: &'static str,
}

const DRF: Api = Api {
    root: "/api",
    profile: "\
records: results
next: body:next
size: page_size
create: post
readonly: [url]
types:
  teams:
    path: teams/
  players:
    path: players/
    parents: {team: teams}
  stats:
    path: stats/
    parents: {player: players}
",
    suffix: "/",
    whole: "?page_size=1000",
    records: "results",
    next: "/next",
    attributes: "",
    relationship: ("/", ""),
    self_link: "/url",
    update: "PUT",
    new_player: "---\nid: 100\nname: Gus\nteam: 2\n",
};

const JSON_API: Api = Api {
    root: "/jsonapi",
    profile: "\
format: jsonapi
types:
  teams:
    path: teams
  players:
    path: players
    parents: {team: teams}
  stats:
    path: stats
    parents: {player: players}
",
    suffix: "",
    whole: "?page[size]=1000",
    records: "data",
    next: "/links/next",
    attributes: "/attributes",
    relationship: ("/relationships/", "/data/id"),
    self_link: "/links/self",
    update: "PATCH",
    new_player: "\
---
attributes:
    name: Gus
id: '100'
relationships:
    team:
        data:
            id: '2'
            type: teams
type: players
",
};

impl Api {
    fn url(&self, server: &DjangoServer) -> String {
        format!("{}{}", server.base_url(), self.root)
    }

    /// A collection's path on the server.
    fn collection(&self, kind: &str) -> String {
        format!("{}/{kind}{}", self.root, self.suffix)
    }

    /// An item's path on the server.
    fn item_path(&self, kind: &str, id: u64) -> String {
        format!("{}/{kind}/{id}{}", self.root, self.suffix)
    }

    /// An item's URL, as the server links it and the run names it.
    fn item(&self, server: &DjangoServer, kind: &str, id: u64) -> String {
        format!("{}{}", server.base_url(), self.item_path(kind, id))
    }

    /// What the server holds, read through this API.
    fn dump(&self, server: &DjangoServer) -> Dump {
        let mut dump = Dump::new();
        for kind in KINDS {
            let page = server.get_json(&format!("{}{}", self.collection(kind), self.whole));
            assert_eq!(page.pointer(self.next), Some(&Value::Null), "{page}");
            let members = page[self.records].as_array().expect("a list of members");
            dump.insert(kind.to_string(), members.clone());
        }
        dump
    }

    fn relationship(&self, field: &str) -> String {
        format!("{}{field}{}", self.relationship.0, self.relationship.1)
    }

    /// `dump` with the member `kind` `old` at `new` instead: its id and self link, and the
    /// parent fields of its dependents.
    fn renumbered(
        &self,
        server: &DjangoServer,
        mut dump: Dump,
        kind: &str,
        (old, new): (u64, u64),
    ) -> Dump {
        let members = dump.get_mut(kind).expect("a dumped collection");
        let member = members
            .iter_mut()
            .find(|m| id_of(&m["id"]) == old)
            .expect("a dumped member");
        member["id"] = like(&member["id"], new);
        *member.pointer_mut(self.self_link).expect("a self link") =
            json!(self.item(server, kind, new));
        members.sort_by_key(|member| id_of(&member["id"]));
        for (_, collection, field) in DEPENDENTS.iter().filter(|(parent, _, _)| *parent == kind) {
            for dependent in dump.get_mut(*collection).expect("a dumped collection") {
                let reference = dependent
                    .pointer_mut(&self.relationship(field))
                    .expect("a parent field");
                if id_of(reference) == old {
                    *reference = like(reference, new);
                }
            }
        }
        dump
    }
}

/// An id as a number, whether the API writes it as one (DRF) or as text (JSON:API).
fn id_of(id: &Value) -> u64 {
    id.as_u64()
        .or_else(|| id.as_str()?.parse().ok())
        .unwrap_or_else(|| panic!("{id} is not an id"))
}

/// `id` in the JSON type of `old`.
fn like(old: &Value, id: u64) -> Value {
    match old {
        Value::String(_) => json!(id.to_string()),
        _ => json!(id),
    }
}

fn member(dump: &Dump, kind: &str, id: u64) -> Value {
    let found = dump[kind].iter().find(|m| id_of(&m["id"]) == id);
    found
        .unwrap_or_else(|| panic!("no {kind} {id} in {dump:?}"))
        .clone()
}

/// `METHOD path` of each write the server logged after its first `before` requests.
fn writes_since(server: &DjangoServer, before: usize) -> Vec<String> {
    server.request_log()[before..]
        .iter()
        .filter(|request| request["method"] != "GET")
        .map(|request| {
            format!(
                "{} {}",
                request["method"].as_str().unwrap(),
                request["path"].as_str().unwrap()
            )
        })
        .collect()
}

/// Created, updated, deleted and failed in the summary line.
fn counts(stderr: &str) -> (usize, usize, usize, usize) {
    let counts = summary(stderr);
    (
        counts.created,
        counts.updated,
        counts.deleted,
        counts.failed,
    )
}

fn parse_yaml(path: &Path) -> Value {
    serde_yaml::from_str(&read(path))
        .unwrap_or_else(|error| panic!("{} is not YAML: {error}", path.display()))
}

fn replace_in(path: &Path, from: &str, to: &str) {
    let old = read(path);
    assert!(old.contains(from), "{} lacks {from:?}", path.display());
    write_file(path, &old.replacen(from, to, 1));
}

/// The new id in the undo's `recreated <old item> as <new item>` line for `kind` `old`.
fn recreated(api: &Api, server: &DjangoServer, stderr: &str, kind: &str, old: u64) -> u64 {
    let prefix = format!(
        "recreated {} as {}/{kind}/",
        api.item(server, kind, old),
        api.url(server)
    );
    let line = stderr.lines().find_map(|line| line.strip_prefix(&prefix));
    let id = line.and_then(|rest| rest.strip_suffix(api.suffix).unwrap_or(rest).parse().ok());
    id.unwrap_or_else(|| panic!("no {prefix}<id> line in\n{stderr}"))
}

/// The push made its three changes and no other: returns the id Django gave the new player.
fn assert_pushed(api: &Api, server: &DjangoServer, before: &Dump) -> u64 {
    let mut pushed = api.dump(server);
    let gus = pushed["players"]
        .iter()
        .find(|p| p.pointer(&format!("{}/name", api.attributes)) == Some(&json!("Gus")));
    let gus = gus
        .unwrap_or_else(|| panic!("no Gus in {pushed:?}"))
        .clone();
    let team = gus.pointer(&api.relationship("team"));
    assert_eq!(team.map(id_of), Some(2), "{gus}");
    let gus_id = id_of(&gus["id"]);
    pushed.get_mut("players").unwrap().retain(|p| *p != gus);
    let mut expected = before.clone();
    expected
        .get_mut("players")
        .unwrap()
        .retain(|p| id_of(&p["id"]) != 3);
    expected
        .get_mut("stats")
        .unwrap()
        .retain(|s| id_of(&s["id"]) != 3);
    let team = expected
        .get_mut("teams")
        .unwrap()
        .iter_mut()
        .find(|t| id_of(&t["id"]) == 1)
        .unwrap();
    *team
        .pointer_mut(&format!("{}/city", api.attributes))
        .unwrap() = json!("Leicester");
    assert_eq!(pushed, expected, "the push made other changes");
    gus_id
}

/// Pull the seeded service through `api`; update team 1, add a player, remove player 3
/// and its stat (`--rm`), and push with `--backup`: the backup holds Django's copies of
/// the updated and deleted and records the created; `--undo` deletes the created, updates
/// team 1 back in place and makes player 3 and its stat again under new ids it names, the
/// stat pointing at the new player.
fn assert_backup_then_undo(api: &Api) {
    require_django();
    let server = DjangoServer::start(true);
    let dir = temp_dir();
    let profile = dir.path().join("profile.yaml");
    write_file(&profile, api.profile);
    let (url, profile) = (api.url(&server), path_str(&profile));
    let (tree, backup) = (dir.path().join("tree"), dir.path().join("backup"));
    run(&["--api", profile, "-l", "2", &url, path_str(&tree)]).ok();
    assert_eq!(list_files(&tree).len(), 15, "{:?}", list_files(&tree));
    let before = api.dump(&server);

    replace_in(&tree.join("teams/1.yaml"), "Leeds", "Leicester");
    write_file(&tree.join("players/100.yaml"), api.new_player);
    for gone in ["players/3.yaml", "stats/3.yaml"] {
        std::fs::remove_file(tree.join(gone)).expect("a pulled file");
    }
    let logged = server.request_log().len();
    let push = run(&[
        "--api",
        profile,
        "-l",
        "2",
        "--rm",
        "--backup",
        path_str(&backup),
        path_str(&tree),
        &url,
    ])
    .ok();
    assert_eq!(counts(&push.stderr), (1, 1, 2, 0), "{}", push.stderr);
    let writes = writes_since(&server, logged);
    let expected = [
        format!("{} {}", api.update, api.item_path("teams", 1)),
        format!("POST {}", api.collection("players")),
        format!("DELETE {}", api.item_path("stats", 3)),
        format!("DELETE {}", api.item_path("players", 3)),
    ];
    assert_eq!(sorted_strings(&writes), sorted_strings(&expected));
    let at = |line: &String| writes.iter().position(|write| write == line);
    assert!(
        at(&expected[2]) < at(&expected[3]),
        "the stat is deleted before its player: {writes:?}"
    );

    let gus_id = assert_pushed(api, &server, &before);

    assert_eq!(
        list_files(&backup),
        [RECORD, "players/3.yaml", "stats/3.yaml", "teams/1.yaml"]
    );
    for (kind, id) in [("teams", 1), ("players", 3), ("stats", 3)] {
        let copy = parse_yaml(&backup.join(format!("{kind}/{id}.yaml")));
        assert_eq!(
            copy,
            member(&before, kind, id),
            "the backup's {kind} {id} is not Django's copy"
        );
    }
    let record = parse_yaml(&backup.join(RECORD));
    assert_eq!(record["destination"], json!(url), "{record}");
    let tree_id = parse_yaml(&tree.join("players/100.yaml"))["id"].clone();
    let target = api.item(&server, "players", gus_id);
    let created = json!([{ "type": "players", "id": tree_id, "target": target }]);
    assert_eq!(record["created"], created, "{record}");

    let logged = server.request_log().len();
    let undone = run(&[
        "--api",
        profile,
        "-l",
        "2",
        "--undo",
        path_str(&backup),
        &url,
    ])
    .ok();
    assert_eq!(counts(&undone.stderr), (2, 1, 1, 0), "{}", undone.stderr);
    let writes = writes_since(&server, logged);
    assert_eq!(
        writes.first(),
        Some(&format!("DELETE {}", api.item_path("players", gus_id))),
        "the created go first: {writes:?}"
    );
    let expected = [
        format!("{} {}", api.update, api.item_path("teams", 1)),
        format!("POST {}", api.collection("players")),
        format!("POST {}", api.collection("stats")),
    ];
    assert_eq!(
        sorted_strings(&writes[1..]),
        sorted_strings(&expected),
        "{}",
        undone.stderr
    );
    let at = |line: &String| writes.iter().position(|write| write == line);
    assert!(
        at(&expected[1]) < at(&expected[2]),
        "the player is made before its stat: {writes:?}"
    );

    let (player, stat) = (
        recreated(api, &server, &undone.stderr, "players", 3),
        recreated(api, &server, &undone.stderr, "stats", 3),
    );
    assert_eq!(
        undone.stderr.matches("recreated ").count(),
        2,
        "{}",
        undone.stderr
    );
    for (kind, id) in [("players", player), ("stats", stat)] {
        assert!(
            before[kind].iter().all(|m| id_of(&m["id"]) != id),
            "{kind} {id} is not a new id"
        );
    }
    let expected = api.renumbered(&server, before, "players", (3, player));
    let expected = api.renumbered(&server, expected, "stats", (3, stat));
    assert_eq!(api.dump(&server), expected, "{}", undone.stderr);
}

#[test]
fn django_backup_an_undo_puts_the_drf_api_back_recreating_the_deleted_under_new_ids() {
    assert_backup_then_undo(&DRF);
}

#[test]
fn django_backup_an_undo_puts_the_jsonapi_back_recreating_the_deleted_under_new_ids() {
    assert_backup_then_undo(&JSON_API);
}
