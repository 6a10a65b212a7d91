//! Magento's wire conventions that the connector and the simulator share: its dates, its error
//! body (`{"message":"…%1…","parameters":[…]}`) and the paths of the REST API.
use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;

/// How Magento writes `created_at` / `updated_at`: UTC, no zone, to the second.
pub const DATE_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// The largest `searchCriteria[pageSize]` the connector asks for: Magento's optional input limit
/// (`webapi/validation/maximum_page_size`) defaults to 300.
pub const MAX_PAGE_SIZE: usize = 300;

/// A Magento date (`2024-05-01 10:00:00`, UTC) as a time.
pub fn parse_time(value: Option<&Value>) -> Option<DateTime<Utc>> {
    let text = value?.as_str()?;
    NaiveDateTime::parse_from_str(text.trim(), DATE_FORMAT)
        .ok()
        .map(|at| at.and_utc())
}

/// A time as Magento writes it.
pub fn format_time(at: DateTime<Utc>) -> String {
    at.format(DATE_FORMAT).to_string()
}

/// Fills Magento's placeholders from `parameters`: `%1`, `%2`… from a list (1-based), `%name`
/// from an object. Placeholders without a value stay as they are.
pub fn substitute(message: &str, parameters: Option<&Value>) -> String {
    let mut text = message.to_owned();
    match parameters {
        Some(Value::Array(values)) => {
            // Highest index first, so `%1` does not eat the start of `%10`.
            for (index, value) in values.iter().enumerate().rev() {
                text = text.replace(&format!("%{}", index + 1), &plain(value));
            }
        }
        Some(Value::Object(values)) => {
            let mut names: Vec<&String> = values.keys().collect();
            // Longest name first, so `%field` does not eat the start of `%fieldName`.
            names.sort_by_key(|name| std::cmp::Reverse(name.len()));
            for name in names {
                text = text.replace(&format!("%{name}"), &plain(&values[name]));
            }
        }
        _ => {}
    }
    text
}

fn plain(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// The text of a Magento error body: its message with the parameters filled in, followed by
/// the messages of its `errors` list (validation failures name each field there).
pub fn error_text(body: &Value) -> Option<String> {
    let message = body.get("message")?.as_str()?;
    let mut text = substitute(message, body.get("parameters"));
    let details: Vec<String> = body
        .get("errors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|error| Some(substitute(error.get("message")?.as_str()?, error.get("parameters"))))
        .collect();
    if !details.is_empty() {
        text = format!("{text}: {}", details.join("; "));
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn positional_and_named_parameters_are_filled_in() {
        let body = json!({"message": "The \"%1\" attribute value is empty. Set the attribute and try again.", "parameters": ["price"]});
        assert_eq!(
            error_text(&body).as_deref(),
            Some("The \"price\" attribute value is empty. Set the attribute and try again.")
        );
        let body = json!({"message": "The consumer isn't authorized to access %resources.", "parameters": {"resources": "Magento_Catalog::products"}});
        assert_eq!(
            error_text(&body).as_deref(),
            Some("The consumer isn't authorized to access Magento_Catalog::products.")
        );
        let body = json!({"message": "%1 and %10", "parameters": ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]});
        assert_eq!(error_text(&body).as_deref(), Some("a and j"));
    }

    #[test]
    fn validation_errors_are_listed_after_the_message() {
        let body = json!({"message": "Validation Failed", "errors": [{"message": "\"%field\" should be numeric.", "parameters": {"field": "quantity"}}]});
        assert_eq!(
            error_text(&body).as_deref(),
            Some("Validation Failed: \"quantity\" should be numeric.")
        );
        assert_eq!(error_text(&json!("<html>")), None);
    }

    #[test]
    fn dates_read_and_write_as_magento_does() {
        let at = parse_time(Some(&json!("2020-04-25 07:23:37"))).unwrap();
        assert_eq!(format_time(at), "2020-04-25 07:23:37");
        assert_eq!(parse_time(Some(&json!("2020-04-25T07:23:37Z"))), None);
    }
}
