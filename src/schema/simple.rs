//! The simple schema (`--simple`): `id`, `type`, `uri` fields, optional `parents`
//! (uris), `links` (uris to follow) and `embedded` (member resources).

use serde_json::Value;

use super::{rebase_string, Dialect, FollowMode, IdentityError, Link};
use crate::format::json_page::Step;
use crate::resource::Identity;

/// Resources that spell out their identity in plain fields.
#[derive(Debug, Default, Clone, Copy)]
pub struct Simple;

impl Dialect for Simple {
    fn identity(&self, body: &Value) -> Result<Identity, IdentityError> {
        let map = body.as_object().ok_or(IdentityError::NotAMapping)?;
        let id = map.get("id").ok_or(IdentityError::MissingId)?;
        let uri = map
            .get("uri")
            .and_then(Value::as_str)
            .ok_or(IdentityError::MissingUri(
                "`uri` is missing or not a string",
            ))?;
        let kind = map
            .get("type")
            .and_then(Value::as_str)
            .filter(|kind| !kind.is_empty())
            .ok_or_else(|| {
                IdentityError::MissingType("`type` is missing or not a string".into())
            })?;
        Ok(Identity {
            uri: uri.to_string(),
            id: id.clone(),
            kind: kind.to_string(),
            parents: strings_at(body, "parents"),
        })
    }

    fn links(&self, body: &Value) -> Vec<Link> {
        strings_at(body, "links")
            .into_iter()
            .map(|href| Link {
                relation: "link".to_string(),
                href,
            })
            .collect()
    }

    fn members<'a>(&self, body: &'a Value) -> Vec<&'a Value> {
        body.get("embedded")
            .and_then(Value::as_array)
            .map(|list| list.iter().collect())
            .unwrap_or_default()
    }

    fn take_members(&self, body: &mut Value) -> Result<Vec<Value>, String> {
        Ok(
            match body.as_object_mut().and_then(|map| map.remove("embedded")) {
                Some(Value::Array(list)) => list,
                _ => Vec::new(),
            },
        )
    }

    fn member_places(&self) -> Vec<Vec<Step<'_>>> {
        vec![vec![Step::Key("embedded")]]
    }

    /// The simple schema has no relation names: every link is followed unless `--follow-none`.
    fn follows(&self, _link: &Link, mode: FollowMode) -> bool {
        mode != FollowMode::None
    }

    fn map_links(&self, body: &mut Value, rebase: &mut dyn FnMut(&str) -> Option<String>) {
        let Some(fields) = body.as_object_mut() else {
            return;
        };
        if let Some(uri) = fields.get_mut("uri") {
            rebase_string(uri, rebase);
        }
        for list in ["parents", "links"] {
            if let Some(Value::Array(items)) = fields.get_mut(list) {
                items
                    .iter_mut()
                    .for_each(|item| rebase_string(item, rebase));
            }
        }
    }

    /// `id` and `uri` are the server's to assign; `type` and `parents` stay.
    fn identity_fields(&self, _kind: &str) -> Vec<Vec<String>> {
        ["id", "uri", "type", "parents", "links"]
            .map(|key| vec![key.to_string()])
            .into()
    }

    fn without_identity(&self, mut body: Value) -> Value {
        if let Some(fields) = body.as_object_mut() {
            fields.remove("id");
            fields.remove("uri");
        }
        body
    }

    fn own_uri<'b>(&self, body: &'b Value) -> Option<&'b str> {
        body.get("uri")?.as_str()
    }
}

fn strings_at(body: &Value, field: &str) -> Vec<String> {
    body.get(field)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|item| item.as_str().map(str::to_string))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn identity_and_parents_from_fields() {
        let body = json!({"id": "7", "type": "player", "uri": "http://h/player/7",
                          "parents": ["http://h/team/1"], "links": ["http://h/stat?player=7"]});
        let resource = Simple.identity(&body).unwrap();
        assert_eq!(resource.kind, "player");
        assert_eq!(resource.parents, ["http://h/team/1"]);
        assert_eq!(Simple.followed_links(&body, FollowMode::Page).len(), 1);
        assert!(Simple.followed_links(&body, FollowMode::None).is_empty());
    }

    #[test]
    fn missing_fields_are_reported() {
        assert_eq!(
            Simple.identity(&json!({"type": "a", "uri": "u"})),
            Err(IdentityError::MissingId)
        );
        assert!(matches!(
            Simple.identity(&json!({"id": 1, "uri": "u"})),
            Err(IdentityError::MissingType(_))
        ));
        assert!(matches!(
            Simple.identity(&json!({"id": 1, "type": "a"})),
            Err(IdentityError::MissingUri(_))
        ));
    }

    #[test]
    fn embedded_members() {
        let body = json!({"embedded": [{"id": 1}, {"id": 2}]});
        assert_eq!(Simple.members(&body).len(), 2);
        let mut body = body;
        assert_eq!(Simple.take_members(&mut body).unwrap().len(), 2);
    }
}
