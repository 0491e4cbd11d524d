//! An index from text (a uri) to a number, holding 4 bytes an entry: the text itself is
//! looked up where it already lives (a resource's uri). A `HashMap<&str, usize>` of a
//! million uris held 52 MB; this holds 10.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

use hashbrown::HashTable;

use crate::resource::Shared;

pub struct TextIndex {
    table: HashTable<u32>,
    /// Randomly keyed: a server cannot choose uris that all land in one bucket.
    keys: RandomState,
}

impl TextIndex {
    pub fn with_capacity(capacity: usize) -> Self {
        TextIndex {
            table: HashTable::with_capacity(capacity),
            keys: RandomState::new(),
        }
    }

    /// The number stored for `text`; `text_of` gives the text of a stored number.
    pub fn get<'t>(&self, text: &str, text_of: impl Fn(u32) -> &'t str) -> Option<u32> {
        // An empty index (a new folder's exceptions) is asked once per resource.
        if self.table.is_empty() {
            return None;
        }
        let hash = self.keys.hash_one(text);
        self.table.find(hash, |&n| text_of(n) == text).copied()
    }

    /// The slot of `text`, to read or change its number.
    pub fn get_mut<'t>(
        &mut self,
        text: &str,
        text_of: impl Fn(u32) -> &'t str,
    ) -> Option<&mut u32> {
        let hash = self.keys.hash_one(text);
        self.table.find_mut(hash, |&n| text_of(n) == text)
    }

    /// Store `number` for `text`, which `get` does not find; `text_of(number)` must be
    /// `text` from now on.
    pub fn insert<'t>(&mut self, text: &str, number: u32, text_of: impl Fn(u32) -> &'t str) {
        let keys = &self.keys;
        let hash = keys.hash_one(text);
        self.table
            .insert_unique(hash, number, |&n| keys.hash_one(text_of(n)));
    }
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
        match self.index.get(&uri, |n| &entries[n as usize].0) {
            Some(at) => Some(std::mem::replace(&mut entries[at as usize].1, value)),
            None => {
                entries.push((uri, value));
                let (uri, at) = (&entries[entries.len() - 1].0, position(entries.len() - 1));
                self.index.insert(uri, at, |n| &entries[n as usize].0);
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
            index.insert(uri, position(n), |n| &uris[n as usize]);
        }
        assert_eq!(index.get("/player/417", |n| &uris[n as usize]), Some(417));
        assert_eq!(index.get("/player/1000", |n| &uris[n as usize]), None);
        *index.get_mut("/player/3", |n| &uris[n as usize]).unwrap() = 4;
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
