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

impl CsvSource {
    /// Opens the file and plans its columns from the header row.
    pub fn open(endpoint: FileEndpoint, layout: CsvLayout, entity: EntityKind) -> Result<CsvSource, ConnectorError> {
        let file = File::open(&endpoint.path).map_err(|error| endpoint.io_error("opened", &error))?;
        let mut reader = layout.reader_builder().from_reader(file);
        let headers = reader
            .headers()
            .map_err(|error| endpoint.error(ErrorKind::Fatal, format!("has an unreadable header row: {error}")))?
            .clone();
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
            let more = self.reader.read_record(&mut row).map_err(|error| {
                self.endpoint
                    .error(ErrorKind::Fatal, format!("cannot be read: {error}"))
            })?;
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
                    records.push(Err(RecordFailure {
                        key,
                        location: self.location(line),
                        message: format!("{}; the row was not sent — fix it in the file", problems.join("; ")),
                        raw: partial,
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
