//! Texts by uri in an anonymous temporary file until the write order is known: a push's
//! request bodies, a single file's or stdout's documents. A push of a million resources
//! held every body as text in memory (about 250 bytes a resource); this holds where each
//! one is (about 25: the shared uri, 8 bytes of place, the index), and reads it back
//! with one `pread`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;

use anyhow::{anyhow, Context as _, Result};

use crate::resource::Shared;
use crate::text_index::ByUri;

/// Where one uri's text lies in the file, in 8 bytes: the offset in the low 40 bits
/// (a terabyte of spill), the length in the high 24; a text of 16 MiB or more keeps
/// `LONG` there and its length in `TextSpill::long`.
#[derive(Clone, Copy)]
struct Place(u64);

const OFFSET_BITS: u32 = 40;
const LONG: u64 = (1 << (64 - OFFSET_BITS)) - 1;

impl Place {
    fn offset(self) -> u64 {
        self.0 & ((1 << OFFSET_BITS) - 1)
    }

    fn packed_length(self) -> u64 {
        self.0 >> OFFSET_BITS
    }
}

/// Written while reading (one thread), then read from any number of writers at once.
pub(crate) struct TextSpill {
    writer: Option<BufWriter<File>>,
    file: Option<File>,
    places: ByUri<Place>,
    /// The lengths of texts too long for their `Place`, by offset.
    long: std::collections::HashMap<u64, u64>,
    end: u64,
}

impl TextSpill {
    pub(crate) fn new() -> Result<Self> {
        let file = tempfile::tempfile().context("creating a temporary spill file")?;
        Ok(TextSpill {
            writer: Some(BufWriter::new(file)),
            file: None,
            places: ByUri::default(),
            long: Default::default(),
            end: 0,
        })
    }

    /// Keep `text` as the body of `uri`; a later text for the same uri replaces it.
    pub(crate) fn put(&mut self, uri: Shared, text: &str) -> Result<()> {
        let writer = self
            .writer
            .as_mut()
            .ok_or_else(|| anyhow!("the spilled texts are already being read"))?;
        let (offset, length) = (self.end, text.len() as u64);
        if offset >> OFFSET_BITS != 0 {
            return Err(anyhow!("the spill file passed a terabyte"));
        }
        writer
            .write_all(text.as_bytes())
            .context("writing the spill file")?;
        if length >= LONG {
            self.long.insert(offset, length);
        }
        self.places
            .insert(uri, Place(offset | length.min(LONG) << OFFSET_BITS));
        self.end += length;
        Ok(())
    }

    /// Done writing: from now on texts are read back.
    pub(crate) fn finish(&mut self) -> Result<()> {
        if let Some(writer) = self.writer.take() {
            let file = writer
                .into_inner()
                .map_err(|error| error.into_error())
                .context("writing the spill file")?;
            self.file = Some(file);
        }
        Ok(())
    }

    /// The text kept for `uri`, if any (after `finish`).
    pub(crate) fn get(&self, uri: &str) -> Result<Option<String>> {
        let Some(&place) = self.places.get(uri) else {
            return Ok(None);
        };
        let length = match place.packed_length() {
            LONG => self.long[&place.offset()],
            length => length,
        };
        let file = self
            .file
            .as_ref()
            .ok_or_else(|| anyhow!("the spill file is still being written"))?;
        let mut bytes = vec![0; usize::try_from(length)?];
        file.read_exact_at(&mut bytes, place.offset())
            .context("reading the spill file")?;
        String::from_utf8(bytes)
            .map(Some)
            .context("a text read back from the spill file is not UTF-8")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_come_back_by_uri_and_a_later_one_wins() {
        let mut spill = TextSpill::new().unwrap();
        spill.put("/a".into(), "first").unwrap();
        spill.put("/b".into(), "bee").unwrap();
        spill.put("/a".into(), "second").unwrap();
        spill.finish().unwrap();
        assert_eq!(spill.get("/a").unwrap().as_deref(), Some("second"));
        assert_eq!(spill.get("/b").unwrap().as_deref(), Some("bee"));
        assert_eq!(spill.get("/c").unwrap(), None);
    }

    #[test]
    fn a_text_too_long_for_its_place_comes_back_whole() {
        let mut spill = TextSpill::new().unwrap();
        let long = "x".repeat(LONG as usize + 3);
        spill.put("/a".into(), "before").unwrap();
        spill.put("/long".into(), &long).unwrap();
        spill.put("/b".into(), "after").unwrap();
        spill.finish().unwrap();
        assert_eq!(spill.get("/long").unwrap().unwrap().len(), long.len());
        assert_eq!(spill.get("/b").unwrap().as_deref(), Some("after"));
    }
}
