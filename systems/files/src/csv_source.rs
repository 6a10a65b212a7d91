//! Reading a CSV file page by page.
use super::csv_format::{ColumnPlan, CsvLayout, RowGrouper};
use super::FileEndpoint;
use crate::{ConnectorError, ErrorKind, Page, ReadRequest, RecordFailure, Source, SourceRecord};
use async_trait::async_trait;
use serde_json::Value;
use std::fs::File;
use tiltas_model::{natural_key, EntityKind};

/// A CSV file as the source of a flow.
pub(super) struct CsvSource {
    endpoint: FileEndpoint,
    entity: EntityKind,
    reader: csv::Reader<File>,
    plan: ColumnPlan,
    lines: LineCounter,
}

/// Line numbers of byte offsets, counted from the file itself: the `csv` crate's own line
/// numbers are off by one after CRLF line ends, which Excel writes. Counting moves forward
/// from the last answer, so a whole read costs one extra pass at most.
struct LineCounter {
    file: std::io::BufReader<File>,
    offset: u64,
    line: u64,
}

impl LineCounter {
    fn open(path: &std::path::Path) -> std::io::Result<LineCounter> {
        Ok(LineCounter {
            file: std::io::BufReader::new(File::open(path)?),
            offset: 0,
            line: 1,
        })
    }

    /// The 1-based line of the record starting at `byte` (a position may point at the line
    /// end before the record; it belongs to the next line).
    fn line_at(&mut self, byte: u64) -> u64 {
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
fn first_invalid_utf8(path: &std::path::Path, from: u64) -> std::io::Result<Option<(u64, u8)>> {
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

/// Encodes a reader position as a page position (`byte:line:record`).
fn encode(position: &csv::Position) -> String {
    format!("{}:{}:{}", position.byte(), position.line(), position.record())
}

fn decode(text: &str) -> Option<csv::Position> {
    let mut parts = text.split(':').map(str::parse::<u64>);
    let (Some(Ok(byte)), Some(Ok(line)), Some(Ok(record)), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let mut position = csv::Position::new();
    position.set_byte(byte).set_line(line).set_record(record);
    Some(position)
}

/// A file that is not UTF-8, as `PATH:LINE: …` with the fix.
fn not_utf8(endpoint: &FileEndpoint, line: u64, byte: u8) -> ConnectorError {
    ConnectorError::new(
        ErrorKind::Fatal,
        format!(
            "{}:{line}: the file is not UTF-8 (byte 0x{byte:02X} on this line; perhaps saved as Windows-1257 or Latin-1): save it as UTF-8, e.g. Excel's \"CSV UTF-8\"",
            endpoint.path.display()
        ),
    )
}

impl CsvSource {
    /// Opens the file and plans its columns from the header row.
    pub fn open(endpoint: FileEndpoint, layout: CsvLayout, entity: EntityKind) -> Result<CsvSource, ConnectorError> {
        let file = File::open(&endpoint.path).map_err(|error| endpoint.io_error("opened", &error))?;
        let mut reader = layout.reader_builder().from_reader(file);
        let headers = match reader.headers() {
            Ok(headers) => headers.clone(),
            Err(error) => {
                let bad = match error.kind() {
                    csv::ErrorKind::Utf8 { .. } => first_invalid_utf8(&endpoint.path, 0).ok().flatten(),
                    _ => None,
                };
                return Err(match bad {
                    Some((offset, byte)) => {
                        let mut lines =
                            LineCounter::open(&endpoint.path).map_err(|error| endpoint.io_error("opened", &error))?;
                        not_utf8(&endpoint, lines.line_at(offset), byte)
                    }
                    None => endpoint.error(ErrorKind::Fatal, format!("has an unreadable header row: {error}")),
                });
            }
        };
        let plan =
            ColumnPlan::new(&layout, entity, &headers).map_err(|message| endpoint.error(ErrorKind::Fatal, message))?;
        let lines = LineCounter::open(&endpoint.path).map_err(|error| endpoint.io_error("opened", &error))?;
        Ok(CsvSource {
            endpoint,
            entity,
            reader,
            plan,
            lines,
        })
    }

    /// The error for a CSV error, naming the physical line of the first byte that is not
    /// UTF-8 when that is the problem (the reader's own line number is one short after CRLF).
    fn read_error(&mut self, error: &csv::Error, record_byte: u64, doing: &str) -> ConnectorError {
        if let csv::ErrorKind::Utf8 { pos, .. } = error.kind() {
            let from = pos.as_ref().map_or(record_byte, csv::Position::byte);
            if let Ok(Some((offset, byte))) = first_invalid_utf8(&self.endpoint.path, from) {
                return not_utf8(&self.endpoint, self.lines.line_at(offset), byte);
            }
        }
        self.endpoint.error(ErrorKind::Fatal, format!("{doing}: {error}"))
    }

    fn location(&self, line: u64) -> String {
        format!("{}:{line}", self.endpoint.display)
    }

    /// Turns a record that a group completed into a page entry.
    fn entry(&mut self, record: Value, byte: u64) -> SourceRecord {
        let key = match natural_key(self.entity, &record) {
            Some(key) => key,
            None => format!("row {}", self.lines.line_at(byte)),
        };
        let updated_at = record
            .get("updated_at")
            .and_then(Value::as_str)
            .and_then(|text| chrono::DateTime::parse_from_rfc3339(text).ok())
            .map(|at| at.with_timezone(&chrono::Utc));
        SourceRecord {
            key,
            updated_at,
            data: record,
        }
    }
}

#[async_trait]
impl Source for CsvSource {
    async fn read_page(&mut self, request: &ReadRequest) -> Result<Page, ConnectorError> {
        if let Some(position) = &request.position {
            let position = decode(position).ok_or_else(|| {
                self.endpoint.error(
                    ErrorKind::Fatal,
                    format!("was asked for an unknown read position {position:?}"),
                )
            })?;
            self.reader.seek(position).map_err(|error| {
                self.endpoint
                    .error(ErrorKind::Fatal, format!("cannot be re-read: {error}"))
            })?;
        }
        let page_size = request.page_size.max(1);
        let mut records = Vec::new();
        let mut grouper = RowGrouper::default();
        // Where the pending group started, for its key when it has none.
        let mut group_byte = 0;
        let mut row = csv::StringRecord::new();
        let mut next = None;
        loop {
            let before = self.reader.position().clone();
            let more = match self.reader.read_record(&mut row) {
                Ok(more) => more,
                Err(error) => return Err(self.read_error(&error, before.byte(), "cannot be read")),
            };
            if !more {
                break;
            }
            let byte = row.position().map_or(before.byte(), csv::Position::byte);
            if row.iter().all(|cell| cell.trim().is_empty()) {
                continue;
            }
            match self.plan.decode(self.entity, &row) {
                Ok(decoded) => {
                    let was_pending = grouper.is_pending();
                    if let Some(done) = grouper.push(self.entity, decoded) {
                        // The row starts a new record. A full page stops before it, so a group
                        // is never split across pages.
                        let full = records.len() + 1 >= page_size;
                        records.push(Ok(self.entry(done, group_byte)));
                        if full {
                            next = Some(encode(&before));
                            grouper = RowGrouper::default();
                            break;
                        }
                        group_byte = byte;
                    } else if !was_pending {
                        group_byte = byte;
                    }
                }
                Err((partial, errors)) => {
                    let line = self.lines.line_at(byte);
                    let key = natural_key(self.entity, &partial).unwrap_or_else(|| format!("row {line}"));
                    let problems: Vec<String> = errors.iter().map(ToString::to_string).collect();
                    let failure = RecordFailure::new(
                        key,
                        self.location(line),
                        format!("{}; the row was not sent — fix it in the file", problems.join("; ")),
                        partial,
                    );
                    // One letter per row: it is filed under the first bad cell's field, and the
                    // message lists every bad cell.
                    records.push(Err(match errors.first() {
                        Some(first) => failure.at_field(first.field.clone()).with_fix(format!(
                            "correct column \"{}\" in the file (or the field in the dead letter's payload) and retry",
                            first.header
                        )),
                        None => failure,
                    }));
                }
            }
        }
        if let Some(last) = grouper.finish() {
            records.push(Ok(self.entry(last, group_byte)));
        }
        Ok(Page {
            records,
            next,
            api_calls: 0,
        })
    }
}
