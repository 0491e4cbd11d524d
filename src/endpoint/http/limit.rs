//! How many requests go out: `--concurrency` permits that shrink by half on a 429 and grow
//! back by one per window of successes (AIMD), a pause for every request while a 429's
//! `Retry-After` runs, and `--rps`, a start-rate limit (governor).

use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::{Semaphore, SemaphorePermit};

/// The request slots of a run.
pub struct Limits {
    permits: Semaphore,
    ceiling: usize,
    window: Mutex<Window>,
    rate: Option<DefaultDirectRateLimiter>,
    /// No request starts before this: the server asked everyone to wait (`Retry-After`).
    paused_until: Mutex<Option<Instant>>,
}

/// The additive-increase, multiplicative-decrease state.
struct Window {
    /// Requests allowed in flight now.
    limit: usize,
    /// Successes since the limit last changed.
    successes: usize,
    /// Permits still to take out of circulation after a decrease (held ones are
    /// forgotten as their requests finish).
    debt: usize,
}

/// What a finished request tells the limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Success,
    TooManyRequests,
    Other,
}

impl Limits {
    /// `concurrency` in flight at most; `rps` starts per second at most, evenly spaced
    /// (a burst of one), so no one-second window holds more than `rps` starts.
    pub fn new(concurrency: usize, rps: Option<u32>) -> Self {
        let concurrency = concurrency.max(1);
        let rate = rps
            .and_then(NonZeroU32::new)
            .map(|rps| RateLimiter::direct(Quota::per_second(rps).allow_burst(NonZeroU32::MIN)));
        Limits {
            permits: Semaphore::new(concurrency),
            ceiling: concurrency,
            window: Mutex::new(Window {
                limit: concurrency,
                successes: 0,
                debt: 0,
            }),
            rate,
            paused_until: Mutex::new(None),
        }
    }

    /// Wait for a slot, a pause to end, then the rate limit; hold the permit while the
    /// request runs.
    pub async fn acquire(&self) -> Option<SemaphorePermit<'_>> {
        let permit = self.permits.acquire().await.ok()?;
        loop {
            let until = *self
                .paused_until
                .lock()
                .unwrap_or_else(|poison| poison.into_inner());
            match until {
                Some(until) if until > Instant::now() => tokio::time::sleep_until(until).await,
                _ => break,
            }
        }
        if let Some(rate) = &self.rate {
            rate.until_ready().await;
        }
        Some(permit)
    }

    /// Give the slot back, adjusting the limit to what the answer says.
    pub fn release(&self, permit: SemaphorePermit<'_>, answer: Answer) {
        let mut window = self
            .window
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        match answer {
            Answer::TooManyRequests => {
                let halved = (window.limit / 2).max(1);
                window.debt += window.limit - halved;
                window.limit = halved;
                window.successes = 0;
                let forgotten = self.permits.forget_permits(window.debt);
                window.debt -= forgotten;
            }
            Answer::Success => {
                window.successes += 1;
                if window.successes >= window.limit && window.limit < self.ceiling {
                    window.limit += 1;
                    window.successes = 0;
                    match window.debt {
                        0 => self.permits.add_permits(1),
                        _ => window.debt -= 1,
                    }
                }
            }
            Answer::Other => {}
        }
        if window.debt > 0 {
            window.debt -= 1;
            permit.forget();
        }
    }

    /// A 429 said when to come back: no request starts before then, so the whole run
    /// settles at the server's rate instead of each request finding out on its own.
    pub fn pause_for(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut paused = self
            .paused_until
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if paused.is_none_or(|current| current < until) {
            *paused = Some(until);
        }
    }

    /// Requests allowed in flight now.
    #[cfg(test)]
    fn current_limit(&self) -> usize {
        self.window
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn too_many_requests_halves_and_successes_grow_back() {
        let limits = Limits::new(8, None);
        let permit = limits.acquire().await.unwrap();
        limits.release(permit, Answer::TooManyRequests);
        assert_eq!(limits.current_limit(), 4);
        assert_eq!(limits.permits.available_permits(), 4);
        for _ in 0..4 {
            let permit = limits.acquire().await.unwrap();
            limits.release(permit, Answer::Success);
        }
        assert_eq!(limits.current_limit(), 5);
        assert_eq!(limits.permits.available_permits(), 5);
        for _ in 0..10 {
            let permit = limits.acquire().await.unwrap();
            limits.release(permit, Answer::TooManyRequests);
        }
        assert_eq!(limits.current_limit(), 1, "never below one");
        assert_eq!(limits.permits.available_permits(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_back_every_new_request() {
        let limits = Limits::new(4, None);
        limits.pause_for(Duration::from_secs(2));
        let started = Instant::now();
        let permit = limits.acquire().await.unwrap();
        assert!(started.elapsed() >= Duration::from_secs(2));
        limits.release(permit, Answer::Success);
    }

    #[tokio::test]
    async fn held_permits_are_forgotten_when_they_return() {
        let limits = Limits::new(4, None);
        let held: Vec<_> = futures::future::join_all((0..4).map(|_| limits.acquire())).await;
        let mut held: Vec<_> = held.into_iter().map(Option::unwrap).collect();
        limits.release(held.pop().unwrap(), Answer::TooManyRequests);
        for permit in held {
            limits.release(permit, Answer::Other);
        }
        assert_eq!(limits.permits.available_permits(), 2);
    }
}
