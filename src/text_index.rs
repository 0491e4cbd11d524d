//! An index from text (a uri) to a number: the text itself is looked up where it already
//! lives (a resource's uri). A `HashMap<&str, usize>` of a million uris held 52 MB; this
//! holds 10 with `Compact` slots, 18 with `Hashed` ones.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

use hashbrown::HashTable;

use crate::resource::Shared;

/// What the index keeps per text.
pub trait Slot: Copy {
    fn new(hash: TextHash, number: u32) -> Self;
    fn number(self) -> u32;
    /// The text's hash, if the slot keeps it.
    fn kept_hash(self) -> Option<TextHash>;
}

/// 8 bytes, the number and its text's hash (high half): growing the table rehashes from
/// the slots alone, without reading a million texts scattered over the heap (5% of a
/// million-resource pull did that), and a probe reads a text only when the hashes
/// agree. For an index that grows on a run's hot path.
pub type Hashed = u64;

/// 4 bytes, the number alone: growing the table reads every text again. For an index
/// held through the whole run, where its size counts more.
pub type Compact = u32;

impl Slot for Hashed {
    fn new(hash: TextHash, number: u32) -> Self {
        u64::from(hash.0) << 32 | u64::from(number)
    }

    fn number(self) -> u32 {
        self as u32
    }

    fn kept_hash(self) -> Option<TextHash> {
        Some(TextHash((self >> 32) as u32))
    }
}

impl Slot for Compact {
    fn new(_: TextHash, number: u32) -> Self {
        number
    }

    fn number(self) -> u32 {
        self
    }

    fn kept_hash(self) -> Option<TextHash> {
        None
    }
}

pub struct TextIndex<S = Hashed> {
    table: HashTable<S>,
    /// Randomly keyed: a server cannot choose uris that all land in one bucket.
    keys: RandomState,
}

/// A text's hash as the index keeps it: worked out once and used for a lookup and the
/// insert that follows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TextHash(u32);

impl<S: Slot> TextIndex<S> {
    pub fn with_capacity(capacity: usize) -> Self {
        TextIndex {
            table: HashTable::with_capacity(capacity),
            keys: RandomState::new(),
        }
    }

    pub fn hash(&self, text: &str) -> TextHash {
        hash_text(&self.keys, text)
    }

    /// The number stored for `text`; `text_of` gives the text of a stored number.
    pub fn get<'t>(&self, text: &str, text_of: impl Fn(u32) -> &'t str) -> Option<u32> {
        // An empty index (a new folder's exceptions) is asked once per resource.
        if self.table.is_empty() {
            return None;
        }
        self.get_hashed(self.hash(text), text, text_of)
    }

    /// `get` with the hash already worked out.
    pub fn get_hashed<'t>(
        &self,
        hash: TextHash,
        text: &str,
        text_of: impl Fn(u32) -> &'t str,
    ) -> Option<u32> {
        let slot = self
            .table
            .find(spread(hash), matches(hash, text, text_of))?;
        Some(slot.number())
    }

    /// Give `text`, already stored, the number `number`; false if it is not stored.
    pub fn renumber<'t>(
        &mut self,
        hash: TextHash,
        text: &str,
        number: u32,
        text_of: impl Fn(u32) -> &'t str,
    ) -> bool {
        match self
            .table
            .find_mut(spread(hash), matches(hash, text, text_of))
        {
            Some(slot) => {
                *slot = S::new(hash, number);
                true
            }
            None => false,
        }
    }

    /// Store `number` for `text`, which `get` does not find; `text_of(number)` must be
    /// `text` from now on (`text_of` gives the stored texts, should the table grow).
    pub fn insert<'t>(&mut self, text: &str, number: u32, text_of: impl Fn(u32) -> &'t str) {
        self.insert_hashed(self.hash(text), number, text_of);
    }

    /// `insert` with the hash already worked out.
    pub fn insert_hashed<'t>(
        &mut self,
        hash: TextHash,
        number: u32,
        text_of: impl Fn(u32) -> &'t str,
    ) {
        let keys = &self.keys;
        let rehash = |slot: &S| match slot.kept_hash() {
            Some(kept) => spread(kept),
            None => spread(hash_text(keys, text_of(slot.number()))),
        };
        self.table
            .insert_unique(spread(hash), S::new(hash, number), rehash);
    }
}

fn hash_text(keys: &RandomState, text: &str) -> TextHash {
    TextHash((keys.hash_one(text) >> 32) as u32)
}

/// The 64-bit hash the table wants: the low half picks a bucket and the top 7 bits tag
/// it, so both come from the 32 bits kept (independent up to 2^25 buckets).
fn spread(hash: TextHash) -> u64 {
    let half = u64::from(hash.0);
    half << 32 | half
}

/// Whether a slot holds `text`: by its kept hash first, the text only when they agree.
fn matches<'a, 't, S: Slot>(
    hash: TextHash,
    text: &'a str,
    text_of: impl Fn(u32) -> &'t str + 'a,
) -> impl Fn(&S) -> bool + 'a {
    move |&slot| slot.kept_hash().is_none_or(|kept| kept == hash) && text_of(slot.number()) == text
}

impl<S: Slot> Default for TextIndex<S> {
    fn default() -> Self {
        TextIndex::with_capacity(0)
    }
}

/// Values by uri in arrival order, a later value for a uri replacing the earlier one:
/// the uri (shared with the resource) and the value, plus 4-byte index slots.
pub struct ByUri<T> {
    entries: Vec<(Shared, T)>,
    /// Compact: a push holds one entry per resource until its last request.
    index: TextIndex<Compact>,
}

impl<T> Default for ByUri<T> {
    fn default() -> Self {
        ByUri {
            entries: Vec::new(),
            index: TextIndex::default(),
        }
    }
}

impl<T> ByUri<T> {
    /// Keep `value` for `uri`; returns the value it replaces.
    pub fn insert(&mut self, uri: Shared, value: T) -> Option<T> {
        let entries = &mut self.entries;
        let hash = self.index.hash(&uri);
        match self
            .index
            .get_hashed(hash, &uri, |n| &entries[n as usize].0)
        {
            Some(at) => Some(std::mem::replace(&mut entries[at as usize].1, value)),
            None => {
                let text_of = |n| &*entries[n as usize].0;
                self.index
                    .insert_hashed(hash, position(entries.len()), text_of);
                entries.push((uri, value));
                None
            }
        }
    }

    pub fn get(&self, uri: &str) -> Option<&T> {
        let at = self.index.get(uri, |n| &self.entries[n as usize].0)?;
        Some(&self.entries[at as usize].1)
    }

    /// How many uris have a value.
    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

/// A position as the index stores it; a run past four billion resources is refused.
pub fn position(index: usize) -> u32 {
    u32::try_from(index).expect("more than 4 billion resources in one run")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finds_text_by_number_where_it_lives<S: Slot>() {
        let uris: Vec<String> = (0..1000).map(|n| format!("/player/{n}")).collect();
        let text_of = |n: u32| uris[n as usize].as_str();
        let mut index = TextIndex::<S>::with_capacity(0);
        for (n, uri) in uris.iter().enumerate() {
            index.insert(uri, position(n), text_of);
        }
        // The table grew many times over, rehashed from its slots or from the texts.
        for (n, uri) in uris.iter().enumerate() {
            assert_eq!(index.get(uri, text_of), Some(position(n)));
        }
        assert_eq!(index.get("/player/1000", text_of), None);
        let hash = index.hash("/player/3");
        assert!(index.renumber(hash, "/player/3", 4, text_of));
        assert_eq!(index.get("/player/3", text_of), None);
        assert!(!index.renumber(index.hash("/player/x"), "/player/x", 5, text_of));
    }

    #[test]
    fn hashed_slots_find_text_by_number() {
        finds_text_by_number_where_it_lives::<Hashed>();
    }

    #[test]
    fn compact_slots_find_text_by_number() {
        finds_text_by_number_where_it_lives::<Compact>();
    }

    #[test]
    fn a_later_value_for_a_uri_replaces_the_earlier_one() {
        let mut table = ByUri::default();
        assert_eq!(table.insert("/a".into(), 1), None);
        assert_eq!(table.insert("/b".into(), 2), None);
        assert_eq!(table.insert("/a".into(), 3), Some(1));
        assert_eq!(
            (table.get("/a"), table.get("/b"), table.get("/c")),
            (Some(&3), Some(&2), None)
        );
        assert_eq!(table.len(), 2);
    }
}
