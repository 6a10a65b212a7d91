//! A supplier's invoice (a canonical `document` of kind `incoming_receipt` or `purchase`) as a
//! Rivile purchase document: header `I06` with `I06_OP_TIP` 1 and the supplier as the client
//! (`I06_KODAS_KS`), lines in `I07` at the supplier's net unit prices and VAT rates, each line's
//! product the Rivile item the part is matched to (`tiltas_model::parts::matching`: the
//! flow's `part_xref`, the supplier's code, the maker's number as a product code or barcode).
//! A line whose part Rivile does not know fails the whole document, naming the supplier, the
//! supplier's code and the brand, with the fix; nothing is booked short.
use crate::client::{quoted, text, Client, ROWS_PER_CALL};
use crate::document::{amount, cents, put, text as field};
use crate::target::{check_widths, Writing};
use crate::{schema, ConnectorError};
use chrono::Utc;
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Map, Value};
use tiltas_model::parts::matching::{supplier_lines, wanted, CrossReference, ItemIndex, NoMatch, SupplierLine};
use tiltas_model::{Document, DocumentKind};

/// `I06_OP_TIP` of a purchase.
pub(crate) const PURCHASE: &str = "1";

/// How many values one `in (…)` condition lists: Rivile answers 100 rows a call, and a code
/// matches at most one product.
const VALUES_PER_CALL: usize = ROWS_PER_CALL;

/// Where a target's cross-reference comes from, for messages.
#[derive(Debug, Clone)]
pub(crate) struct PartXref {
    /// The file as configured (`part_xref`).
    pub path: std::path::PathBuf,
    /// Its entries.
    pub entries: CrossReference,
}

/// Reads the `part_xref` file; an error names the file, the line and the fix.
pub(crate) fn read_xref(path: &std::path::Path) -> Result<PartXref, String> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        format!(
            "part_xref {}: cannot be read ({error}): create it with the header `supplier,code,item` or fix the path",
            path.display()
        )
    })?;
    let entries = CrossReference::parse_csv(&text).map_err(|error| format!("part_xref {}: {error}", path.display()))?;
    Ok(PartXref {
        path: path.to_owned(),
        entries,
    })
}

/// Rivile's products that the lines of these documents could be: by code (suppliers' codes,
/// makers' numbers, the cross-reference's items) from N17 and by barcode from N37.
pub(crate) async fn items_for(
    client: &Client,
    documents: &[&Value],
    xref: Option<&PartXref>,
) -> Result<(ItemIndex, u64), ConnectorError> {
    let lines: Vec<SupplierLine> = documents.iter().flat_map(|document| supplier_lines(document)).collect();
    let (mut codes, barcodes) = wanted(&lines);
    if let Some(xref) = xref {
        let counterparties: Vec<String> = documents
            .iter()
            .filter_map(|document| field(document.get("counterparty")))
            .collect();
        for line in &lines {
            for supplier in &counterparties {
                if let Some(item) = xref.entries.item(supplier, &line.code) {
                    codes.push(item.to_owned());
                }
            }
        }
    }
    codes.sort();
    codes.dedup();
    let mut index = ItemIndex::default();
    let mut calls = 0;
    for chunk in codes.chunks(VALUES_PER_CALL) {
        let list: Vec<String> = chunk.iter().map(|code| quoted(code)).collect();
        let rows = client
            .all_rows("N17", &format!("n17_kodas_ps in ({})", list.join(",")))
            .await?;
        calls += rows.1;
        for row in rows.0 {
            if let Some(code) = text(&row, "N17_KODAS_PS") {
                index.add_item(&code);
            }
        }
    }
    for chunk in barcodes.chunks(VALUES_PER_CALL) {
        let list: Vec<String> = chunk.iter().map(|code| quoted(code)).collect();
        let rows = client
            .all_rows("N37", &format!("n37_bar_kodas in ({})", list.join(",")))
            .await?;
        calls += rows.1;
        for row in rows.0 {
            if let (Some(code), Some(barcode)) = (text(&row, "N37_KODAS_PS"), text(&row, "N37_BAR_KODAS")) {
                index.add_barcode(&code, &barcode);
            }
        }
    }
    Ok((index, calls))
}

impl Writing {
    /// The supplier the document is booked against: the flow's `counterparty`, else the
    /// document's.
    pub(crate) fn supplier_of(&self, payload: &Value) -> Option<String> {
        self.counterparty.clone().or_else(|| field(payload.get("counterparty")))
    }

    /// A supplier invoice as a purchase document. Without `items` (the precheck, before the
    /// products are asked for) everything but the matching is checked.
    pub(crate) fn purchase(&self, payload: &Value, items: Option<&ItemIndex>) -> Result<Map<String, Value>, String> {
        let document: Document =
            serde_json::from_value(payload.clone()).map_err(|error| format!("not a document: {error}"))?;
        if !matches!(document.kind, DocumentKind::IncomingReceipt | DocumentKind::Purchase) {
            return Err(format!(
                "the document is a {:?} and this Rivile target books supplier invoices (incoming receipts, \
                 purchases) as purchase documents: leave other kinds out with a filter on `kind`",
                document.kind
            ));
        }
        let number = Some(document.number.trim().to_owned())
            .filter(|number| !number.is_empty())
            .ok_or("the document has no number")?;
        let supplier = self.supplier_of(payload).ok_or(
            "the document names no supplier: set counterparty = \"CODE\" (the supplier's N08 client code) on the flow's `to`",
        )?;
        let date = document
            .date
            .map(|date| date.format("%Y-%m-%d").to_string())
            .unwrap_or_else(|| Utc::now().format("%Y-%m-%d").to_string());
        let warehouse = document.warehouse.clone().or_else(|| self.warehouse.clone()).ok_or(
            "the document names no warehouse and the flow none: set warehouse = \"CODE\" (an N07 padalinys) on \
             the flow's `to` or on the connection — Rivile books every purchase line in a warehouse",
        )?;
        let mut header = Map::new();
        put(&mut header, "I06_OP_TIP", Some(PURCHASE.to_owned()));
        put(&mut header, "I06_DOK_NR", Some(number));
        put(&mut header, "I06_OP_DATA", Some(date.clone()));
        put(&mut header, "I06_DOK_DATA", Some(date));
        put(&mut header, "I06_KODAS_KS", Some(supplier.clone()));
        for (column, value) in self.currency_columns(document.currency.as_deref(), "invoice")? {
            put(&mut header, column, Some(value));
        }
        put(&mut header, "I06_KODAS_IS", Some(warehouse.clone()));
        // The note only tells where the invoice came from: cut to its column, not refused.
        put(
            &mut header,
            "I06_PASTABA",
            document
                .note
                .as_deref()
                .map(|note| note.trim().chars().take(100).collect()),
        );
        // Rivile's own header columns (`raw.I06_KURSAS`) from the mapping; the supplier's raw
        // fields are its own and stay out.
        for (name, value) in &document.raw {
            if let Some(column) = self
                .table
                .column(name)
                .filter(|_| name.to_uppercase().starts_with("I06_"))
            {
                put(&mut header, column.name, field(Some(value)));
            }
        }
        check_widths(self.table, &header)?;
        let codes = match items {
            Some(items) => self.matched_codes(&supplier, payload, items)?,
            // Not yet matched: a placeholder, as a supplier's code may be longer than Rivile's.
            None => vec!["-".to_owned(); document.lines.len()],
        };
        let lines = purchase_lines(&document, &codes, &warehouse)?;
        check_total(&document, &lines)?;
        header.insert(
            "I07".to_owned(),
            Value::Array(lines.into_iter().map(Value::Object).collect()),
        );
        Ok(header)
    }

    /// Each line's Rivile product code, or every unmatched line named with the fix.
    fn matched_codes(&self, supplier: &str, payload: &Value, items: &ItemIndex) -> Result<Vec<String>, String> {
        let xref = self.part_xref.as_ref();
        let mut codes = Vec::new();
        let mut unmatched = Vec::new();
        for (index, line) in supplier_lines(payload).iter().enumerate() {
            match items.find(supplier, line, xref.map(|xref| &xref.entries)) {
                Ok((code, tiltas_model::parts::matching::MatchedBy::CrossReference)) if !items.has(&code) => {
                    unmatched.push(format!(
                        "line {}: part_xref maps {supplier}'s {} to {code}, which Rivile has no product of (fix the \
                         line in part_xref or create {code} in Rivile)",
                        index + 1,
                        line.describe()
                    ));
                }
                Ok((code, _)) => codes.push(code),
                Err(NoMatch::Ambiguous(candidates)) => unmatched.push(format!(
                    "line {}: {supplier}'s part {} is the barcode of several Rivile products ({}): map the code to \
                     one of them in part_xref",
                    index + 1,
                    line.describe(),
                    candidates.join(", ")
                )),
                Err(NoMatch::Unknown) => unmatched.push(format!(
                    "line {}: {supplier}'s part {} is no Rivile product",
                    index + 1,
                    line.describe()
                )),
            }
        }
        if unmatched.is_empty() {
            return Ok(codes);
        }
        let example = supplier_lines(payload)
            .into_iter()
            .find(|line| items.find(supplier, line, xref.map(|xref| &xref.entries)).is_err())
            .map(|line| line.code)
            .unwrap_or_default();
        let where_to_map = match xref {
            Some(xref) => format!(
                "add `{supplier},{example},<Rivile code>` to part_xref ({})",
                xref.path.display()
            ),
            None => format!(
                "map the code: set part_xref = \"xref.csv\" on the flow's `to`, a CSV with the header \
                 `supplier,code,item` and the line `{supplier},{example},<Rivile code>`"
            ),
        };
        // The maker's numbers reach the target only when the flow passes them on.
        let no_numbers = if supplier_lines(payload).iter().all(|line| line.article.is_none()) {
            " (the lines carry no maker's number: add map = { \"raw.lines\" = \"raw.lines\" } to the flow so \
             Rivile can match them by it)"
        } else {
            ""
        };
        Err(format!(
            "{}{no_numbers}; nothing of the invoice is booked — create the item in Rivile (its product code, or a \
             barcode, the maker's number) or {where_to_map}, then replay the dead letter",
            unmatched.join("; ")
        ))
    }
}

/// The document's lines as purchase lines of the matched products into `warehouse` (each line
/// names it: GAMA books stock per line): quantity, the supplier's net unit price (Rivile's four
/// decimals), the net sum and VAT in cents, the VAT rate.
fn purchase_lines(document: &Document, codes: &[String], warehouse: &str) -> Result<Vec<Map<String, Value>>, String> {
    if document.lines.is_empty() {
        return Err("the document has no lines".to_owned());
    }
    let mut lines = Vec::new();
    for ((index, line), code) in document.lines.iter().enumerate().zip(codes) {
        let place = || format!("line {} ({})", index + 1, line.sku);
        let price = line
            .price
            .ok_or_else(|| format!("{}: the line has no net price", place()))?;
        if line.quantity.is_zero() {
            return Err(format!("{}: the quantity is 0", place()));
        }
        let net = cents(line.quantity * price);
        let vat = line.vat_rate.map(|rate| cents(net * rate / Decimal::ONE_HUNDRED));
        let unit = price
            .round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero)
            .normalize();
        let mut row = Map::new();
        put(&mut row, "I07_KODAS", Some(code.clone()));
        put(&mut row, "I07_TIPAS", Some("1".to_owned()));
        put(&mut row, "I07_KODAS_IS", Some(warehouse.to_owned()));
        put(&mut row, "I07_KIEKIS", Some(line.quantity.normalize().to_string()));
        put(&mut row, "I07_KAINA_BE", Some(unit.to_string()));
        put(&mut row, "I07_SUMA", Some(amount(net)));
        put(&mut row, "I07_PVM", vat.map(amount));
        put(&mut row, "I07_MOKESTIS", Some("1".to_owned()));
        put(
            &mut row,
            "I07_MOKESTIS_P",
            line.vat_rate.map(|rate| rate.normalize().to_string()),
        );
        check_widths(&schema::I07, &row).map_err(|message| format!("{}: {message}", place()))?;
        lines.push(row);
    }
    Ok(lines)
}

/// The lines with their VAT must come to the invoice's total (a cent per line for rounding):
/// a line the supplier left out of the lines would otherwise book the purchase short.
fn check_total(document: &Document, lines: &[Map<String, Value>]) -> Result<(), String> {
    let Some(total) = document.total else { return Ok(()) };
    // Without a line's VAT, GAMA computes it from the product's rate: nothing to compare.
    if lines.iter().any(|line| !line.contains_key("I07_PVM")) {
        return Ok(());
    }
    let sum: Decimal = lines
        .iter()
        .flat_map(|line| ["I07_SUMA", "I07_PVM"].map(|column| line.get(column).and_then(Value::as_str)))
        .flatten()
        .filter_map(|value| value.parse::<Decimal>().ok())
        .sum();
    let tolerance = Decimal::new(1, 2) * Decimal::from(lines.len().max(1));
    if (sum - total).abs() <= tolerance {
        return Ok(());
    }
    Err(format!(
        "the invoice's lines come to {} with VAT and its total is {}: a line is missing or priced differently — \
         check the invoice with the supplier, then replay the dead letter",
        amount(sum),
        amount(total)
    ))
}
