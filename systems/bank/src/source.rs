//! Statement files dropped into a folder, read by the shared
//! [`FileDropSource`](tiltas_connector::filedrop::FileDropSource): this is only the parser of one
//! file. The folder imports each file once, sets re-deliveries aside and moves a refused file to
//! `failed/` with one dead letter at its `FILE:LINE` (and XML path).
use crate::records::records;
use tiltas_connector::filedrop::{DroppedFile, FileError, FileParser, FileReader, ParsedFile};
use tiltas_connector::{ConnectorError, ErrorKind};

/// Parses each dropped statement whole (statements are small) into its records.
pub(crate) struct StatementFiles;

impl FileParser for StatementFiles {
    fn open(&self, file: &DroppedFile) -> Result<Box<dyn FileReader>, FileError> {
        let bytes = std::fs::read(&file.path).map_err(|error| {
            ConnectorError::new(
                ErrorKind::Fatal,
                format!("{} cannot be read: {error}", file.path.display()),
            )
            .with_fix("let the user running Tiltas read the drop folder's files")
        })?;
        let document =
            crate::parse(&file.name, &bytes).map_err(|error| FileError::Unreadable(error.to_unreadable()))?;
        for statement in &document.statements {
            for warning in &statement.warnings {
                tracing::warn!(file = %file.name, "{warning}");
            }
        }
        Ok(Box::new(ParsedFile::new(records(&document))))
    }
}
