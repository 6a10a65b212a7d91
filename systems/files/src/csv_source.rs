//! Reading a CSV file page by page: one file (`file = "…"`), or each file dropped into a
//! folder (`folder = "…"`, through [`CsvFiles`]) — the same reader either way.
use super::csv_format::{ColumnPlan, CsvLayout, RowGrouper};
use super::encoding::{first_invalid_utf8, not_utf8, not_utf8_from, LineCounter};
use super::FileEndpoint;
use crate::{ConnectorError, ErrorKind, Page, ReadRequest, RecordFailure, Source, SourceRecord};
use async_trait::async_trait;
use serde_json::Value;
use std::fs::File;
use tiltas_connector::filedrop::{DroppedFile, FileError, FilePage, FileParser, FileReader, Unreadable};
use tiltas_model::{natural_key, EntityKind};

/// How to fix a CSV that is not UTF-8 (most come from Excel).
const SAVE_CSV_AS_UTF8: &str = "save it as UTF-8, e.g. Excel's \"CSV UTF-8\"";

/// A CSV file as the source of a flow.
pub(super) struct CsvSource {
    endpoint: FileEndpoint,
    entity: EntityKind,
    reader: csv::Reader<File>,
    plan: ColumnPlan,
    lines: LineCounter,
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
    pub fn open(endpoint: FileEndpoint, layout: CsvLayout, entity: EntityKind) -> Result<CsvSource, FileError> {
        let file = File::open(&endpoint.path).map_err(|error| endpoint.io_error("opened", &error))?;
        let mut reader = layout.reader_builder().from_reader(file);
        let headers = match reader.headers() {
            Ok(headers) => headers.clone(),
            Err(error) => {
                if let csv::ErrorKind::Utf8 { .. } = error.kind() {
                    not_utf8_from(&endpoint, 0, SAVE_CSV_AS_UTF8)?;
                }
                if let csv::ErrorKind::Io(io) = error.kind() {
                    return Err(endpoint.io_error("read", io).into());
                }
                return Err(Unreadable::new(Some(1), format!("the header row cannot be read: {error}")).into());
            }
        };
        let plan = ColumnPlan::new(&layout, entity, &headers)
            .map_err(|message| Unreadable::new(Some(1), format!("the file {message}")))?;
        let lines = LineCounter::open(&endpoint.path).map_err(|error| endpoint.io_error("opened", &error))?;
        Ok(CsvSource {
            endpoint,
            entity,
            reader,
            plan,
            lines,
        })
    }

    /// The failure for a CSV error, naming the physical line of the first byte that is not
    /// UTF-8 when that is the problem (the reader's own line number is one short after CRLF).
    fn read_error(&mut self, error: &csv::Error, record_byte: u64) -> FileError {
        match error.kind() {
            csv::ErrorKind::Utf8 { pos, .. } => {
                let from = pos.as_ref().map_or(record_byte, csv::Position::byte);
                if let Ok(Some((offset, byte))) = first_invalid_utf8(&self.endpoint.path, from) {
                    return not_utf8(self.lines.line_at(offset), byte, SAVE_CSV_AS_UTF8).into();
                }
            }
            csv::ErrorKind::Io(io) => return self.endpoint.io_error("read", io).into(),
            _ => {}
        }
        Unreadable::new(
            Some(self.lines.line_at(record_byte)),
            format!("the file cannot be read: {error}"),
        )
        .into()
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

impl CsvSource {
    /// Reads up to `page_size` records from `position` (`None`: after the header row).
    fn read(&mut self, position: Option<&str>, page_size: usize) -> Result<FilePage, FileError> {
        if let Some(position) = position {
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
        let page_size = page_size.max(1);
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
                Err(error) => return Err(self.read_error(&error, before.byte())),
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
        Ok(FilePage { records, next })
    }
}

#[async_trait]
impl Source for CsvSource {
    async fn read_page(&mut self, request: &ReadRequest) -> Result<Page, ConnectorError> {
        let page = self
            .read(request.position.as_deref(), request.page_size)
            .map_err(|error| error.for_path(&self.endpoint.path))?;
        Ok(Page {
            records: page.records,
            next: page.next,
            api_calls: 0,
        })
    }
}

impl FileReader for CsvSource {
    fn read_page(&mut self, position: Option<&str>, page_size: usize) -> Result<FilePage, FileError> {
        self.read(position, page_size)
    }
}

/// CSV files dropped into a folder, each read with the flow's layout.
pub(super) struct CsvFiles {
    pub layout: CsvLayout,
    pub entity: EntityKind,
}

impl FileParser for CsvFiles {
    fn open(&self, file: &DroppedFile) -> Result<Box<dyn FileReader>, FileError> {
        let endpoint = FileEndpoint {
            path: file.path.clone(),
            display: file.name.clone(),
        };
        // The whole file is checked first: one saved in another encoding goes to failed/
        // before any of its rows is imported.
        not_utf8_from(&endpoint, 0, SAVE_CSV_AS_UTF8)?;
        Ok(Box::new(CsvSource::open(endpoint, self.layout.clone(), self.entity)?))
    }
}
