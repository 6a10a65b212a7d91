//! Erasing one person's personal data from a stored JSON document (GDPR's right to erasure),
//! keeping the document's shape, its ids, amounts and counters.
//!
//! A document is that person's when one of its strings contains their e-mail address
//! (case-insensitive). In such a document every value that identifies a person is replaced by
//! [`ERASED`]: any string holding the address; any value under a personal key (e-mail, names,
//! phone numbers, street addresses — [`PERSONAL_KEYS`]); every string of an address object
//! (`billing`, `shipping`, … — [`ADDRESS_OBJECTS`]); and the `name` of an object that holds the
//! address itself (a customer or contact). A product's `name` in an order line stays. Then the
//! values erased that are long enough to be telling ([`TELLING_LENGTH`] characters: phone
//! numbers, streets, most names) are also cut out of the document's other strings, such as a
//! customer's note ("call +370…").
use serde_json::Value;

/// What an erased value becomes.
pub const ERASED: &str = "[erased]";

/// Keys whose values identify a person wherever they appear in that person's document
/// (compared lower-case, with `-` read as `_`).
pub const PERSONAL_KEYS: &[&str] = &[
    "email",
    "e_mail",
    "email_address",
    "mail",
    "billing_email",
    "customer_email",
    "first_name",
    "last_name",
    "firstname",
    "lastname",
    "middle_name",
    "full_name",
    "customer_name",
    "contact_name",
    "phone",
    "telephone",
    "mobile",
    "phone_number",
    "fax",
    "street",
    "address_1",
    "address_2",
    "address1",
    "address2",
    "city",
    "postcode",
    "post_code",
    "zip",
    "zip_code",
    "ip_address",
    "customer_ip_address",
];

/// Keys holding a whole address (or a list of them): every string inside is erased.
pub const ADDRESS_OBJECTS: &[&str] = &[
    "billing",
    "shipping",
    "address",
    "addresses",
    "billing_address",
    "shipping_address",
    "delivery_address",
    "invoice_address",
];

/// Erased values at least this long (in characters) are also cut out of free text; shorter
/// ones ("Ona", "LT") would cut into unrelated words.
pub const TELLING_LENGTH: usize = 5;

/// Keys that name a person when they sit in the object holding the person's e-mail.
const NAME_KEYS: &[&str] = &["name", "display_name", "contact"];

/// Whether `text` mentions `email_lowercase` (already lower-case), ignoring case.
pub fn mentions(text: &str, email_lowercase: &str) -> bool {
    !email_lowercase.is_empty() && text.to_lowercase().contains(email_lowercase)
}

/// Whether any string of `document` mentions the address.
pub fn document_mentions(document: &Value, email_lowercase: &str) -> bool {
    match document {
        Value::String(text) => mentions(text, email_lowercase),
        Value::Array(items) => items.iter().any(|item| document_mentions(item, email_lowercase)),
        Value::Object(fields) => fields.values().any(|value| document_mentions(value, email_lowercase)),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

/// Erases the personal data of the person with this e-mail from `document` when it is theirs;
/// returns how many values were replaced (0: not theirs, or already erased).
pub fn erase_person(document: &mut Value, email: &str) -> u64 {
    let email_lowercase = email.trim().to_lowercase();
    if !document_mentions(document, &email_lowercase) {
        return 0;
    }
    let mut erased_values = Vec::new();
    let erased = erase_in(document, &email_lowercase, &mut erased_values);
    let mut telling: Vec<String> = erased_values
        .into_iter()
        .filter(|value| value.chars().count() >= TELLING_LENGTH)
        .collect();
    telling.sort();
    telling.dedup();
    erased + cut_out(document, &telling)
}

/// Cuts each of `values` out of every string of `document` that still holds one.
fn cut_out(document: &mut Value, values: &[String]) -> u64 {
    match document {
        Value::String(text) => {
            let mut changed = false;
            for value in values {
                if let Some(cut) = erase_in_text(text, value) {
                    *text = cut;
                    changed = true;
                }
            }
            u64::from(changed)
        }
        Value::Array(items) => items.iter_mut().map(|item| cut_out(item, values)).sum(),
        Value::Object(fields) => fields.values_mut().map(|field| cut_out(field, values)).sum(),
        Value::Null | Value::Bool(_) | Value::Number(_) => 0,
    }
}

fn normalised(key: &str) -> String {
    key.to_lowercase().replace('-', "_")
}

/// Walks a document of the person, erasing what identifies them (and keeping what it erased
/// in `erased_values`).
fn erase_in(value: &mut Value, email_lowercase: &str, erased_values: &mut Vec<String>) -> u64 {
    match value {
        Value::String(text) if mentions(text, email_lowercase) => replace_string(value, erased_values),
        Value::Array(items) => items
            .iter_mut()
            .map(|item| erase_in(item, email_lowercase, erased_values))
            .sum(),
        Value::Object(fields) => {
            let holds_email = fields
                .values()
                .any(|field| matches!(field, Value::String(text) if mentions(text, email_lowercase)));
            let mut erased = 0;
            for (key, field) in fields.iter_mut() {
                let key = normalised(key);
                let personal = PERSONAL_KEYS.contains(&key.as_str())
                    || ADDRESS_OBJECTS.contains(&key.as_str())
                    || (holds_email && NAME_KEYS.contains(&key.as_str()));
                erased += if personal {
                    erase_all_strings(field, erased_values)
                } else {
                    erase_in(field, email_lowercase, erased_values)
                };
            }
            erased
        }
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => 0,
    }
}

/// Replaces every string in `value` (numbers, booleans and nulls stay: amounts and flags).
fn erase_all_strings(value: &mut Value, erased_values: &mut Vec<String>) -> u64 {
    match value {
        Value::String(_) => replace_string(value, erased_values),
        Value::Array(items) => items
            .iter_mut()
            .map(|item| erase_all_strings(item, erased_values))
            .sum(),
        Value::Object(fields) => fields
            .values_mut()
            .map(|field| erase_all_strings(field, erased_values))
            .sum(),
        Value::Null | Value::Bool(_) | Value::Number(_) => 0,
    }
}

fn replace_string(value: &mut Value, erased_values: &mut Vec<String>) -> u64 {
    match value {
        Value::String(text) if text == ERASED || text.is_empty() => 0,
        Value::String(text) => {
            erased_values.push(std::mem::replace(text, ERASED.to_owned()));
            1
        }
        _ => 0,
    }
}

/// Replaces every mention of `needle` (the address, or an erased value) in a plain text (a
/// dead letter's message, a delivery's error, a note), ignoring case; returns the new text
/// when anything changed.
pub fn erase_in_text(text: &str, needle: &str) -> Option<String> {
    let email_lowercase = needle.trim().to_lowercase();
    if !mentions(text, &email_lowercase) {
        return None;
    }
    // Lower-casing may change byte lengths outside ASCII; find the matches on a char basis.
    let chars: Vec<char> = text.chars().collect();
    let needle: Vec<char> = email_lowercase.chars().collect();
    let mut result = String::with_capacity(text.len());
    let mut index = 0;
    while index < chars.len() {
        let window = chars.get(index..index + needle.len());
        let matched = window.is_some_and(|window| {
            window
                .iter()
                .zip(&needle)
                .all(|(found, wanted)| found.to_lowercase().eq(wanted.to_lowercase()))
        });
        if matched {
            result.push_str(ERASED);
            index += needle.len();
        } else {
            result.push(chars[index]);
            index += 1;
        }
    }
    Some(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn order(email: &str, first: &str, phone: &str) -> Value {
        json!({
            "id": 7, "number": "1007", "total": "12.10",
            "billing": {"first_name": first, "last_name": "Onaitė", "email": email, "phone": phone,
                        "address_1": "Gedimino pr. 1", "city": "Vilnius", "postcode": "01103"},
            "shipping": {"first_name": first, "address_1": "Pylimo g. 2", "city": "Vilnius"},
            "line_items": [{"sku": "A1", "name": "Kava", "quantity": 1}],
            "customer_note": format!("call {phone}")
        })
    }

    #[test]
    fn a_persons_order_loses_names_contacts_and_addresses_but_keeps_amounts_and_lines() {
        let mut document = order("Ona@Example.LT", "Ona", "+37060000001");
        let erased = erase_person(&mut document, "ona@example.lt");
        assert!(erased >= 10, "{erased}: {document}");
        let text = document.to_string();
        for personal in [
            "Ona",
            "Onaitė",
            "Example",
            "+37060000001",
            "Gedimino",
            "Pylimo",
            "Vilnius",
            "01103",
        ] {
            assert!(!text.contains(personal), "{personal} left in {text}");
        }
        assert_eq!(document["total"], "12.10");
        assert_eq!(document["number"], "1007");
        assert_eq!(document["line_items"][0]["name"], "Kava");
        assert_eq!(document["billing"]["email"], ERASED);
        assert_eq!(
            erase_person(&mut document, "ona@example.lt"),
            0,
            "erasing twice changes nothing"
        );
    }

    #[test]
    fn another_persons_document_is_left_alone() {
        let mut document = order("jonas@example.lt", "Jonas", "+37060000002");
        let before = document.clone();
        assert_eq!(erase_person(&mut document, "ona@example.lt"), 0);
        assert_eq!(document, before);
    }

    #[test]
    fn the_name_beside_the_address_is_erased_not_a_product_name() {
        let mut customer = json!({"name": "Ona Onaitė", "email": "ona@example.lt", "items": [{"name": "Kava"}]});
        erase_person(&mut customer, "ona@example.lt");
        assert_eq!(
            customer,
            json!({"name": ERASED, "email": ERASED, "items": [{"name": "Kava"}]})
        );
    }

    #[test]
    fn a_message_mentioning_the_address_keeps_the_rest_of_its_words() {
        assert_eq!(
            erase_in_text("customer ONA@example.lt has no VAT code", "ona@example.lt").as_deref(),
            Some("customer [erased] has no VAT code")
        );
        assert_eq!(erase_in_text("no address here", "ona@example.lt"), None);
    }
}
