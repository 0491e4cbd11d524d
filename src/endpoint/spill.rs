//! A spill: resources serialised into an anonymous temporary file as they are read, so a
//! single-file or stdout destination keeps only offsets in memory until the order is known.

use std::io::Write;
use std::sync::Arc;

use anyhow::{anyhow, Result};
use futures::future::BoxFuture;

use super::text_spill::TextSpill;
use super::{Context, Stage, WriteSet};
use crate::format::Format;
use crate::report::{Op, Outcome, Status};
use crate::resource::Resource;
use crate::schema::Dialect;

/// How the resources follow one another in a single file or on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sequence {
    /// One after another: YAML documents or JSON Lines.
    Documents,
    /// One JSON array, written as Python's `json.dumps(list, sort_keys=True)` writes it.
    JsonArray,
}

pub struct Spill {
    /// Each uri's text; a later copy replaces an earlier one.
    texts: TextSpill,
    format: Format,
    /// Says what document a resource is in a file (`{"type", "body"}` with `--api`).
    dialect: Arc<dyn Dialect>,
}

impl Spill {
    pub fn new(format: Format, dialect: &Arc<dyn Dialect>) -> Result<Self> {
        Ok(Spill {
            texts: TextSpill::new()?,
            format,
            dialect: Arc::clone(dialect),
        })
    }

    /// A spill of a set already in memory (writes that do not stream, e.g. with `--diff`).
    pub fn of(set: &WriteSet<'_>, format: Format, dialect: &Arc<dyn Dialect>) -> Result<Self> {
        let mut spill = Spill::new(format, dialect)?;
        for resource in set.ordered() {
            spill.put(resource)?;
        }
        Ok(spill)
    }

    pub fn put(&mut self, resource: &Resource) -> Result<()> {
        let text = self.format.serialize(&self.dialect.file_document(resource));
        self.texts.put(resource.uri.clone(), &text)
    }

    /// Copy the texts of `set`, in write order, to `out`, counting each as created.
    pub fn copy_in_order(
        mut self,
        set: &WriteSet<'_>,
        sequence: Sequence,
        out: &mut dyn Write,
        context: &Context<'_>,
    ) -> Result<()> {
        self.texts.finish()?;
        if sequence == Sequence::JsonArray {
            out.write_all(b"[")?;
        }
        for (position, resource) in set.ordered().enumerate() {
            let text = self
                .texts
                .get(&resource.uri)?
                .ok_or_else(|| anyhow!("{} was read but never spilled", resource.uri))?;
            match sequence {
                Sequence::Documents => out.write_all(text.as_bytes())?,
                Sequence::JsonArray => {
                    if position > 0 {
                        out.write_all(b", ")?;
                    }
                    out.write_all(text.trim_end().as_bytes())?;
                }
            }
            context.report.record(Outcome::new(
                Op::Create,
                resource,
                resource.uri.to_string(),
                Status::Done(None),
            ));
        }
        if sequence == Sequence::JsonArray {
            out.write_all(b"]\n")?;
        }
        out.flush()?;
        Ok(())
    }
}

/// A streaming write into one file or stdout: bodies wait in a spill until the order is
/// known, then `finish` writes them out.
pub struct SpillStage<F> {
    spill: Spill,
    finish: F,
}

impl<F> SpillStage<F>
where
    F: FnOnce(Spill, &WriteSet<'_>, &Context<'_>) -> Result<()> + Send,
{
    pub fn new(format: Format, dialect: &Arc<dyn Dialect>, finish: F) -> Result<Self> {
        Ok(SpillStage {
            spill: Spill::new(format, dialect)?,
            finish,
        })
    }
}

impl<F> Stage for SpillStage<F>
where
    F: FnOnce(Spill, &WriteSet<'_>, &Context<'_>) -> Result<()> + Send,
{
    fn put(&mut self, resource: Resource) -> Result<()> {
        self.spill.put(&resource)
    }

    fn commit<'a>(
        self: Box<Self>,
        set: &'a WriteSet<'a>,
        context: &'a Context<'a>,
    ) -> BoxFuture<'a, Result<()>>
    where
        Self: 'a,
    {
        Box::pin(async move { (self.finish)(self.spill, set, context) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::json::to_json_line;
    use serde_json::{json, Value};

    #[test]
    fn json_array_layout_matches_dumping_the_whole_list() {
        let items = [
            json!({"id": 1, "b": "\u{e9}"}),
            json!({"id": 2, "a": [1.5, null]}),
        ];
        let texts: Vec<String> = items
            .iter()
            .map(|item| Format::Json.serialize(item).trim_end().to_string())
            .collect();
        assert_eq!(
            format!("[{}]\n", texts.join(", ")),
            to_json_line(&Value::Array(items.to_vec()))
        );
        assert_eq!(to_json_line(&json!([])), "[]\n");
    }
}
