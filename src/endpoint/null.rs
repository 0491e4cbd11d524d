//! `null` / `/dev/null`: an origin with nothing in it, a destination that keeps nothing.
//! Useful to validate an origin (everything is read and checked, nothing written).

use anyhow::Result;
use futures::future::BoxFuture;

use super::inventory::{known, KeepsNothing};
use super::{Context, Endpoint, Found, Stage, WriteSet};
use crate::plan::{Decision, Inventory, March};
use crate::report::{Op, Outcome, Status};
use crate::resource::Resource;

pub struct Null;

impl Endpoint for Null {
    fn read<'a>(
        &'a self,
        _context: &'a Context<'a>,
        _found: &'a mut Found<'_>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async { Ok(()) })
    }

    fn inventory<'a>(
        &'a self,
        _context: &'a Context<'a>,
        _compare: bool,
    ) -> BoxFuture<'a, Result<Box<dyn Inventory + 'a>>> {
        known(KeepsNothing)
    }

    /// Bodies are dropped as they are read: validating a large origin needs no memory.
    fn stage<'a>(
        &'a self,
        _march: &'a March<'a>,
        _context: &Context<'_>,
    ) -> Result<Option<Box<dyn Stage + 'a>>> {
        Ok(Some(Box::new(Discard)))
    }

    fn write<'a>(
        &'a self,
        set: &'a WriteSet<'a>,
        _decisions: &'a [Decision],
        context: &'a Context<'a>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            count_unchanged(set, context);
            Ok(())
        })
    }
}

struct Discard;

impl Stage for Discard {
    fn put(&mut self, _resource: Resource) -> Result<()> {
        Ok(())
    }

    fn commit<'a>(
        self: Box<Self>,
        set: &'a WriteSet<'a>,
        context: &'a Context<'a>,
    ) -> BoxFuture<'a, Result<()>>
    where
        Self: 'a,
    {
        Box::pin(async move {
            count_unchanged(set, context);
            Ok(())
        })
    }
}

/// Nothing is written, so every resource counts as unchanged.
fn count_unchanged(set: &WriteSet<'_>, context: &Context<'_>) {
    for resource in set.ordered() {
        context.report.record(Outcome::new(
            Op::Unchanged,
            resource,
            "null",
            Status::Done(None),
        ));
    }
}
