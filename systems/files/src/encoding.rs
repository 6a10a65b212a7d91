//! Text files that are not UTF-8: where the first bad byte is (its physical line), and the
//! failure that says so with the fix.
use super::FileEndpoint;
use std::fs::File;
use tiltas_connector::filedrop::{FileError, Unreadable};

/// How to fix a text file that is not UTF-8.
pub(super) const SAVE_AS_UTF8: &str = "save it as UTF-8";

/// Line numbers of byte offsets, counted from the file itself: the `csv` crate's own line
/// numbers are off by one after CRLF line ends, which Excel writes. Counting moves forward
/// from the last answer, so a whole read costs one extra pass at most.
pub(super) struct LineCounter {
    file: std::io::BufReader<File>,
    offset: u64,
    line: u64,
}

impl LineCounter {
    pub(super) fn open(path: &std::path::Path) -> std::io::Result<LineCounter> {
        Ok(LineCounter {
            file: std::io::BufReader::new(File::open(path)?),
            offset: 0,
            line: 1,
        })
    }

    /// The 1-based line of the record starting at `byte` (a position may point at the line
    /// end before the record; it belongs to the next line).
    pub(super) fn line_at(&mut self, byte: u64) -> u64 {
        use std::io::{BufRead, Seek, SeekFrom};
        if byte < self.offset {
            self.offset = 0;
            self.line = 1;
        }
        if self.file.seek(SeekFrom::Start(self.offset)).is_err() {
            return 0;
        }
        let mut skipping_line_end = false;
        loop {
            let Ok(buffer) = self.file.fill_buf() else { return 0 };
            if buffer.is_empty() {
                return self.line;
            }
            let mut used = 0;
            for &b in buffer {
                if self.offset >= byte && !(b == b'\r' || b == b'\n') {
                    skipping_line_end = true;
                    break;
                }
                if b == b'\n' {
                    self.line += 1;
                }
                self.offset += 1;
                used += 1;
            }
            self.file.consume(used);
            if skipping_line_end {
                return self.line;
            }
        }
    }
}

/// The offset and value of the first byte at or after `from` that is not part of valid UTF-8,
/// read in chunks so a large file costs no memory.
pub(super) fn first_invalid_utf8(path: &std::path::Path, from: u64) -> std::io::Result<Option<(u64, u8)>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(from))?;
    let mut chunk = vec![0u8; 64 * 1024];
    // Bytes not yet judged: a character may straddle two chunks. `offset` is where they start.
    let mut pending: Vec<u8> = Vec::new();
    let mut offset = from;
    loop {
        let read = file.read(&mut chunk)?;
        pending.extend_from_slice(&chunk[..read]);
        let valid = match std::str::from_utf8(&pending) {
            Ok(_) => pending.len(),
            Err(error) if error.error_len().is_some() || read == 0 => {
                let at = error.valid_up_to();
                return Ok(Some((offset + at as u64, pending[at])));
            }
            Err(error) => error.valid_up_to(),
        };
        if read == 0 {
            return Ok(None);
        }
        offset += valid as u64;
        pending.drain(..valid);
    }
}

/// A file that is not UTF-8: the line of its bad byte, the byte, and `fix` (how to save it).
pub(super) fn not_utf8(line: u64, byte: u8, fix: &str) -> Unreadable {
    Unreadable::new(
        Some(line),
        format!("the file is not UTF-8 (byte 0x{byte:02X} on this line; perhaps saved as Windows-1257 or Latin-1)"),
    )
    .with_fix(fix)
}

/// The failure of a file with a byte that is not UTF-8 at or after `from`, if it has one.
pub(super) fn not_utf8_from(endpoint: &FileEndpoint, from: u64, fix: &str) -> Result<(), FileError> {
    let bad = first_invalid_utf8(&endpoint.path, from).map_err(|error| endpoint.io_error("read", &error))?;
    let Some((offset, byte)) = bad else {
        return Ok(());
    };
    let mut lines = LineCounter::open(&endpoint.path).map_err(|error| endpoint.io_error("read", &error))?;
    Err(not_utf8(lines.line_at(offset), byte, fix).into())
}
