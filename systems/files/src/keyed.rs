//! An output file as a keyed collection of records: a record whose key is already in the file
//! is replaced in place (existing records are adopted, never duplicated), new ones are appended.
//!
//! Durability: each batch is appended to a journal next to the file and fsynced before the
//! batch is acknowledged; `finish` writes the whole file to a temporary file, fsyncs it, renames
//! it over the output and drops the journal. A crash in between loses nothing: the next open
//! replays the journal.
use super::FileEndpoint;
use crate::{BatchResult, ConnectorError, ErrorKind, FoundRecord, Lookup, Target, WriteItem, WriteOutcome};
use async_trait::async_trait;
use indexmap::IndexMap;
use serde_json::{json, Value};
use std::io::Write;
use std::path::PathBuf;
use tiltas_mapping::FieldPath;
use tiltas_model::{natural_key, EntityKind};

/// How records are laid out in an output file.
pub(super) trait FileFormat: Send {
    /// Reads every record of an existing file, in order.
    fn parse(&self, content: &str) -> Result<Vec<Value>, String>;
    /// Writes every record, in order.
    fn render(&self, records: &[&Value]) -> Result<String, String>;
}

/// Which value identifies a record in the file: the flow's `match_on` field, else the
/// entity's natural key.
#[derive(Debug, Clone)]
pub(super) struct RecordKey {
    entity: EntityKind,
    match_on: Option<(String, FieldPath)>,
}

impl RecordKey {
    pub fn new(entity: EntityKind, match_on: Option<&str>) -> RecordKey {
        RecordKey {
            entity,
            match_on: match_on.map(|field| (field.to_owned(), FieldPath::parse(field))),
        }
    }

    fn of(&self, record: &Value) -> Option<String> {
        match &self.match_on {
            Some((_, path)) => match path.get(record)? {
                Value::String(text) if !text.trim().is_empty() => Some(text.trim().to_owned()),
                Value::Number(number) => Some(number.to_string()),
                _ => None,
            },
            None => natural_key(self.entity, record),
        }
    }

    fn describe(&self) -> String {
        match &self.match_on {
            Some((field, _)) => format!("`{field}` (the flow's match_on)"),
            None => format!(
                "a {} key ({})",
                self.entity,
                tiltas_model::natural_key_fields(self.entity).join(" + ")
            ),
        }
    }
}

/// A keyed output file.
pub(super) struct KeyedFileTarget {
    endpoint: FileEndpoint,
    key: RecordKey,
    format: Box<dyn FileFormat>,
    records: IndexMap<String, Value>,
    journal: PathBuf,
}

impl KeyedFileTarget {
    /// Loads the existing output (if any) and replays a journal left by a crash.
    pub fn open(endpoint: FileEndpoint, key: RecordKey, format: Box<dyn FileFormat>) -> Result<Self, ConnectorError> {
        let file_name = endpoint
            .path
            .file_name()
            .map_or_else(|| "output".into(), |name| name.to_string_lossy());
        let journal = endpoint.path.with_file_name(format!(".{file_name}.tiltas-journal"));
        let mut target = KeyedFileTarget {
            endpoint,
            key,
            format,
            records: IndexMap::new(),
            journal,
        };
        match std::fs::read_to_string(&target.endpoint.path) {
            Ok(content) => {
                let existing = target.format.parse(&content).map_err(|message| {
                    target.endpoint.error(
                        ErrorKind::Fatal,
                        format!("exists but cannot be read back ({message}); fix it or move it away"),
                    )
                })?;
                for record in existing {
                    if let Some(key) = target.key.of(&record) {
                        target.records.insert(key, record);
                    }
                }
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(target.endpoint.io_error("read", &error)),
        }
        target.replay_journal()?;
        Ok(target)
    }

    fn replay_journal(&mut self) -> Result<(), ConnectorError> {
        let content = match std::fs::read_to_string(&self.journal) {
            Ok(content) => content,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(error) => return Err(self.endpoint.io_error("recovered (its journal is unreadable)", &error)),
        };
        // A torn last line (crash during append) was never acknowledged: it is skipped.
        for entry in content
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        {
            if let (Some(key), Some(record)) = (entry["key"].as_str(), entry.get("record")) {
                if let Some(replaced) = entry["replaces"].as_str() {
                    self.records.shift_remove(replaced);
                }
                self.records.insert(key.to_owned(), record.clone());
            }
        }
        tracing::info!(file = %self.endpoint.path.display(), "recovered unfinished writes from the journal");
        Ok(())
    }

    fn append_journal(&self, entries: &[Value]) -> Result<(), ConnectorError> {
        if let Some(dir) = self.journal.parent() {
            std::fs::create_dir_all(dir).map_err(|error| self.endpoint.io_error("created (its directory)", &error))?;
        }
        let mut text = String::new();
        for entry in entries {
            text.push_str(&entry.to_string());
            text.push('\n');
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.journal)
            .map_err(|error| self.endpoint.io_error("written (its journal)", &error))?;
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_data())
            .map_err(|error| self.endpoint.io_error("written (its journal)", &error))
    }
}

#[async_trait]
impl Target for KeyedFileTarget {
    fn max_batch(&self) -> usize {
        super::FILE_BATCH
    }

    fn can_lookup(&self) -> bool {
        true
    }

    /// Finds records by the file's key (the flow's `match_on`, which the target was opened with).
    async fn lookup(&mut self, _match_on: Option<&str>, keys: &[String]) -> Result<Lookup, ConnectorError> {
        let found = keys
            .iter()
            .filter_map(|key| {
                let record = self.records.get(key)?;
                Some((
                    key.clone(),
                    FoundRecord {
                        target_id: key.clone(),
                        data: Some(record.clone()),
                    },
                ))
            })
            .collect();
        Ok(Lookup { found, api_calls: 0 })
    }

    async fn write_batch(&mut self, items: Vec<WriteItem>) -> Result<BatchResult, ConnectorError> {
        let mut outcomes = Vec::with_capacity(items.len());
        let mut entries = Vec::new();
        for item in &items {
            match self.key.of(&item.payload) {
                Some(key) => {
                    let replaces = item.target_id.as_deref().filter(|old| *old != key);
                    entries.push(json!({ "key": key, "replaces": replaces, "record": item.payload }));
                    outcomes.push(WriteOutcome::Written { target_id: key });
                }
                None => outcomes.push(WriteOutcome::Failed(ConnectorError::new(
                    ErrorKind::Invalid,
                    format!(
                        "has no {} to file it under in {}",
                        self.key.describe(),
                        self.endpoint.display
                    ),
                ))),
            }
        }
        if !entries.is_empty() {
            self.append_journal(&entries)?;
        }
        for entry in entries {
            if let Some(replaced) = entry["replaces"].as_str() {
                self.records.shift_remove(replaced);
            }
            if let (Some(key), Some(record)) = (entry["key"].as_str(), entry.get("record")) {
                self.records.insert(key.to_owned(), record.clone());
            }
        }
        Ok(BatchResult { outcomes, api_calls: 0 })
    }

    async fn finish(&mut self) -> Result<(), ConnectorError> {
        let records: Vec<&Value> = self.records.values().collect();
        let content = self.format.render(&records).map_err(|message| {
            self.endpoint
                .error(ErrorKind::Fatal, format!("cannot be written: {message}"))
        })?;
        let dir = self
            .endpoint
            .path
            .parent()
            .map_or_else(|| PathBuf::from("."), PathBuf::from);
        std::fs::create_dir_all(&dir).map_err(|error| self.endpoint.io_error("created (its directory)", &error))?;
        let mut temporary =
            tempfile::NamedTempFile::new_in(&dir).map_err(|error| self.endpoint.io_error("written", &error))?;
        temporary
            .write_all(content.as_bytes())
            .and_then(|()| temporary.as_file().sync_all())
            .map_err(|error| self.endpoint.io_error("written", &error))?;
        temporary
            .persist(&self.endpoint.path)
            .map_err(|error| self.endpoint.io_error("replaced", &error.error))?;
        // The rename itself is durable only once the directory is synced.
        if let Ok(directory) = std::fs::File::open(&dir) {
            let _ = directory.sync_all();
        }
        match std::fs::remove_file(&self.journal) {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(self.endpoint.io_error("cleaned up (its journal)", &error)),
        }
    }
}
