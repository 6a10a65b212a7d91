//! File feeds: CSV (as exported by Excel, ERPs and suppliers) and JSON Lines (canonical records,
//! one per line). Both read page by page from a byte position — one file (`file`), or every
//! file dropped into a folder (`folder`, a [`tiltas_connector::filedrop::FileDropSource`]:
//! each imported once, then moved to `done/` or `failed/`) — and write durably: every batch is
//! appended to a journal and fsynced before it is acknowledged, and `finish` replaces the output
//! file atomically (temporary file, fsync, rename).
#![forbid(unsafe_code)]
mod csv_format;
mod csv_source;
mod encoding;
mod jsonl;
mod keyed;

use std::collections::BTreeMap;
use std::path::PathBuf;
use tiltas_config::{EntityAccess, KeyKind, KeySpec, KeyTable, OneOf, SystemSpec};
use tiltas_connector::filedrop::FileDropSource;
#[allow(unused_imports)] // modules of this crate name the contract as `crate::Source`
use tiltas_connector::*;
use tiltas_connector::{ConnectorError, ErrorKind, OpenContext, Source, System, Target};
use tiltas_model::EntityKind;

pub use csv_format::CsvLayout;

/// Records written per batch by file targets (a journal append each).
const FILE_BATCH: usize = 1000;

const DIR_KEY: KeySpec = KeySpec {
    name: "dir",
    kind: KeyKind::Path,
    required: false,
    default: None,
    doc: "directory of the files, relative to the flow file (unset: the flow file's directory)",
};
const FILE_KEY: KeySpec = KeySpec {
    name: "file",
    kind: KeyKind::String,
    required: true,
    default: None,
    doc: "file name inside the connection's `dir`",
};
/// A source reads one file or a drop folder: exactly one of `file` and `folder`, checked when
/// the source is opened (the spec cannot say "one of").
const SOURCE_FILE_KEY: KeySpec = KeySpec {
    name: "file",
    kind: KeyKind::String,
    required: false,
    default: None,
    doc: "file name inside the connection's `dir` (this or `folder`)",
};
const FOLDER_KEY: KeySpec = KeySpec {
    name: "folder",
    kind: KeyKind::String,
    required: false,
    default: None,
    doc: "drop folder inside the connection's `dir` (this or `file`): each new file is imported once, then moved to `done/` (unreadable ones to `failed/`)",
};
const COLUMNS_KEY: KeySpec = KeySpec {
    name: "columns",
    kind: KeyKind::StringMap,
    required: false,
    default: None,
    doc: "canonical field = column header; other headers land in raw.<header>",
};

/// Entities a file can carry: every canonical entity, read and write, never incremental (a file
/// has no change times; change hashes make re-reads cheap instead).
const FILE_ENTITIES: [EntityAccess; 9] = {
    let mut all = [EntityAccess {
        entity: EntityKind::Product,
        read: true,
        write: true,
        incremental: false,
    }; 9];
    let mut index = 0;
    while index < 9 {
        all[index].entity = EntityKind::ALL[index];
        index += 1;
    }
    all
};

/// `system = "csv"`.
/// A flow reads one file or a drop folder, never both.
const SOURCE_FILE_OR_FOLDER: OneOf = OneOf {
    table: KeyTable::Source,
    choices: &["file", "folder"],
};

pub static CSV: SystemSpec = SystemSpec {
    name: "csv",
    description: "CSV files (UTF-8, with or without BOM; any one-character delimiter; decimal commas accepted)",
    connection_keys: &[
        DIR_KEY,
        KeySpec {
            name: "delimiter",
            kind: KeyKind::Char,
            required: false,
            default: Some(","),
            doc: "field delimiter",
        },
        KeySpec {
            name: "list_separator",
            kind: KeyKind::Char,
            required: false,
            default: Some("|"),
            doc: "separator of list values inside a cell, e.g. categories",
        },
    ],
    source_keys: &[SOURCE_FILE_KEY, FOLDER_KEY, COLUMNS_KEY],
    target_keys: &[FILE_KEY, COLUMNS_KEY],
    entities: &FILE_ENTITIES,
    accounting: false,
    one_of: &[SOURCE_FILE_OR_FOLDER],
    needs: &[],
    money_places: None,
};

/// `system = "jsonl"`.
pub static JSONL: SystemSpec = SystemSpec {
    name: "jsonl",
    description: "JSON Lines files: one canonical record per line",
    connection_keys: &[DIR_KEY],
    source_keys: &[SOURCE_FILE_KEY, FOLDER_KEY],
    target_keys: &[FILE_KEY],
    entities: &FILE_ENTITIES,
    accounting: false,
    one_of: &[SOURCE_FILE_OR_FOLDER],
    needs: &[],
    money_places: None,
};

/// Where a flow's file is and how to name it in messages.
#[derive(Debug, Clone)]
struct FileEndpoint {
    path: PathBuf,
    /// The file name as configured, for locations such as `products.csv:17`.
    display: String,
}

/// A `csv` or `jsonl` connection (`[connections.NAME]`), defaults from the spec.
#[derive(serde::Deserialize)]
struct ConnectionSettings {
    /// Unset: the flow file's folder.
    dir: Option<PathBuf>,
}

/// The CSV-only keys of a `csv` connection.
#[derive(serde::Deserialize)]
struct CsvConnectionSettings {
    delimiter: char,
    list_separator: char,
}

/// A flow's `from` or `to` on a file system.
#[derive(serde::Deserialize)]
struct EndpointSettings {
    file: Option<String>,
    folder: Option<String>,
    #[serde(default)]
    columns: BTreeMap<String, String>,
}

/// The settings of a flow's endpoint on a file system, read once.
struct Opened {
    /// The connection's `dir`: where its files and folders are.
    dir: PathBuf,
    endpoint: EndpointSettings,
}

impl Opened {
    fn of(context: &OpenContext<'_>, spec: &SystemSpec, writing: bool) -> Result<Opened, ConnectorError> {
        let connection: ConnectionSettings = context.connection_settings(spec)?;
        let keys = if writing { spec.target_keys } else { spec.source_keys };
        let endpoint: EndpointSettings = context.endpoint_settings(keys)?;
        Ok(Opened {
            dir: connection.dir.unwrap_or_else(|| context.base_dir.to_path_buf()),
            endpoint,
        })
    }

    /// The file a target writes (`file` is required there).
    fn target_file(&self) -> FileEndpoint {
        let file = self.endpoint.file.clone().unwrap_or_default();
        FileEndpoint {
            path: self.dir.join(&file),
            display: file,
        }
    }

    /// The CSV layout: the connection's delimiters, the endpoint's columns.
    fn csv_layout(&self, context: &OpenContext<'_>) -> Result<CsvLayout, ConnectorError> {
        let csv: CsvConnectionSettings = context.connection_settings(&CSV)?;
        Ok(CsvLayout {
            delimiter: csv.delimiter,
            list_separator: csv.list_separator,
            columns: self.endpoint.columns.clone(),
        })
    }
}

/// What a flow reads: one file, or the files dropped into a folder.
enum Input {
    File(FileEndpoint),
    Folder(PathBuf),
}

impl Input {
    /// The flow's `file` or `folder` — exactly one of them.
    fn of(opened: &Opened) -> Result<Input, ConnectorError> {
        let dir = &opened.dir;
        match (opened.endpoint.file.as_deref(), opened.endpoint.folder.as_deref()) {
            (Some(file), None) => Ok(Input::File(FileEndpoint {
                path: dir.join(file),
                display: file.to_owned(),
            })),
            (None, Some(folder)) => Ok(Input::Folder(dir.join(folder))),
            (Some(file), Some(folder)) => Err(ConnectorError::new(
                ErrorKind::Fatal,
                format!(
                    "`from` names both `file = \"{file}\"` and `folder = \"{folder}\"`: keep one — `file` reads that one file every run, `folder` imports each file dropped into the folder once"
                ),
            )
            .with_fix("remove `file` or `folder` from the flow's `from`")),
            (None, None) => Err(ConnectorError::new(
                ErrorKind::Fatal,
                "`from` names no file: add `file = \"NAME\"` (one file, read every run) or `folder = \"NAME\"` (each file dropped into the folder, imported once) to the flow's `from`",
            )
            .with_fix("add `file` or `folder` to the flow's `from`")),
        }
    }
}

impl FileEndpoint {
    /// A failure of this file, naming the path (the engine adds the flow and connection).
    fn error(&self, kind: ErrorKind, what: impl std::fmt::Display) -> ConnectorError {
        ConnectorError::new(kind, format!("{} {what}", self.path.display()))
    }

    fn io_error(&self, doing: &str, error: &std::io::Error) -> ConnectorError {
        let fix = match error.kind() {
            std::io::ErrorKind::NotFound => ": check `dir` and `file` in the flow file",
            std::io::ErrorKind::PermissionDenied => ": check the file's permissions",
            _ => "",
        };
        self.error(ErrorKind::Fatal, format!("cannot be {doing}: {error}{fix}"))
    }
}

/// CSV files: a file system (`system = "csv"`).
pub struct CsvSystem;
/// JSON Lines files: a file system (`system = "jsonl"`).
pub struct JsonlSystem;

impl System for CsvSystem {
    fn spec(&self) -> &'static SystemSpec {
        &CSV
    }

    fn readme(&self) -> Option<tiltas_connector::Readme> {
        tiltas_connector::readme!()
    }

    fn open_source(&self, context: &OpenContext<'_>) -> Result<Box<dyn Source>, ConnectorError> {
        let opened = Opened::of(context, &CSV, false)?;
        let layout = opened.csv_layout(context)?;
        match Input::of(&opened)? {
            Input::File(endpoint) => {
                let path = endpoint.path.clone();
                let source = csv_source::CsvSource::open(endpoint, layout, context.entity)
                    .map_err(|error| error.for_path(&path))?;
                Ok(Box::new(source))
            }
            Input::Folder(folder) => {
                let files = csv_source::CsvFiles {
                    layout,
                    entity: context.entity,
                };
                Ok(Box::new(FileDropSource::open(folder, files)?))
            }
        }
    }

    fn open_target(&self, context: &OpenContext<'_>) -> Result<Box<dyn Target>, ConnectorError> {
        let opened = Opened::of(context, &CSV, true)?;
        let format = csv_format::CsvFormat::new(opened.csv_layout(context)?, context.entity);
        Ok(Box::new(keyed::KeyedFileTarget::open(
            opened.target_file(),
            keyed::RecordKey::new(context.entity, context.match_on),
            Box::new(format),
        )?))
    }
}

impl System for JsonlSystem {
    fn spec(&self) -> &'static SystemSpec {
        &JSONL
    }

    fn readme(&self) -> Option<tiltas_connector::Readme> {
        tiltas_connector::readme!()
    }

    fn open_source(&self, context: &OpenContext<'_>) -> Result<Box<dyn Source>, ConnectorError> {
        match Input::of(&Opened::of(context, &JSONL, false)?)? {
            Input::File(endpoint) => {
                let path = endpoint.path.clone();
                let source =
                    jsonl::JsonlSource::open(endpoint, context.entity).map_err(|error| error.for_path(&path))?;
                Ok(Box::new(source))
            }
            Input::Folder(folder) => {
                let files = jsonl::JsonlFiles { entity: context.entity };
                Ok(Box::new(FileDropSource::open(folder, files)?))
            }
        }
    }

    fn open_target(&self, context: &OpenContext<'_>) -> Result<Box<dyn Target>, ConnectorError> {
        Ok(Box::new(keyed::KeyedFileTarget::open(
            Opened::of(context, &JSONL, true)?.target_file(),
            keyed::RecordKey::new(context.entity, context.match_on),
            Box::new(jsonl::JsonlFormat),
        )?))
    }
}

#[cfg(test)]
mod tests;

tiltas_connector::test_registry!(&crate::CsvSystem, &crate::JsonlSystem);
