//! PrestaShop's XML as a small element tree: parsed with `quick-xml` (CDATA and escaped text
//! alike), written back with every text in CDATA as PrestaShop writes it. The connector reads
//! and edits records in this form so that a full-replace PUT sends back exactly what it got,
//! less the read-only fields; the simulator stores its records in it.
use quick_xml::events::Event;
use quick_xml::Reader;

/// Why a body is not the XML expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct XmlError(pub String);

/// One XML element: its name, attributes, text (CDATA and text joined) and child elements.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    /// The element's name, without a namespace prefix.
    pub name: String,
    /// Its attributes in document order (`xlink:href` keeps its prefix).
    pub attributes: Vec<(String, String)>,
    /// Its text, trimmed of the indentation between elements.
    pub text: String,
    /// Its child elements in document order.
    pub children: Vec<Element>,
}

impl Element {
    /// An empty element called `name`.
    pub fn new(name: impl Into<String>) -> Element {
        Element {
            name: name.into(),
            ..Element::default()
        }
    }

    /// An element holding only `text`.
    pub fn leaf(name: impl Into<String>, text: impl Into<String>) -> Element {
        Element {
            name: name.into(),
            text: text.into(),
            ..Element::default()
        }
    }

    /// The same element with `child` appended.
    #[must_use]
    pub fn with_child(mut self, child: Element) -> Element {
        self.children.push(child);
        self
    }

    /// The same element with an attribute.
    #[must_use]
    pub fn with_attribute(mut self, name: &str, value: impl Into<String>) -> Element {
        self.attributes.push((name.to_owned(), value.into()));
        self
    }

    /// An attribute's value.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The first child called `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|child| child.name == name)
    }

    /// The first child called `name`, to change it.
    pub fn child_mut(&mut self, name: &str) -> Option<&mut Element> {
        self.children.iter_mut().find(|child| child.name == name)
    }

    /// Every child called `name`.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |child| child.name == name)
    }

    /// A child's text, `None` when the child is absent or its text empty.
    pub fn text_of(&self, name: &str) -> Option<&str> {
        let text = self.child(name)?.text.as_str();
        (!text.is_empty()).then_some(text)
    }

    /// A language-keyed child's text (`<name><language id="1">…</language></name>`) in
    /// `language`, else in the first language that has one; a plain text child is its text.
    pub fn language_text(&self, name: &str, language: &str) -> Option<&str> {
        let field = self.child(name)?;
        let languages: Vec<&Element> = field.children_named("language").collect();
        if languages.is_empty() {
            return (!field.text.is_empty()).then_some(field.text.as_str());
        }
        languages
            .iter()
            .find(|entry| entry.attribute("id") == Some(language) && !entry.text.is_empty())
            .or_else(|| languages.iter().find(|entry| !entry.text.is_empty()))
            .map(|entry| entry.text.as_str())
    }

    /// Sets a child's text, adding the child at the end when it is absent.
    pub fn set_text(&mut self, name: &str, text: impl Into<String>) {
        match self.child_mut(name) {
            Some(child) => {
                child.text = text.into();
                child.children.clear();
            }
            None => self.children.push(Element::leaf(name, text)),
        }
    }

    /// Sets a language-keyed child's text in `language`, keeping the other languages.
    pub fn set_language_text(&mut self, name: &str, language: &str, text: impl Into<String>) {
        let text = text.into();
        if self.child(name).is_none() {
            self.children.push(Element::new(name));
        }
        let Some(field) = self.child_mut(name) else { return };
        field.text.clear();
        match field
            .children
            .iter_mut()
            .find(|entry| entry.name == "language" && entry.attribute("id") == Some(language))
        {
            Some(entry) => entry.text = text,
            None => field
                .children
                .push(Element::leaf("language", text).with_attribute("id", language)),
        }
    }

    /// Removes every child called `name`.
    pub fn remove(&mut self, name: &str) {
        self.children.retain(|child| child.name != name);
    }

    /// Parses a whole document and returns its root element. A truncated body, a body that is
    /// not XML (an HTML error page) or an empty one is an error naming what was found.
    pub fn parse(text: &str) -> Result<Element, XmlError> {
        let mut reader = Reader::from_str(text);
        let mut stack: Vec<Element> = Vec::new();
        let mut root: Option<Element> = None;
        loop {
            let event = reader.read_event().map_err(|error| {
                XmlError(format!(
                    "not well-formed XML at byte {}: {error}",
                    reader.buffer_position()
                ))
            })?;
            match event {
                Event::Start(start) => stack.push(element_of(&start)?),
                Event::Empty(start) => {
                    let element = element_of(&start)?;
                    close(&mut stack, &mut root, element)?;
                }
                Event::End(_) => {
                    let Some(mut element) = stack.pop() else {
                        return Err(XmlError("a closing tag without its opening tag".to_owned()));
                    };
                    if !element.children.is_empty() && element.text.trim().is_empty() {
                        element.text.clear();
                    }
                    close(&mut stack, &mut root, element)?;
                }
                Event::Text(text) => {
                    if let Some(current) = stack.last_mut() {
                        let unescaped = text
                            .unescape()
                            .map_err(|error| XmlError(format!("bad text in <{}>: {error}", current.name)))?;
                        current.text.push_str(&unescaped);
                    }
                }
                Event::CData(data) => {
                    if let Some(current) = stack.last_mut() {
                        let bytes = data.into_inner();
                        let text = std::str::from_utf8(&bytes)
                            .map_err(|error| XmlError(format!("CDATA in <{}> is not UTF-8: {error}", current.name)))?;
                        current.text.push_str(text);
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        if let Some(open) = stack.last() {
            return Err(XmlError(format!("the XML ends before </{}>: cut short", open.name)));
        }
        let mut root = root.ok_or_else(|| XmlError("no XML element in the body".to_owned()))?;
        trim_texts(&mut root);
        Ok(root)
    }

    /// The element as XML, every text in CDATA (as PrestaShop writes), no declaration.
    pub fn to_xml(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, 0);
        out
    }

    /// A whole document: the declaration and `<prestashop>` around `self`.
    pub fn document(&self) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<prestashop xmlns:xlink=\"http://www.w3.org/1999/xlink\">\n{}</prestashop>\n",
            self.to_xml()
        )
    }

    fn write(&self, out: &mut String, depth: usize) {
        let indent = "\t".repeat(depth);
        out.push_str(&indent);
        out.push('<');
        out.push_str(&self.name);
        for (key, value) in &self.attributes {
            out.push_str(&format!(" {key}=\"{}\"", quick_xml::escape::escape(value.as_str())));
        }
        if self.children.is_empty() {
            if self.text.is_empty() {
                out.push_str("/>\n");
            } else {
                out.push('>');
                out.push_str(&cdata(&self.text));
                out.push_str(&format!("</{}>\n", self.name));
            }
            return;
        }
        // A language field stays on one line, as PrestaShop writes it.
        if self.children.iter().all(|child| child.name == "language") {
            out.push('>');
            for child in &self.children {
                let mut line = String::new();
                child.write(&mut line, 0);
                out.push_str(line.trim_end());
            }
            out.push_str(&format!("</{}>\n", self.name));
            return;
        }
        out.push_str(">\n");
        for child in &self.children {
            child.write(out, depth + 1);
        }
        out.push_str(&indent);
        out.push_str(&format!("</{}>\n", self.name));
    }
}

/// Text as CDATA; a `]]>` inside is split across two sections.
fn cdata(text: &str) -> String {
    format!("<![CDATA[{}]]>", text.replace("]]>", "]]]]><![CDATA[>"))
}

fn element_of(start: &quick_xml::events::BytesStart<'_>) -> Result<Element, XmlError> {
    let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
    let mut element = Element::new(name);
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|error| XmlError(format!("bad attribute in <{}>: {error}", element.name)))?;
        let key = String::from_utf8_lossy(attribute.key.as_ref()).into_owned();
        let value = attribute
            .unescape_value()
            .map_err(|error| XmlError(format!("bad attribute {key} in <{}>: {error}", element.name)))?
            .into_owned();
        element.attributes.push((key, value));
    }
    Ok(element)
}

fn close(stack: &mut [Element], root: &mut Option<Element>, element: Element) -> Result<(), XmlError> {
    match stack.last_mut() {
        Some(parent) => {
            parent.children.push(element);
            Ok(())
        }
        None if root.is_none() => {
            *root = Some(element);
            Ok(())
        }
        None => Err(XmlError(format!("a second root element <{}>", element.name))),
    }
}

/// Drops the indentation around CDATA (`\n\t<![CDATA[x]]>\n` is `x`) in leaf texts only when
/// it is whitespace outside the value: PrestaShop never pads values.
fn trim_texts(element: &mut Element) {
    if element.children.is_empty() {
        let trimmed = element.text.trim_matches(|c: char| c == '\n' || c == '\r' || c == '\t');
        if trimmed.len() != element.text.len() {
            element.text = trimmed.to_owned();
        }
    } else {
        element.text.clear();
        for child in &mut element.children {
            trim_texts(child);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_product_round_trips_with_cdata_languages_and_associations() {
        let text = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<prestashop xmlns:xlink=\"http://www.w3.org/1999/xlink\">\n<product>\n\t<id><![CDATA[27]]></id>\n\t<reference>T&amp;EE</reference>\n\t<quantity notFilterable=\"true\"></quantity>\n\t<name><language id=\"1\" xlink:href=\"http://x/api/languages/1\"><![CDATA[Tee <b>]]></language><language id=\"2\"><![CDATA[Marškinėliai]]></language></name>\n<associations>\n<categories nodeType=\"category\" api=\"categories\">\n\t<category xlink:href=\"http://x/api/categories/2\">\n\t<id><![CDATA[2]]></id>\n\t</category>\n</categories>\n</associations>\n</product>\n</prestashop>\n";
        let root = Element::parse(text).unwrap();
        assert_eq!(root.name, "prestashop");
        let product = root.child("product").unwrap();
        assert_eq!(product.text_of("id"), Some("27"));
        assert_eq!(product.text_of("reference"), Some("T&EE"));
        assert_eq!(product.text_of("quantity"), None);
        assert_eq!(product.language_text("name", "2"), Some("Marškinėliai"));
        assert_eq!(product.language_text("name", "9"), Some("Tee <b>"));
        let category = product
            .child("associations")
            .and_then(|a| a.child("categories"))
            .and_then(|c| c.child("category"))
            .unwrap();
        assert_eq!(category.text_of("id"), Some("2"));
        let again = Element::parse(&product.document()).unwrap();
        assert_eq!(again.child("product"), Some(product));
    }

    #[test]
    fn a_cut_body_and_an_html_page_are_errors_not_panics() {
        let cut = Element::parse("<prestashop><products><product id=\"1\"/><prod").unwrap_err();
        assert!(
            cut.0.contains("not well-formed") || cut.0.contains("cut short"),
            "{cut}"
        );
        let html = Element::parse("<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gat")
            .unwrap_err();
        assert!(
            html.0.contains("cut short") || html.0.contains("not well-formed"),
            "{html}"
        );
        assert!(Element::parse("").is_err());
        assert!(Element::parse("just text").is_err());
    }
}
