//! Problems of a flow file, located as `FILE:LINE:COL`.
use std::fmt;
use std::path::PathBuf;

/// A position in a flow file (1-based line and column; column counted in characters).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    /// Line, from 1 (0 when the problem has no position, e.g. an unreadable file).
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
}

/// How serious a [`Diagnostic`] is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The file is refused: validation fails.
    #[default]
    Error,
    /// The file is accepted; something will likely fail at run time. Printed with `warning:`.
    Warning,
}

/// One problem of a flow file, printed as `FILE:LINE:COL: message` (`FILE:LINE:COL: warning:
/// message` for a warning).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The flow file.
    pub file: PathBuf,
    /// Line, from 1 (0: the problem concerns the whole file).
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
    /// What is wrong and how to fix it.
    pub message: String,
    /// An error (the file is refused) or a warning (it is accepted).
    pub severity: Severity,
}

impl Diagnostic {
    /// A problem at a location of a file.
    pub fn new(file: PathBuf, location: Location, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file,
            line: location.line,
            column: location.column,
            message: message.into(),
            severity: Severity::Error,
        }
    }

    /// A warning at a location of a file: printed, but the file is accepted.
    pub fn warning(file: PathBuf, location: Location, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::new(file, location, message)
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self.severity {
            Severity::Error => "",
            Severity::Warning => "warning: ",
        };
        if self.line == 0 {
            write!(f, "{}: {label}{}", self.file.display(), self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {label}{}",
                self.file.display(),
                self.line,
                self.column,
                self.message
            )
        }
    }
}

/// Every problem of a flow file, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, diagnostic) in self.0.iter().enumerate() {
            if index > 0 {
                writeln!(f)?;
            }
            write!(f, "{diagnostic}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// Turns byte offsets of a text into line and column.
pub(crate) struct Locator {
    line_starts: Vec<usize>,
    text: String,
}

impl Locator {
    pub fn new(text: &str) -> Locator {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(index, _)| index + 1));
        Locator {
            line_starts,
            text: text.to_owned(),
        }
    }

    /// The location of a byte offset.
    pub fn locate(&self, offset: usize) -> Location {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|start| *start <= offset).max(1);
        let start = self.line_starts[line - 1];
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |prefix| prefix.chars().count())
            + 1;
        Location { line, column }
    }
}

/// The closest of `candidates` to `word`, when one is close enough to be a likely typo.
pub(crate) fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|candidate| {
            (
                candidate,
                strsim::jaro_winkler(word, candidate),
                strsim::levenshtein(word, candidate),
            )
        })
        .filter(|(_, similarity, distance)| *similarity >= 0.8 || *distance <= 2)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(candidate, _, _)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_one_based_lines_and_character_columns() {
        let locator = Locator::new("a = 1\nėė = 2\n");
        assert_eq!(locator.locate(0), Location { line: 1, column: 1 });
        assert_eq!(locator.locate(6), Location { line: 2, column: 1 });
        // "ėė" is four bytes but two characters.
        assert_eq!(locator.locate(11), Location { line: 2, column: 4 });
    }

    #[test]
    fn typos_get_a_suggestion_and_unrelated_words_do_not() {
        assert_eq!(suggest("shedule", ["schedule", "filter", "map"]), Some("schedule"));
        assert_eq!(suggest("jsnol", ["csv", "jsonl"]), Some("jsonl"));
        assert_eq!(suggest("colour", ["sku", "name"]), None);
    }
}
