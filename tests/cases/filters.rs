//! Choosing what is written (SPEC sections 1 and 5): `--type`, `--match`, `--no-parents`,
//! parents kept transitively, filters in front of an HTTP destination, and layered origins.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::server::{sample_dataset, ServerConfig, TestServer};
use crate::util::*;

/// Where the origin data claims to live; a closed loopback port, so nothing leaves the machine.
const ORIGIN_BASE: &str = "http://localhost:1";

/// The sample dataset (teams 1-2, players 1-4, stats 1-4 with points 7, 14, 21, 28) plus an
/// unrelated team 3 and its player 5, who has no stat.
fn league() -> Vec<Value> {
    let mut resources = sample_dataset(ORIGIN_BASE, 2, 2);
    resources.push(hal_resource(
        ORIGIN_BASE,
        "team",
        3,
        json!({ "name": "Team 3" }),
        &[],
    ));
    resources.push(hal_resource(
        ORIGIN_BASE,
        "player",
        5,
        json!({ "name": "Player 5", "teamId": 3 }),
        &[("team", 3)],
    ));
    resources
}

/// Two gadgets with every kind of JSON value, for `--match`.
fn gadgets() -> Vec<Value> {
    vec![
        hal_resource(
            ORIGIN_BASE,
            "gadget",
            1,
            json!({
                "name": "alpha",
                "count": 7,
                "weight": 2.5,
                "active": true,
                "note": null,
                "spec": { "color": "red", "size": { "w": 3 } },
                "tags": ["a"],
            }),
            &[],
        ),
        hal_resource(
            ORIGIN_BASE,
            "gadget",
            2,
            json!({
                "name": "beta",
                "count": 8,
                "weight": 3,
                "active": false,
                "note": "fragile",
                "spec": { "color": "blue", "size": { "w": 4 } },
                "tags": [],
            }),
            &[],
        ),
    ]
}

fn origin_file(dir: &Path, resources: &[Value]) -> PathBuf {
    let path = dir.join("origin.yaml");
    write_file(&path, &yaml_documents(resources));
    path
}

/// Runs `args ORIGIN DIR` (exit 0) and returns the files written and the run.
fn filtered(resources: &[Value], args: &[&str]) -> (Vec<String>, Run) {
    let dir = temp_dir();
    let origin = origin_file(dir.path(), resources);
    let out = dir.path().join("out");
    let mut all: Vec<&str> = args.to_vec();
    all.extend([path_str(&origin), path_str(&out)]);
    let run = run(&all).ok();
    let files = if out.exists() {
        list_files(&out)
    } else {
        Vec::new()
    };
    (files, run)
}

fn files(names: &[&str]) -> Vec<String> {
    sorted_strings(names)
}

#[test]
fn type_keeps_parents_transitively_and_nothing_unrelated() {
    let (written, run) = filtered(&league(), &["--type", "stat"]);
    assert_eq!(
        written,
        files(&[
            "player/1.yaml",
            "player/2.yaml",
            "player/3.yaml",
            "player/4.yaml",
            "stat/1.yaml",
            "stat/2.yaml",
            "stat/3.yaml",
            "stat/4.yaml",
            "team/1.yaml",
            "team/2.yaml",
        ]),
        "team 3 and player 5 have no stat"
    );
    let summary = summary(&run.stderr);
    assert_eq!((summary.read, summary.created), (12, 10), "{}", run.stderr);
}

#[test]
fn type_with_no_parents_keeps_only_that_type() {
    let (written, _) = filtered(&league(), &["--type", "stat", "--no-parents"]);
    assert_eq!(
        written,
        files(&["stat/1.yaml", "stat/2.yaml", "stat/3.yaml", "stat/4.yaml"])
    );
}

#[test]
fn type_is_repeatable_and_keeps_the_union() {
    let (written, _) = filtered(
        &league(),
        &["--type", "team", "--type", "stat", "--no-parents"],
    );
    assert_eq!(
        written,
        files(&[
            "stat/1.yaml",
            "stat/2.yaml",
            "stat/3.yaml",
            "stat/4.yaml",
            "team/1.yaml",
            "team/2.yaml",
            "team/3.yaml",
        ])
    );
}

#[test]
fn match_on_a_string_field_keeps_the_match_and_its_parents() {
    let (written, _) = filtered(&league(), &["--match", "name=Player 3"]);
    assert_eq!(written, files(&["player/3.yaml", "team/2.yaml"]));
    let (written, _) = filtered(&league(), &["--match", "name=Player 3", "--no-parents"]);
    assert_eq!(written, files(&["player/3.yaml"]));
}

#[test]
fn match_on_an_integer_keeps_the_grandparents_too() {
    // Stat 2 has 14 points; its player is 2, whose team is 1.
    let (written, _) = filtered(&league(), &["--match", "points=14"]);
    assert_eq!(
        written,
        files(&["player/2.yaml", "stat/2.yaml", "team/1.yaml"])
    );
    let (written, _) = filtered(&league(), &["--match", "points=7", "--no-parents"]);
    assert_eq!(written, files(&["stat/1.yaml"]));
}

#[test]
fn match_compares_numbers_booleans_and_null_as_json_writes_them() {
    for (expression, expected) in [
        ("count=7", "gadget/1.yaml"),
        ("count=8", "gadget/2.yaml"),
        ("weight=2.5", "gadget/1.yaml"),
        ("weight=3", "gadget/2.yaml"),
        ("active=true", "gadget/1.yaml"),
        ("active=false", "gadget/2.yaml"),
        ("note=null", "gadget/1.yaml"),
        ("note=fragile", "gadget/2.yaml"),
        ("name=beta", "gadget/2.yaml"),
    ] {
        let (written, _) = filtered(&gadgets(), &["--match", expression]);
        assert_eq!(written, files(&[expected]), "--match {expression}");
    }
}

#[test]
fn match_takes_numbers_in_the_text_the_json_output_writes() {
    // SPEC 5: numbers compare "as JSON writes them"; SPEC 4: this tool's JSON writes floats
    // as Python prints them (`1e-07`, `100.0`, `1e+20`). The same text must select them.
    // Read from JSON Lines: in YAML 1.1 flow text `1e-7` would be a string.
    let resource = hal_resource(
        ORIGIN_BASE,
        "gadget",
        1,
        json!({ "small": 1e-7, "round": 100.0, "large": 1e20 }),
        &[],
    );
    let dir = temp_dir();
    let origin = dir.path().join("origin.jsonl");
    write_file(&origin, &format!("{resource}\n"));
    let written = run(&["-q", "-j", path_str(&origin), "-"]).ok().stdout;
    for (field, text) in [("small", "1e-07"), ("round", "100.0"), ("large", "1e+20")] {
        assert!(
            written.contains(&format!("\"{field}\": {text}")),
            "the JSON output writes {field} otherwise: {written}"
        );
        let expression = format!("{field}={text}");
        let out = dir.path().join(field);
        run(&["--match", &expression, path_str(&origin), path_str(&out)]).ok();
        let kept = if out.exists() {
            list_files(&out)
        } else {
            Vec::new()
        };
        assert_eq!(kept, files(&["gadget/1.yaml"]), "--match {expression}");
    }
}

#[test]
fn match_follows_a_dotted_path_into_nested_mappings() {
    for (expression, expected) in [
        ("spec.color=red", "gadget/1.yaml"),
        ("spec.color=blue", "gadget/2.yaml"),
        ("spec.size.w=4", "gadget/2.yaml"),
    ] {
        let (written, _) = filtered(&gadgets(), &["--match", expression]);
        assert_eq!(written, files(&[expected]), "--match {expression}");
    }
}

#[test]
fn several_matches_must_all_hold() {
    let (written, _) = filtered(
        &gadgets(),
        &["--match", "spec.color=red", "--match", "active=true"],
    );
    assert_eq!(written, files(&["gadget/1.yaml"]));
    let (written, run) = filtered(
        &gadgets(),
        &["--match", "spec.color=red", "--match", "active=false"],
    );
    assert_eq!(written, Vec::<String>::new(), "{}", run.stdout);
}

#[test]
fn a_mapping_or_list_never_matches() {
    for expression in [
        "spec={\"color\": \"red\", \"size\": {\"w\": 3}}",
        "spec={\"color\":\"red\",\"size\":{\"w\":3}}",
        "spec.size={\"w\": 3}",
        "tags=[\"a\"]",
        "tags=a",
        "tags=[]",
        "_links.self={\"href\": \"http://localhost:1/api/gadget/1\"}",
    ] {
        let (written, _) = filtered(&gadgets(), &["--match", expression]);
        assert_eq!(written, Vec::<String>::new(), "--match {expression}");
    }
}

#[test]
fn a_filter_matching_nothing_writes_nothing_and_still_counts_what_was_read() {
    for args in [
        vec!["--type", "coach"],
        vec!["--match", "name=Nobody"],
        vec!["--match", "no.such.field=1"],
    ] {
        let (written, run) = filtered(&league(), &args);
        assert_eq!(written, Vec::<String>::new(), "{args:?}");
        assert_eq!(
            summary(&run.stderr),
            Summary {
                read: 12,
                ..Summary::default()
            },
            "{args:?}: {}",
            run.stderr
        );
    }
}

#[test]
fn filters_in_front_of_an_http_destination_put_only_what_they_keep() {
    let server = TestServer::start(ServerConfig::default());
    let dir = temp_dir();
    let origin = origin_file(dir.path(), &league());
    let run = run(&[
        "--type",
        "stat",
        "--match",
        "points=14",
        path_str(&origin),
        &server.url("/api"),
    ])
    .ok();
    let mut puts: Vec<String> = server
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET" && r.method != "OPTIONS")
        .map(|r| format!("{} {}", r.method, r.path_and_query))
        .collect();
    puts.sort();
    assert_eq!(
        puts,
        ["PUT /api/player/2", "PUT /api/stat/2", "PUT /api/team/1"]
    );
    let stored: Vec<String> = server.resources().into_keys().collect();
    assert_eq!(stored, ["/api/player/2", "/api/stat/2", "/api/team/1"]);
    let summary = summary(&run.stderr);
    assert_eq!((summary.read, summary.created), (12, 3), "{}", run.stderr);
}

#[test]
fn layered_directories_later_wins_and_base_only_resources_are_kept() {
    let dir = temp_dir();
    let base = dir.path().join("base");
    let overrides = dir.path().join("overrides");
    let team = |id: u64, fields: Value| hal_resource(ORIGIN_BASE, "team", id, fields, &[]);
    let put = |root: &Path, id: u64, resource: Value| {
        write_file(
            &root.join(format!("team/{id}.yaml")),
            &yaml_documents(&[resource]),
        );
    };
    put(
        &base,
        1,
        team(1, json!({ "name": "Lions", "city": "Paris" })),
    );
    put(&base, 2, team(2, json!({ "name": "Otters" })));
    put(&overrides, 1, team(1, json!({ "name": "Tigers" })));
    put(&overrides, 3, team(3, json!({ "name": "Bears" })));
    let out = dir.path().join("out");
    let first_run = run(&[path_str(&base), path_str(&overrides), path_str(&out)]).ok();
    assert_eq!(
        list_files(&out),
        ["team/1.yaml", "team/2.yaml", "team/3.yaml"]
    );
    let first = read(&out.join("team/1.yaml"));
    assert!(first.contains("\nname: Tigers\n"), "{first}");
    assert!(
        !first.contains("Paris"),
        "the later origin replaces the resource, it is not merged: {first}"
    );
    assert!(read(&out.join("team/2.yaml")).contains("\nname: Otters\n"));
    assert!(read(&out.join("team/3.yaml")).contains("\nname: Bears\n"));
    assert_eq!(
        summary(&first_run.stderr).created,
        3,
        "{}",
        first_run.stderr
    );

    // Order matters: with the layers swapped, base wins.
    let swapped = dir.path().join("swapped");
    run(&[path_str(&overrides), path_str(&base), path_str(&swapped)]).ok();
    let first = read(&swapped.join("team/1.yaml"));
    assert!(first.contains("\nname: Lions\n"), "{first}");
    assert!(first.contains("\ncity: Paris\n"), "{first}");
}

#[test]
fn a_later_origin_moving_a_uri_to_another_id_leaves_no_file_behind_in_a_new_folder() {
    // Into a folder the run creates, files are written in place as they are read; the
    // earlier copy's file (team/1) must not outlive its replacement (team/10).
    let dir = temp_dir();
    let uri = format!("{ORIGIN_BASE}/api/team/1");
    let copy = |id: u64, name: &str| json!({ "_links": { "self": { "href": uri } }, "id": id, "name": name });
    let base = dir.path().join("base.yaml");
    let overrides = dir.path().join("overrides.yaml");
    write_file(&base, &yaml_documents(&[copy(1, "Lions")]));
    write_file(&overrides, &yaml_documents(&[copy(10, "Tigers")]));
    let out = dir.path().join("out");
    run(&[path_str(&base), path_str(&overrides), path_str(&out)]).ok();
    assert_eq!(list_files(&out), ["team/10.yaml"]);
    assert!(read(&out.join("team/10.yaml")).contains("\nname: Tigers\n"));
}

#[test]
fn a_run_refused_after_reading_leaves_no_new_folder() {
    // Two uris bound for one file (ids 1 and "1") are found once everything is read,
    // after files were written in place: the folder the run made is removed whole.
    let dir = temp_dir();
    let origin = dir.path().join("origin.yaml");
    let team = |n: u64, id: Value| json!({ "_links": { "self": { "href": format!("{ORIGIN_BASE}/api/team/{n}") } }, "id": id });
    write_file(
        &origin,
        &yaml_documents(&[team(1, json!(1)), team(2, json!("1"))]),
    );
    let out = dir.path().join("out");
    let refused = run(&[path_str(&origin), path_str(&out)]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(!out.exists(), "{:?}", list_files(&out));
}
