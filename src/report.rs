//! What a run did, resource by resource: the counts behind the summary line, the
//! failures that decide the exit status, and `--output json`. Shared through `&Report`.

use std::io::Write;
use std::sync::atomic::Ordering;
use std::sync::Mutex;
use std::time::Instant;

use serde_json::{json, Value};

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
    /// Would be done (`--dry-run`).
    Planned,
}

/// One line of the run's record.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub op: Op,
    pub kind: String,
    pub id: Value,
    pub uri: String,
    pub target: String,
    pub status: Status,
    /// Requests sent for this action.
    pub attempts: u32,
    /// The last HTTP status received, also when the action failed.
    pub http_status: Option<u16>,
}

impl Outcome {
    pub fn new(op: Op, resource: &Resource, target: impl Into<String>, status: Status) -> Self {
        let http_status = match status {
            Status::Done(code) => code,
            _ => None,
        };
        Outcome {
            op,
            kind: resource.kind.to_string(),
            id: resource.id.to_value(),
            uri: resource.uri.to_string(),
            target: target.into(),
            status,
            attempts: 0,
            http_status,
        }
    }

    /// `type/id` for messages.
    pub fn label(&self) -> String {
        format!(
            "{}/{}",
            self.kind,
            crate::resource::scalar_text(&self.id).unwrap_or_default()
        )
    }

    /// The last HTTP status a failed action received.
    pub fn with_http_status(mut self, status: Option<u16>) -> Self {
        self.http_status = status;
        self
    }

    /// The `--output json` line: `{"op","type","id","uri","target","status","attempts","error"}`.
    pub fn json_line(&self) -> Value {
        let status = match (&self.status, self.http_status) {
            (Status::Planned, _) => json!("planned"),
            (Status::Skipped(_), _) => json!("skipped"),
            (_, Some(code)) => json!(code),
            (Status::Done(_), None) => json!("ok"),
            (Status::Failed(_), None) => json!("failed"),
        };
        let error = match &self.status {
            Status::Failed(reason) | Status::Skipped(reason) => json!(reason),
            _ => Value::Null,
        };
        json!({
            "op": self.op.as_str(), "type": self.kind, "id": self.id, "uri": self.uri,
            "target": self.target, "status": status, "attempts": self.attempts, "error": error,
        })
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
            kind: kind.unwrap_or_default(),
            id: Value::String(id.unwrap_or_default()),
            uri: String::new(),
            target: path.display().to_string(),
            status,
            attempts: 0,
            http_status: None,
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

impl Counts {
    fn count_done(&mut self, op: Op) {
        match op {
            Op::Create => self.created += 1,
            Op::Update => self.updated += 1,
            Op::Delete => self.deleted += 1,
            Op::Unchanged => self.unchanged += 1,
        }
    }
}

/// Collects outcomes from concurrent writers.
pub struct Report {
    started: Instant,
    counts: Mutex<Counts>,
    /// One line per failed resource, for the end of the run.
    failures: Mutex<Vec<String>>,
    quiet_failures: bool,
    progress: Progress,
    /// `--output json`: one line per action on stdout as it happens.
    json_lines: bool,
    /// Resources `--verify` found missing or different.
    mismatches: std::sync::atomic::AtomicUsize,
    /// `--backup`: each create is recorded there as it is answered.
    backup: Option<std::sync::Arc<dyn CreateLog>>,
}

/// Where a run records each resource it creates (a backup, SPEC section 12).
pub trait CreateLog: Send + Sync {
    fn created(&self, kind: &str, id: &serde_json::Value, target: &str) -> anyhow::Result<()>;
}

impl Report {
    pub fn new() -> Self {
        Report::with_progress(Progress::new(false), false)
    }

    pub fn with_progress(progress: Progress, json_lines: bool) -> Self {
        Report {
            started: Instant::now(),
            counts: Mutex::new(Counts::default()),
            failures: Mutex::new(Vec::new()),
            quiet_failures: false,
            progress,
            json_lines,
            mismatches: Default::default(),
            backup: None,
        }
    }

    /// The bars this report advances.
    pub fn progress(&self) -> &Progress {
        &self.progress
    }

    /// Whether every outcome is told as it happens (`--output json`), not only counted.
    pub fn tells_each(&self) -> bool {
        self.json_lines
    }

    /// `record` of an action done, where nothing but the count is told (`tells_each` is
    /// false): a million-file pull made a million `Outcome`s only to count them.
    pub fn record_done(&self, op: Op) {
        self.with_counts(|counts| counts.count_done(op));
        self.progress.advance();
    }

    /// Count resources read from the origins.
    pub fn add_read(&self, count: usize) {
        self.with_counts(|counts| counts.read += count);
    }

    /// Record each create made from now on in `backup` (SPEC section 12).
    pub fn keep_creates_in(&mut self, backup: std::sync::Arc<dyn CreateLog>) {
        self.backup = Some(backup);
    }

    /// Record one outcome; failures and skips are told on stderr as they happen.
    pub fn record(&self, outcome: Outcome) {
        if let (Some(backup), Op::Create, Status::Done(_)) =
            (&self.backup, outcome.op, &outcome.status)
        {
            if let Err(error) = backup.created(&outcome.kind, &outcome.id, &outcome.target) {
                self.progress.println(&format!(
                    "resource-sync: error: {error:#}; undo will not delete {}",
                    outcome.target
                ));
            }
        }
        self.with_counts(|counts| match &outcome.status {
            Status::Failed(_) => counts.failed += 1,
            Status::Skipped(_) => counts.skipped += 1,
            Status::Done(_) | Status::Planned => counts.count_done(outcome.op),
        });
        if self.json_lines && outcome.op != Op::Unchanged {
            print_json_line(&outcome.json_line());
        }
        self.progress.advance();
        if let Status::Failed(reason) = &outcome.status {
            let line = format!(
                "{} {} ({}): {reason} after {} attempt(s)",
                outcome.op.as_str(),
                outcome.target,
                outcome.label(),
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
                    outcome.label(),
                    outcome.attempts
                )),
                Status::Skipped(reason) => self.progress.println(&format!(
                    "resource-sync: skipped {} ({}): {reason}",
                    outcome.target,
                    outcome.label()
                )),
                Status::Done(_) | Status::Planned => {}
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
        counts.failed + counts.skipped + self.mismatches.load(Ordering::Relaxed) > 0
    }

    /// `--verify` found `count` resources missing or different: the run fails.
    pub fn fail_verification(&self, count: usize) {
        self.mismatches.fetch_add(count, Ordering::Relaxed);
    }

    /// The final `--output json` line: `{"summary": {...counts, "seconds"}}`.
    pub fn print_json_summary(&self) {
        let c = self.counts();
        print_json_line(&json!({"summary": {
            "read": c.read, "created": c.created, "updated": c.updated, "deleted": c.deleted,
            "unchanged": c.unchanged, "failed": c.failed, "skipped": c.skipped,
            "seconds": (self.started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
        }}));
    }

    /// Whether anything was (or, in a dry run, would be) created, updated or deleted.
    pub fn has_changes(&self) -> bool {
        let c = self.counts();
        c.created + c.updated + c.deleted > 0
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

/// One JSON object on its own line of stdout (a closed pipe is the reader's choice).
fn print_json_line(value: &Value) {
    // A secret value may sit in an id or a URL.
    let line = crate::redact::redacted(&value.to_string()).into_owned();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
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
    fn json_lines_carry_status_codes_and_errors() {
        let resource = Resource {
            uri: "/a/1".into(),
            id: json!(1).into(),
            kind: "a".into(),
            parents: Box::default(),
            references: Default::default(),
            body: json!({}).into(),
        };
        let done =
            Outcome::new(Op::Create, &resource, "t", Status::Done(Some(201))).with_attempts(2);
        assert_eq!(
            done.json_line(),
            json!({"op": "create", "type": "a", "id": 1, "uri": "/a/1", "target": "t",
                   "status": 201, "attempts": 2, "error": null})
        );
        let file = Outcome::new(Op::Update, &resource, "t", Status::Done(None));
        assert_eq!(file.json_line()["status"], json!("ok"));
        let failed = Outcome::new(
            Op::Update,
            &resource,
            "t",
            Status::Failed("409 Conflict".into()),
        )
        .with_http_status(Some(409));
        assert_eq!(
            (
                failed.json_line()["status"].clone(),
                failed.json_line()["error"].clone()
            ),
            (json!(409), json!("409 Conflict"))
        );
        let refused = Outcome::new(
            Op::Update,
            &resource,
            "t",
            Status::Failed("connection refused".into()),
        );
        assert_eq!(refused.json_line()["status"], json!("failed"));
        let planned = Outcome::new(Op::Delete, &resource, "t", Status::Planned);
        assert_eq!(planned.json_line()["status"], json!("planned"));
    }

    #[test]
    fn outcomes_feed_the_summary() {
        let report = Report {
            quiet_failures: true,
            ..Report::new()
        };
        let resource = Resource {
            uri: "/a/1".into(),
            id: json!(1).into(),
            kind: "a".into(),
            parents: Box::default(),
            references: Default::default(),
            body: json!({}).into(),
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
        assert!(report.has_changes());
    }
}
