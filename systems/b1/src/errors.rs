//! B1's error answers in English. B1 answers `{"code", "message", "errors": {field: [text]}}`
//! (with that HTTP status, or with HTTP 200 and the code in the body); a sales document that
//! references something B1 does not have fails on a database foreign key
//! (`violates foreign key constraint PARDAVIMAI_fk1`). B1's help pages list what each
//! `PARDAVIMAI_fkN` means (seed `shared/seeds/000_*.txt`, in Lithuanian): [`FOREIGN_KEYS`] says
//! it in English, naming the missing thing and the fix, and [`describe`] keeps B1's own text
//! beside it. The table in `systems/b1/README.md` lists the same entries.
use serde_json::Value;

/// A foreign key of B1's sales table: what a violation means and how to fix it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForeignKey {
    /// The constraint's name, as B1 writes it (`PARDAVIMAI_fk1`).
    pub constraint: &'static str,
    /// B1's own explanation on its help page.
    pub original: &'static str,
    /// What is missing or wrong, in English.
    pub missing: &'static str,
    /// The canonical field at fault, when there is one.
    pub field: Option<&'static str>,
    /// What to change.
    pub fix: &'static str,
}

/// The foreign keys of a sale (`PARDAVIMAI`) from B1's help page (fk9 is not listed there),
/// plus the line table's item key, which the help page does not list (its name is inferred).
pub const FOREIGN_KEYS: &[ForeignKey] = &[
    ForeignKey {
        constraint: "PARDAVIMAI_fk1",
        original: "nurodytas neteisingas klientas",
        missing: "the client: B1 has no client with the invoice's client id",
        field: Some("customer.code"),
        fix: "let the order pipeline find or create the buyer (customer_match on the flow), or set default_customer on the flow to the id of a client that exists in B1",
    },
    ForeignKey {
        constraint: "PARDAVIMAI_fk2",
        original: "nurodyta neteisinga operacijos rūšis",
        missing: "the operation type: B1 has no operation type with the invoice's id",
        field: None,
        fix: "set operation_type on the flow's `to` to the id of an operation type that exists in B1 (Žinynai → Operacijų rūšys), or remove it to use B1's default",
    },
    ForeignKey {
        constraint: "PARDAVIMAI_fk3",
        original: "nurodytas neteisingas valiutos kuras",
        missing: "the currency rate: B1 has no rate of the order's currency for the invoice date",
        field: Some("currency"),
        fix: "add the currency and its rate in B1, or book only EUR orders (filter = \"${ currency == \\\"EUR\\\" }\")",
    },
    ForeignKey {
        constraint: "PARDAVIMAI_fk4",
        original: "nurodytas neteisingas darbuotojas",
        missing: "the employee: B1 has no employee with the invoice's id",
        field: Some("employee"),
        fix: "map `employee` (or defaults.employee on the flow) to the id of an employee that exists in B1, or leave it out",
    },
    ForeignKey {
        constraint: "PARDAVIMAI_fk5",
        original: "nurodytas neteisingas statusas",
        missing: "the status: B1 has no document status with the invoice's id",
        field: None,
        fix: "remove raw.statusId from the flow's map, or map it to a status that exists in B1",
    },
    ForeignKey {
        constraint: "PARDAVIMAI_fk6",
        original: "nurodytas neteisingas PVM tarifas",
        missing: "the VAT rate: B1 has no VAT rate the invoice names",
        field: Some("lines.vat_rate"),
        fix: "every line's vat_rate must be a VAT rate defined in B1 (Žinynai → PVM tarifai): add the rate there or map the shop's rate to one B1 has",
    },
    ForeignKey {
        constraint: "PARDAVIMAI_fk7",
        original: "nurodytas neteisingas kliento adresas",
        missing: "the client's address: it is not an address of the invoice's client",
        field: None,
        fix: "remove raw.clientAddressId from the flow's map, or map it to an address of that client",
    },
    ForeignKey {
        constraint: "PARDAVIMAI_fk8",
        original: "neteisingai užpildytas sandėlis vidinio judėjimo įrašui registruoti",
        missing: "the warehouse: B1 has no warehouse with the invoice's id",
        field: Some("warehouse"),
        fix: "set warehouse on the flow's `to` (or defaults.warehouse) to the id or name of a warehouse that exists in B1 (its id is in the address of the warehouse's page)",
    },
    ForeignKey {
        constraint: "PARDAVIMAI_fk10",
        original: "nurodytas neteisingas automobilis",
        missing: "the car: B1 has no car with the invoice's id",
        field: None,
        fix: "remove raw.carId from the flow's map, or map it to a car that exists in B1",
    },
    ForeignKey {
        constraint: "PARDAVIMAI_fk11",
        original: "nurodytas neteisingas mokėtojas",
        missing: "the payer: B1 has no client with the invoice's payer id",
        field: None,
        fix: "remove raw.payerId from the flow's map, or map it to the id of a client that exists in B1",
    },
    ForeignKey {
        constraint: "PARDAVIMAI_fk12",
        original: "nurodytas neteisingas Faktoringas",
        missing: "the factoring agreement: B1 has none with the invoice's id",
        field: None,
        fix: "remove raw.factoringId from the flow's map, or map it to a factoring agreement that exists in B1",
    },
    ForeignKey {
        constraint: "PARDAVIMU_PREKES_fk1",
        original: "nurodyta neteisinga prekė",
        missing: "the item: B1 has no item with the line's code",
        field: Some("lines.sku"),
        fix: "create the item in B1 (or set create_missing_products = true on the flow), or map the line's `sku` to an existing item code",
    },
];

/// The foreign key a text names (`… violates foreign key constraint "PARDAVIMAI_fk8" …`).
pub fn foreign_key_in(text: &str) -> Option<&'static ForeignKey> {
    // The longest name first, so `PARDAVIMAI_fk1` does not match inside `PARDAVIMAI_fk12`.
    let lower = text.to_lowercase();
    let mut keys: Vec<&'static ForeignKey> = FOREIGN_KEYS.iter().collect();
    keys.sort_by_key(|key| std::cmp::Reverse(key.constraint.len()));
    keys.into_iter().find(|key| {
        let name = key.constraint.to_lowercase();
        lower.match_indices(&name).any(|(at, _)| {
            !lower[at + name.len()..]
                .chars()
                .next()
                .is_some_and(|next| next.is_ascii_digit())
        })
    })
}

/// Every text of an error body: `message`, then each `errors` entry as `field: text`.
pub fn texts(body: &Value) -> Vec<String> {
    let mut texts = Vec::new();
    match body {
        Value::String(text) if !text.trim().is_empty() => texts.push(text.trim().chars().take(300).collect()),
        Value::Object(fields) => {
            if let Some(message) = fields.get("message").and_then(Value::as_str) {
                texts.push(message.trim().to_owned());
            }
            if let Some(Value::Object(errors)) = fields.get("errors") {
                for (field, value) in errors {
                    let each: Vec<String> = match value {
                        Value::Array(items) => items
                            .iter()
                            .map(|item| item.as_str().map_or_else(|| item.to_string(), str::to_owned))
                            .collect(),
                        Value::String(text) => vec![text.clone()],
                        other => vec![other.to_string()],
                    };
                    for text in each {
                        texts.push(format!("{field}: {text}"));
                    }
                }
            }
        }
        _ => {}
    }
    texts
}

/// What an error answer means, in English, with B1's text kept; the field and fix when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explained {
    /// The sentence for people.
    pub message: String,
    /// The canonical field at fault.
    pub field: Option<String>,
    /// What to change.
    pub fix: Option<String>,
}

/// Explains one of B1's error bodies.
pub fn describe(body: &Value) -> Explained {
    let texts = texts(body);
    let original = if texts.is_empty() {
        "no message".to_owned()
    } else {
        texts.join("; ")
    };
    match foreign_key_in(&original) {
        Some(key) => Explained {
            message: format!(
                "B1 refused it: it names {} ({}: \"{}\") — {}. B1 said: {original}",
                key.missing, key.constraint, key.original, key.fix
            ),
            field: key.field.map(str::to_owned),
            fix: Some(key.fix.to_owned()),
        },
        None => Explained {
            message: format!("B1 said: {original}"),
            field: None,
            fix: None,
        },
    }
}

/// Whether an answer says the company's daily request package is used up.
pub fn package_used_up(body: &Value) -> bool {
    body.pointer("/errors/package").is_some()
        || body
            .get("message")
            .and_then(Value::as_str)
            .is_some_and(|message| message.to_lowercase().contains("request package"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn violation(constraint: &str) -> Value {
        json!({
            "code": 400,
            "message": format!("SQLSTATE[23503]: insert or update on table \"pardavimai\" violates foreign key constraint \"{constraint}\""),
            "errors": {}
        })
    }

    /// Each code of B1's help page: its English message names the missing thing and the fix,
    /// and keeps B1's own text.
    fn explains(constraint: &str, missing: &str, fix_mentions: &str) {
        let explained = describe(&violation(constraint));
        assert!(
            explained.message.contains(missing),
            "{constraint}: {}",
            explained.message
        );
        assert!(
            explained
                .message
                .contains(&format!("violates foreign key constraint \"{constraint}\"")),
            "{constraint}: B1's text is kept: {}",
            explained.message
        );
        assert!(
            explained.fix.as_deref().is_some_and(|fix| fix.contains(fix_mentions)),
            "{constraint}: {:?}",
            explained.fix
        );
    }

    #[test]
    fn fk1_is_a_missing_client() {
        explains("PARDAVIMAI_fk1", "the client", "default_customer");
        assert_eq!(
            describe(&violation("PARDAVIMAI_fk1")).field.as_deref(),
            Some("customer.code")
        );
    }

    #[test]
    fn fk2_is_a_missing_operation_type() {
        explains("PARDAVIMAI_fk2", "the operation type", "operation_type");
    }

    #[test]
    fn fk3_is_a_missing_currency_rate() {
        explains("PARDAVIMAI_fk3", "the currency rate", "rate");
    }

    #[test]
    fn fk4_is_a_missing_employee() {
        explains("PARDAVIMAI_fk4", "the employee", "employee");
    }

    #[test]
    fn fk5_is_a_missing_status() {
        explains("PARDAVIMAI_fk5", "the status", "statusId");
    }

    #[test]
    fn fk6_is_a_missing_vat_rate() {
        explains("PARDAVIMAI_fk6", "the VAT rate", "vat_rate");
    }

    #[test]
    fn fk7_is_a_wrong_client_address() {
        explains("PARDAVIMAI_fk7", "the client's address", "clientAddressId");
    }

    #[test]
    fn fk8_is_a_missing_warehouse() {
        explains("PARDAVIMAI_fk8", "the warehouse", "warehouse on the flow's `to`");
        assert_eq!(
            describe(&violation("PARDAVIMAI_fk8")).field.as_deref(),
            Some("warehouse")
        );
    }

    #[test]
    fn fk10_is_a_missing_car() {
        explains("PARDAVIMAI_fk10", "the car", "carId");
    }

    #[test]
    fn fk11_is_a_missing_payer() {
        explains("PARDAVIMAI_fk11", "the payer", "payerId");
    }

    #[test]
    fn fk12_is_a_missing_factoring_agreement_not_fk1() {
        explains("PARDAVIMAI_fk12", "the factoring agreement", "factoringId");
    }

    #[test]
    fn a_line_s_missing_item_names_the_item() {
        explains("PARDAVIMU_PREKES_fk1", "the item", "create_missing_products");
    }

    #[test]
    fn every_help_page_code_is_in_the_table_once() {
        for n in [1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12] {
            let name = format!("PARDAVIMAI_fk{n}");
            assert_eq!(
                FOREIGN_KEYS.iter().filter(|key| key.constraint == name).count(),
                1,
                "{name}"
            );
        }
    }

    #[test]
    fn an_unknown_error_keeps_b1_s_text_with_its_fields() {
        let explained =
            describe(&json!({"code": 400, "message": "Validation failed", "errors": {"name": ["Laukas privalomas"]}}));
        assert_eq!(explained.message, "B1 said: Validation failed; name: Laukas privalomas");
        assert_eq!(explained.fix, None);
    }
}
