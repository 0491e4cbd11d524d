//! The march's decisions rendered: `create|update|delete <target>` lines and unified
//! diffs of the serialised forms.

use std::io::{IsTerminal, Write};

use console::style;
use similar::TextDiff;

use crate::report::{Op, Outcome, Report, Status};
use crate::resource::Resource;

/// One planned change (or an unchanged resource, which prints nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub op: Op,
    pub kind: String,
    pub id: serde_json::Value,
    pub uri: String,
    /// The destination URL, file path, or (single file, stdout) the resource's uri.
    pub target: String,
    /// The destination's serialised form before the change, where it has one.
    pub before: Option<String>,
    /// The serialised form after the change (`None` for a delete).
    pub after: Option<String>,
    /// With `--create post`: the origin uri the target was cloned (or will be) from.
    pub source: Option<String>,
}

impl Change {
    pub fn for_resource(op: Op, resource: &Resource, target: impl Into<String>) -> Self {
        Change {
            op,
            kind: resource.kind.to_string(),
            id: resource.id.to_value(),
            uri: resource.uri.to_string(),
            target: target.into(),
            before: None,
            after: None,
            source: None,
        }
    }

    pub fn with_source(mut self, source: Option<String>) -> Self {
        self.source = source;
        self
    }

    pub fn with_texts(mut self, before: Option<String>, after: Option<String>) -> Self {
        self.before = before;
        self.after = after;
        self
    }

    /// `create <target>` as `--dry-run` prints it.
    pub fn plan_line(&self) -> String {
        let line = match &self.source {
            Some(source) => format!("{} {} (from {source})", self.op.as_str(), self.target),
            None => format!("{} {}", self.op.as_str(), self.target),
        };
        // A secret value may sit in an id or a URL.
        crate::redact::redacted(&line).into_owned()
    }

    /// A unified diff of the serialised forms, headed by the target.
    pub fn unified_diff(&self) -> String {
        let before = self.before.as_deref().unwrap_or("");
        let after = self.after.as_deref().unwrap_or("");
        let (old, new) = match self.op {
            Op::Create => ("/dev/null", self.target.as_str()),
            Op::Delete => (self.target.as_str(), "/dev/null"),
            _ => (self.target.as_str(), self.target.as_str()),
        };
        let diff = TextDiff::from_lines(before, after)
            .unified_diff()
            .context_radius(3)
            .header(old, new)
            .to_string();
        // Secret values read `${NAME}`, as in the tree.
        crate::redact::redacted(&diff).into_owned()
    }

    fn as_outcome(&self, status: Status) -> Outcome {
        Outcome {
            op: self.op,
            kind: self.kind.clone(),
            id: self.id.clone(),
            uri: self.uri.clone(),
            target: self.target.clone(),
            status,
            attempts: 0,
            http_status: None,
        }
    }
}

/// Print the plan (and diffs) on stdout and count it in the report.
/// With `json`, the report prints each planned action as a JSON line instead.
pub fn print_plan(
    changes: &[Change],
    diff: bool,
    json: bool,
    report: &Report,
) -> std::io::Result<()> {
    let colour = std::io::stdout().is_terminal();
    for change in changes {
        report.record(change.as_outcome(Status::Planned));
        if change.op == Op::Unchanged || json {
            continue;
        }
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", change.plan_line())?;
        if diff {
            write!(out, "{}", paint(&change.unified_diff(), colour))?;
        }
        out.flush()?;
    }
    Ok(())
}

/// Print only the diffs of changes about to be made (`--diff` without `--dry-run`).
pub fn print_diffs(changes: &[Change]) -> std::io::Result<()> {
    let colour = std::io::stdout().is_terminal();
    let mut out = std::io::stdout().lock();
    for change in changes.iter().filter(|change| change.op != Op::Unchanged) {
        write!(out, "{}", paint(&change.unified_diff(), colour))?;
    }
    out.flush()
}

/// Colour a unified diff as git does (only for a terminal): headers bold, hunks cyan,
/// removals red, additions green.
fn paint(diff: &str, colour: bool) -> String {
    if !colour {
        return diff.to_string();
    }
    diff.split_inclusive('\n')
        .map(|line| {
            let (line, newline) = line
                .strip_suffix('\n')
                .map_or((line, ""), |text| (text, "\n"));
            let styled = if line.starts_with("---") || line.starts_with("+++") {
                style(line).bold()
            } else if line.starts_with("@@") {
                style(line).cyan()
            } else if line.starts_with('-') {
                style(line).red()
            } else if line.starts_with('+') {
                style(line).green()
            } else {
                style(line)
            };
            format!("{}{newline}", styled.force_styling(true))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(op: Op, before: Option<&str>, after: Option<&str>) -> Change {
        Change {
            op,
            kind: "team".into(),
            id: serde_json::json!(1),
            uri: "/team/1".into(),
            target: "out/team/1.yaml".into(),
            before: before.map(String::from),
            after: after.map(String::from),
            source: None,
        }
    }

    #[test]
    fn paint_colours_only_when_asked() {
        let diff = "--- a\n+++ a\n@@ -1 +1 @@\n-old\n+new\n";
        assert_eq!(paint(diff, false), diff);
        let painted = paint(diff, true);
        assert!(painted.contains("\u{1b}[31m-old"), "{painted:?}");
        assert!(painted.contains("\u{1b}[32m+new"), "{painted:?}");
    }

    #[test]
    fn plan_lines_name_op_and_target() {
        assert_eq!(
            change(Op::Update, None, None).plan_line(),
            "update out/team/1.yaml"
        );
    }

    #[test]
    fn diffs_show_changed_lines() {
        let diff = change(
            Op::Update,
            Some("---\nname: a\nid: 1\n"),
            Some("---\nname: b\nid: 1\n"),
        )
        .unified_diff();
        assert!(
            diff.starts_with("--- out/team/1.yaml\n+++ out/team/1.yaml\n"),
            "{diff}"
        );
        assert!(diff.contains("-name: a\n+name: b\n"), "{diff}");
        let created = change(Op::Create, None, Some("id: 1\n")).unified_diff();
        assert!(
            created.contains("--- /dev/null") && created.contains("+id: 1"),
            "{created}"
        );
    }
}
