//! JSON Lines: one canonical record per line. Read from one file (`file = "…"`) or from each
//! file dropped into a folder (`folder = "…"`, through [`JsonlFiles`]) — the same reader
//! either way.
use super::encoding::{not_utf8_from, SAVE_AS_UTF8};
use super::keyed::FileFormat;
use super::FileEndpoint;
use crate::{ConnectorError, ErrorKind, Page, ReadRequest, RecordFailure, Source, SourceRecord};
use async_trait::async_trait;
use serde_json::Value;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use tiltas_connector::filedrop::{DroppedFile, FileError, FilePage, FileParser, FileReader};
use tiltas_model::{natural_key, EntityKind};

/// A JSON Lines file as the source of a flow.
pub(super) struct JsonlSource {
    endpoint: FileEndpoint,
    entity: EntityKind,
    reader: BufReader<std::fs::File>,
}

impl JsonlSource {
    /// Opens the file.
    pub fn open(endpoint: FileEndpoint, entity: EntityKind) -> Result<JsonlSource, FileError> {
        let file = std::fs::File::open(&endpoint.path).map_err(|error| endpoint.io_error("opened", &error))?;
        Ok(JsonlSource {
            endpoint,
            entity,
            reader: BufReader::new(file),
        })
    }
}

/// Page positions are `byte:line` of the next line to read.
fn decode(text: &str) -> Option<(u64, u64)> {
    let (byte, line) = text.split_once(':')?;
    Some((byte.parse().ok()?, line.parse().ok()?))
}

impl JsonlSource {
    /// Reads up to `page_size` records from `position` (`None`: the start of the file).
    fn read(&mut self, position: Option<&str>, page_size: usize) -> Result<FilePage, FileError> {
        let (mut byte, mut line_number) = match position {
            None => (0, 0),
            Some(position) => decode(position).ok_or_else(|| {
                self.endpoint.error(
                    ErrorKind::Fatal,
                    format!("was asked for an unknown read position {position:?}"),
                )
            })?,
        };
        self.reader
            .seek(SeekFrom::Start(byte))
            .map_err(|error| self.endpoint.io_error("re-read", &error))?;
        let mut records = Vec::new();
        let mut line = String::new();
        let mut next = None;
        loop {
            if records.len() >= page_size.max(1) {
                next = Some(format!("{byte}:{line_number}"));
                break;
            }
            line.clear();
            let read = match self.reader.read_line(&mut line) {
                Ok(read) => read,
                Err(error) if error.kind() == std::io::ErrorKind::InvalidData => {
                    // Not UTF-8: named at its physical line, like a CSV's.
                    not_utf8_from(&self.endpoint, byte, SAVE_AS_UTF8)?;
                    return Err(self.endpoint.io_error("read", &error).into());
                }
                Err(error) => return Err(self.endpoint.io_error("read", &error).into()),
            };
            if read == 0 {
                break;
            }
            byte += read as u64;
            line_number += 1;
            let text = line.trim_start_matches('\u{feff}').trim();
            if text.is_empty() {
                continue;
            }
            let location = format!("{}:{line_number}", self.endpoint.display);
            records.push(match serde_json::from_str::<Value>(text) {
                Ok(record @ Value::Object(_)) => {
                    let key = natural_key(self.entity, &record).unwrap_or_else(|| format!("line {line_number}"));
                    let updated_at = record
                        .get("updated_at")
                        .and_then(Value::as_str)
                        .and_then(|text| chrono::DateTime::parse_from_rfc3339(text).ok())
                        .map(|at| at.with_timezone(&chrono::Utc));
                    Ok(SourceRecord {
                        key,
                        updated_at,
                        data: record,
                    })
                }
                Ok(_) => Err(RecordFailure::new(
                    format!("line {line_number}"),
                    location,
                    "is not a JSON object; each line must hold one record {…}",
                    Value::String(text.to_owned()),
                )),
                Err(error) => Err(RecordFailure::new(
                    format!("line {line_number}"),
                    location,
                    format!("is not valid JSON ({error}); each line must hold one record"),
                    Value::String(text.to_owned()),
                )),
            });
        }
        Ok(FilePage { records, next })
    }
}

#[async_trait]
impl Source for JsonlSource {
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

impl FileReader for JsonlSource {
    fn read_page(&mut self, position: Option<&str>, page_size: usize) -> Result<FilePage, FileError> {
        self.read(position, page_size)
    }
}

/// JSON Lines files dropped into a folder.
pub(super) struct JsonlFiles {
    pub entity: EntityKind,
}

impl FileParser for JsonlFiles {
    fn open(&self, file: &DroppedFile) -> Result<Box<dyn FileReader>, FileError> {
        let endpoint = FileEndpoint {
            path: file.path.clone(),
            display: file.name.clone(),
        };
        // The whole file is checked first: one saved in another encoding goes to failed/
        // before any of its lines is imported.
        not_utf8_from(&endpoint, 0, SAVE_AS_UTF8)?;
        Ok(Box::new(JsonlSource::open(endpoint, self.entity)?))
    }
}

/// JSON Lines as the output of a flow.
pub(super) struct JsonlFormat;

impl FileFormat for JsonlFormat {
    fn parse(&self, content: &str) -> Result<Vec<Value>, String> {
        content
            .lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(index, line)| {
                serde_json::from_str(line).map_err(|error| format!("line {}: not valid JSON ({error})", index + 1))
            })
            .collect()
    }

    fn render(&self, records: &[&Value]) -> Result<String, String> {
        let mut text = String::new();
        for record in records {
            text.push_str(&serde_json::to_string(record).map_err(|error| error.to_string())?);
            text.push('\n');
        }
        Ok(text)
    }
}
