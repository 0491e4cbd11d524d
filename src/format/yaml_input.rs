//! Streaming UTF-8 decoding of any `io::Read` into the `char` iterator yaml-rust2's parser wants.
//! Tracks bytes consumed so the reader can bound document size, and records why input stopped.

use std::io::{ErrorKind, Read};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Read-buffer size: big enough to amortise reads, small enough to stay
/// bounded regardless of input size.
const CHUNK: usize = 64 * 1024;

/// The buffer a stream starts with, grown to `CHUNK` once a read fills it: most
/// files are a few hundred bytes, and zeroing 64 KiB for each was 4% of a copy.
const FIRST_CHUNK: usize = 4 * 1024;

/// Why the character stream ended before the real end of input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum InputFault {
    InvalidUtf8 { offset: u64 },
    TooLarge,
    Io(String),
}

/// State shared between the decoder (owned by the parser) and the reader.
#[derive(Debug, Default)]
pub(crate) struct InputState {
    consumed: AtomicU64,
    document_start: AtomicU64,
    /// Whether `fault` holds one: checked after every parser event, so without a lock.
    faulted: AtomicBool,
    fault: Mutex<Option<InputFault>>,
}

impl InputState {
    /// Bytes decoded so far.
    pub(crate) fn consumed(&self) -> u64 {
        self.consumed.load(Ordering::Relaxed)
    }

    /// Starts counting the document size limit from the current position.
    pub(crate) fn mark_document_start(&self) {
        self.document_start
            .store(self.consumed(), Ordering::Relaxed);
    }

    pub(crate) fn take_fault(&self) -> Option<InputFault> {
        if !self.faulted.swap(false, Ordering::Relaxed) {
            return None;
        }
        match self.fault.lock() {
            Ok(mut guard) => guard.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        }
    }

    fn set_fault(&self, fault: InputFault) {
        match self.fault.lock() {
            Ok(mut guard) => *guard = Some(fault),
            Err(poisoned) => *poisoned.into_inner() = Some(fault),
        }
        self.faulted.store(true, Ordering::Relaxed);
    }
}

/// Decodes UTF-8 from a reader one `char` at a time, ending the stream (and
/// recording an [`InputFault`]) on invalid UTF-8, an I/O error, or when the
/// current document grows past `max_document_bytes`.
pub(crate) struct Utf8Chars<R: Read> {
    reader: R,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    eof: bool,
    stopped: bool,
    max_document_bytes: u64,
    state: Arc<InputState>,
}

impl<R: Read> Utf8Chars<R> {
    pub(crate) fn new(reader: R, max_document_bytes: usize, state: Arc<InputState>) -> Self {
        Utf8Chars {
            reader,
            buf: vec![0; FIRST_CHUNK].into_boxed_slice(),
            start: 0,
            end: 0,
            eof: false,
            stopped: false,
            max_document_bytes: max_document_bytes as u64,
            state,
        }
    }

    /// Makes at least `want` bytes available unless the input ends first.
    fn fill(&mut self, want: usize) -> Result<(), InputFault> {
        while self.end - self.start < want && !self.eof {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            if self.end == self.buf.len() {
                let mut bigger = vec![0; CHUNK.max(self.buf.len() * 2)].into_boxed_slice();
                bigger[..self.end].copy_from_slice(&self.buf[..self.end]);
                self.buf = bigger;
            }
            match self.reader.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n,
                Err(err) if err.kind() == ErrorKind::Interrupted => {}
                Err(err) => return Err(InputFault::Io(err.to_string())),
            }
        }
        Ok(())
    }

    fn decode_next(&mut self) -> Result<Option<char>, InputFault> {
        self.fill(1)?;
        let Some(&lead) = self.buf.get(self.start).filter(|_| self.start < self.end) else {
            return Ok(None);
        };
        let width = utf8_width(lead);
        let offset = self.state.consumed();
        let ch = match width {
            0 => return Err(InputFault::InvalidUtf8 { offset }),
            // Most of what a file holds: no decoding to do.
            1 => char::from(lead),
            _ => {
                self.fill(width)?;
                let available = (self.end - self.start).min(width);
                let bytes = &self.buf[self.start..self.start + available];
                std::str::from_utf8(bytes)
                    .ok()
                    .and_then(|text| text.chars().next())
                    .ok_or(InputFault::InvalidUtf8 { offset })?
            }
        };
        self.start += width;
        let consumed = offset + width as u64;
        self.state.consumed.store(consumed, Ordering::Relaxed);
        let document_start = self.state.document_start.load(Ordering::Relaxed);
        if consumed - document_start > self.max_document_bytes {
            return Err(InputFault::TooLarge);
        }
        Ok(Some(ch))
    }
}

/// Sequence length announced by a UTF-8 lead byte; 0 for bytes that cannot
/// start a character.
fn utf8_width(lead: u8) -> usize {
    match lead {
        0x00..=0x7F => 1,
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => 0,
    }
}

impl<R: Read> Iterator for Utf8Chars<R> {
    type Item = char;

    fn next(&mut self) -> Option<char> {
        if self.stopped {
            return None;
        }
        let at_stream_start = self.state.consumed() == 0;
        match self.decode_next() {
            // libyaml consumes a byte order mark at the start of the stream.
            Ok(Some('\u{feff}')) if at_stream_start => self.next(),
            // YAML 1.1 (libyaml) reads NEL as a line break and normalises it
            // to `\n`; yaml-rust2 follows YAML 1.2, where it is content.
            Ok(Some('\u{85}')) => Some('\n'),
            Ok(Some(ch)) => Some(ch),
            Ok(None) => {
                self.stopped = true;
                None
            }
            Err(fault) => {
                self.stopped = true;
                self.state.set_fault(fault);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8], limit: usize) -> (String, Option<InputFault>) {
        let state = Arc::new(InputState::default());
        let text: String = Utf8Chars::new(bytes, limit, Arc::clone(&state)).collect();
        (text, state.take_fault())
    }

    #[test]
    fn decodes_and_reports_offsets() {
        assert_eq!(decode("aé😀".as_bytes(), 100), ("aé😀".to_string(), None));
        let (text, fault) = decode(b"ab\xffcd", 100);
        assert_eq!(text, "ab");
        assert_eq!(fault, Some(InputFault::InvalidUtf8 { offset: 2 }));
        let (_, fault) = decode(b"abc\xe2\x82", 100);
        assert_eq!(fault, Some(InputFault::InvalidUtf8 { offset: 3 }));
        let (_, fault) = decode(b"\xed\xa0\x80", 100);
        assert_eq!(fault, Some(InputFault::InvalidUtf8 { offset: 0 }));
    }

    #[test]
    fn stops_at_size_limit() {
        let (text, fault) = decode(b"abcdef", 3);
        assert_eq!(text, "abc");
        assert_eq!(fault, Some(InputFault::TooLarge));
    }

    #[test]
    fn straddles_buffer_boundary() {
        let mut input = vec![b'a'; CHUNK - 1];
        input.extend_from_slice("é".as_bytes());
        let (text, fault) = decode(&input, usize::MAX);
        assert_eq!(fault, None);
        assert!(text.ends_with('é'));
        assert_eq!(text.chars().count(), CHUNK);
    }
}
