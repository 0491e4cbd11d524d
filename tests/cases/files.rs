//! Files, directories and pipes (SPEC sections 1-5): round trips between every endpoint kind,
//! the simple schema, `null`, `--rm`, idempotence, layering, write order and input errors.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Stdio;

use serde_json::{json, Value};

use crate::util::*;

const BASE: &str = "http://localhost:1";

/// A HAL resource with the exact text microcosm-resourcesync writes for it.
#[derive(Clone)]
struct Res {
    value: Value,
    yaml: String,
    json: String,
}

fn team(id: u32, name: &str) -> Res {
    Res {
        value: json!({ "id": id, "name": name, "_links": { "self": { "href": format!("{BASE}/api/team/{id}") } } }),
        yaml: format!(
            "---\n_links:\n    self:\n        href: {BASE}/api/team/{id}\nid: {id}\nname: {name}\n"
        ),
        json: format!(
            r#"{{"_links": {{"self": {{"href": "{BASE}/api/team/{id}"}}}}, "id": {id}, "name": "{name}"}}"#
        ),
    }
}

fn player(id: u32, name: &str, team: u32) -> Res {
    Res {
        value: json!({
            "id": id,
            "name": name,
            "_links": {
                "self": { "href": format!("{BASE}/api/player/{id}") },
                "parent:team": { "href": format!("{BASE}/api/team/{team}") },
            },
        }),
        yaml: format!(
            "---\n_links:\n    parent:team:\n        href: {BASE}/api/team/{team}\n    self:\n        href: {BASE}/api/player/{id}\nid: {id}\nname: {name}\n"
        ),
        json: format!(
            r#"{{"_links": {{"parent:team": {{"href": "{BASE}/api/team/{team}"}}, "self": {{"href": "{BASE}/api/player/{id}"}}}}, "id": {id}, "name": "{name}"}}"#
        ),
    }
}

/// Two teams and a player of the second, listed child first.
fn roster() -> Vec<Res> {
    vec![player(1, "Ana", 2), team(2, "Otters"), team(1, "Lions")]
}

/// The roster in write order: parents first, ties by (type, id).
fn roster_in_order() -> Vec<Res> {
    vec![team(1, "Lions"), team(2, "Otters"), player(1, "Ana", 2)]
}

fn values(resources: &[Res]) -> Vec<Value> {
    resources.iter().map(|r| r.value.clone()).collect()
}

fn yaml_text(resources: &[Res]) -> String {
    resources.iter().map(|r| r.yaml.as_str()).collect()
}

fn jsonl_text(resources: &[Res]) -> String {
    resources.iter().map(|r| format!("{}\n", r.json)).collect()
}

/// `dir/in.yaml` holding the roster (JSON flow documents, child first).
fn roster_file(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("in.yaml");
    write_file(&path, &yaml_documents(&values(&roster())));
    path
}

/// The roster as a tree, one JSON-flow YAML document per file.
fn roster_tree(root: &Path) {
    for resource in roster() {
        let href = resource.value["_links"]["self"]["href"]
            .as_str()
            .expect("href")
            .to_string();
        let relative = href.trim_start_matches(&format!("{BASE}/api/")).to_string();
        write_file(
            &root.join(format!("{relative}.yaml")),
            &yaml_documents(&[resource.value]),
        );
    }
}

fn assert_roster_tree(root: &Path) {
    assert_eq!(
        list_files(root),
        ["player/1.yaml", "team/1.yaml", "team/2.yaml"]
    );
    assert_eq!(read(&root.join("team/1.yaml")), team(1, "Lions").yaml);
    assert_eq!(read(&root.join("team/2.yaml")), team(2, "Otters").yaml);
    assert_eq!(read(&root.join("player/1.yaml")), player(1, "Ana", 2).yaml);
}

#[test]
fn yaml_file_to_directory_writes_type_id_layout() {
    let dir = temp_dir();
    let input = roster_file(dir.path());
    let out = dir.path().join("out");
    let run = run(&[path_str(&input), path_str(&out)]).ok();
    assert_roster_tree(&out);
    let summary = summary(&run.stderr);
    assert_eq!((summary.read, summary.created), (3, 3), "{}", run.stderr);
}

#[test]
fn directory_to_yaml_file_writes_parents_first() {
    let dir = temp_dir();
    let tree = dir.path().join("tree");
    roster_tree(&tree);
    let out = dir.path().join("all.yaml");
    run(&[path_str(&tree), path_str(&out)]).ok();
    assert_eq!(read(&out), yaml_text(&roster_in_order()));
}

#[test]
fn directory_to_json_file_writes_one_array() {
    let dir = temp_dir();
    let tree = dir.path().join("tree");
    roster_tree(&tree);
    let out = dir.path().join("all.json");
    run(&[path_str(&tree), path_str(&out)]).ok();
    let parsed: Value =
        serde_json::from_str(&read(&out)).expect("the .json file is one JSON value");
    assert_eq!(parsed, Value::Array(values(&roster_in_order())));
}

#[test]
fn directory_to_json_lines_file() {
    let dir = temp_dir();
    let tree = dir.path().join("tree");
    roster_tree(&tree);
    for name in ["all.jsonl", "all.ndjson"] {
        let out = dir.path().join(name);
        run(&[path_str(&tree), path_str(&out)]).ok();
        assert_eq!(read(&out), jsonl_text(&roster_in_order()), "{name}");
    }
}

#[test]
fn json_directory_and_back() {
    let dir = temp_dir();
    let input = roster_file(dir.path());
    let tree = dir.path().join("tree");
    run(&["-j", path_str(&input), path_str(&tree)]).ok();
    assert_eq!(
        list_files(&tree),
        ["player/1.json", "team/1.json", "team/2.json"]
    );
    assert_eq!(
        read(&tree.join("team/1.json")),
        format!("{}\n", team(1, "Lions").json)
    );
    let back = dir.path().join("back.yaml");
    run(&[path_str(&tree), path_str(&back)]).ok();
    assert_eq!(read(&back), yaml_text(&roster_in_order()));
}

#[test]
fn stdin_yaml_documents_to_stdout_yaml() {
    let input = yaml_text(&roster());
    let run = run_with_stdin(&["-", "-"], &input).ok();
    assert_eq!(run.stdout, yaml_text(&roster_in_order()));
}

#[test]
fn stdin_json_array_to_stdout_json_lines() {
    let input =
        serde_json::to_string_pretty(&Value::Array(values(&roster()))).expect("serialisable");
    let run = run_with_stdin(&["-j", "-", "-"], &format!("\n  {input}\n")).ok();
    assert_eq!(run.stdout, jsonl_text(&roster_in_order()));
}

#[test]
fn stdin_single_json_object_is_one_resource() {
    let input = format!("  {}\n", team(1, "Lions").value);
    let run = run_with_stdin(&["-", "-"], &input).ok();
    assert_eq!(run.stdout, team(1, "Lions").yaml);
}

#[test]
fn stdin_json_lines_to_stdout_yaml() {
    let input: String = values(&roster()).iter().map(|v| format!("{v}\n")).collect();
    let run = run_with_stdin(&["-", "-"], &input).ok();
    assert_eq!(run.stdout, yaml_text(&roster_in_order()));
}

#[test]
fn simple_schema_uses_type_uri_and_parents_fields() {
    // `type` differs from the uri's segment, so it must come from the field.
    let area = json!({ "id": 1, "type": "area", "uri": "/areas/1", "parents": ["/zones/1"], "title": "North" });
    let zone = json!({ "id": 1, "type": "zone", "uri": "/zones/1", "title": "Blue" });
    let input = serde_json::to_string(&json!([area, zone])).expect("serialisable");
    let dir = temp_dir();
    let out = dir.path().join("out");
    run_with_stdin(&["--simple", "-", path_str(&out)], &input).ok();
    assert_eq!(list_files(&out), ["area/1.yaml", "zone/1.yaml"]);
    assert_eq!(
        read(&out.join("zone/1.yaml")),
        "---\nid: 1\ntitle: Blue\ntype: zone\nuri: /zones/1\n"
    );
    assert_eq!(
        read(&out.join("area/1.yaml")),
        "---\nid: 1\nparents:\n- /zones/1\ntitle: North\ntype: area\nuri: /areas/1\n"
    );
    // The parent (type `zone`) is written before its child (type `area`), against (type, id).
    let run = run_with_stdin(&["-s", "-j", "-", "-"], &input).ok();
    assert_eq!(
        run.stdout,
        "{\"id\": 1, \"title\": \"Blue\", \"type\": \"zone\", \"uri\": \"/zones/1\"}\n\
         {\"id\": 1, \"parents\": [\"/zones/1\"], \"title\": \"North\", \"type\": \"area\", \"uri\": \"/areas/1\"}\n"
    );
}

#[test]
fn null_origin_reads_nothing() {
    let dir = temp_dir();
    let out = dir.path().join("out");
    let run = run(&["null", path_str(&out)]).ok();
    assert_nothing_written(&out);
    assert_eq!(summary(&run.stderr), Summary::default(), "{}", run.stderr);
}

#[test]
fn null_destination_writes_nothing() {
    let dir = temp_dir();
    let input = roster_file(dir.path());
    for destination in ["null", "/dev/null"] {
        let run = run(&[path_str(&input), destination]).ok();
        assert_eq!(run.stdout, "", "{destination}");
        assert_eq!(
            summary(&run.stderr).read,
            3,
            "{destination}: {}",
            run.stderr
        );
        assert_eq!(list_files(dir.path()), ["in.yaml"], "{destination}");
    }
}

#[test]
fn existing_file_destination_is_refused_without_rm_and_replaced_with_it() {
    let dir = temp_dir();
    let input = roster_file(dir.path());
    for (name, expected) in [
        ("out.yaml", yaml_text(&roster_in_order())),
        ("out.yml", yaml_text(&roster_in_order())),
        ("out.jsonl", jsonl_text(&roster_in_order())),
    ] {
        let out = dir.path().join(name);
        write_file(&out, "---\nkeep: me\n");
        let refused = run(&[path_str(&input), path_str(&out)]).expect_code(2);
        assert!(
            refused.stderr.contains(path_str(&out)),
            "{}",
            refused.stderr
        );
        assert_eq!(read(&out), "---\nkeep: me\n", "{name} was touched");
        run(&["--rm", path_str(&input), path_str(&out)]).ok();
        assert_eq!(read(&out), expected, "{name}");
    }
    let out = dir.path().join("out.json");
    write_file(&out, "[]\n");
    run(&[path_str(&input), path_str(&out)]).expect_code(2);
    assert_eq!(read(&out), "[]\n");
    run(&["--rm", path_str(&input), path_str(&out)]).ok();
    let parsed: Value = serde_json::from_str(&read(&out)).expect("one JSON value");
    assert_eq!(parsed, Value::Array(values(&roster_in_order())));
}

#[test]
fn directory_origin_reads_yaml_yml_and_json_files_and_skips_the_rest() {
    let dir = temp_dir();
    let tree = dir.path().join("tree");
    write_file(&tree.join("team/1.yaml"), &team(1, "Lions").yaml);
    write_file(&tree.join("team/2.yml"), &team(2, "Otters").yaml);
    write_file(&tree.join("player/1.json"), &player(1, "Ana", 2).json);
    write_file(&tree.join("README.md"), "# not a resource: [\n");
    write_file(&tree.join("team/notes.txt"), "not: [a resource\n");
    write_file(&tree.join(".git/config.yaml"), "not: [a resource\n");
    write_file(&tree.join("team/.draft.yaml"), "not: [a resource\n");
    let run = run(&[path_str(&tree), "-"]).ok();
    assert_eq!(run.stdout, yaml_text(&roster_in_order()));
}

#[test]
fn verbose_names_every_file_written_and_only_those() {
    let dir = temp_dir();
    let input = roster_file(dir.path());
    let out = dir.path().join("out");
    let first = run(&["-v", path_str(&input), path_str(&out)]).ok();
    for file in ["team/1.yaml", "team/2.yaml", "player/1.yaml"] {
        let lines = first
            .stderr
            .lines()
            .filter(|line| line.contains(file))
            .count();
        assert_eq!(lines, 1, "{file}: {}", first.stderr);
    }
    let second = run(&["-v", path_str(&input), path_str(&out)]).ok();
    for file in ["team/1.yaml", "team/2.yaml", "player/1.yaml"] {
        assert!(
            !second.stderr.contains(file),
            "unchanged {file} reported written: {}",
            second.stderr
        );
    }
}

/// (inode, mtime) of every file below `root`: a rewrite (temp file + rename) changes the inode.
fn file_identities(root: &Path) -> Vec<(String, u64, i64, i64)> {
    list_files(root)
        .into_iter()
        .map(|file| {
            let meta = std::fs::metadata(root.join(&file)).expect("metadata");
            (file, meta.ino(), meta.mtime(), meta.mtime_nsec())
        })
        .collect()
}

#[test]
fn directory_write_is_idempotent() {
    let dir = temp_dir();
    let input = roster_file(dir.path());
    let out = dir.path().join("out");
    run(&[path_str(&input), path_str(&out)]).ok();
    let before = file_identities(&out);
    let again = run(&[path_str(&input), path_str(&out)]).ok();
    assert_eq!(
        file_identities(&out),
        before,
        "unchanged files were rewritten"
    );
    assert_eq!(
        summary(&again.stderr),
        Summary {
            read: 3,
            unchanged: 3,
            ..Summary::default()
        },
        "{}",
        again.stderr
    );
}

#[test]
fn changed_resource_is_updated_in_place() {
    let dir = temp_dir();
    let input = roster_file(dir.path());
    let out = dir.path().join("out");
    run(&[path_str(&input), path_str(&out)]).ok();
    write_file(
        &input,
        &yaml_documents(&values(&[
            team(1, "Tigers"),
            team(2, "Otters"),
            player(1, "Ana", 2),
        ])),
    );
    let again = run(&[path_str(&input), path_str(&out)]).ok();
    assert_eq!(read(&out.join("team/1.yaml")), team(1, "Tigers").yaml);
    let summary = summary(&again.stderr);
    assert_eq!(
        (summary.updated, summary.unchanged, summary.created),
        (1, 2, 0),
        "{}",
        again.stderr
    );
}

#[test]
fn rm_on_a_directory_deletes_only_stale_resource_files() {
    let dir = temp_dir();
    let input = roster_file(dir.path());
    let out = dir.path().join("out");
    let keep = [
        ".git/config",
        ".git/objects/ab/cdef",
        ".hidden.yaml",
        ".github/workflows/ci.yml",
        "team/.draft.yaml",
        "README.md",
        "team/notes.txt",
    ];
    for file in keep {
        write_file(&out.join(file), "untouched\n");
    }
    write_file(&out.join("team/9.yaml"), &team(9, "Stale").yaml);
    write_file(
        &out.join("coach/4.json"),
        "{\"id\": 4, \"_links\": {\"self\": {\"href\": \"http://localhost:1/api/coach/4\"}}}\n",
    );
    let run = run(&["--rm", path_str(&input), path_str(&out)]).ok();

    let mut expected: Vec<String> = keep.iter().map(|f| f.to_string()).collect();
    expected.extend(["player/1.yaml", "team/1.yaml", "team/2.yaml"].map(String::from));
    expected.sort();
    assert_eq!(list_files(&out), expected);
    for file in keep {
        assert_eq!(read(&out.join(file)), "untouched\n", "{file}");
    }
    assert_eq!(summary(&run.stderr).deleted, 2, "{}", run.stderr);
}

#[test]
fn later_origin_wins_on_the_same_uri() {
    let dir = temp_dir();
    let base = dir.path().join("base");
    let overrides = dir.path().join("overrides");
    write_file(&base.join("team/1.yaml"), &team(1, "Lions").yaml);
    write_file(&base.join("team/2.yaml"), &team(2, "Otters").yaml);
    write_file(&overrides.join("team/1.yaml"), &team(1, "Tigers").yaml);
    write_file(&overrides.join("team/3.yaml"), &team(3, "Bears").yaml);
    let out = dir.path().join("out.yaml");
    run(&[path_str(&base), path_str(&overrides), path_str(&out)]).ok();
    assert_eq!(
        read(&out),
        yaml_text(&[team(1, "Tigers"), team(2, "Otters"), team(3, "Bears")])
    );
}

#[test]
fn origin_equal_to_destination_is_a_usage_error_in_any_spelling() {
    let dir = temp_dir();
    roster_tree(&dir.path().join("d"));
    std::os::unix::fs::symlink(dir.path().join("d"), dir.path().join("link")).expect("symlink");
    let before: Vec<(String, String)> = list_files(&dir.path().join("d"))
        .into_iter()
        .map(|f| (f.clone(), read(&dir.path().join("d").join(&f))))
        .collect();
    let absolute = path_str(&dir.path().join("d")).to_string();
    for (origin, destination) in [
        ("d", "d"),
        ("d", "d/"),
        ("./d", "d"),
        ("d/", "./d/"),
        ("d", absolute.as_str()),
        ("link", "d"),
        ("d/../d", "d"),
    ] {
        let mut command = command(&["--rm", origin, destination]);
        command.current_dir(dir.path());
        let run = run_command(command);
        assert_eq!(run.code, 2, "{origin} -> {destination}: {}", run.stderr);
        let after: Vec<(String, String)> = list_files(&dir.path().join("d"))
            .into_iter()
            .map(|f| (f.clone(), read(&dir.path().join("d").join(&f))))
            .collect();
        assert_eq!(
            after, before,
            "{origin} -> {destination} changed the folder"
        );
    }
}

#[test]
fn missing_origin_is_a_usage_error_naming_it() {
    let dir = temp_dir();
    let missing = dir.path().join("no-such-folder");
    let out = dir.path().join("out");
    let folder = run(&[path_str(&missing), path_str(&out)]).expect_code(2);
    assert!(
        folder.stderr.contains(path_str(&missing)),
        "{}",
        folder.stderr
    );
    let missing_file = dir.path().join("gone.yaml");
    let file = run(&[path_str(&missing_file), path_str(&out)]).expect_code(2);
    assert!(
        file.stderr.contains(path_str(&missing_file)),
        "{}",
        file.stderr
    );
    assert_nothing_written(&out);
}

/// Files in the usual style take a quick reader, any other style the full parser: both
/// must give the same resources, and errors still name the file.
#[test]
fn directory_files_in_any_yaml_style_read_the_same() {
    let dir = temp_dir();
    let tree = dir.path().join("tree");
    let href = |id: u32| format!("{BASE}/api/team/{id}");
    let usual = format!(
        "---\n_links:\n    self:\n        href: {}\nid: 1\n'no': 'it''s'\nnote: []\ntags:\n- a\n- 2\nwhen: 2024-01-01\n",
        href(1)
    );
    let by_hand = format!(
        "# written by hand\nid: 2\n\"no\": \"it's\"  # quoted key\nnote: &n [x, y]\nagain: *n\n_links: {{self: {{href: '{}'}}}}\nwhen: 2024-01-01\n",
        href(2)
    );
    write_file(&tree.join("team/1.yaml"), &usual);
    write_file(&tree.join("team/2.yaml"), &by_hand);
    let copied = run(&["-j", path_str(&tree), "-"]).ok();
    let read: Vec<Value> = copied
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    let links = |id: u32| json!({ "self": { "href": href(id) } });
    assert_eq!(
        read,
        [
            json!({ "_links": links(1), "id": 1, "no": "it's", "note": [], "tags": ["a", 2],
                    "when": "2024-01-01" }),
            json!({ "_links": links(2), "id": 2, "no": "it's", "note": ["x", "y"],
                    "again": ["x", "y"], "when": "2024-01-01" }),
        ]
    );
    // A duplicate key in the usual style is the full parser's error, naming the file.
    write_file(&tree.join("team/3.yaml"), "---\nid: 3\nid: 4\n");
    let refused = run(&[path_str(&tree), "-"]).expect_code(2);
    assert!(
        refused.stderr.contains("team/3.yaml") && refused.stderr.contains("duplicate"),
        "{}",
        refused.stderr
    );
}

#[test]
fn malformed_yaml_in_an_origin_stops_the_run_before_writing() {
    let dir = temp_dir();
    let origin = dir.path().join("origin");
    roster_tree(&origin);
    write_file(&origin.join("team/7.yaml"), "id: 7\nname: [unclosed\n");
    let out = dir.path().join("out");
    write_file(&out.join("team/9.yaml"), "existing\n");
    let run = run(&["--rm", path_str(&origin), path_str(&out)]).expect_code(2);
    assert!(
        run.stderr.contains("team/7.yaml"),
        "file not named: {}",
        run.stderr
    );
    assert_eq!(list_files(&out), ["team/9.yaml"], "something was written");
    assert_eq!(read(&out.join("team/9.yaml")), "existing\n");
}

#[test]
fn document_without_id_names_file_and_document_number() {
    let dir = temp_dir();
    let input = dir.path().join("in.yaml");
    let no_id = json!({ "name": "Nameless", "_links": { "self": { "href": format!("{BASE}/api/team/5") } } });
    write_file(
        &input,
        &yaml_documents(&[team(1, "Lions").value, no_id, team(2, "Otters").value]),
    );
    let out = dir.path().join("out");
    let run = run(&[path_str(&input), path_str(&out)]).expect_code(2);
    assert!(
        run.stderr.contains(path_str(&input)),
        "file not named: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains("document 2"),
        "document number not named: {}",
        run.stderr
    );
    assert_nothing_written(&out);
}

#[test]
fn unsafe_type_or_id_is_refused_before_any_write() {
    let unsafe_resources = [
        json!({ "id": "..", "type": "team", "uri": "/teams/dotdot" }),
        json!({ "id": ".", "type": "team", "uri": "/teams/dot" }),
        json!({ "id": "a/b", "type": "team", "uri": "/teams/slash" }),
        json!({ "id": "a\\b", "type": "team", "uri": "/teams/backslash" }),
        json!({ "id": "", "type": "team", "uri": "/teams/empty" }),
        json!({ "id": 1, "type": "..", "uri": "/up/1" }),
        json!({ "id": 1, "type": "../escape", "uri": "/escape/1" }),
        json!({ "id": 1, "type": "/tmp", "uri": "/abs/1" }),
    ];
    for bad in unsafe_resources {
        let dir = temp_dir();
        let input = dir.path().join("in.jsonl");
        let good = json!({ "id": 1, "type": "team", "uri": "/teams/1" });
        write_file(&input, &format!("{good}\n{bad}\n"));
        let out = dir.path().join("sub").join("out");
        std::fs::create_dir_all(out.parent().expect("parent")).expect("mkdir");
        let run = run(&["--simple", path_str(&input), path_str(&out)]);
        assert_eq!(run.code, 2, "{bad}: {}", run.stderr);
        assert_eq!(
            list_files(dir.path()),
            ["in.jsonl"],
            "{bad}: something was written"
        );
    }
}

#[test]
fn unsafe_hal_id_is_refused_before_any_write() {
    for id in ["..", ".", "a/b", "a\\b"] {
        let dir = temp_dir();
        let input = dir.path().join("in.yaml");
        let bad =
            json!({ "id": id, "_links": { "self": { "href": format!("{BASE}/api/team/x") } } });
        write_file(&input, &yaml_documents(&[team(1, "Lions").value, bad]));
        let out = dir.path().join("out");
        let run = run(&[path_str(&input), path_str(&out)]);
        assert_eq!(run.code, 2, "id {id:?}: {}", run.stderr);
        assert_eq!(
            list_files(dir.path()),
            ["in.yaml"],
            "id {id:?}: something was written"
        );
    }
}

#[test]
fn parent_cycle_is_an_error_naming_its_resources() {
    let input = [
        json!({ "id": 1, "type": "alpha", "uri": "/alpha/1", "parents": ["/beta/1"] }),
        json!({ "id": 1, "type": "beta", "uri": "/beta/1", "parents": ["/alpha/1"] }),
        json!({ "id": 1, "type": "gamma", "uri": "/gamma/1" }),
    ];
    let text: String = input.iter().map(|v| format!("{v}\n")).collect();
    let dir = temp_dir();
    let out = dir.path().join("out");
    let run = run_with_stdin(&["--simple", "-", path_str(&out)], &text).expect_code(2);
    let stderr = run.stderr.to_lowercase();
    assert!(
        stderr.contains("cycle") || stderr.contains("circular"),
        "{}",
        run.stderr
    );
    for name in ["alpha/1", "beta/1"] {
        assert!(
            run.stderr.contains(name),
            "{name} not named: {}",
            run.stderr
        );
    }
    assert_nothing_written(&out);
}

#[test]
fn yaml_file_output_orders_parents_first_then_type_and_id() {
    let input = [
        json!({ "id": 2, "type": "track", "uri": "/tracks/2", "parents": ["/albums/1"] }),
        json!({ "id": 1, "type": "track", "uri": "/tracks/1", "parents": ["/albums/2"] }),
        json!({ "id": 2, "type": "album", "uri": "/albums/2" }),
        json!({ "id": 1, "type": "album", "uri": "/albums/1" }),
    ];
    let text: String = input.iter().map(|v| format!("{v}\n")).collect();
    let dir = temp_dir();
    let out = dir.path().join("out.yaml");
    run_with_stdin(&["--simple", "-", path_str(&out)], &text).ok();
    let uris: Vec<String> = read(&out)
        .lines()
        .filter_map(|line| line.strip_prefix("uri: ").map(str::to_string))
        .collect();
    assert_eq!(uris, ["/albums/1", "/albums/2", "/tracks/1", "/tracks/2"]);
}

#[test]
fn closed_stdout_exits_zero() {
    let dir = temp_dir();
    let input = dir.path().join("many.jsonl");
    // Far more than a pipe buffer holds, so the writer must meet the closed pipe.
    let lines: String = (1..=6000)
        .map(|id| format!("{}\n", json!({ "id": id, "type": "item", "uri": format!("/items/{id}"), "padding": "x".repeat(40) })))
        .collect();
    write_file(&input, &lines);
    let mut child = command(&["--simple", path_str(&input), "-"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut reader = BufReader::new(child.stdout.take().expect("stdout is piped"));
    let mut first = String::new();
    reader.read_line(&mut first).expect("a first line");
    assert_eq!(first, "---\n");
    drop(reader);
    let output = child.wait_with_output().expect("the binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "stderr:\n{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");
}
