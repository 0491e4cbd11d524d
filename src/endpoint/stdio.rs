//! `-`: resources from stdin (YAML documents, or JSON when it starts with `{` or `[`),
//! and to stdout as YAML documents or JSON Lines, for piping through scripts.

use std::io::Write;

use anyhow::Result;
use futures::future::BoxFuture;

use super::parse::{read_resources, sniff_encoding};
use super::{Context, Endpoint, Found, WriteSet};
use crate::report::{Op, Outcome, Status};

pub struct Stdio;

impl Endpoint for Stdio {
    fn read<'a>(
        &'a self,
        context: &'a Context<'a>,
        found: &'a mut Found<'_>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let (encoding, reader) = sniff_encoding(std::io::stdin().lock())?;
            read_resources(reader, encoding, "stdin", context.schema, found)
        })
    }

    fn write<'a>(
        &'a self,
        set: &'a WriteSet<'a>,
        context: &'a Context<'a>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let format = context.config.format;
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            for &index in set.order {
                let resource = &set.resources[index];
                out.write_all(format.serialize(&resource.body).as_bytes())?;
                context.report.record(Outcome::new(
                    Op::Create,
                    resource,
                    resource.uri.clone(),
                    Status::Done(None),
                ));
            }
            out.flush()?;
            Ok(())
        })
    }
}
