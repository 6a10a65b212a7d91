//! Bank statement lines booked as B1 payments against open sales invoices. A line is matched
//! by an invoice number in its remittance text or references, else by its exact amount and
//! payer; it is booked only when exactly one open invoice fits — otherwise it waits in the
//! dead letters (the review list) with the candidates found, never booked blindly. Each payment
//! carries the bank reference in its description, so a replay or a crash finds it instead of
//! booking it twice.
use crate::client::{text, Client};
use crate::{BatchResult, ConnectorError, ErrorKind, FoundRecord, Lookup, Target, WriteItem, WriteOutcome};
use async_trait::async_trait;
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::str::FromStr;

/// An invoice with money still owed on it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OpenInvoice {
    pub id: i64,
    pub number: String,
    pub client: String,
    pub due: Decimal,
    pub currency: String,
}

/// One statement line, as matching needs it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Incoming {
    pub reference: String,
    pub amount: Decimal,
    pub currency: String,
    pub payer: String,
    /// Remittance text, structured reference and end-to-end id, for invoice numbers.
    pub texts: String,
    pub date: Option<String>,
}

impl Incoming {
    /// The line of a canonical bank transaction payload.
    pub fn of(payload: &Value) -> Result<Incoming, String> {
        let field = |name: &str| payload.get(name).and_then(Value::as_str).map(str::trim).unwrap_or("");
        let amount = match payload.get("amount") {
            Some(Value::String(text)) => Decimal::from_str(text.trim()).ok(),
            Some(Value::Number(number)) => Decimal::from_str(&number.to_string()).ok(),
            _ => None,
        }
        .ok_or("the line has no amount")?;
        let structured = payload
            .pointer("/raw/structured_reference")
            .and_then(Value::as_str)
            .unwrap_or("");
        Ok(Incoming {
            reference: field("reference").to_owned(),
            amount,
            currency: field("currency").to_owned(),
            payer: field("counterparty_name").to_owned(),
            texts: [field("remittance_info"), structured, field("end_to_end_id")].join(" "),
            date: payload.get("booking_date").and_then(Value::as_str).map(str::to_owned),
        })
    }
}

/// Letters and digits only, upper case: "SF-000 012" and "sf000012" are one number.
fn normalized(text: &str) -> String {
    text.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Whether a payer's name and a client's name are the same company or person, whatever the
/// case, the punctuation and a legal form written before or after ("UAB Ąžuolas" = "Ąžuolas, UAB").
fn same_party(payer: &str, client: &str) -> bool {
    let words = |name: &str| -> Vec<String> {
        name.split(|c: char| !c.is_alphanumeric())
            .filter(|word| !word.is_empty())
            .map(str::to_lowercase)
            .filter(|word| !["uab", "ab", "mb", "iį", "ii", "vši", "vsi", "sia", "ou", "as"].contains(&word.as_str()))
            .collect()
    };
    let (payer, client) = (words(payer), words(client));
    !payer.is_empty() && payer == client
}

/// The open invoice a line pays: by an invoice number its texts name, else by the exact amount
/// owed and the payer. `Err` explains why it cannot be booked and names the candidates.
pub(crate) fn matched<'a>(line: &Incoming, open: &'a [OpenInvoice]) -> Result<&'a OpenInvoice, String> {
    if line.amount <= Decimal::ZERO {
        return Err(format!(
            "{} is an outgoing payment ({}), not a customer's: leave debits out of the flow with filter = \"${{ amount > 0 }}\"",
            line.reference, line.amount
        ));
    }
    let texts = normalized(&line.texts);
    let by_number: Vec<&OpenInvoice> = open
        .iter()
        .filter(|invoice| {
            let number = normalized(&invoice.number);
            !number.is_empty() && texts.contains(&number)
        })
        .collect();
    let candidates = match by_number.as_slice() {
        [invoice] if line.amount <= invoice.due => return Ok(invoice),
        [invoice] => {
            return Err(format!(
                "pays {} {} but invoice {} has {} {} open: book the difference by hand, or correct the line",
                line.amount, line.currency, invoice.number, invoice.due, invoice.currency
            ))
        }
        [] => open
            .iter()
            .filter(|invoice| invoice.due == line.amount && same_party(&line.payer, &invoice.client))
            .collect::<Vec<_>>(),
        several => several.to_vec(),
    };
    if let [invoice] = candidates.as_slice() {
        return Ok(invoice);
    }
    let named: Vec<String> = if candidates.is_empty() {
        open.iter()
            .filter(|invoice| invoice.due == line.amount)
            .take(5)
            .map(|invoice| {
                format!(
                    "{} ({} {}, {})",
                    invoice.number, invoice.due, invoice.currency, invoice.client
                )
            })
            .collect()
    } else {
        candidates
            .iter()
            .map(|invoice| {
                format!(
                    "{} ({} {}, {})",
                    invoice.number, invoice.due, invoice.currency, invoice.client
                )
            })
            .collect()
    };
    let found = if named.is_empty() {
        "no open invoice has this amount".to_owned()
    } else {
        format!("candidates: {}", named.join("; "))
    };
    Err(format!(
        "payment {} of {} {} from \"{}\" matches {} open invoice — {found}: put the invoice number in the \
         line's remittance_info and retry it",
        line.reference,
        line.amount,
        line.currency,
        line.payer,
        if candidates.is_empty() { "no" } else { "more than one" }
    ))
}

/// The description a booked payment carries: how a replay finds it.
fn description(reference: &str) -> String {
    format!("Tiltas bank ref {reference}")
}

/// Books statement lines as payments of a B1 company.
pub(crate) struct PaymentsTarget {
    client: Client,
    /// Open invoices, read once per run and kept current as payments are booked.
    open: Option<Vec<OpenInvoice>>,
}

impl PaymentsTarget {
    pub fn new(client: Client) -> PaymentsTarget {
        PaymentsTarget { client, open: None }
    }

    /// Every record of a list, page after page; counts the calls.
    async fn all(&self, path: &str, calls: &mut u64) -> Result<Vec<Map<String, Value>>, ConnectorError> {
        let rows = self.client.page_rows(0);
        let (mut records, mut after) = (Vec::new(), None);
        loop {
            let page = self.client.list(path, "AND", Vec::new(), after, rows).await?;
            *calls += 1;
            after = page.iter().filter_map(|record| record.get("id")?.as_i64()).max();
            let full = page.len() >= rows;
            records.extend(page);
            if !full {
                return Ok(records);
            }
        }
    }

    /// Sales invoices less the payments against them, with their clients' names.
    async fn open_invoices(&mut self, calls: &mut u64) -> Result<&mut Vec<OpenInvoice>, ConnectorError> {
        if self.open.is_none() {
            let clients: HashMap<String, String> = self
                .all("clients/list", calls)
                .await?
                .iter()
                .filter_map(|client| Some((text(client, "id")?, text(client, "name")?)))
                .collect();
            let mut paid: HashMap<String, Decimal> = HashMap::new();
            for payment in self.all("bank/sale-payments/list", calls).await? {
                let amount = text(&payment, "amount").and_then(|amount| Decimal::from_str(&amount).ok());
                if let (Some(sale), Some(amount)) = (text(&payment, "saleId"), amount) {
                    *paid.entry(sale).or_default() += amount;
                }
            }
            let mut open = Vec::new();
            for sale in self.all("warehouse/sales/list", calls).await? {
                let (Some(id), Some(number)) = (sale.get("id").and_then(Value::as_i64), text(&sale, "number")) else {
                    continue;
                };
                let total = text(&sale, "total")
                    .and_then(|total| Decimal::from_str(&total).ok())
                    .unwrap_or_default();
                let due = total - paid.get(&id.to_string()).copied().unwrap_or_default();
                if due > Decimal::ZERO {
                    let client = text(&sale, "clientId").and_then(|client| clients.get(&client).cloned());
                    open.push(OpenInvoice {
                        id,
                        number,
                        client: client.unwrap_or_default(),
                        due,
                        currency: text(&sale, "currencyCode").unwrap_or_else(|| "EUR".to_owned()),
                    });
                }
            }
            self.open = Some(open);
        }
        Ok(self.open.get_or_insert_with(Vec::new))
    }

    /// Books one line: its payment's id, or why it waits for review.
    async fn book(
        &mut self,
        item: &WriteItem,
        calls: &mut u64,
    ) -> Result<Result<String, ConnectorError>, ConnectorError> {
        if let Some(id) = &item.target_id {
            // Booked before (found by its bank reference): never twice.
            return Ok(Ok(id.clone()));
        }
        let line = match Incoming::of(&item.payload) {
            Ok(line) => line,
            Err(message) => return Ok(Err(ConnectorError::new(ErrorKind::Invalid, message))),
        };
        let open = self.open_invoices(calls).await?;
        let invoice = match matched(&line, open) {
            Ok(invoice) => invoice.clone(),
            Err(message) => {
                let mut error = ConnectorError::new(ErrorKind::Invalid, message)
                    .with_fix("put the invoice number in the line's remittance_info, then retry the dead letter");
                error.field = Some("remittance_info".to_owned());
                return Ok(Err(error));
            }
        };
        let body = json!({
            "saleId": invoice.id,
            "amount": line.amount.normalize().to_string(),
            "paymentDate": line.date,
            "description": description(&line.reference),
        });
        *calls += 1;
        let answer = match self.client.call("bank/sale-invoice/payment", &body).await {
            Ok(answer) => answer,
            Err(error) if error.kind == ErrorKind::Invalid => return Ok(Err(error)),
            Err(error) => return Err(error),
        };
        if let Some(open) = &mut self.open {
            if let Some(owed) = open.iter_mut().find(|owed| owed.id == invoice.id) {
                owed.due -= line.amount;
            }
            open.retain(|owed| owed.due > Decimal::ZERO);
        }
        Ok(answer.created_id().ok_or_else(|| {
            ConnectorError::new(
                ErrorKind::Invalid,
                "bank/sale-invoice/payment: B1's answer has no data.id",
            )
        }))
    }
}

#[async_trait]
impl Target for PaymentsTarget {
    fn max_batch(&self) -> usize {
        20
    }

    fn can_lookup(&self) -> bool {
        true
    }

    /// Payments already booked for these bank references (their description names it).
    async fn lookup(&mut self, _match_on: Option<&str>, keys: &[String]) -> Result<Lookup, ConnectorError> {
        let mut lookup = Lookup::default();
        let mut calls = 0;
        for payment in self.all("bank/sale-payments/list", &mut calls).await? {
            let (Some(described), Some(id)) = (text(&payment, "description"), text(&payment, "id")) else {
                continue;
            };
            if let Some(key) = keys.iter().find(|key| described == description(key)) {
                lookup.found.entry(key.clone()).or_insert(FoundRecord {
                    target_id: id,
                    data: None,
                });
            }
        }
        lookup.api_calls = calls;
        Ok(lookup)
    }

    async fn write_batch(&mut self, items: Vec<WriteItem>) -> Result<BatchResult, ConnectorError> {
        let mut result = BatchResult {
            outcomes: Vec::with_capacity(items.len()),
            api_calls: 0,
        };
        for item in &items {
            let mut calls = 0;
            let booked = self.book(item, &mut calls).await;
            result.api_calls += calls;
            result.outcomes.push(match booked? {
                Ok(target_id) => WriteOutcome::Written { target_id },
                Err(error) => WriteOutcome::Failed(error),
            });
        }
        Ok(result)
    }

    async fn finish(&mut self) -> Result<(), ConnectorError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invoice(id: i64, number: &str, client: &str, due: &str) -> OpenInvoice {
        OpenInvoice {
            id,
            number: number.into(),
            client: client.into(),
            due: Decimal::from_str(due).unwrap(),
            currency: "EUR".into(),
        }
    }

    fn line(amount: &str, payer: &str, texts: &str) -> Incoming {
        Incoming {
            reference: "REF-1".into(),
            amount: Decimal::from_str(amount).unwrap(),
            currency: "EUR".into(),
            payer: payer.into(),
            texts: texts.into(),
            date: None,
        }
    }

    #[test]
    fn an_invoice_number_in_the_text_decides_whatever_its_spelling() {
        let open = [
            invoice(1, "SF000012", "UAB Ąžuolas", "100.00"),
            invoice(2, "SF000013", "UAB Ąžuolas", "100.00"),
        ];
        assert_eq!(
            matched(&line("100", "Kitas", "Apmokejimas pagal sf-000 012"), &open)
                .unwrap()
                .id,
            1
        );
        let over = matched(&line("120", "x", "SF000012"), &open).unwrap_err();
        assert!(over.contains("has 100.00 EUR open"), "{over}");
    }

    #[test]
    fn without_a_number_the_exact_amount_and_the_payer_decide_and_two_candidates_wait_for_review() {
        let open = [
            invoice(1, "SF1", "UAB Ąžuolas", "55.10"),
            invoice(2, "SF2", "Beržas, UAB", "55.10"),
            invoice(3, "SF3", "Beržas, UAB", "70.00"),
        ];
        assert_eq!(matched(&line("55.10", "UAB BERŽAS", "prekes"), &open).unwrap().id, 2);
        let none = matched(&line("55.10", "Jonas Jonaitis", "prekes"), &open).unwrap_err();
        assert!(
            none.contains("matches no open invoice") && none.contains("SF1") && none.contains("SF2"),
            "{none}"
        );
        let twice = matched(&line("55.10", "x", "SF1 SF2"), &open).unwrap_err();
        assert!(twice.contains("more than one"), "{twice}");
        let debit = matched(&line("-5", "x", ""), &open).unwrap_err();
        assert!(debit.contains("outgoing payment"), "{debit}");
    }
}
