//! Drop-in compatibility: files written by microcosm-resourcesync 2.0.0 (kept under
//! `fixtures/microcosm/`) are read back and written again byte for byte.

use std::path::Path;

use crate::util::*;

fn assert_same_tree(expected: &Path, actual: &Path) {
    assert_eq!(list_files(expected), list_files(actual), "same files");
    for file in list_files(expected) {
        assert_eq!(
            read(&expected.join(&file)),
            read(&actual.join(&file)),
            "content of {file}"
        );
    }
}

#[test]
fn yaml_file_to_directory_matches_the_original() {
    let dir = temp_dir();
    let out = dir.path().join("roster");
    run(&[
        path_str(&manifest_path("examples/roster.yaml")),
        path_str(&out),
    ])
    .ok();
    assert_same_tree(&manifest_path("fixtures/microcosm/roster-yaml"), &out);
}

#[test]
fn json_directory_matches_the_original() {
    let dir = temp_dir();
    let out = dir.path().join("roster");
    run(&[
        "-j",
        path_str(&manifest_path("examples/roster.yaml")),
        path_str(&out),
    ])
    .ok();
    assert_same_tree(&manifest_path("fixtures/microcosm/roster-json"), &out);
}

#[test]
fn original_tree_round_trips_byte_identical() {
    for tree in ["roster-yaml", "roster-json"] {
        let dir = temp_dir();
        let out = dir.path().join("copy");
        let format = if tree.ends_with("json") { "-j" } else { "-y" };
        run(&[
            format,
            path_str(&manifest_path(&format!("fixtures/microcosm/{tree}"))),
            path_str(&out),
        ])
        .ok();
        assert_same_tree(&manifest_path(&format!("fixtures/microcosm/{tree}")), &out);
    }
}

#[test]
fn directory_to_yaml_file_keeps_the_original_order() {
    let dir = temp_dir();
    let out = dir.path().join("roster.yaml");
    run(&[
        path_str(&manifest_path("fixtures/microcosm/roster-yaml")),
        path_str(&out),
    ])
    .ok();
    assert_eq!(
        read(&manifest_path("fixtures/microcosm/roster.yaml")),
        read(&out)
    );
}
