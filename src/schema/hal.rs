//! HAL: identity from `_links.self.href` and `id`; `parent:*`/`child:*` relations;
//! members in `items` (microcosm) or any array under `_embedded` (standard HAL).

use serde_json::Value;

use super::{is_page_relation, rebase_string, Dialect, FollowMode, IdentityError, Link};
use crate::format::json_page::Step;
use crate::resource::Identity;

/// The default schema (`--hal`).
#[derive(Debug, Default, Clone, Copy)]
pub struct Hal;

impl Dialect for Hal {
    fn identity(&self, body: &Value) -> Result<Identity, IdentityError> {
        let map = body.as_object().ok_or(IdentityError::NotAMapping)?;
        let id = map.get("id").ok_or(IdentityError::MissingId)?;
        let uri = self_href(body).ok_or(IdentityError::MissingUri(
            "`_links.self.href` is missing or not a string",
        ))?;
        let kind = type_from_uri(uri).ok_or_else(|| {
            IdentityError::MissingType(format!("uri {uri:?} has no type segment"))
        })?;
        Ok(Identity {
            uri: uri.to_string(),
            id: id.clone(),
            kind: kind.to_string(),
            parents: parent_hrefs(&self.links(body)),
        })
    }

    fn links(&self, body: &Value) -> Vec<Link> {
        let Some(links) = body.get("_links").and_then(Value::as_object) else {
            return Vec::new();
        };
        links
            .iter()
            .filter(|(relation, _)| relation.as_str() != "self")
            .flat_map(|(relation, target)| link_objects(target).map(move |href| (relation, href)))
            .map(|(relation, href)| Link {
                relation: relation.clone(),
                href: href.to_string(),
            })
            .collect()
    }

    fn members<'a>(&self, body: &'a Value) -> Vec<&'a Value> {
        let items = body
            .get("items")
            .and_then(Value::as_array)
            .into_iter()
            .flatten();
        let embedded = body
            .get("_embedded")
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|map| map.values())
            .flat_map(|value| match value {
                Value::Array(list) => list.iter().collect::<Vec<_>>(),
                Value::Object(_) => vec![value],
                _ => Vec::new(),
            });
        items.chain(embedded).collect()
    }

    fn take_members(&self, body: &mut Value) -> Result<Vec<Value>, String> {
        let Some(map) = body.as_object_mut() else {
            return Ok(Vec::new());
        };
        let mut members = match map.remove("items") {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        };
        if let Some(Value::Object(embedded)) = map.remove("_embedded") {
            for value in embedded.into_values() {
                match value {
                    Value::Array(list) => members.extend(list),
                    value @ Value::Object(_) => members.push(value),
                    _ => {}
                }
            }
        }
        Ok(members)
    }

    fn member_places(&self) -> Vec<Vec<Step<'_>>> {
        vec![
            vec![Step::Key("items")],
            vec![Step::Key("_embedded"), Step::Any],
        ]
    }

    fn follows(&self, link: &Link, mode: FollowMode) -> bool {
        match mode {
            FollowMode::None => false,
            FollowMode::All => true,
            FollowMode::Child => {
                link.relation.starts_with("child:") || is_page_relation(&link.relation)
            }
            FollowMode::Page => is_page_relation(&link.relation),
        }
    }

    fn map_links(&self, body: &mut Value, rebase: &mut dyn FnMut(&str) -> Option<String>) {
        let Some(links) = body.get_mut("_links").and_then(Value::as_object_mut) else {
            return;
        };
        for target in links.values_mut() {
            match target {
                Value::Array(list) => list
                    .iter_mut()
                    .filter_map(|link| link.get_mut("href"))
                    .for_each(|href| rebase_string(href, rebase)),
                link => {
                    if let Some(href) = link.get_mut("href") {
                        rebase_string(href, rebase);
                    }
                }
            }
        }
    }

    /// A server computes its own links: `id` and `_links` go.
    fn identity_fields(&self, _kind: &str) -> Vec<Vec<String>> {
        ["id", "_links"].map(|key| vec![key.to_string()]).into()
    }

    fn without_identity(&self, mut body: Value) -> Value {
        if let Some(fields) = body.as_object_mut() {
            fields.remove("id");
            fields.remove("_links");
        }
        body
    }

    fn own_uri<'b>(&self, body: &'b Value) -> Option<&'b str> {
        self_href(body)
    }
}

fn self_href(body: &Value) -> Option<&str> {
    body.get("_links")?.get("self")?.get("href")?.as_str()
}

/// The path segment before the last one: `/api/player/30` -> `player`.
fn type_from_uri(uri: &str) -> Option<&str> {
    let segments: Vec<&str> = uri.split('/').collect();
    let kind = *segments.get(segments.len().checked_sub(2)?)?;
    (!kind.is_empty()).then_some(kind)
}

/// A link value is one `{href}` object or a list of them; malformed entries are ignored.
fn link_objects(target: &Value) -> impl Iterator<Item = &str> {
    let list: Vec<&Value> = match target {
        Value::Array(list) => list.iter().collect(),
        other => vec![other],
    };
    list.into_iter()
        .filter_map(|link| link.get("href").and_then(Value::as_str))
}

fn parent_hrefs(links: &[Link]) -> Vec<String> {
    links
        .iter()
        .filter(|link| link.relation.starts_with("parent:"))
        .map(|link| link.href.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn player() -> Value {
        json!({
            "id": 30,
            "name": "Ana",
            "_links": {
                "self": {"href": "http://h/api/player/30"},
                "parent:team": {"href": "http://h/api/team/1"},
                "child:stat": [{"href": "http://h/api/stat/1"}, {"href": "http://h/api/stat/2"}],
                "next": {"href": "http://h/api/player?offset=1"}
            }
        })
    }

    #[test]
    fn identity_comes_from_self_link() {
        let resource = Hal.identity(&player()).unwrap();
        assert_eq!(resource.uri, "http://h/api/player/30");
        assert_eq!(resource.kind, "player");
        assert_eq!(resource.id, json!(30));
        assert_eq!(resource.parents, vec!["http://h/api/team/1"]);
    }

    #[test]
    fn mapping_without_id_or_self_is_not_a_resource() {
        assert_eq!(
            Hal.identity(&json!({"_links": {"self": {"href": "/a/b"}}})),
            Err(IdentityError::MissingId)
        );
        assert!(matches!(
            Hal.identity(&json!({"id": 1, "_links": {"self": {"href": 5}}})),
            Err(IdentityError::MissingUri(_))
        ));
        assert!(matches!(
            Hal.identity(&json!({"id": 1, "_links": {"self": {"href": "x"}}})),
            Err(IdentityError::MissingType(_))
        ));
        assert_eq!(Hal.identity(&json!([1])), Err(IdentityError::NotAMapping));
    }

    #[test]
    fn follow_modes_select_relations() {
        let relations = |mode| {
            Hal.followed_links(&player(), mode)
                .into_iter()
                .map(|link| link.relation)
                .collect::<Vec<_>>()
        };
        assert_eq!(relations(FollowMode::None), Vec::<String>::new());
        assert_eq!(relations(FollowMode::Page), ["next"]);
        assert_eq!(
            relations(FollowMode::Child),
            ["child:stat", "child:stat", "next"]
        );
        assert_eq!(
            relations(FollowMode::All),
            ["child:stat", "child:stat", "next", "parent:team"]
        );
    }

    #[test]
    fn members_from_items_and_embedded() {
        let page =
            json!({"items": [{"id": 1}], "_embedded": {"players": [{"id": 2}], "one": {"id": 3}}});
        let ids: Vec<&Value> = Hal.members(&page).iter().map(|m| &m["id"]).collect();
        assert_eq!(ids, [&json!(1), &json!(3), &json!(2)]);
        let mut page = page;
        let taken: Vec<Value> = Hal
            .take_members(&mut page)
            .unwrap()
            .into_iter()
            .map(|m| m["id"].clone())
            .collect();
        assert_eq!(taken, [json!(1), json!(3), json!(2)]);
    }
}
