//! Why a file is refused: [`ParseError`], always naming the file and the place (line, and for
//! XML the element path) and, where known, what to do.
use tiltas_connector::filedrop::Unreadable;

/// What kind of refusal it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// Neither camt XML nor SWIFT MT940/MT942.
    UnknownFormat,
    /// The file ends before the statement does.
    Truncated,
    /// A statement, but something in it cannot be read.
    Invalid,
}

/// A statement file that cannot be read as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct ParseError {
    /// What kind of refusal.
    pub kind: ParseErrorKind,
    /// The file's name.
    pub file: String,
    /// The 1-based line at fault, when there is one.
    pub line: Option<u64>,
    /// For XML, the element at fault: `/Document/BkToCstmrStmt/Stmt[1]/Ntry[3]/Amt`.
    pub path: Option<String>,
    /// What is wrong, as a clause.
    pub problem: String,
    /// What to change, when known.
    pub fix: Option<String>,
}

impl ParseError {
    /// A refusal of `file` of `kind` at `line`.
    pub(crate) fn new(kind: ParseErrorKind, file: &str, line: Option<u64>, problem: impl Into<String>) -> ParseError {
        ParseError {
            kind,
            file: file.to_owned(),
            line,
            path: None,
            problem: problem.into(),
            fix: None,
        }
    }

    /// The same refusal at an XML element path.
    #[must_use]
    pub(crate) fn at_path(mut self, path: impl Into<String>) -> ParseError {
        self.path = Some(path.into());
        self
    }

    /// The same refusal with what to change.
    #[must_use]
    pub(crate) fn with_fix(mut self, fix: impl Into<String>) -> ParseError {
        self.fix = Some(fix.into());
        self
    }

    /// The problem with the element path in front: what a drop folder's dead letter says after
    /// `FILE:LINE`.
    fn problem_at_path(&self) -> String {
        match &self.path {
            Some(path) => format!("at {path}: {}", self.problem),
            None => self.problem.clone(),
        }
    }

    /// `FILE:LINE: at PATH: problem: fix`.
    fn render(&self) -> String {
        let place = match self.line {
            Some(line) => format!("{}:{line}", self.file),
            None => self.file.clone(),
        };
        let fix = self.fix.as_ref().map(|fix| format!(": {fix}")).unwrap_or_default();
        format!("{place}: {}{fix}", self.problem_at_path())
    }

    /// The drop folder's form of it (the folder adds the file name and line).
    pub fn to_unreadable(&self) -> Unreadable {
        let unreadable = Unreadable::new(self.line, self.problem_at_path());
        match &self.fix {
            Some(fix) => unreadable.with_fix(fix.clone()),
            None => unreadable,
        }
    }
}
