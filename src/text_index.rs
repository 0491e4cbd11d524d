//! An index from text (a uri) to a number, holding 8 bytes an entry: the text itself is
//! looked up where it already lives (a resource's uri). A `HashMap<&str, usize>` of a
//! million uris held 52 MB; this holds 18.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

use hashbrown::HashTable;

use crate::resource::Shared;

pub struct TextIndex {
    /// Each slot holds its text's hash (high half) and its number (low half): growing the
    /// table rehashes from the slots alone, without reading a million texts scattered
    /// over the heap (5% of a million-resource pull did that), and a probe reads a text
    /// only when the hashes agree.
    table: HashTable<u64>,
    /// Randomly keyed: a server cannot choose uris that all land in one bucket.
    keys: RandomState,
}

/// A text's hash as the index keeps it: worked out once and used for a lookup and the
/// insert that follows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TextHash(u32);

impl TextIndex {
    pub fn with_capacity(capacity: usize) -> Self {
        TextIndex {
            table: HashTable::with_capacity(capacity),
            keys: RandomState::new(),
        }
    }

    pub fn hash(&self, text: &str) -> TextHash {
        TextHash((self.keys.hash_one(text) >> 32) as u32)
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
        Some(number_of(*slot))
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
                *slot = slot_of(hash, number);
                true
            }
            None => false,
        }
    }

    /// Store `number` for `text`, which `get` does not find; `text_of(number)` must be
    /// `text` from now on.
    pub fn insert(&mut self, text: &str, number: u32) {
        self.insert_hashed(self.hash(text), number);
    }

    /// `insert` with the hash already worked out.
    pub fn insert_hashed(&mut self, hash: TextHash, number: u32) {
        self.table
            .insert_unique(spread(hash), slot_of(hash, number), |&slot| {
                spread(hash_of(slot))
            });
    }
}

/// The 64-bit hash the table wants: the low half picks a bucket and the top 7 bits tag
/// it, so both come from the 32 bits kept (independent up to 2^25 buckets).
fn spread(hash: TextHash) -> u64 {
    let half = u64::from(hash.0);
    half << 32 | half
}

fn slot_of(hash: TextHash, number: u32) -> u64 {
    u64::from(hash.0) << 32 | u64::from(number)
}

fn hash_of(slot: u64) -> TextHash {
    TextHash((slot >> 32) as u32)
}

fn number_of(slot: u64) -> u32 {
    slot as u32
}

/// Whether a slot holds `text`: its hash first, the text only when the hashes agree.
fn matches<'a, 't>(
    hash: TextHash,
    text: &'a str,
    text_of: impl Fn(u32) -> &'t str + 'a,
) -> impl Fn(&u64) -> bool + 'a {
    move |&slot| hash_of(slot) == hash && text_of(number_of(slot)) == text
}

impl Default for TextIndex {
    fn default() -> Self {
        TextIndex::with_capacity(0)
    }
}

/// Values by uri in arrival order, a later value for a uri replacing the earlier one:
/// the uri (shared with the resource) and the value, plus 4-byte index slots.
pub struct ByUri<T> {
    entries: Vec<(Shared, T)>,
    index: TextIndex,
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
                self.index.insert_hashed(hash, position(entries.len()));
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

    #[test]
    fn finds_text_by_number_where_it_lives() {
        let uris: Vec<String> = (0..1000).map(|n| format!("/player/{n}")).collect();
        let mut index = TextIndex::with_capacity(0);
        for (n, uri) in uris.iter().enumerate() {
            index.insert(uri, position(n));
        }
        // The table grew many times over, rehashed from its slots alone.
        for (n, uri) in uris.iter().enumerate() {
            assert_eq!(index.get(uri, |n| &uris[n as usize]), Some(position(n)));
        }
        assert_eq!(index.get("/player/1000", |n| &uris[n as usize]), None);
        let hash = index.hash("/player/3");
        assert!(index.renumber(hash, "/player/3", 4, |n| &uris[n as usize]));
        assert!(
            !index.renumber(index.hash("/player/x"), "/player/x", 5, |n| &uris
                [n as usize])
        );
        assert_eq!(index.get("/player/3", |n| &uris[n as usize]), None);
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
