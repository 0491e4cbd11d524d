//! Progress bars on stderr (indicatif): one while reading, one while writing, drawn
//! only when stderr is a terminal and `--quiet` is off, so pipes and CI logs stay clean.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// The bars of one run; every method is a no-op when they are hidden.
pub struct Progress {
    visible: bool,
    bar: Mutex<Option<ProgressBar>>,
}

impl Progress {
    /// Bars shown only on a terminal, unless `quiet`.
    pub fn for_stderr(quiet: bool) -> Self {
        Progress::new(!quiet && std::io::stderr().is_terminal())
    }

    pub fn new(visible: bool) -> Self {
        Progress {
            visible,
            bar: Mutex::new(None),
        }
    }

    /// A counter with rate while origins are read (the total is unknown).
    pub fn start_reading(&self) {
        self.replace(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(style(
                "{spinner} reading {pos} resources ({rate}, {elapsed})",
            ));
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
    }

    /// A collection's first page stated `members` in all: the reading counter becomes a
    /// bar with the count and an ETA (totals of several collections add up).
    pub fn expect_to_read(&self, members: u64) {
        if !self.visible {
            return;
        }
        if let Some(bar) = self.lock().as_ref() {
            let known = bar.length().unwrap_or(0);
            if known == 0 {
                bar.set_style(style(
                    "reading [{bar:30}] {pos}/{len} resources ({rate}, ETA {eta})",
                ));
            }
            bar.set_length(known + members);
        }
    }

    /// A bar with count, rate and ETA while the destination is written.
    pub fn start_writing(&self, total: usize) {
        self.replace(|| {
            let bar =
                ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
            bar.set_style(style("writing [{bar:30}] {pos}/{len} ({rate}, ETA {eta})"));
            bar
        });
    }

    /// One more resource read or written.
    pub fn advance(&self) {
        // Twice a resource: hidden bars cost no lock.
        if !self.visible {
            return;
        }
        if let Some(bar) = self.lock().as_ref() {
            bar.inc(1);
        }
    }

    /// Print a line above the bar (or plainly when there is none).
    pub fn println(&self, line: &str) {
        // Failures and skips name targets, where a secret value may sit.
        let line = &*crate::redact::redacted(line);
        match self.lock().as_ref() {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    /// Clear the bar before the summary line.
    pub fn finish(&self) {
        if let Some(bar) = self.lock().take() {
            bar.finish_and_clear();
        }
    }

    fn replace(&self, make: impl FnOnce() -> ProgressBar) {
        if !self.visible {
            return;
        }
        let mut slot = self.lock();
        if let Some(old) = slot.take() {
            old.finish_and_clear();
        }
        *slot = Some(make());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<ProgressBar>> {
        // The bar is only drawing state; a poisoned lock still holds a usable bar.
        self.bar.lock().unwrap_or_else(|poison| poison.into_inner())
    }
}

fn style(template: &str) -> ProgressStyle {
    // The templates are constants of this module; a typo would show in every test run.
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .with_key(
            "rate",
            |state: &ProgressState, out: &mut dyn std::fmt::Write| {
                // A whole number: `2946/s`, not indicatif's `2,946.1458/s`.
                let _ = write!(out, "{:.0}/s", state.per_sec());
            },
        )
        .progress_chars("=> ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stated_total_gives_the_reading_bar_a_length() {
        let progress = Progress::new(true);
        progress.start_reading();
        progress.expect_to_read(200);
        progress.expect_to_read(50);
        let length = progress.lock().as_ref().and_then(ProgressBar::length);
        assert_eq!(length, Some(250));
        progress.finish();
    }

    #[test]
    fn hidden_progress_ignores_every_call() {
        let progress = Progress::new(false);
        progress.start_reading();
        progress.expect_to_read(10);
        progress.advance();
        progress.start_writing(3);
        progress.finish();
        assert!(progress.lock().is_none());
    }
}
