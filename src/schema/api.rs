//! The dialect of an `--api` profile for local endpoints: a directory holds each member as
//! the API returned it (its folder is its type); a single file, JSON Lines or a pipe holds
//! `{"type": <type>, "body": <member>}`, so the type travels with the member.

use std::borrow::Cow;
use std::sync::Arc;

use serde_json::{json, Value};

use super::profile::{Profile, TypeProfile};
use super::{Dialect, IdentityError};
use crate::resource::{Identity, Resource};

pub struct ApiDialect {
    pub profile: Arc<Profile>,
}

impl ApiDialect {
    fn type_named(&self, name: &str) -> Result<&TypeProfile, IdentityError> {
        self.profile
            .types
            .get(name)
            .ok_or_else(|| IdentityError::MissingType(format!("the profile has no type {name:?}")))
    }

    fn member_identity(&self, name: &str, member: &Value) -> Result<Identity, IdentityError> {
        self.type_named(name)?
            .identity(member)
            .map_err(IdentityError::MissingType)
    }
}

impl Dialect for ApiDialect {
    /// A `{"type", "body"}` document.
    fn identity(&self, document: &Value) -> Result<Identity, IdentityError> {
        let Some(name) = document.get("type").and_then(Value::as_str) else {
            return Err(IdentityError::MissingType(
                "with --api a document is {\"type\": <type>, \"body\": <member>}".into(),
            ));
        };
        let member = document.get("body").unwrap_or(&Value::Null);
        self.member_identity(name, member)
    }

    fn resource(&self, mut document: Value) -> Result<Resource, IdentityError> {
        let identity = self.identity(&document)?;
        let body = document
            .get_mut("body")
            .map(Value::take)
            .unwrap_or_default();
        Ok(Resource::new(identity, body))
    }

    fn resource_in_folder(&self, folder: &str, body: Value) -> Result<Resource, IdentityError> {
        let identity = self.member_identity(folder, &body)?;
        Ok(Resource::new(identity, body))
    }

    fn file_document<'r>(&self, resource: &'r Resource) -> Cow<'r, Value> {
        Cow::Owned(json!({ "type": &*resource.kind, "body": &*resource.body }))
    }

    fn identity_fields(&self, kind: &str) -> Vec<Vec<String>> {
        self.type_named(kind)
            .map(TypeProfile::identity_fields)
            .unwrap_or_default()
    }

    fn take_members(&self, _body: &mut Value) -> Result<Vec<Value>, String> {
        Ok(Vec::new())
    }
}
