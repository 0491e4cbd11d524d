//! Pages read ahead (SPEC section 3), each read against one at `--concurrency 1`: a chain
//! whose `next` jumps past the pages guessed, the end of a chain that states no total,
//! `--max-pages`, a push's destination read, and first pages without the paging parameter.
//! HAL (the default test server) and a Django REST framework-style API through `--api`.

use std::collections::BTreeMap;

use super::profiles_read::normalized;
use crate::server::plain::{Envelope, Pagination, PlainConfig, PlainServer};
use crate::server::{seeded_server, ServerConfig, TestServer};
use crate::util::*;

/// The concurrency the reads ahead run at: their window grows to 16 pages.
const AHEAD: usize = 16;

// --- helpers -------------------------------------------------------------------------------

/// A server whose request log a read is checked against.
trait Logged {
    /// The GETs logged, path and query normalized, in log order.
    fn gets(&self) -> Vec<String>;
    fn clear(&self);
}

impl Logged for TestServer {
    fn gets(&self) -> Vec<String> {
        self.requests()
            .iter()
            .filter(|request| request.method == "GET")
            .map(|request| normalized(&request.path_and_query))
            .collect()
    }

    fn clear(&self) {
        self.clear_log();
    }
}

impl Logged for PlainServer {
    fn gets(&self) -> Vec<String> {
        self.paths("GET")
            .iter()
            .map(|get| normalized(get))
            .collect()
    }

    fn clear(&self) {
        self.clear_log();
    }
}

/// One run of the binary at a concurrency into a fresh directory.
struct Read {
    concurrency: usize,
    run: Run,
    /// What it wrote (empty when it wrote nothing).
    files: BTreeMap<String, Vec<u8>>,
    /// The server's GETs during the run.
    gets: Vec<String>,
}

/// `resource-sync --concurrency C ARGS... OUT` against `server` (log cleared first),
/// expecting exit `code`.
fn read_at(server: &impl Logged, concurrency: usize, args: &[&str], code: i32) -> Read {
    server.clear();
    let dir = temp_dir();
    let out = dir.path().join("out");
    let concurrency_text = concurrency.to_string();
    let mut all = vec!["--concurrency", &concurrency_text];
    all.extend_from_slice(args);
    all.push(path_str(&out));
    let run = run(&all).expect_code(code);
    let files = match out.exists() {
        true => file_contents(&out),
        false => BTreeMap::new(),
    };
    Read {
        concurrency,
        run,
        files,
        gets: server.gets(),
    }
}

/// The read one page at a time (`--concurrency 1`) and the read ahead (`AHEAD`), which
/// must both succeed without a warning and write the same files, byte for byte.
fn reads_alike(server: &impl Logged, args: &[&str]) -> (Read, Read) {
    let one = read_at(server, 1, args, 0);
    let ahead = read_at(server, AHEAD, args, 0);
    for read in [&one, &ahead] {
        assert!(
            !read.run.stderr.contains("warning"),
            "--concurrency {}: {}",
            read.concurrency,
            read.run.stderr
        );
    }
    assert!(!one.files.is_empty(), "{}", one.run.stderr);
    assert_eq!(
        one.files.keys().collect::<Vec<_>>(),
        ahead.files.keys().collect::<Vec<_>>(),
        "{}",
        ahead.run.stderr
    );
    assert!(one.files == ahead.files, "the same files, different bytes");
    (one, ahead)
}

/// Every page of `reached` (the pages a read one at a time fetches) was fetched, every URL
/// at most once, and the pages fetched on a guess that no page named are at most the
/// read's concurrency, none `past_total`. Returns those guesses.
fn assert_chain_read(
    read: &Read,
    reached: &[String],
    past_total: impl Fn(&str) -> bool,
) -> Vec<String> {
    let context = format!("--concurrency {}: {:?}", read.concurrency, read.gets);
    assert_all_distinct(&read.gets, "a GET");
    for page in reached {
        assert!(read.gets.contains(page), "{page} not read; {context}");
    }
    let guessed: Vec<String> = read
        .gets
        .iter()
        .filter(|get| !reached.contains(get))
        .cloned()
        .collect();
    assert!(
        guessed.len() <= read.concurrency,
        "{} pages guessed past the chain; {context}",
        guessed.len()
    );
    let past: Vec<&String> = guessed.iter().filter(|get| past_total(get)).collect();
    assert!(past.is_empty(), "{past:?} past the stated total; {context}");
    guessed
}

/// The value of query parameter `name` in a GET's path and query.
fn param(get: &str, name: &str) -> Option<usize> {
    let (_, query) = get.split_once('?')?;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .and_then(|(_, value)| value.parse().ok())
}

// HAL: players of one team at /api/player, pages of 10 asked with `-l 10`.

/// A HAL server holding one team and `players` players (and a stat each).
fn hal_players(players: usize, tweak: impl FnOnce(&mut ServerConfig)) -> TestServer {
    let mut config = ServerConfig::default();
    tweak(&mut config);
    seeded_server(config, 1, players)
}

/// The arguments of a pull of the players, pages of 10.
fn hal_args(server: &TestServer) -> Vec<String> {
    vec!["-l".into(), "10".into(), server.url("/api/player")]
}

/// The pages of /api/player a read one page at a time fetches: the start URL, `?offset=0`
/// (the second page's `prev`) and `offsets`.
fn hal_pages(offsets: impl IntoIterator<Item = usize>) -> Vec<String> {
    let pages = offsets.into_iter().chain([0]);
    let pages = pages.map(|offset| format!("/api/player?offset={offset}"));
    std::iter::once("/api/player".to_string())
        .chain(pages)
        .collect()
}

/// Whether a GET asks for players at or past `count` (what the pages state).
fn hal_past(count: usize) -> impl Fn(&str) -> bool {
    move |get| param(get, "offset").is_some_and(|offset| offset >= count)
}

// Django REST framework: `?page=N` from 1 (absent on the first page), `count`, the next
// page's URL in `next`, members under `results`; 2 players a page (`-l 2` as `page_size`).

const DRF_PROFILE: &str =
    "records: results\nnext: body:next\nsize: page_size\ntypes:\n  player:\n    path: players/\n";

/// A Django REST framework-style API holding `players` players (one team each).
fn drf_players(players: usize, tweak: impl FnOnce(&mut PlainConfig)) -> PlainServer {
    let pagination = Pagination::BodyNext { object_href: false };
    let mut config = PlainConfig::new(Envelope::Results, pagination).seeded(players, 1);
    config.size_param = Some("page_size".to_string());
    tweak(&mut config);
    PlainServer::start(config)
}

/// The profile in a new temporary directory (kept alive by the caller) and the arguments
/// of a pull of `server` with it, pages of 2.
fn profile_args(server: &PlainServer, profile: &str) -> (tempfile::TempDir, Vec<String>) {
    let dir = temp_dir();
    let path = dir.path().join("profile.yaml");
    write_file(&path, profile);
    let args = vec![
        "--api".to_string(),
        path_str(&path).to_string(),
        "-l".to_string(),
        "2".to_string(),
        server.url("/api"),
    ];
    (dir, args)
}

/// The GETs of pages `numbers` of /api/players/ (page 1 without the parameter).
fn drf_pages(numbers: impl IntoIterator<Item = usize>) -> Vec<String> {
    numbers
        .into_iter()
        .map(|number| match number {
            1 => normalized("/api/players/?page_size=2"),
            n => normalized(&format!("/api/players/?page={n}&page_size=2")),
        })
        .collect()
}

/// Whether a GET asks for a page past the last of `pages`.
fn drf_past(pages: usize) -> impl Fn(&str) -> bool {
    move |get| param(get, "page").is_some_and(|page| page > pages)
}

/// Player files `player/{id}.yaml` for `ids`, sorted as `list_files` sorts.
fn player_files(ids: impl IntoIterator<Item = usize>) -> Vec<String> {
    let mut files: Vec<String> = ids
        .into_iter()
        .map(|id| format!("player/{id}.yaml"))
        .collect();
    files.sort();
    files
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

// --- 1. a chain whose guess fails half-way -------------------------------------------------

/// 300 players in pages of 10 whose page at offset `from` links the one at `to` next: the
/// pages between may be guessed, never handed on. Returns the pages guessed past the chain.
fn hal_chain_jumping(from: usize, to: usize) -> Vec<String> {
    let server = hal_players(300, |config| config.next_jump = Some((from, to)));
    let args = hal_args(&server);
    let (one, ahead) = reads_alike(&server, &strs(&args));
    assert_eq!(
        ahead.files.len(),
        from + 10 + 300 - to,
        "{}",
        ahead.run.stderr
    );
    assert_eq!(summary(&ahead.run.stderr).read, ahead.files.len());
    let reached = hal_pages((10..=from).step_by(10).chain((to..300).step_by(10)));
    assert_chain_read(&one, &reached, hal_past(300));
    assert_chain_read(&ahead, &reached, hal_past(300))
}

#[test]
fn hal_chain_jumping_half_way_reads_what_one_page_at_a_time_reads() {
    let guessed = hal_chain_jumping(50, 200);
    // Pages after the jump's start were guessed (so the test tests something).
    assert!(
        guessed.contains(&"/api/player?offset=60".to_string()),
        "{guessed:?}"
    );
}

#[test]
fn hal_chain_jumping_from_its_second_page_reads_what_one_page_at_a_time_reads() {
    // The second page's step is the jump itself (10 -> 150): its guesses step by 140.
    hal_chain_jumping(10, 150);
}

/// 40 players, 2 a page (20 pages); page `from` links page `to` next. Returns the pages
/// guessed past the chain.
fn drf_chain_jumping(from: usize, to: usize) -> Vec<String> {
    let server = drf_players(40, |config| config.next_jump = Some((from - 1, to - 1)));
    let (_dir, args) = profile_args(&server, DRF_PROFILE);
    let (one, ahead) = reads_alike(&server, &strs(&args));
    let ids = (1..=2 * from).chain(2 * to - 1..=40);
    assert_eq!(
        list_files_of(&ahead),
        player_files(ids),
        "{}",
        ahead.run.stderr
    );
    let reached = drf_pages((1..=from).chain(to..=20));
    assert_chain_read(&one, &reached, drf_past(20));
    assert_chain_read(&ahead, &reached, drf_past(20))
}

fn list_files_of(read: &Read) -> Vec<String> {
    read.files.keys().cloned().collect()
}

#[test]
fn drf_chain_jumping_from_page_4_to_page_7_reads_what_one_page_at_a_time_reads() {
    let guessed = drf_chain_jumping(4, 7);
    assert!(guessed.contains(&drf_pages([5])[0]), "{guessed:?}");
}

#[test]
fn drf_chain_jumping_from_its_second_page_reads_what_one_page_at_a_time_reads() {
    // The second page's step is the jump itself (page 2 -> 5): its guesses step by 3,
    // and still none past the 20 pages that `count` states.
    drf_chain_jumping(2, 5);
}

// --- 2. the end of a chain that states no total --------------------------------------------

/// 35 players in pages of 10, no `count`: pages past the end are guessed (empty or 404),
/// and none of them is a warning.
fn hal_end_without_total(past_end_404: bool) {
    let server = hal_players(35, |config| {
        config.no_count = true;
        config.past_end_404 = past_end_404;
    });
    let args = hal_args(&server);
    let (one, ahead) = reads_alike(&server, &strs(&args));
    assert_eq!(list_files_of(&ahead), player_files(1..=35));
    let reached = hal_pages([10, 20, 30]);
    assert_chain_read(&one, &reached, |_| false);
    let guessed = assert_chain_read(&ahead, &reached, |_| false);
    // A page past the end was asked for (so the test tests something), and answered so.
    assert!(guessed.iter().any(|get| hal_past(35)(get)), "{guessed:?}");
    let status = if past_end_404 { 404 } else { 200 };
    let past: Vec<u16> = server
        .requests()
        .iter()
        .filter(|request| hal_past(35)(&request.path_and_query))
        .map(|request| request.status)
        .collect();
    assert!(past.iter().all(|answer| *answer == status), "{past:?}");
}

#[test]
fn hal_empty_page_past_the_end_of_a_chain_without_total_is_no_warning() {
    hal_end_without_total(false);
}

#[test]
fn hal_404_past_the_end_of_a_chain_without_total_is_no_warning() {
    hal_end_without_total(true);
}

/// A profile's `offset:` rule on a bare JSON array (no total): 10 players, 2 a page; the
/// rule's own chain ends on the page past the end, the guesses go further.
fn offset_end_without_total(past_end_404: bool) {
    let mut config = PlainConfig::new(Envelope::Bare, Pagination::offset("offset")).seeded(10, 1);
    config.size_param = Some("page_size".to_string());
    config.offset_past_end_404 = past_end_404;
    let server = PlainServer::start(config);
    let profile = "records: \"\"\nnext: offset:offset\nsize: page_size\ntypes:\n  player:\n    path: players/\n";
    let (_dir, args) = profile_args(&server, profile);
    let (one, ahead) = reads_alike(&server, &strs(&args));
    assert_eq!(list_files_of(&ahead), player_files(1..=10));
    let page = |offset: usize| normalized(&format!("/api/players/?offset={offset}&page_size=2"));
    let reached: Vec<String> = (0..=10).step_by(2).map(page).collect();
    assert_chain_read(&one, &reached, |_| false);
    let guessed = assert_chain_read(&ahead, &reached, |_| false);
    assert!(guessed.contains(&page(12)), "{:?}", ahead.gets);
}

#[test]
fn profile_empty_page_past_the_end_of_an_offset_chain_without_total_is_no_warning() {
    offset_end_without_total(false);
}

#[test]
fn profile_404_past_the_end_of_an_offset_chain_without_total_is_no_warning() {
    offset_end_without_total(true);
}

// --- 3. --max-pages ------------------------------------------------------------------------

/// With `--max-pages` below `pages` (the pages a read one at a time fetches) the read fails
/// naming `url` and writes nothing, at `--concurrency 1` and read ahead alike, with the
/// same message; with `pages` it succeeds at both. Returns the successful read ahead.
fn assert_max_pages_counts_the_same(
    server: &impl Logged,
    args: &[&str],
    pages: usize,
    url: &str,
) -> Read {
    let mut messages = Vec::new();
    let mut succeeded = Vec::new();
    for concurrency in [1, AHEAD] {
        for max in [1, pages - 1] {
            let max_text = max.to_string();
            let mut all = vec!["--max-pages", &max_text];
            all.extend_from_slice(args);
            let read = read_at(server, concurrency, &all, 1);
            let stderr = &read.run.stderr;
            let context = format!("--max-pages {max} --concurrency {concurrency}: {stderr}");
            assert!(stderr.contains(url), "{context}");
            assert!(stderr.contains("--max-pages"), "{context}");
            assert!(read.files.is_empty(), "{context}");
            let error: Vec<&str> = stderr.lines().filter(|l| l.contains("error:")).collect();
            assert_eq!(error.len(), 1, "{context}");
            messages.push((max, concurrency, error[0].to_string()));
        }
        let max_text = pages.to_string();
        let mut all = vec!["--max-pages", &max_text];
        all.extend_from_slice(args);
        succeeded.push(read_at(server, concurrency, &all, 0));
    }
    for (max, concurrency, message) in &messages {
        let (_, _, one) = messages
            .iter()
            .find(|(other, c, _)| other == max && *c == 1)
            .expect("the same limit at --concurrency 1");
        assert_eq!(
            message, one,
            "--max-pages {max} --concurrency {concurrency}"
        );
    }
    let ahead = succeeded.pop().expect("the read ahead");
    assert_eq!(succeeded[0].files, ahead.files);
    ahead
}

#[test]
fn hal_max_pages_counts_the_same_read_ahead() {
    // 50 players, pages of 10: the start, offsets 10 to 40 and `?offset=0` (a `prev`), 6
    // pages; no total stated, so pages past the end are guessed too, and not counted.
    let server = hal_players(50, |config| config.no_count = true);
    let args = hal_args(&server);
    let url = server.url("/api/player");
    let ahead = assert_max_pages_counts_the_same(&server, &strs(&args), 6, &url);
    assert!(ahead.gets.len() > 6, "nothing read ahead: {:?}", ahead.gets);
}

#[test]
fn profile_max_pages_counts_the_same_read_ahead() {
    // 40 players, 2 a page: 20 pages, the last one's `next` null.
    let server = drf_players(40, |_| {});
    let (_dir, args) = profile_args(&server, DRF_PROFILE);
    let url = server.url("/api/players/");
    let ahead = assert_max_pages_counts_the_same(&server, &strs(&args), 20, &url);
    assert_eq!(ahead.files.len(), 40);
}

// --- 4. a push's destination read ----------------------------------------------------------

/// What a destination stores, its own base URL taken out of the hrefs.
fn stored(server: &TestServer) -> String {
    serde_json::to_string(&server.resources())
        .expect("JSON")
        .replace(&server.base_url(), "")
}

#[test]
fn push_reads_its_destination_ahead_and_decides_as_one_page_at_a_time() {
    // 95 players in pages of 10 at the destination; the origin tree edits 5 of them.
    let origin_server = hal_players(95, |_| {});
    let dir = temp_dir();
    let origin = dir.path().join("origin");
    run(&[&origin_server.url("/api/player"), path_str(&origin)]).ok();
    for id in [3, 17, 42, 66, 91] {
        let file = origin.join(format!("player/{id}.yaml"));
        let text = read(&file);
        let edited = text.replace(&format!("Player {id}\n"), &format!("Renamed {id}\n"));
        assert_ne!(text, edited, "{text}");
        write_file(&file, &edited);
    }
    // Read ahead, the page at offset 50 is answered only once the one at 60 has been: the
    // log then shows 60 first, which a read one page at a time cannot do.
    let held = (
        "/api/player?offset=50".to_string(),
        "/api/player?offset=60".to_string(),
    );
    let ahead = hal_players(95, |config| config.hold_page = Some(held.clone()));
    let one = hal_players(95, |_| {});
    let push = |server: &TestServer, concurrency: usize| {
        let concurrency = concurrency.to_string();
        let destination = server.url("/api");
        let args = ["--concurrency", &concurrency, "-l", "10", "--verify"];
        let mut args = args.to_vec();
        args.extend([path_str(&origin), &destination]);
        run(&args).ok()
    };
    let pushed_ahead = push(&ahead, AHEAD);
    let pushed_one = push(&one, 1);
    let counts = summary(&pushed_ahead.stderr);
    assert_eq!(
        counts,
        summary(&pushed_one.stderr),
        "{}",
        pushed_ahead.stderr
    );
    assert_eq!(
        (counts.updated, counts.unchanged),
        (5, 90),
        "{}",
        pushed_ahead.stderr
    );
    let puts = |server: &TestServer| {
        let mut puts: Vec<String> = server
            .requests()
            .into_iter()
            .filter(|request| request.method == "PUT")
            .map(|request| request.path_and_query)
            .collect();
        puts.sort();
        puts
    };
    assert_eq!(puts(&ahead), puts(&one));
    assert_eq!(puts(&ahead).len(), 5);
    assert_eq!(stored(&ahead), stored(&one));

    // Each page of the destination's players read once by the comparison and once by
    // --verify; the page at 60 asked for before the page at 50 was answered.
    let gets = ahead.gets();
    let pages = hal_pages((10..=90).step_by(10));
    for page in &pages {
        let times = gets.iter().filter(|get| *get == page).count();
        assert_eq!(times, 2, "{page}: {gets:?}");
    }
    let position = |page: &str| gets.iter().position(|get| get == page).expect(page);
    assert!(
        position(&held.1) < position(&held.0),
        "not read ahead: {gets:?}"
    );
    // The pages state their total: nothing past it asked for.
    let mut players = gets.iter().filter(|get| get.starts_with("/api/player"));
    assert!(players.all(|get| pages.contains(get)), "{gets:?}");
}

// --- 5. a first page without the paging parameter ------------------------------------------

#[test]
fn hal_first_page_without_the_offset_parameter() {
    // /api/player, then ?offset=10 and ?offset=20: the step shows only on the second page
    // (or, where the step is guessed from the first page's members, on the first).
    let server = hal_players(25, |_| {});
    let args = hal_args(&server);
    let (one, ahead) = reads_alike(&server, &strs(&args));
    assert_eq!(list_files_of(&ahead), player_files(1..=25));
    let reached = hal_pages([10, 20]);
    assert_chain_read(&one, &reached, hal_past(25));
    assert_chain_read(&ahead, &reached, hal_past(25));
}

#[test]
fn drf_first_page_without_the_page_parameter() {
    // ?page_size=2, then ?page=2 and ?page=3.
    let server = drf_players(6, |_| {});
    let (_dir, args) = profile_args(&server, DRF_PROFILE);
    let (one, ahead) = reads_alike(&server, &strs(&args));
    assert_eq!(list_files_of(&ahead), player_files(1..=6));
    let reached = drf_pages(1..=3);
    assert_chain_read(&one, &reached, drf_past(3));
    assert_chain_read(&ahead, &reached, drf_past(3));
}
