//! `-`: resources from stdin (YAML documents, or JSON when it starts with `{` or `[`),
//! and to stdout as YAML documents or JSON Lines, for piping through scripts.

use std::sync::Arc;

use anyhow::Result;
use futures::future::BoxFuture;

use super::parse::{read_resources, sniff_encoding};
use super::reader_thread::read_on_thread;
use super::spill::{Sequence, Spill, SpillStage};
use super::{Context, Endpoint, Found, Stage, WriteSet};
use crate::plan::{Decision, March};

pub struct Stdio;

impl Endpoint for Stdio {
    fn read<'a>(
        &'a self,
        context: &'a Context<'a>,
        found: &'a mut Found<'_>,
    ) -> BoxFuture<'a, Result<()>> {
        let dialect = Arc::clone(context.dialect);
        let read = move |found: &mut Found<'_>| {
            let (encoding, reader) = sniff_encoding(std::io::stdin().lock())?;
            read_resources(reader, encoding, ("stdin", None), &*dialect, found)
        };
        Box::pin(read_on_thread("stdin reader", read, found))
    }

    fn stage<'a>(
        &'a self,
        _march: &'a March<'a>,
        context: &Context<'_>,
    ) -> Result<Option<Box<dyn Stage + 'a>>> {
        Ok(Some(Box::new(SpillStage::new(
            context.run.format,
            context.dialect,
            write_stdout,
        )?)))
    }

    fn write<'a>(
        &'a self,
        set: &'a WriteSet<'a>,
        _decisions: &'a [Decision],
        context: &'a Context<'a>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            write_stdout(
                Spill::of(set, context.run.format, context.dialect)?,
                set,
                context,
            )
        })
    }
}

fn write_stdout(spill: Spill, set: &WriteSet<'_>, context: &Context<'_>) -> Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    spill.copy_in_order(set, Sequence::Documents, &mut out, context)
}
