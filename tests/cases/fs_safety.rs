//! Nothing written outside the tree, nothing left behind (SPEC sections 3-5): symbolic
//! links in directory origins and destinations, SIGTERM handled as Ctrl-C is, and the
//! staging folder of a run killed outright removed by the next run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use crate::server::{seeded_server, Fault, ServerConfig, TestServer};
use crate::util::*;

/// Bounds a run that should stop at once; far below the held request it must not wait for.
const STOP_LIMIT: Duration = Duration::from_secs(20);

/// The request a run is stuck on while a test signals it: longer than `STOP_LIMIT`.
const HELD: Duration = Duration::from_secs(90);

const STAGING_PREFIX: &str = ".resource-sync-staging-";

fn symlink(target: impl AsRef<Path>, link: impl AsRef<Path>) {
    let (target, link) = (target.as_ref(), link.as_ref());
    std::os::unix::fs::symlink(target, link).unwrap_or_else(|error| {
        panic!(
            "linking {} to {}: {error}",
            link.display(),
            target.display()
        )
    });
}

/// A folder outside every destination, holding a file a write through a link would
/// replace (`1.yaml`, as team 1's file) and one it would not.
fn outside_folder(dir: &Path) -> PathBuf {
    let outside = dir.join("outside");
    write_file(
        &outside.join("1.yaml"),
        "not a resource: the user's own file\n",
    );
    write_file(&outside.join("notes.txt"), "kept\n");
    outside
}

/// Two teams of two players, each with a stat: 10 resources.
fn small_server() -> TestServer {
    seeded_server(ServerConfig::default(), 2, 2)
}

/// `resource-sync [extra...] -c -l 50 <server>/api <dest>`: a pull of everything.
fn pull(server: &TestServer, dest: &Path, extra: &[&str]) -> Run {
    let start = server.url("/api");
    let mut args = extra.to_vec();
    args.extend(["-c", "-l", "50", &start, path_str(dest)]);
    run(&args)
}

/// The run stopped with exit 2 before writing, naming `link`, and left `outside` and the
/// destination as they were.
fn assert_refused_naming(
    run: &Run,
    link: &Path,
    (outside, before_outside): (&Path, &BTreeMap<String, Vec<u8>>),
    (dest, before_dest): (&Path, &[String]),
) {
    assert_eq!(run.code, 2, "a link in the way is exit 2\n{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("{} is a symbolic link", link.display())),
        "the error names the link {}:\n{}",
        link.display(),
        run.stderr
    );
    assert_eq!(
        &file_contents(outside),
        before_outside,
        "the folder outside the destination was changed"
    );
    assert_eq!(
        entries_below(dest),
        before_dest,
        "the destination was changed"
    );
    assert!(
        std::fs::symlink_metadata(link).is_ok_and(|meta| meta.file_type().is_symlink()),
        "{} is still the user's link",
        link.display()
    );
}

/// Every entry below `root` without following links (folders, files, links), sorted.
fn entries_below(root: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("a readable folder") {
            let entry = entry.expect("a folder entry");
            let path = entry.path();
            let relative = path.strip_prefix(root).expect("below root");
            let kind = entry.file_type().expect("a file type");
            out.push(match kind.is_symlink() {
                true => format!("{} -> link", relative.display()),
                false => relative.display().to_string(),
            });
            if kind.is_dir() {
                walk(root, &path, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

/// DEST/team is a link to a folder outside: a pull, `--rm` and `--dry-run` all stop before
/// any write, naming it, and nothing outside is created, changed or removed (a pull used
/// to write team files there, and report them created on every run).
#[test]
fn a_linked_type_folder_stops_the_run_naming_it() {
    let server = small_server();
    let dir = temp_dir();
    let outside = outside_folder(dir.path());
    let dest = dir.path().join("dest");
    write_file(&dest.join("README.md"), "the user's tree\n");
    let link = dest.join("team");
    symlink(&outside, &link);
    let before_outside = file_contents(&outside);
    let before_dest = entries_below(&dest);

    for extra in [&[][..], &["--rm"], &["--dry-run"], &["--rm", "--dry-run"]] {
        let run = pull(&server, &dest, extra);
        assert_refused_naming(
            &run,
            &link,
            (&outside, &before_outside),
            (&dest, &before_dest),
        );
        assert!(run.stdout.is_empty(), "{extra:?} planned: {}", run.stdout);
    }
}

/// DEST/team/1.yaml is a link to a file outside: refused the same way, in every mode.
#[test]
fn a_linked_resource_file_stops_the_run_naming_it() {
    let server = small_server();
    let dir = temp_dir();
    let outside = outside_folder(dir.path());
    let dest = dir.path().join("dest");
    pull(&server, &dest, &[]).ok();
    let link = dest.join("team").join("1.yaml");
    std::fs::remove_file(&link).expect("team 1's file was written");
    symlink(outside.join("1.yaml"), &link);
    let before_outside = file_contents(&outside);
    let before_dest = entries_below(&dest);

    for extra in [&[][..], &["--rm"], &["--dry-run"]] {
        let run = pull(&server, &dest, extra);
        assert_refused_naming(
            &run,
            &link,
            (&outside, &before_outside),
            (&dest, &before_dest),
        );
    }
}

/// `--rm` removes resource files in any folder below DEST: a linked folder of a type the
/// origins do not hold is refused with `--rm`; without it the link is not in the way.
#[test]
fn rm_refuses_a_linked_folder_whatever_its_type() {
    let server = small_server();
    let dir = temp_dir();
    let outside = outside_folder(dir.path());
    write_file(&outside.join("7.yaml"), "id: 7\n");
    let dest = dir.path().join("dest");
    pull(&server, &dest, &[]).ok();
    let link = dest.join("legacy");
    symlink(&outside, &link);
    let before_outside = file_contents(&outside);
    let before_dest = entries_below(&dest);

    for extra in [&["--rm"][..], &["--rm", "--dry-run"]] {
        let run = pull(&server, &dest, extra);
        assert_refused_naming(
            &run,
            &link,
            (&outside, &before_outside),
            (&dest, &before_dest),
        );
    }

    let run = pull(&server, &dest, &[]).ok();
    assert_eq!(summary(&run.stderr).unchanged, 10, "{}", run.stderr);
    assert_eq!(file_contents(&outside), before_outside);
    assert_eq!(entries_below(&dest), before_dest);
}

/// DEST itself may be a link the user chose: written through like a folder, and a second
/// run finds every file unchanged.
#[test]
fn a_destination_that_is_itself_a_link_is_written_normally() {
    let server = small_server();
    let dir = temp_dir();
    let real = dir.path().join("real");
    std::fs::create_dir(&real).expect("a folder");
    let dest = dir.path().join("dest");
    symlink(&real, &dest);

    let first = pull(&server, &dest, &[]).ok();
    assert_eq!(summary(&first.stderr).created, 10, "{}", first.stderr);
    assert_eq!(list_files(&real).len(), 10, "{:?}", list_files(&real));
    assert!(list_files(&real).contains(&"team/1.yaml".to_string()));
    let second = pull(&server, &dest, &["--rm"]).ok();
    assert_eq!(summary(&second.stderr).unchanged, 10, "{}", second.stderr);
    assert!(
        std::fs::symlink_metadata(&dest).is_ok_and(|meta| meta.file_type().is_symlink()),
        "the destination is still a link"
    );
}

/// An origin's linked file and linked folder are not followed: each is skipped with a
/// warning naming it; a link where nothing would be read (a README, a dot-entry) is quiet.
#[test]
fn links_in_a_directory_origin_are_skipped_with_a_warning_naming_each() {
    let dir = temp_dir();
    let base = "http://h";
    let team = |id| hal_resource(base, "team", id, serde_json::json!({}), &[]);
    let origin = dir.path().join("origin");
    let elsewhere = dir.path().join("elsewhere");
    write_file(&origin.join("team/1.yaml"), &yaml_documents(&[team(1)]));
    write_file(&elsewhere.join("team/2.yaml"), &yaml_documents(&[team(2)]));
    write_file(&elsewhere.join("3.yaml"), &yaml_documents(&[team(3)]));
    write_file(&elsewhere.join("README.md"), "docs\n");
    let linked_file = origin.join("team/2.yaml");
    let linked_folder = origin.join("more");
    symlink(elsewhere.join("team/2.yaml"), &linked_file);
    symlink(&elsewhere, &linked_folder);
    symlink(elsewhere.join("README.md"), origin.join("README.md"));
    symlink(&elsewhere, origin.join(".hidden"));
    let dest = dir.path().join("dest");

    let run = run(&[path_str(&origin), path_str(&dest)]).ok();
    assert_eq!(list_files(&dest), ["team/1.yaml"]);
    assert_eq!(summary(&run.stderr).read, 1, "{}", run.stderr);
    let warnings: Vec<&str> = run
        .stderr
        .lines()
        .filter(|line| line.contains("warning"))
        .collect();
    assert_eq!(
        warnings,
        [
            format!(
                "resource-sync: warning: skipping {}: a symbolic link (links are not followed)",
                linked_folder.display()
            ),
            format!(
                "resource-sync: warning: skipping {}: a symbolic link (links are not followed)",
                linked_file.display()
            ),
        ],
        "{}",
        run.stderr
    );
}

/// A server of 600 players (with their team and stats) whose second request waits `HELD`:
/// a pull of `/api/player` in pages of 500 stages its first page (a batch for every writer
/// thread) and then waits, still reading, for as long as the test needs.
fn server_holding_the_second_page() -> TestServer {
    let server = seeded_server(ServerConfig::default(), 1, 600);
    server.inject_next(1, Fault::Delay(Duration::ZERO));
    server.inject_next(1, Fault::Delay(HELD));
    server
}

fn pull_players(server: &TestServer, dest: &Path) -> std::process::Command {
    command(&["-l", "500", &server.url("/api/player"), path_str(dest)])
}

/// A destination that already holds the user's own entries, so a run stages (rather than
/// writing in place) and there is something that must be left alone.
fn user_tree(dest: &Path) {
    write_file(&dest.join("notes.txt"), "the user's notes\n");
    write_file(&dest.join(".keep"), "");
    write_file(&dest.join(".git/HEAD"), "ref: refs/heads/main\n");
}

/// The staging folders in `dest`, by name.
fn staging_folders(dest: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dest)
        .expect("a readable destination")
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(STAGING_PREFIX))
        .collect();
    names.sort();
    names
}

/// Waits until the run has staged a file in `dest` (it is reading, and has something to
/// lose), failing if it ends or takes too long first.
fn wait_until_staged(child: &mut Child, dest: &Path) {
    let staging = dest.join(format!("{STAGING_PREFIX}{}", child.id()));
    let started = Instant::now();
    while !has_file_below(&staging) {
        assert!(
            child.try_wait().expect("waiting for the run").is_none(),
            "the run ended before staging anything"
        );
        assert!(
            started.elapsed() < STOP_LIMIT,
            "nothing staged in {}",
            staging.display()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn has_file_below(folder: &Path) -> bool {
    folder.is_dir() && !list_files(folder).is_empty()
}

fn send(signal: &str, child: &Child) {
    let pid = child.id().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-s", signal, &pid])
        .status()
        .expect("kill runs");
    assert!(sent.success(), "kill -s {signal} {pid} failed");
}

/// SIGTERM (what CI cancellation and `timeout` send) while a pull is reading ends it as
/// Ctrl-C does: exit 143 at once (not after the held request), the staging folder removed,
/// and the destination holding exactly what the user had.
#[test]
fn sigterm_during_a_pull_exits_143_and_leaves_the_destination_as_it_was() {
    let server = server_holding_the_second_page();
    let dir = temp_dir();
    let dest = dir.path().join("dest");
    user_tree(&dest);
    let before = file_contents(&dest);

    let mut child = spawn_command(pull_players(&server, &dest));
    wait_until_staged(&mut child, &dest);
    send("TERM", &child);
    let stopped = wait_for(child, STOP_LIMIT);

    assert_eq!(stopped.code, 143, "SIGTERM exits 143\n{}", stopped.stderr);
    assert!(stopped.stderr.contains("SIGTERM"), "{}", stopped.stderr);
    assert_eq!(staging_folders(&dest), Vec::<String>::new());
    assert_eq!(file_contents(&dest), before, "the destination was changed");
}

/// A pull into a folder it creates, stopped by SIGTERM: the folder is removed whole.
#[test]
fn sigterm_during_a_first_pull_removes_the_folder_it_made() {
    let server = server_holding_the_second_page();
    let dir = temp_dir();
    let dest = dir.path().join("dest");

    let mut child = spawn_command(pull_players(&server, &dest));
    let started = Instant::now();
    while !has_file_below(&dest) {
        assert!(started.elapsed() < STOP_LIMIT, "nothing written in place");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(
        child.try_wait().expect("waiting").is_none(),
        "the run ended"
    );
    send("TERM", &child);
    let stopped = wait_for(child, STOP_LIMIT);

    assert_eq!(stopped.code, 143, "SIGTERM exits 143\n{}", stopped.stderr);
    assert!(!dest.exists(), "left behind: {:?}", list_files(&dest));
}

/// SIGTERM during a push while the API's replies are held: exit 143, no new write started,
/// and every create in flight recorded in the id map (a resumed run duplicates nothing).
#[test]
fn sigterm_during_a_push_records_the_writes_in_flight() {
    super::clone::a_clone_stopped_by("TERM", 143);
}

/// A run killed outright (SIGKILL) leaves its staging folder; the next run into the
/// directory removes it, says so, and touches nothing else: the user's dot-entries, a
/// folder merely named like one, and the staging folder of a run still going stay.
#[test]
fn a_staging_folder_left_by_a_killed_run_is_removed_by_the_next_run() {
    let server = server_holding_the_second_page();
    let dir = temp_dir();
    let dest = dir.path().join("dest");
    user_tree(&dest);
    // This test's own process stands for a run still going.
    let live = format!("{STAGING_PREFIX}{}", std::process::id());
    write_file(&dest.join(&live).join("0/1"), "staged by a live run\n");
    write_file(&dest.join(format!("{STAGING_PREFIX}notes/1")), "mine\n");

    let mut child = spawn_command(pull_players(&server, &dest));
    let killed = format!("{STAGING_PREFIX}{}", child.id());
    wait_until_staged(&mut child, &dest);
    send("KILL", &child);
    let stopped = wait_for(child, STOP_LIMIT);
    assert_eq!(stopped.code, -1, "killed by a signal: {stopped:?}");
    assert!(
        has_file_below(&dest.join(&killed)),
        "SIGKILL left no staging to clean up: {:?}",
        staging_folders(&dest)
    );
    let mut before = file_contents(&dest);
    before.retain(|path, _| !path.starts_with(&killed));

    let rerun = run_command(pull_players(&server, &dest)).ok();
    let removed = format!(
        "resource-sync: removed {} left by an interrupted run",
        dest.join(&killed).display()
    );
    assert!(
        rerun.stderr.lines().any(|line| line == removed),
        "expected {removed:?} on stderr:\n{}",
        rerun.stderr
    );
    assert_eq!(summary(&rerun.stderr).created, 600, "{}", rerun.stderr);
    assert!(
        !dest.join(&killed).exists(),
        "the killed run's staging is left"
    );
    let mut after = file_contents(&dest);
    after.retain(|path, _| !path.starts_with("player/"));
    assert_eq!(
        after, before,
        "entries besides the stale staging were touched"
    );
}

/// SIGTERM during a copy (resources piped in on stdin, into a directory): the run stops at
/// once with exit 143, its staging removed and the user's tree as it was, though the input
/// never ended.
#[test]
fn sigterm_during_a_copy_exits_143_and_leaves_the_destination_as_it_was() {
    use std::io::Write as _;
    let dir = temp_dir();
    let dest = dir.path().join("dest");
    user_tree(&dest);
    let before = file_contents(&dest);
    let mut copy = command(&["-", path_str(&dest)]);
    copy.stdin(std::process::Stdio::piped());
    let mut child = spawn_command(copy);
    let mut input = child.stdin.take().expect("a piped stdin");
    for id in 1..=200 {
        let document = format!(
            "---\nid: {id}\nname: Player {id}\n_links:\n  self:\n    href: http://h/api/player/{id}\n"
        );
        input.write_all(document.as_bytes()).expect("the run reads");
    }
    input.flush().expect("the run reads");
    // The input is still open: the run is reading once its staging folder is made.
    let staging = dest.join(format!("{STAGING_PREFIX}{}", child.id()));
    let started = Instant::now();
    while !staging.is_dir() {
        assert!(
            child.try_wait().expect("waiting").is_none(),
            "the copy ended"
        );
        assert!(started.elapsed() < STOP_LIMIT, "no staging folder was made");
        std::thread::sleep(Duration::from_millis(5));
    }
    send("TERM", &child);
    let stopped = wait_for(child, STOP_LIMIT);
    drop(input);
    assert_eq!(stopped.code, 143, "{stopped:?}");
    assert!(
        staging_folders(&dest).is_empty(),
        "{:?}",
        staging_folders(&dest)
    );
    assert_eq!(file_contents(&dest), before);
}
