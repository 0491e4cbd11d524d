//! Inventories of destinations that hold no resource one by one: a file or stdout is
//! written whole (every resource a create), `null` keeps nothing (every one unchanged),
//! and a file read back after writing (`--verify`) is held by uri.

use std::collections::HashMap;

use anyhow::Result;
use futures::future::BoxFuture;
use serde_json::Value;

use super::{Context, Endpoint};
use crate::plan::{Held, Inventory};
use crate::resource::Resource;

/// An inventory known without reading anything, as `Endpoint::inventory` answers it.
pub fn known<'a>(inventory: impl Inventory + 'a) -> BoxFuture<'a, Result<Box<dyn Inventory + 'a>>> {
    Box::pin(async move { Ok(Box::new(inventory) as Box<dyn Inventory + 'a>) })
}

/// A single file or stdout: replaced whole, so each resource is written as new.
pub struct WrittenWhole;

impl Inventory for WrittenWhole {
    fn target(&self, resource: &Resource) -> Result<String> {
        Ok(resource.uri.to_string())
    }

    fn held(&self, _resource: &Resource, _text: Option<&str>) -> Result<Held> {
        Ok(Held::Nothing)
    }

    fn holds(&self, _resource: &Resource) -> Result<Option<bool>> {
        Ok(Some(false))
    }
}

/// `null`: nothing is written, so nothing changes.
pub struct KeepsNothing;

impl Inventory for KeepsNothing {
    fn target(&self, _resource: &Resource) -> Result<String> {
        Ok("null".to_string())
    }

    fn held(&self, _resource: &Resource, _text: Option<&str>) -> Result<Held> {
        Ok(Held::Identical)
    }
}

/// What an endpoint holds, read through the endpoint itself, by uri.
pub struct ReadBack {
    bodies: HashMap<crate::resource::Shared, Value>,
}

impl ReadBack {
    pub async fn of(endpoint: &dyn Endpoint, context: &Context<'_>) -> Result<ReadBack> {
        let mut bodies = HashMap::new();
        endpoint
            .read(context, &mut |resource: Resource| {
                bodies.insert(resource.uri, resource.body.into_value());
                Ok(())
            })
            .await?;
        Ok(ReadBack { bodies })
    }
}

impl Inventory for ReadBack {
    fn target(&self, resource: &Resource) -> Result<String> {
        Ok(resource.uri.to_string())
    }

    fn held(&self, resource: &Resource, _text: Option<&str>) -> Result<Held> {
        Ok(match self.bodies.get(&*resource.uri) {
            Some(body) => Held::Copy(body.clone()),
            None => Held::Nothing,
        })
    }
}
