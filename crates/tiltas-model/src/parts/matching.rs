//! Matching the lines of a supplier's document to the items of the books (an ERP's products):
//! each line is known by the supplier's code, the maker's number and brand (kept by supplier
//! connectors under `raw.lines`), and found through, in order:
//!
//! 1. the cross-reference the user keeps ([`CrossReference`]: supplier, supplier's code → item),
//!    so a mapping written down always wins over a guess;
//! 2. the supplier's code being an item's code;
//! 3. the maker's number, compared as [`normalise_article`] does, being an item's code or one of
//!    its barcodes (or the line's EAN being a barcode).
//!
//! The books are asked only for the codes and barcodes the lines could match ([`wanted`]); the
//! answers go into an [`ItemIndex`]. An item found twice by a barcode is ambiguous, not a match.
use super::normalise_article;
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};

/// One line of a supplier's document, as the supplier identifies the part.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SupplierLine {
    /// The supplier's own code of the part (the line's `sku`).
    pub code: String,
    /// The maker's number as the supplier writes it.
    pub article: Option<String>,
    /// The maker as the supplier spells it.
    pub brand: Option<String>,
    /// The part's EAN, when the supplier gives it.
    pub ean: Option<String>,
}

impl SupplierLine {
    /// `code (article, brand)` for messages.
    pub fn describe(&self) -> String {
        let known: Vec<&str> = [self.article.as_deref(), self.brand.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        if known.is_empty() {
            self.code.clone()
        } else {
            format!("{} ({})", self.code, known.join(", "))
        }
    }
}

fn text_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(text) if !text.trim().is_empty() => Some(text.trim().to_owned()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// The lines of a canonical document (`lines[].sku`) with what its supplier connector kept of
/// each under `raw.lines` — the entry of the same code (`sku` or `code`), else the one at the
/// same position: the maker's number (`article`, or Inter Cars' `index`), `brand` and `ean`.
pub fn supplier_lines(document: &Value) -> Vec<SupplierLine> {
    let raw_lines: Vec<&Value> = document
        .pointer("/raw/lines")
        .and_then(Value::as_array)
        .map(|lines| lines.iter().collect())
        .unwrap_or_default();
    let lines = document
        .get("lines")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    lines
        .iter()
        .enumerate()
        .map(|(position, line)| {
            let code = text_of(line.get("sku")).unwrap_or_default();
            let raw = raw_lines
                .iter()
                .find(|raw| {
                    text_of(raw.get("sku"))
                        .or_else(|| text_of(raw.get("code")))
                        .is_some_and(|raw_code| raw_code == code)
                })
                .or_else(|| raw_lines.get(position))
                .copied();
            let field = |names: &[&str]| raw.and_then(|raw| names.iter().find_map(|name| text_of(raw.get(*name))));
            SupplierLine {
                article: field(&["article", "index"]),
                brand: field(&["brand"]),
                ean: field(&["ean"]).or_else(|| text_of(line.get("ean"))),
                code,
            }
        })
        .collect()
}

/// What to ask the books for: item codes (suppliers' codes, makers' numbers as written and
/// normalised) and barcodes (makers' numbers both ways, EANs), each once.
pub fn wanted(lines: &[SupplierLine]) -> (Vec<String>, Vec<String>) {
    let (mut codes, mut barcodes) = (BTreeSet::new(), BTreeSet::new());
    for line in lines {
        if !line.code.is_empty() {
            codes.insert(line.code.clone());
        }
        if let Some(article) = &line.article {
            for spelling in [article.clone(), normalise_article(article)] {
                if !spelling.is_empty() {
                    codes.insert(spelling.clone());
                    barcodes.insert(spelling);
                }
            }
        }
        if let Some(ean) = &line.ean {
            barcodes.insert(ean.clone());
        }
    }
    (codes.into_iter().collect(), barcodes.into_iter().collect())
}

/// How a line found its item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchedBy {
    /// The cross-reference names the item for the supplier's code.
    CrossReference,
    /// The supplier's code is the item's code.
    SupplierCode,
    /// The maker's number is the item's code.
    MakerNumberCode,
    /// The maker's number (or the EAN) is one of the item's barcodes.
    Barcode,
}

/// Why a line found no item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoMatch {
    /// Nothing in the books answers to the line.
    Unknown,
    /// Several items have the line's maker's number as a barcode.
    Ambiguous(Vec<String>),
}

/// The books' items as found by code and barcode, keyed as lines compare them.
#[derive(Debug, Clone, Default)]
pub struct ItemIndex {
    /// Upper-case code → the code as the books write it.
    codes: HashMap<String, String>,
    /// [`normalise_article`] of a code → the codes.
    numbers: HashMap<String, BTreeSet<String>>,
    /// [`normalise_article`] of a barcode → the codes of the items with it.
    barcodes: HashMap<String, BTreeSet<String>>,
}

impl ItemIndex {
    /// An item the books have.
    pub fn add_item(&mut self, code: &str) {
        let code = code.trim();
        self.codes.insert(code.to_uppercase(), code.to_owned());
        self.numbers
            .entry(normalise_article(code))
            .or_default()
            .insert(code.to_owned());
    }

    /// A barcode of an item.
    pub fn add_barcode(&mut self, code: &str, barcode: &str) {
        self.barcodes
            .entry(normalise_article(barcode))
            .or_default()
            .insert(code.trim().to_owned());
    }

    /// Whether the books have an item of this code.
    pub fn has(&self, code: &str) -> bool {
        self.codes.contains_key(&code.trim().to_uppercase())
    }

    /// The item of a line of `supplier`'s document, and how it was found.
    pub fn find(
        &self,
        supplier: &str,
        line: &SupplierLine,
        xref: Option<&CrossReference>,
    ) -> Result<(String, MatchedBy), NoMatch> {
        if let Some(item) = xref.and_then(|xref| xref.item(supplier, &line.code)) {
            return Ok((item.to_owned(), MatchedBy::CrossReference));
        }
        if let Some(code) = self.codes.get(&line.code.trim().to_uppercase()) {
            return Ok((code.clone(), MatchedBy::SupplierCode));
        }
        let number = line.article.as_deref().map(normalise_article).filter(|n| !n.is_empty());
        if let Some(codes) = number.as_ref().and_then(|number| self.numbers.get(number)) {
            if let Some(code) = codes.iter().next().filter(|_| codes.len() == 1) {
                return Ok((code.clone(), MatchedBy::MakerNumberCode));
            }
            return Err(NoMatch::Ambiguous(codes.iter().cloned().collect()));
        }
        let ean = line.ean.as_deref().map(normalise_article);
        for key in [number, ean].into_iter().flatten() {
            if let Some(codes) = self.barcodes.get(&key) {
                if codes.len() > 1 {
                    return Err(NoMatch::Ambiguous(codes.iter().cloned().collect()));
                }
                if let Some(code) = codes.iter().next() {
                    return Ok((code.clone(), MatchedBy::Barcode));
                }
            }
        }
        Err(NoMatch::Unknown)
    }
}

/// A cross-reference of suppliers' codes to the books' item codes, kept by the user as a CSV
/// file with a header naming the columns `supplier`, `code` (or `supplier_code`) and `item`
/// (or `erp_code`, `rivile_code`), separated by `,` or `;`. Suppliers and codes compare
/// without case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CrossReference {
    entries: HashMap<(String, String), String>,
}

impl CrossReference {
    /// Reads the CSV text; an error names the line and what is wrong with it.
    pub fn parse_csv(text: &str) -> Result<CrossReference, String> {
        let delimiter = match text.lines().next() {
            Some(header) if header.contains(';') && !header.contains(',') => b';',
            _ => b',',
        };
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .trim(csv::Trim::All)
            .flexible(true)
            .from_reader(text.as_bytes());
        let header = reader
            .headers()
            .map_err(|error| format!("line 1: not a CSV header: {error}"))?
            .clone();
        let column = |names: &[&str]| {
            header
                .iter()
                .position(|name| names.iter().any(|wanted| name.eq_ignore_ascii_case(wanted)))
        };
        let (Some(supplier), Some(code), Some(item)) = (
            column(&["supplier"]),
            column(&["code", "supplier_code"]),
            column(&["item", "erp_code", "rivile_code"]),
        ) else {
            return Err(format!(
                "line 1: the header must name the columns supplier, code and item (found {:?}): write \
                 `supplier,code,item` as the first line",
                header.iter().collect::<Vec<_>>()
            ));
        };
        let mut entries = HashMap::new();
        for (index, row) in reader.records().enumerate() {
            let line = index + 2;
            let row = row.map_err(|error| format!("line {line}: {error}"))?;
            let cell = |at: usize| row.get(at).map(str::trim).filter(|value| !value.is_empty());
            if row.iter().all(|value| value.trim().is_empty()) {
                continue;
            }
            let (Some(supplier), Some(code), Some(item)) = (cell(supplier), cell(code), cell(item)) else {
                return Err(format!(
                    "line {line}: needs a supplier, a code and an item, found {:?}",
                    row.iter().collect::<Vec<_>>()
                ));
            };
            entries.insert((supplier.to_uppercase(), code.to_uppercase()), item.to_owned());
        }
        Ok(CrossReference { entries })
    }

    /// The item `supplier`'s `code` is mapped to.
    pub fn item(&self, supplier: &str, code: &str) -> Option<&str> {
        self.entries
            .get(&(supplier.trim().to_uppercase(), code.trim().to_uppercase()))
            .map(String::as_str)
    }

    /// How many codes it maps.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it maps no code.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn line(code: &str, article: Option<&str>) -> SupplierLine {
        SupplierLine {
            code: code.into(),
            article: article.map(str::to_owned),
            brand: Some("MANN-FILTER".into()),
            ean: None,
        }
    }

    #[test]
    fn raw_lines_give_each_line_its_makers_number_and_brand_by_code_or_position() {
        let intercars = json!({
            "lines": [{ "sku": "ZZQ1", "quantity": "1" }, { "sku": "ZZQ2", "quantity": "1" }],
            "raw": { "lines": [
                { "sku": "ZZQ2", "index": "W 712/75", "brand": "MANN-FILTER" },
                { "sku": "ZZQ1", "index": "0 986 494 104", "brand": "BOSCH" }
            ] }
        });
        let lines = supplier_lines(&intercars);
        assert_eq!(lines[0].article.as_deref(), Some("0 986 494 104"));
        assert_eq!(lines[1].brand.as_deref(), Some("MANN-FILTER"));
        let busmarket = json!({
            "lines": [{ "sku": "77", "quantity": "1" }],
            "raw": { "lines": [{ "code": "x", "article": "12-0004", "brand": "TRW" }] }
        });
        assert_eq!(supplier_lines(&busmarket)[0].article.as_deref(), Some("12-0004"));
        assert_eq!(supplier_lines(&json!({ "lines": [{ "sku": "A" }] }))[0].article, None);
    }

    #[test]
    fn lines_find_items_by_xref_then_code_then_makers_number_then_barcode() {
        let mut books = ItemIndex::default();
        for code in ["W71275", "D00002", "D00003", "IC123", "OWN-1"] {
            books.add_item(code);
        }
        books.add_barcode("D00002", "0 986 494 104");
        books.add_barcode("D00003", "12.34.567");
        let xref = CrossReference::parse_csv("supplier;code;item\nINTERCARS;IC123;OWN-1\n").unwrap_or_default();
        let find = |line: &SupplierLine| books.find("intercars", line, Some(&xref));
        assert_eq!(
            find(&line("IC123", None)),
            Ok(("OWN-1".into(), MatchedBy::CrossReference))
        );
        assert_eq!(
            books.find("OMEGA", &line("IC123", None), Some(&xref)),
            Ok(("IC123".into(), MatchedBy::SupplierCode))
        );
        assert_eq!(
            find(&line("X1", Some("w 712-75"))),
            Ok(("W71275".into(), MatchedBy::MakerNumberCode))
        );
        assert_eq!(
            find(&line("X2", Some("0986494104"))),
            Ok(("D00002".into(), MatchedBy::Barcode))
        );
        assert_eq!(find(&line("X3", Some("W 999/99"))), Err(NoMatch::Unknown));
        books.add_barcode("OWN-1", "12-34-567");
        assert_eq!(
            books.find("intercars", &line("X4", Some("1234567")), Some(&xref)),
            Err(NoMatch::Ambiguous(vec!["D00003".into(), "OWN-1".into()]))
        );
        let (codes, barcodes) = wanted(&[line("X1", Some("W 712/75"))]);
        assert_eq!(codes, ["W 712/75", "W71275", "X1"]);
        assert_eq!(barcodes, ["W 712/75", "W71275"]);
    }

    #[test]
    fn a_cross_reference_needs_its_three_columns_and_names_a_bad_line() {
        let xref =
            CrossReference::parse_csv("Supplier,Supplier_Code,Rivile_Code\nomega,123,A1\n\n").unwrap_or_default();
        assert_eq!(xref.item("OMEGA", "123"), Some("A1"));
        assert_eq!(xref.len(), 1);
        let error = CrossReference::parse_csv("supplier,code\nOMEGA,1\n")
            .err()
            .unwrap_or_default();
        assert!(error.contains("supplier, code and item"), "{error}");
        let error = CrossReference::parse_csv("supplier,code,item\nOMEGA,1,A\nOMEGA,,B\n")
            .err()
            .unwrap_or_default();
        assert!(error.starts_with("line 3:"), "{error}");
    }
}
