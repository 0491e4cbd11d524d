//! `null` / `/dev/null`: an origin with nothing in it, a destination that keeps nothing.
//! Useful to validate an origin (everything is read and checked, nothing written).

use anyhow::Result;
use futures::future::BoxFuture;

use super::{Context, Endpoint, Found, WriteSet};
use crate::plan::Change;
use crate::report::{Op, Outcome, Status};

pub struct Null;

impl Endpoint for Null {
    fn read<'a>(
        &'a self,
        _context: &'a Context<'a>,
        _found: &'a mut Found<'_>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async { Ok(()) })
    }

    /// Nothing would change.
    fn plan<'a>(
        &'a self,
        _set: &'a WriteSet<'a>,
        _context: &'a Context<'a>,
    ) -> BoxFuture<'a, Result<Vec<Change>>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    /// Nothing is written, so every resource counts as unchanged.
    fn write<'a>(
        &'a self,
        set: &'a WriteSet<'a>,
        context: &'a Context<'a>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            for &index in set.order {
                let resource = &set.resources[index];
                context.report.record(Outcome::new(
                    Op::Unchanged,
                    resource,
                    "null",
                    Status::Done(None),
                ));
            }
            Ok(())
        })
    }
}
