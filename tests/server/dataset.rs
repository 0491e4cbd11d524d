//! Sample HAL data for tests and the demo: teams, their players and one stat per player.
//! Three generations linked by `parent:*` so sync order and orphan handling get exercised.

use serde_json::{json, Value};

/// See `super::sample_dataset`.
pub(super) fn build(base_url: &str, teams: usize, players_per_team: usize) -> Vec<Value> {
    let base = base_url.trim_end_matches('/');
    let players = teams * players_per_team;
    let team_list = (1..=teams).map(|id| team(base, id));
    let player_list = (1..=players).map(|id| player(base, id, (id - 1) / players_per_team + 1));
    let stat_list = (1..=players).map(|id| stat(base, id, id));
    team_list.chain(player_list).chain(stat_list).collect()
}

fn team(base: &str, id: usize) -> Value {
    json!({
        "id": id,
        "name": format!("Team {id}"),
        "_links": { "self": { "href": format!("{base}/api/team/{id}") } },
    })
}

fn player(base: &str, id: usize, team_id: usize) -> Value {
    json!({
        "id": id,
        "name": format!("Player {id}"),
        "teamId": team_id,
        "_links": {
            "self": { "href": format!("{base}/api/player/{id}") },
            "parent:team": { "href": format!("{base}/api/team/{team_id}") },
        },
    })
}

fn stat(base: &str, id: usize, player_id: usize) -> Value {
    json!({
        "id": id,
        // Varied but deterministic, so tests can assert exact values.
        "points": (id * 7) % 30,
        "playerId": player_id,
        "_links": {
            "self": { "href": format!("{base}/api/stat/{id}") },
            "parent:player": { "href": format!("{base}/api/player/{player_id}") },
        },
    })
}
