//! Helpers shared by `profiles_read.rs` and `profiles_write.rs`.

use std::path::Path;

use serde_json::{json, Value};

use crate::server::plain::PlainServer;
use crate::util::*;

/// json-server members: posts 1..=`posts` titled `Post {id}`, and `per_post` comments
/// (ids 1.., `Comment {id}`, `postId` their post) on each of the first `commented` posts.
pub fn posts_and_comments(posts: u64, commented: u64, per_post: u64) -> (Vec<Value>, Vec<Value>) {
    let posts = (1..=posts)
        .map(|id| json!({"id": id, "title": format!("Post {id}")}))
        .collect();
    let comments = (1..=commented * per_post)
        .map(|id| {
            json!({"id": id, "postId": (id - 1) / per_post + 1, "body": format!("Comment {id}")})
        })
        .collect();
    (posts, comments)
}

/// Writes a json-server database of `posts` and `comments` to `db`, with `teams` empty (only
/// for the harness's readiness probe).
pub fn write_posts_db(db: &Path, posts: &[Value], comments: &[Value]) {
    write_file(
        db,
        &json!({"teams": [], "posts": posts, "comments": comments}).to_string(),
    );
}

/// `{prefix}{type}/{id}{suffix}` of each seeded member of the plain server (3 teams, 2
/// players each, one stat a player) with the type names `[team, player, stat]`, sorted.
pub fn seeded_paths(prefix: &str, [team, player, stat]: [&str; 3], suffix: &str) -> Vec<String> {
    let mut paths: Vec<String> = Vec::new();
    for id in 1..=6 {
        paths.push(format!("{prefix}{player}/{id}{suffix}"));
        paths.push(format!("{prefix}{stat}/{id}{suffix}"));
    }
    paths.extend((1..=3).map(|id| format!("{prefix}{team}/{id}{suffix}")));
    paths.sort();
    paths
}

/// Adds the team `id` named `name` of `city` to the plain server.
pub fn insert_team(server: &PlainServer, id: u64, name: &str, city: &str) {
    server.insert("teams", json!({"id": id, "name": name, "city": city}));
}
