//! File drops: a folder that files arrive in (bank statements, supplier price lists), read by a
//! [`FileDropSource`] that imports each new file once. A system writes only a [`FileParser`]
//! (one file → pages of records); the folder is handled here:
//!
//! - Files are taken oldest first (modification time, then name). Dot-files, names of files
//!   still being copied (`.part`, `.tmp`, `~`, …), subfolders and files changed within the last
//!   [`QUIET_FOR`] are left for a later read.
//! - One file is read at a time, page by page. A page's `next` names the file by the SHA-256
//!   of its content and the parser's position in it (`at:<sha256>:<position>`), so a read can
//!   resume inside a file without repeating what it already returned.
//! - A file is moved only once the engine has settled its last page ([`Source::settled`]): to
//!   `done/<UTC time>_<first 16 hex of its SHA-256>_<name>`. Those names are the folder's memory
//!   (a system never touches the store): a file whose content is already in `done/` is a
//!   re-delivery, moved to `done/…_duplicate_<name>` without being imported.
//! - A file that cannot be read as a whole ([`Unreadable`]: not UTF-8, no header, …) is moved
//!   to `failed/` and becomes one dead letter naming the file and line and the fix. A bad record
//!   inside a readable file is an ordinary [`RecordFailure`]; the file still goes to `done/`.
use crate::{ConnectorError, ErrorKind, Page, ReadRequest, RecordFailure, Source, SourceRecord};
use async_trait::async_trait;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The subfolder imported files (and re-deliveries of them) are moved to.
pub const DONE: &str = "done";

/// The subfolder files that cannot be read are moved to.
pub const FAILED: &str = "failed";

/// How long a file must be left unchanged before it is read: a file still being copied into the
/// folder changes more often than that.
pub const QUIET_FOR: Duration = Duration::from_secs(1);

/// Name endings that copy tools, browsers and editors give files they are still writing.
const UNFINISHED_ENDINGS: [&str; 6] = [".part", ".partial", ".tmp", ".crdownload", ".download", "~"];

/// Hex digits of the content hash kept in a moved file's name: 64 bits, enough to tell files
/// apart in one folder, short enough to read.
const NAME_HASH_LEN: usize = 16;

/// A file found in the folder, as handed to a parser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DroppedFile {
    /// Where it is.
    pub path: PathBuf,
    /// Its name in the folder, for locations such as `prices.csv:17`.
    pub name: String,
    /// The SHA-256 of its content, lower-case hex.
    pub sha256: String,
}

/// Why a file cannot be read as a whole (rather than one bad record in it): where, what, and
/// what to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// The 1-based line at fault, when there is one.
    pub line: Option<u64>,
    /// What is wrong, as a clause: `the file is not UTF-8 (byte 0xEB on this line)`.
    pub problem: String,
    /// What to change in the file, when known: `save it as UTF-8`.
    pub fix: Option<String>,
}

impl Unreadable {
    /// A file that cannot be read because of `problem`, at `line` when known.
    pub fn new(line: Option<u64>, problem: impl Into<String>) -> Unreadable {
        Unreadable {
            line,
            problem: problem.into(),
            fix: None,
        }
    }

    /// The same failure, with what to change in the file.
    #[must_use]
    pub fn with_fix(mut self, fix: impl Into<String>) -> Unreadable {
        self.fix = Some(fix.into());
        self
    }
}

impl std::fmt::Display for Unreadable {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(line) = self.line {
            write!(formatter, "line {line}: ")?;
        }
        formatter.write_str(&self.problem)?;
        match &self.fix {
            Some(fix) => write!(formatter, ": {fix}"),
            None => Ok(()),
        }
    }
}

/// A failure reading one file.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FileError {
    /// The file's content cannot be read: from a drop folder it goes to `failed/` as one dead
    /// letter; a file read on its own stops the run.
    #[error("{0}")]
    Unreadable(Unreadable),
    /// Something besides the content failed (the disk, permissions, a lost position): the run
    /// stops and the file stays where it is.
    #[error(transparent)]
    Stop(#[from] ConnectorError),
}

impl From<Unreadable> for FileError {
    fn from(unreadable: Unreadable) -> FileError {
        FileError::Unreadable(unreadable)
    }
}

impl FileError {
    /// The failure of a run reading the file at `path` on its own (not from a drop folder): an
    /// unreadable file is `PATH:LINE: problem: fix`, of kind `Fatal`.
    pub fn for_path(self, path: &Path) -> ConnectorError {
        match self {
            FileError::Stop(error) => error,
            FileError::Unreadable(unreadable) => {
                let place = match unreadable.line {
                    Some(line) => format!("{}:{line}", path.display()),
                    None => path.display().to_string(),
                };
                let fix = unreadable
                    .fix
                    .as_ref()
                    .map(|fix| format!(": {fix}"))
                    .unwrap_or_default();
                let error =
                    ConnectorError::new(ErrorKind::Fatal, format!("{place}: {}{fix}", unreadable.problem)).at(place);
                match unreadable.fix {
                    Some(fix) => error.with_fix(fix),
                    None => error,
                }
            }
        }
    }
}

/// Records of one file, as a parser reads them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FilePage {
    /// Records in file order; a bad record is a failure in place, with `location` `NAME:LINE`.
    pub records: Vec<Result<SourceRecord, RecordFailure>>,
    /// The parser's position after these records; `None` at the end of the file.
    pub next: Option<String>,
}

/// One file being read, page by page.
pub trait FileReader: Send {
    /// Reads up to `page_size` records from `position` (a `next` this reader returned; `None`
    /// for the start of the file).
    fn read_page(&mut self, position: Option<&str>, page_size: usize) -> Result<FilePage, FileError>;
}

/// Reads one kind of file (a CSV price list, a camt.053 statement): what a system writes to
/// take its files from a drop folder.
pub trait FileParser: Send + Sync {
    /// Opens a dropped file. A file that is wrong as a whole (no header, not UTF-8, not the
    /// format) is `FileError::Unreadable`, preferably found here, before any record is read.
    fn open(&self, file: &DroppedFile) -> Result<Box<dyn FileReader>, FileError>;
}

/// A file parsed whole into its records (a bank statement, small enough to hold), read back in
/// pages: what a [`FileParser`] that parses the file's bytes at once returns from `open`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedFile {
    records: Vec<Result<SourceRecord, RecordFailure>>,
}

impl ParsedFile {
    /// The records of a file, in file order.
    pub fn new(records: Vec<Result<SourceRecord, RecordFailure>>) -> ParsedFile {
        ParsedFile { records }
    }
}

impl FileReader for ParsedFile {
    fn read_page(&mut self, position: Option<&str>, page_size: usize) -> Result<FilePage, FileError> {
        let start = match position {
            None => 0,
            Some(text) => text.parse::<usize>().map_err(|_| {
                ConnectorError::new(
                    ErrorKind::Fatal,
                    format!("a parsed file was asked for position {text:?}"),
                )
            })?,
        };
        let start = start.min(self.records.len());
        let end = start.saturating_add(page_size.max(1)).min(self.records.len());
        Ok(FilePage {
            records: self.records[start..end].to_vec(),
            next: (end < self.records.len()).then(|| end.to_string()),
        })
    }
}

/// Where a read of the folder is.
#[derive(Debug, PartialEq)]
enum Position {
    /// Nothing read yet.
    Start,
    /// Inside the file with this content, at the parser's position.
    At { sha256: String, inner: String },
    /// Past the end of the file with this content, which goes to `destination`.
    After { sha256: String, destination: Destination },
}

impl Position {
    fn parse(text: Option<&str>) -> Option<Position> {
        let Some(text) = text else {
            return Some(Position::Start);
        };
        if let Some(rest) = text.strip_prefix("at:") {
            let (sha256, inner) = rest.split_once(':')?;
            return is_sha256(sha256).then(|| Position::At {
                sha256: sha256.to_owned(),
                inner: inner.to_owned(),
            });
        }
        let (sha256, destination) = match text.strip_prefix("after:") {
            Some(sha256) => (sha256, Destination::Done),
            None => (text.strip_prefix("failed:")?, Destination::Failed),
        };
        is_sha256(sha256).then(|| Position::After {
            sha256: sha256.to_owned(),
            destination,
        })
    }

    /// The position past the end of a file going to `destination`.
    fn after(sha256: &str, destination: Destination) -> String {
        match destination {
            Destination::Failed => format!("failed:{sha256}"),
            Destination::Done | Destination::Duplicate => format!("after:{sha256}"),
        }
    }
}

fn is_sha256(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|byte| byte.is_ascii_hexdigit())
}

/// Where a file goes once what was read of it is settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Destination {
    /// Imported: to `done/`.
    Done,
    /// Its content was imported before: to `done/`, named a duplicate.
    Duplicate,
    /// Unreadable: to `failed/`.
    Failed,
}

impl Destination {
    fn folder(self) -> &'static str {
        match self {
            Destination::Done | Destination::Duplicate => DONE,
            Destination::Failed => FAILED,
        }
    }
}

/// A move waiting for the engine to settle what was read.
#[derive(Debug)]
struct Move {
    from: PathBuf,
    sha256: String,
    destination: Destination,
    /// The name in the destination folder.
    to_name: String,
}

/// The file being read.
struct Reading {
    file: DroppedFile,
    reader: Box<dyn FileReader>,
    /// Whether records of it were already returned (by this source, or before a resume).
    started: bool,
}

/// A file in the folder that may be read.
struct Candidate {
    path: PathBuf,
    name: String,
    modified: SystemTime,
    len: u64,
}

/// A drop folder as the source of a flow: every file dropped into it is imported once.
pub struct FileDropSource<P> {
    folder: PathBuf,
    parser: P,
    quiet_for: Duration,
    reading: Option<Reading>,
    /// The next file, found when the last one ended (to tell whether the read goes on).
    upcoming: Option<DroppedFile>,
    /// Moves to make once the engine has settled what was read ([`Source::settled`]).
    pending: Vec<Move>,
    /// What `done/` holds: first hex digits of a content hash → the name there.
    done: Option<HashMap<String, String>>,
    /// Files this source read to their end: content hash → name, so a second copy dropped in
    /// the same read is a duplicate even before the first is moved.
    imported: HashMap<String, String>,
    /// Files finished by this source, left out of later listings whether moved or not.
    finished: HashSet<PathBuf>,
    /// Content hashes by path, modification time and length: a file is hashed once per source.
    hashes: HashMap<PathBuf, (SystemTime, u64, String)>,
}

impl<P: FileParser> FileDropSource<P> {
    /// Reads the files dropped into `folder` with `parser`. The folder must exist: a wrong path
    /// would otherwise be an empty folder forever.
    pub fn open(folder: impl Into<PathBuf>, parser: P) -> Result<FileDropSource<P>, ConnectorError> {
        let folder = folder.into();
        match std::fs::metadata(&folder) {
            Ok(metadata) if metadata.is_dir() => {}
            Ok(_) => {
                return Err(fatal(format!(
                    "{} is not a folder: point `folder` at the folder files are dropped into",
                    folder.display()
                )))
            }
            Err(error) => {
                return Err(fatal(format!(
                    "the drop folder {} cannot be opened: {error}: create it, or correct `folder` (it is inside the connection's `dir`)",
                    folder.display()
                )))
            }
        }
        Ok(FileDropSource {
            folder,
            parser,
            quiet_for: QUIET_FOR,
            reading: None,
            upcoming: None,
            pending: Vec::new(),
            done: None,
            imported: HashMap::new(),
            finished: HashSet::new(),
            hashes: HashMap::new(),
        })
    }

    /// The same source, reading only files unchanged for `quiet_for` (default [`QUIET_FOR`]).
    #[must_use]
    pub fn quiet_for(mut self, quiet_for: Duration) -> FileDropSource<P> {
        self.quiet_for = quiet_for;
        self
    }

    /// The files that may be read now, oldest first (then by name).
    fn candidates(&self) -> Result<Vec<Candidate>, ConnectorError> {
        let entries = std::fs::read_dir(&self.folder).map_err(|error| {
            fatal(format!(
                "the drop folder {} cannot be listed: {error}: let the user running Tiltas read it",
                self.folder.display()
            ))
        })?;
        let now = SystemTime::now();
        let mut candidates = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|error| {
                fatal(format!(
                    "the drop folder {} cannot be listed: {error}",
                    self.folder.display()
                ))
            })?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let unfinished = name.starts_with("~$") || UNFINISHED_ENDINGS.iter().any(|end| name.ends_with(end));
            if name.starts_with('.') || unfinished || name == DONE || name == FAILED {
                continue;
            }
            let path = entry.path();
            if self.finished.contains(&path) {
                continue;
            }
            // Following links: a link to a file is a file. One gone since the listing (or a
            // dangling link) is not there.
            let Ok(metadata) = std::fs::metadata(&path) else {
                continue;
            };
            if !metadata.is_file() {
                continue;
            }
            let modified = metadata.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            // A modification time in the future is as good as now: the file may be unfinished.
            let age = now.duration_since(modified).unwrap_or_else(|ahead| ahead.duration());
            if age < self.quiet_for {
                tracing::debug!(file = %path.display(), "changed less than {:?} ago: left for the next read", self.quiet_for);
                continue;
            }
            candidates.push(Candidate {
                path,
                name,
                modified,
                len: metadata.len(),
            });
        }
        candidates.sort_by(|left, right| (left.modified, &left.name).cmp(&(right.modified, &right.name)));
        Ok(candidates)
    }

    /// The SHA-256 of a candidate's content; `None` when it went away.
    fn sha256(&mut self, candidate: &Candidate) -> Result<Option<String>, ConnectorError> {
        if let Some((modified, len, sha256)) = self.hashes.get(&candidate.path) {
            if (*modified, *len) == (candidate.modified, candidate.len) {
                return Ok(Some(sha256.clone()));
            }
        }
        let sha256 = match sha256_of(&candidate.path) {
            Ok(sha256) => sha256,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => {
                return Err(fatal(format!(
                    "{} cannot be read: {error}: let the user running Tiltas read it, or move it out of the folder",
                    candidate.path.display()
                )))
            }
        };
        self.hashes.insert(
            candidate.path.clone(),
            (candidate.modified, candidate.len, sha256.clone()),
        );
        Ok(Some(sha256))
    }

    /// What `done/` holds, listed once per source.
    fn done_index(&mut self) -> Result<&mut HashMap<String, String>, ConnectorError> {
        if self.done.is_none() {
            let done_folder = self.folder.join(DONE);
            let mut index = HashMap::new();
            match std::fs::read_dir(&done_folder) {
                Ok(entries) => {
                    for entry in entries.flatten() {
                        let name = entry.file_name().to_string_lossy().into_owned();
                        if let Some(hash) = hash_in_name(&name) {
                            index.insert(hash.to_owned(), name);
                        }
                    }
                }
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => {
                    return Err(fatal(format!(
                        "{} cannot be listed: {error}: make it a folder the user running Tiltas can read and write",
                        done_folder.display()
                    )))
                }
            }
            self.done = Some(index);
        }
        Ok(self.done.get_or_insert_with(HashMap::new))
    }

    /// Where a file with this content was imported before: `done/NAME`, or the name of a file
    /// this source read.
    fn earlier_copy(&mut self, sha256: &str) -> Result<Option<String>, ConnectorError> {
        if let Some(name) = self.imported.get(sha256) {
            return Ok(Some(name.clone()));
        }
        let short = &sha256[..NAME_HASH_LEN];
        Ok(self.done_index()?.get(short).map(|name| format!("{DONE}/{name}")))
    }

    /// The next file to import, oldest first. Re-deliveries met on the way are set to move to
    /// `done/` as duplicates.
    fn next_file(&mut self) -> Result<Option<DroppedFile>, ConnectorError> {
        if let Some(file) = self.upcoming.take() {
            if file.path.is_file() && !self.finished.contains(&file.path) {
                return Ok(Some(file));
            }
        }
        for candidate in self.candidates()? {
            let Some(sha256) = self.sha256(&candidate)? else {
                continue;
            };
            let file = DroppedFile {
                path: candidate.path,
                name: candidate.name,
                sha256,
            };
            if let Some(earlier) = self.earlier_copy(&file.sha256)? {
                tracing::warn!(
                    folder = %self.folder.display(),
                    file = %file.name,
                    earlier = %earlier,
                    "{} has the same content as {earlier}, which was imported: it goes to {DONE}/ as a duplicate and is not imported again",
                    file.name
                );
                self.finish(&file, Destination::Duplicate);
                continue;
            }
            return Ok(Some(file));
        }
        Ok(None)
    }

    /// A file in the folder with this content, not yet finished by this source.
    fn find(&mut self, sha256: &str) -> Result<Option<DroppedFile>, ConnectorError> {
        if let Some(file) = self.upcoming.take() {
            if file.sha256 == sha256 {
                return Ok(Some(file));
            }
            self.upcoming = Some(file);
        }
        for candidate in self.candidates()? {
            if self.sha256(&candidate)?.as_deref() == Some(sha256) {
                return Ok(Some(DroppedFile {
                    path: candidate.path,
                    name: candidate.name,
                    sha256: sha256.to_owned(),
                }));
            }
        }
        Ok(None)
    }

    /// Sets `file` to move to `destination` once what was read is settled; returns the path
    /// it will have there, relative to the folder (`failed/NAME`).
    fn finish(&mut self, file: &DroppedFile, destination: Destination) -> String {
        let stamp = chrono::Utc::now().format("%Y-%m-%dT%H-%M-%S");
        let short = &file.sha256[..NAME_HASH_LEN];
        let to_name = match destination {
            Destination::Duplicate => format!("{stamp}_{short}_duplicate_{}", file.name),
            Destination::Done | Destination::Failed => format!("{stamp}_{short}_{}", file.name),
        };
        if destination == Destination::Done {
            self.imported.insert(file.sha256.clone(), file.name.clone());
        }
        self.finished.insert(file.path.clone());
        self.pending.push(Move {
            from: file.path.clone(),
            sha256: file.sha256.clone(),
            destination,
            to_name: to_name.clone(),
        });
        format!("{}/{to_name}", destination.folder())
    }

    /// Sets an unreadable file to move to `failed/` and returns its one dead letter.
    fn fail(&mut self, file: &DroppedFile, unreadable: Unreadable, started: bool) -> RecordFailure {
        let moved_to = self.finish(file, Destination::Failed);
        let location = match unreadable.line {
            Some(line) => format!("{}:{line}", file.name),
            None => file.name.clone(),
        };
        let fix = match &unreadable.fix {
            Some(fix) => format!("{fix}, then put the file back in the folder"),
            None => "fix the file and put it back in the folder".to_owned(),
        };
        let what = if started {
            "was read only up to here (the records before were imported; they are recognised as unchanged when the file comes back)"
        } else {
            "was not imported"
        };
        tracing::warn!(
            folder = %self.folder.display(),
            file = %location,
            moved_to = %moved_to,
            "{} cannot be read: {}",
            file.name,
            unreadable.problem
        );
        RecordFailure::new(
            file.name.clone(),
            location,
            format!(
                "{} {what}: {}. It is moved to {moved_to}: {fix}",
                file.name, unreadable.problem
            ),
            serde_json::json!({
                "file": file.name,
                "line": unreadable.line,
                "sha256": file.sha256,
                "moved_to": moved_to,
            }),
        )
        .with_fix(fix)
    }

    /// Starts reading `file` at the parser's position `inner`.
    fn begin(&mut self, file: DroppedFile, inner: Option<String>, page_size: usize) -> Result<Page, ConnectorError> {
        let started = inner.is_some();
        match self.parser.open(&file) {
            Ok(reader) => {
                self.reading = Some(Reading { file, reader, started });
                self.read_on(inner, page_size)
            }
            Err(FileError::Unreadable(unreadable)) => {
                let failure = self.fail(&file, unreadable, started);
                self.last_page(vec![Err(failure)], &file.sha256, Destination::Failed)
            }
            Err(FileError::Stop(error)) => Err(error),
        }
    }

    /// Reads on in the current file.
    fn read_on(&mut self, inner: Option<String>, page_size: usize) -> Result<Page, ConnectorError> {
        let Some(reading) = self.reading.as_mut() else {
            return self.read_next(page_size);
        };
        match reading.reader.read_page(inner.as_deref(), page_size) {
            Ok(FilePage {
                records,
                next: Some(inner_next),
            }) => {
                reading.started = true;
                Ok(Page {
                    records,
                    next: Some(format!("at:{}:{inner_next}", reading.file.sha256)),
                    api_calls: 0,
                })
            }
            Ok(FilePage { records, next: None }) => {
                let file = reading.file.clone();
                self.reading = None;
                self.finish(&file, Destination::Done);
                self.last_page(records, &file.sha256, Destination::Done)
            }
            Err(FileError::Unreadable(unreadable)) => {
                let (file, started) = (reading.file.clone(), reading.started);
                self.reading = None;
                let failure = self.fail(&file, unreadable, started);
                self.last_page(vec![Err(failure)], &file.sha256, Destination::Failed)
            }
            Err(FileError::Stop(error)) => Err(error),
        }
    }

    /// The last page of the file with this content: the read goes on when another file waits.
    fn last_page(
        &mut self,
        records: Vec<Result<SourceRecord, RecordFailure>>,
        sha256: &str,
        destination: Destination,
    ) -> Result<Page, ConnectorError> {
        self.upcoming = self.next_file()?;
        Ok(Page {
            records,
            next: self.upcoming.as_ref().map(|_| Position::after(sha256, destination)),
            api_calls: 0,
        })
    }

    /// The first page of the next file, or an empty last page when none waits.
    fn read_next(&mut self, page_size: usize) -> Result<Page, ConnectorError> {
        match self.next_file()? {
            Some(file) => self.begin(file, None, page_size),
            None => Ok(Page::default()),
        }
    }

    /// Makes a pending move: into its subfolder (created when missing), under a name not
    /// taken there. Atomic: a rename within the folder.
    fn carry_out(&mut self, pending: &Move) -> Result<(), ConnectorError> {
        let subfolder = self.folder.join(pending.destination.folder());
        let folder = self.folder.display().to_string();
        let unwritable = |error: std::io::Error, what: String| {
            fatal(format!(
                "{what}: {error}: let the user running Tiltas write to {folder} and its {DONE}/ and {FAILED}/ subfolders (the file stays; what was read of it is recognised as unchanged next time)"
            ))
        };
        std::fs::create_dir_all(&subfolder)
            .map_err(|error| unwritable(error, format!("cannot create {}", subfolder.display())))?;
        let mut target = subfolder.join(&pending.to_name);
        let mut copy = 2;
        while target.exists() {
            // Same second, same content, same name: keep both rather than replace one.
            let (stamp, rest) = pending.to_name.split_once('_').unwrap_or((&pending.to_name, ""));
            target = subfolder.join(format!("{stamp}-{copy}_{rest}"));
            copy += 1;
        }
        match std::fs::rename(&pending.from, &target) {
            Ok(()) => {
                tracing::info!(file = %pending.from.display(), moved_to = %target.display(), "dropped file settled");
                if pending.destination != Destination::Failed {
                    let name = target
                        .file_name()
                        .map(|name| name.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    self.done_index()?
                        .insert(pending.sha256[..NAME_HASH_LEN].to_owned(), name);
                }
                Ok(())
            }
            // Taken away by hand since it was read: nothing left to move.
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                tracing::warn!(file = %pending.from.display(), "went away before it could be moved to {}/", pending.destination.folder());
                Ok(())
            }
            Err(error) => Err(unwritable(
                error,
                format!("cannot move {} to {}", pending.from.display(), target.display()),
            )),
        }
    }
}

#[async_trait]
impl<P: FileParser> Source for FileDropSource<P> {
    async fn read_page(&mut self, request: &ReadRequest) -> Result<Page, ConnectorError> {
        let page_size = request.page_size.max(1);
        let position = Position::parse(request.position.as_deref()).ok_or_else(|| {
            fatal(format!(
                "the drop folder {} was asked for an unknown read position {:?}",
                self.folder.display(),
                request.position
            ))
        })?;
        match position {
            Position::Start => {}
            Position::At { sha256, inner } => {
                if self
                    .reading
                    .as_ref()
                    .is_some_and(|reading| reading.file.sha256 == sha256)
                {
                    return self.read_on(Some(inner), page_size);
                }
                // Resuming in a new source (a run that died mid-file): the same content, found
                // by its hash whatever its name now.
                match self.find(&sha256)? {
                    Some(file) => return self.begin(file, Some(inner), page_size),
                    None => tracing::info!(
                        folder = %self.folder.display(),
                        "the file being read (SHA-256 {sha256}) is no longer in the folder: going on with the next"
                    ),
                }
            }
            Position::After { sha256, destination } => {
                // Read to its end and settled, but not moved (a run that stopped before it
                // could): move it now rather than read it again.
                if !self.imported.contains_key(&sha256) {
                    if let Some(file) = self.find(&sha256)? {
                        self.finish(&file, destination);
                    }
                }
            }
        }
        self.read_next(page_size)
    }

    async fn settled(&mut self, _position: Option<&str>) -> Result<(), ConnectorError> {
        // Every pending move belongs to a page read before this call, so all of them are now
        // safe to make, whichever page `_position` follows.
        while !self.pending.is_empty() {
            let pending = self.pending.remove(0);
            if let Err(error) = self.carry_out(&pending) {
                self.pending.insert(0, pending);
                return Err(error);
            }
        }
        Ok(())
    }
}

/// The content hash in a moved file's name (`STAMP_HASH_NAME`), if it has one.
fn hash_in_name(name: &str) -> Option<&str> {
    let mut parts = name.splitn(3, '_');
    let (Some(_stamp), Some(hash), Some(_name)) = (parts.next(), parts.next(), parts.next()) else {
        return None;
    };
    (hash.len() == NAME_HASH_LEN && hash.bytes().all(|byte| byte.is_ascii_hexdigit())).then_some(hash)
}

/// The SHA-256 of a file's content, read in chunks so a large file costs no memory.
pub fn sha256_of(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let read = file.read(&mut chunk)?;
        if read == 0 {
            return Ok(hex::encode(hasher.finalize()));
        }
        hasher.update(&chunk[..read]);
    }
}

fn fatal(message: String) -> ConnectorError {
    ConnectorError::new(ErrorKind::Fatal, message)
}

#[cfg(test)]
mod tests;
