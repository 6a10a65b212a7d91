//! A small element tree of an XML file, by local name (namespace prefixes dropped), each
//! element with the line it starts on: what the camt reader walks. Statements are small enough
//! to hold whole, and a tree lets the reader look fields up by path whatever order and version
//! the bank writes them in.
use crate::error::{ParseError, ParseErrorKind};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

/// Elements nested deeper than this are refused: camt needs about 12, and a bound keeps a
/// hostile file from exhausting the stack when the tree is dropped.
const MAX_DEPTH: usize = 64;

/// One element.
#[derive(Debug, Default)]
pub(crate) struct Element {
    /// Local name (`Ntry`, whatever prefix the file uses).
    pub name: String,
    /// Attributes by local name.
    pub attributes: Vec<(String, String)>,
    /// Its own text, trimmed (child elements' text is theirs).
    pub text: String,
    /// Child elements in file order.
    pub children: Vec<Element>,
    /// The 1-based line its start tag is on.
    pub line: u64,
    /// The namespace URI declared on it (`xmlns="…"`), when one is.
    pub namespace: Option<String>,
}

impl Element {
    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|child| child.name == name)
    }

    /// The children named `name`.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |child| child.name == name)
    }

    /// The element at a `/`-separated path of local names below this one.
    pub fn at(&self, path: &str) -> Option<&Element> {
        path.split('/').try_fold(self, |element, name| element.child(name))
    }

    /// The trimmed, non-empty text of the element at `path`.
    pub fn text_at(&self, path: &str) -> Option<String> {
        self.at(path)
            .map(|element| element.text.trim())
            .filter(|text| !text.is_empty())
            .map(str::to_owned)
    }

    /// An attribute by local name.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Counts lines up to byte offsets that only grow: `\n`, `\r\n` and a lone `\r` (old Mac
/// files) each end a line.
struct Lines<'a> {
    bytes: &'a [u8],
    offset: usize,
    line: u64,
}

impl Lines<'_> {
    fn at(&mut self, offset: u64) -> u64 {
        let offset = usize::try_from(offset).unwrap_or(usize::MAX).min(self.bytes.len());
        while self.offset < offset {
            match self.bytes[self.offset] {
                b'\n' => self.line += 1,
                b'\r' if self.bytes.get(self.offset + 1) != Some(&b'\n') => self.line += 1,
                _ => {}
            }
            self.offset += 1;
        }
        self.line
    }
}

/// The root element of `text`, or where and why it is not well-formed XML. A file that ends
/// inside an element is [`ParseErrorKind::Truncated`], naming the elements still open.
pub(crate) fn parse(file: &str, text: &str) -> Result<Element, ParseError> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut lines = Lines {
        bytes: text.as_bytes(),
        offset: 0,
        line: 1,
    };
    let mut open: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let path_of = |open: &[Element]| -> String {
        open.iter()
            .map(|element| format!("/{}", element.name))
            .collect::<String>()
    };
    loop {
        // Where the next event starts: the trimmed whitespace before a tag is not part of it.
        let mut before = reader.buffer_position();
        while text
            .as_bytes()
            .get(usize::try_from(before).unwrap_or(usize::MAX))
            .is_some_and(u8::is_ascii_whitespace)
        {
            before += 1;
        }
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(error) => {
                let line = lines.at(reader.error_position());
                let path = path_of(&open);
                let truncated = reader.buffer_position() as usize >= text.len();
                let kind = if truncated {
                    ParseErrorKind::Truncated
                } else {
                    ParseErrorKind::Invalid
                };
                let error = ParseError::new(kind, file, Some(line), format!("the XML is not well-formed ({error})"))
                    .with_fix("the file is damaged or cut off: download the statement from the bank again");
                return Err(if path.is_empty() { error } else { error.at_path(path) });
            }
        };
        match event {
            Event::Start(start) | Event::Empty(start) if open.len() >= MAX_DEPTH => {
                let _ = start;
                return Err(ParseError::new(
                    ParseErrorKind::Invalid,
                    file,
                    Some(lines.at(before)),
                    format!("elements are nested deeper than {MAX_DEPTH} levels: this is not a bank statement"),
                )
                .at_path(path_of(&open)));
            }
            Event::Start(start) => open.push(element_of(&start, lines.at(before))),
            Event::Empty(start) => {
                open.push(element_of(&start, lines.at(before)));
                close(&mut open, &mut root);
            }
            Event::End(_) => close(&mut open, &mut root),
            Event::Text(content) => {
                if let Some(element) = open.last_mut() {
                    let value = content
                        .unescape()
                        .map(|value| value.into_owned())
                        .unwrap_or_else(|_| String::from_utf8_lossy(&content).into_owned());
                    element.text.push_str(&value);
                }
            }
            Event::CData(content) => {
                if let Some(element) = open.last_mut() {
                    element.text.push_str(&String::from_utf8_lossy(&content));
                }
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if let Some(innermost) = open.last() {
        let line = lines.at(text.trim_end().len() as u64);
        return Err(ParseError::new(
            ParseErrorKind::Truncated,
            file,
            Some(line),
            format!(
                "the file ends inside <{}> (opened on line {}): it is cut off",
                innermost.name, innermost.line
            ),
        )
        .at_path(path_of(&open))
        .with_fix("download the statement from the bank again"));
    }
    root.ok_or_else(|| {
        ParseError::new(
            ParseErrorKind::UnknownFormat,
            file,
            None,
            "the file holds no XML element",
        )
        .with_fix("export the statement as camt.052, camt.053 or camt.054 XML, or MT940")
    })
}

/// The element a start tag opens, on `line`.
fn element_of(start: &BytesStart<'_>, line: u64) -> Element {
    let mut element = Element {
        name: String::from_utf8_lossy(start.local_name().as_ref()).into_owned(),
        line,
        ..Element::default()
    };
    for attribute in start.attributes().with_checks(false).flatten() {
        let key = attribute.key;
        let value = attribute
            .unescape_value()
            .map(|value| value.into_owned())
            .unwrap_or_else(|_| String::from_utf8_lossy(&attribute.value).into_owned());
        if key.as_ref() == b"xmlns" {
            element.namespace = Some(value.clone());
        }
        let local = String::from_utf8_lossy(key.local_name().as_ref()).into_owned();
        element.attributes.push((local, value));
    }
    element
}

/// Closes the innermost open element into its parent (or as the root).
fn close(open: &mut Vec<Element>, root: &mut Option<Element>) {
    let Some(element) = open.pop() else {
        return;
    };
    match open.last_mut() {
        Some(parent) => parent.children.push(element),
        None => {
            if root.is_none() {
                *root = Some(element);
            }
        }
    }
}
