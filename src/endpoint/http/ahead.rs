//! Pages asked for ahead (SPEC section 3): where a chain's next URLs are known before its
//! next page arrives, they are fetched at once, and each reply is parked until the page
//! before it names it. A guess no page names is never handed on, so a crawl gives what
//! reading one page at a time gives, each URL fetched at most once.

use std::collections::{HashMap, HashSet, VecDeque};

use url::Url;

use super::client::TransportFailure;
use super::Reply;
use crate::endpoint::spec::url_key;
use crate::schema::ahead::{PageStep, Stated};

/// A reply as a fetch task returns it.
pub(super) type Fetched = (Url, Result<Reply, TransportFailure>);

/// How far ahead one chain reads: 1, 2, 4 … pages up to `--concurrency`, and no page past
/// the last one its first page stated.
#[derive(Debug, Clone, Copy)]
pub(super) struct Window {
    size: usize,
    bound: Option<i64>,
    /// The page just read states a total that its step cannot turn into a bound (the
    /// chain jumped): nothing is guessed from it.
    unbounded: bool,
}

impl Window {
    pub(super) fn new() -> Self {
        Window {
            size: 0,
            bound: None,
            unbounded: false,
        }
    }

    /// One more page of the chain read, with `members`: the window grows; the first page
    /// that states a total says where the chain ends (page numbers from `first_number`).
    pub(super) fn read_page(
        &mut self,
        step: &PageStep,
        (stated, members, first_number): (&Stated, usize, i64),
        limit: usize,
    ) {
        if self.bound.is_none() {
            self.bound = stated.bound(step, members as u64, first_number);
        }
        self.unbounded = self.bound.is_none() && stated.any();
        self.size = (self.size * 2).clamp(1, limit.max(1));
    }
}

enum Guess {
    /// On its way; `wanted` once a page named it.
    Flying { wanted: bool },
    /// Arrived before any page named it.
    Parked(Box<Fetched>),
}

/// The guesses of one crawl.
#[derive(Default)]
pub(super) struct ReadAhead {
    guesses: HashMap<String, Guess>,
    /// Parked replies now named: processed before anything else arrives.
    ready: VecDeque<Fetched>,
    /// Chains followed by links, by their URL without the stepping parameter.
    link_windows: HashMap<String, Window>,
}

impl ReadAhead {
    /// A reply that arrived, back to be processed now, or `None` when it is parked.
    pub(super) fn arrived(&mut self, fetched: Fetched) -> Option<Fetched> {
        let key = url_key(&fetched.0);
        match self.guesses.get_mut(&key) {
            Some(guess @ Guess::Flying { wanted: false }) => {
                *guess = Guess::Parked(Box::new(fetched));
                None
            }
            Some(Guess::Flying { wanted: true }) => {
                self.guesses.remove(&key);
                Some(fetched)
            }
            _ => Some(fetched),
        }
    }

    /// Whether a parked reply waits to be processed.
    pub(super) fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    /// A parked reply a page has named since.
    pub(super) fn next_ready(&mut self) -> Option<Fetched> {
        self.ready.pop_front()
    }

    /// Whether the URL with `key` is still to be read: never fetched, or fetched only on a
    /// guess no page has named.
    pub(super) fn is_new(&self, key: &str, seen: &HashSet<String>) -> bool {
        match self.guesses.get(key) {
            Some(Guess::Flying { wanted }) => !wanted,
            Some(Guess::Parked(_)) => true,
            None => !seen.contains(key),
        }
    }

    /// A page names `url`: a guess of it is now wanted (parked: processed next); otherwise
    /// it is the URL to fetch now.
    pub(super) fn want(&mut self, url: Url, seen: &mut HashSet<String>) -> Option<Url> {
        let key = url_key(&url);
        match self.guesses.remove(&key) {
            Some(Guess::Parked(fetched)) => {
                self.ready.push_back(*fetched);
                None
            }
            Some(Guess::Flying { .. }) => {
                self.guesses.insert(key, Guess::Flying { wanted: true });
                None
            }
            None => seen.insert(key).then_some(url),
        }
    }

    /// The pages after `next` to fetch now on a guess: the window's worth, none past its
    /// bound, none fetched already.
    pub(super) fn guesses(
        &mut self,
        (step, next): (&PageStep, &Url),
        window: &Window,
        seen: &mut HashSet<String>,
    ) -> Vec<Url> {
        let mut urls = Vec::new();
        if window.unbounded {
            return urls;
        }
        for k in 1..=window.size as i64 {
            let Some((url, value)) = step.ahead(next, k) else {
                break;
            };
            if window.bound.is_some_and(|bound| value > bound) {
                break;
            }
            let key = url_key(&url);
            if seen.insert(key.clone()) {
                self.guesses.insert(key, Guess::Flying { wanted: false });
                urls.push(url);
            }
        }
        urls
    }

    /// The window of the chain whose `next` link steps by `step`.
    pub(super) fn link_window(&mut self, step: &PageStep, next: &Url) -> &mut Window {
        let mut pattern = next.clone();
        let kept: Vec<(String, String)> = next
            .query_pairs()
            .filter(|(name, _)| *name != step.param)
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect();
        pattern.query_pairs_mut().clear().extend_pairs(kept);
        self.link_windows
            .entry(url_key(&pattern))
            .or_insert_with(Window::new)
    }
}
