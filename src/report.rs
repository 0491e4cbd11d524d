//! What a run did, resource by resource: the counts behind the summary line and the
//! failures that decide the exit status. Shared by every endpoint through `&Report`.

use std::sync::Mutex;
use std::time::Instant;

use crate::progress::Progress;
use crate::resource::Resource;

/// What happened (or would happen) to one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Create,
    Update,
    Delete,
    Unchanged,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Create => "create",
            Op::Update => "update",
            Op::Delete => "delete",
            Op::Unchanged => "unchanged",
        }
    }
}

/// How one action ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Done, with the HTTP status where there was one.
    Done(Option<u16>),
    /// Tried and failed, with the reason.
    Failed(String),
    /// Not tried because something it depends on failed.
    Skipped(String),
}

/// One line of the run's record.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub op: Op,
    pub label: String,
    pub uri: String,
    pub target: String,
    pub status: Status,
    pub attempts: u32,
}

impl Outcome {
    pub fn new(op: Op, resource: &Resource, target: impl Into<String>, status: Status) -> Self {
        Outcome {
            op,
            label: resource.label(),
            uri: resource.uri.clone(),
            target: target.into(),
            status,
            attempts: 0,
        }
    }

    /// An outcome for a file that holds no parsed resource (a stale file removed by `--rm`).
    pub fn for_file(op: Op, path: &std::path::Path, status: Status) -> Self {
        let kind = path
            .parent()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned());
        let id = path.file_stem().map(|n| n.to_string_lossy().into_owned());
        Outcome {
            op,
            label: format!("{}/{}", kind.unwrap_or_default(), id.unwrap_or_default()),
            uri: String::new(),
            target: path.display().to_string(),
            status,
            attempts: 0,
        }
    }

    pub fn with_attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts;
        self
    }
}

/// The counts of SPEC section 5.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub read: usize,
    pub created: usize,
    pub updated: usize,
    pub deleted: usize,
    pub unchanged: usize,
    pub failed: usize,
    pub skipped: usize,
}

/// Collects outcomes from concurrent writers.
pub struct Report {
    started: Instant,
    counts: Mutex<Counts>,
    /// One line per failed resource, for the end of the run.
    failures: Mutex<Vec<String>>,
    quiet_failures: bool,
    progress: Progress,
}

impl Report {
    pub fn new() -> Self {
        Report::with_progress(Progress::new(false))
    }

    pub fn with_progress(progress: Progress) -> Self {
        Report {
            started: Instant::now(),
            counts: Mutex::new(Counts::default()),
            failures: Mutex::new(Vec::new()),
            quiet_failures: false,
            progress,
        }
    }

    /// The bars this report advances.
    pub fn progress(&self) -> &Progress {
        &self.progress
    }

    /// Count resources read from the origins.
    pub fn add_read(&self, count: usize) {
        self.with_counts(|counts| counts.read += count);
    }

    /// Record one outcome; failures and skips are told on stderr as they happen.
    pub fn record(&self, outcome: Outcome) {
        self.with_counts(|counts| match (&outcome.status, outcome.op) {
            (Status::Failed(_), _) => counts.failed += 1,
            (Status::Skipped(_), _) => counts.skipped += 1,
            (Status::Done(_), Op::Create) => counts.created += 1,
            (Status::Done(_), Op::Update) => counts.updated += 1,
            (Status::Done(_), Op::Delete) => counts.deleted += 1,
            (Status::Done(_), Op::Unchanged) => counts.unchanged += 1,
        });
        self.progress.advance();
        if let Status::Failed(reason) = &outcome.status {
            let line = format!(
                "{} {} ({}): {reason} after {} attempt(s)",
                outcome.op.as_str(),
                outcome.target,
                outcome.label,
                outcome.attempts
            );
            self.failures
                .lock()
                .unwrap_or_else(|poison| poison.into_inner())
                .push(line);
        }
        if !self.quiet_failures {
            match &outcome.status {
                Status::Failed(reason) => self.progress.println(&format!(
                    "resource-sync: failed to {} {} ({}) after {} attempt(s): {reason}",
                    outcome.op.as_str(),
                    outcome.target,
                    outcome.label,
                    outcome.attempts
                )),
                Status::Skipped(reason) => self.progress.println(&format!(
                    "resource-sync: skipped {} ({}): {reason}",
                    outcome.target, outcome.label
                )),
                Status::Done(_) => {}
            }
        }
    }

    /// `failed: <op> <target> (<type/id>): <status or error> after N attempt(s)`, one per
    /// failed resource, in the order they failed.
    pub fn failure_lines(&self) -> Vec<String> {
        let failures = self
            .failures
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        failures
            .iter()
            .map(|line| format!("failed: {line}"))
            .collect()
    }

    pub fn counts(&self) -> Counts {
        self.with_counts(|counts| *counts)
    }

    /// Whether anything failed or was skipped (exit 1).
    pub fn has_failures(&self) -> bool {
        let counts = self.counts();
        counts.failed + counts.skipped > 0
    }

    /// `read R, created C, updated U, deleted D, unchanged N, failed F, skipped S in T s`.
    pub fn summary_line(&self) -> String {
        let c = self.counts();
        format!(
            "read {}, created {}, updated {}, deleted {}, unchanged {}, failed {}, skipped {} in {:.2} s",
            c.read,
            c.created,
            c.updated,
            c.deleted,
            c.unchanged,
            c.failed,
            c.skipped,
            self.started.elapsed().as_secs_f64()
        )
    }

    fn with_counts<T>(&self, update: impl FnOnce(&mut Counts) -> T) -> T {
        // A panic while holding the lock only happens in a bug elsewhere; keep counting.
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        update(&mut counts)
    }
}

impl Default for Report {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn outcomes_feed_the_summary() {
        let report = Report {
            quiet_failures: true,
            ..Report::new()
        };
        let resource = Resource {
            uri: "/a/1".into(),
            id: json!(1),
            kind: "a".into(),
            parents: vec![],
            body: json!({}),
        };
        report.add_read(3);
        report.record(Outcome::new(
            Op::Create,
            &resource,
            "t",
            Status::Done(Some(201)),
        ));
        report.record(Outcome::new(
            Op::Update,
            &resource,
            "t",
            Status::Failed("409".into()),
        ));
        report.record(Outcome::new(
            Op::Update,
            &resource,
            "t",
            Status::Skipped("parent".into()),
        ));
        assert_eq!(
            report.failure_lines(),
            ["failed: update t (a/1): 409 after 0 attempt(s)"]
        );
        let line = report.summary_line();
        assert!(
            line.starts_with(
                "read 3, created 1, updated 0, deleted 0, unchanged 0, failed 1, skipped 1 in "
            ),
            "{line}"
        );
        assert!(report.has_failures());
    }
}
