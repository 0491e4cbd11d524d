//! Stdin is read on a thread of its own: a pipe may block for good, and the run must still
//! end at once on Ctrl-C (the thread stops at its next resource, or is left behind; the
//! process does not wait for it). Files and directories are read on the run's thread —
//! moving every parsed body to another thread costs cross-thread frees — and see Ctrl-C
//! between resources.

use anyhow::{anyhow, Result};

use super::Found;
use crate::resource::Resource;

/// Resources cross to the run in batches: one wake-up per batch, not per resource.
const BATCH: usize = 256;

/// Batches in flight before the reader waits for the run to catch up.
const BATCHES_AHEAD: usize = 4;

/// Runs `read` on a new thread called `name`, handing what it finds to `found` here.
pub async fn read_on_thread(
    name: &str,
    read: impl FnOnce(&mut Found<'_>) -> Result<()> + Send + 'static,
    found: &mut Found<'_>,
) -> Result<()> {
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Result<Vec<Resource>>>(BATCHES_AHEAD);
    std::thread::Builder::new()
        .name(name.to_string())
        .spawn(move || {
            let mut batch = Vec::with_capacity(BATCH);
            let mut hand_on = |resource: Resource| -> Result<()> {
                batch.push(resource);
                if batch.len() == BATCH {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                    sender
                        .blocking_send(Ok(full))
                        .map_err(|_| anyhow!("the run stopped reading"))?;
                }
                Ok(())
            };
            let result = read(&mut hand_on);
            // Nobody listening means the run has stopped: nothing to report to.
            let _ = sender.blocking_send(Ok(batch));
            if let Err(error) = result {
                let _ = sender.blocking_send(Err(error));
            }
        })?;
    while let Some(message) = receiver.recv().await {
        for resource in message? {
            found(resource)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resource(id: usize) -> Resource {
        let identity = crate::resource::Identity {
            uri: format!("http://h/api/team/{id}"),
            id: json!(id),
            kind: "team".to_string(),
            parents: Vec::new(),
        };
        Resource::new(identity, json!({}))
    }

    #[tokio::test]
    async fn every_resource_arrives_in_order_then_the_error() {
        let mut seen = Vec::new();
        let result = read_on_thread(
            "test reader",
            |found| {
                for id in 0..600 {
                    found(resource(id))?;
                }
                Err(anyhow!("bad document 601"))
            },
            &mut |resource: Resource| {
                seen.push(resource.uri);
                Ok(())
            },
        )
        .await;
        assert_eq!(seen.len(), 600);
        assert_eq!(&*seen[599], "http://h/api/team/599");
        assert_eq!(result.unwrap_err().to_string(), "bad document 601");
    }
}
