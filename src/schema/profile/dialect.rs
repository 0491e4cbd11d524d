//! One profile type read as a dialect: its members hold ids, not links; its pages follow
//! the type's pagination rule; its media type goes with every request (JSON:API's).

use serde_json::Value;
use url::Url;

use super::{Pages, TypeProfile};
use crate::format::json_page::Step;
use crate::resource::Identity;
use crate::schema::{Dialect, FollowMode, IdentityError, Link};

/// The convention of one profile type (plain JSON or JSON:API, as the type says).
pub struct TypeDialect<'p> {
    pub kind: &'p TypeProfile,
}

impl Dialect for TypeDialect<'_> {
    /// A member must have its id and the fields its item path needs.
    fn identity(&self, member: &Value) -> Result<Identity, IdentityError> {
        self.kind
            .identity(member)
            .map_err(|reason| IdentityError::Member(format!("type {}: {reason}", self.kind.name)))
    }

    fn identity_fields(&self, _kind: &str) -> Vec<Vec<String>> {
        self.kind.identity_fields()
    }

    fn take_members(&self, body: &mut Value) -> Result<Vec<Value>, String> {
        self.kind.take_members(body)
    }

    fn member_places(&self) -> Vec<Vec<Step<'_>>> {
        self.kind.member_places()
    }

    /// A list answer is never a member, whatever fields its envelope has.
    fn page_is_resource(&self, _page: &Value) -> bool {
        false
    }

    /// A `Link` header is the pagination rule's to read (`next: link`), not a link to follow.
    fn header_links(&self, _headers: &reqwest::header::HeaderMap, _mode: FollowMode) -> Vec<Link> {
        Vec::new()
    }

    fn answered_id(&self, answer: &Value) -> Option<String> {
        self.kind.id_of(self.kind.answered(answer)?)
    }

    fn media_type(&self) -> Option<&'static str> {
        self.kind.media_type()
    }

    fn pages(&self, first: Url, limit: u64) -> Option<Pages<'_>> {
        Some(Pages::start(self.kind, first, limit))
    }
}
