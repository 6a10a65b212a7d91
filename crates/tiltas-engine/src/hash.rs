//! Change hashes: the same record always hashes the same, whatever the key order.
use serde_json::Value;
use sha2::{Digest, Sha256};

/// SHA-256 (hex) of a payload in canonical form: object keys sorted at every level.
pub fn payload_hash(payload: &Value) -> String {
    let mut hasher = Sha256::new();
    write_canonical(payload, &mut hasher);
    hex::encode(hasher.finalize())
}

fn write_canonical(value: &Value, hasher: &mut Sha256) {
    match value {
        Value::Object(object) => {
            let mut keys: Vec<&String> = object.keys().collect();
            keys.sort();
            hasher.update(b"{");
            for key in keys {
                // Keys and scalars go through serde_json so quoting and escaping are exact.
                hasher.update(Value::String(key.clone()).to_string().as_bytes());
                hasher.update(b":");
                write_canonical(&object[key.as_str()], hasher);
                hasher.update(b",");
            }
            hasher.update(b"}");
        }
        Value::Array(items) => {
            hasher.update(b"[");
            for item in items {
                write_canonical(item, hasher);
                hasher.update(b",");
            }
            hasher.update(b"]");
        }
        scalar => hasher.update(scalar.to_string().as_bytes()),
    }
}

/// Fields a system sets on its own; they never make a record different for echo detection.
const VOLATILE_FIELDS: [&str; 3] = ["raw", "updated_at", "id"];

/// The hash of a record's content as a system holds it: without the fields systems set on their
/// own, so what one flow wrote is recognised when the reverse flow reads it back.
pub(crate) fn echo_hash(record: &Value) -> String {
    match record {
        Value::Object(fields) => {
            let content: serde_json::Map<String, Value> = fields
                .iter()
                .filter(|(key, _)| !VOLATILE_FIELDS.contains(&key.as_str()))
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect();
            payload_hash(&Value::Object(content))
        }
        other => payload_hash(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hash_ignores_key_order() {
        assert_eq!(
            payload_hash(&json!({"a": 1, "b": {"c": 2, "d": 3}})),
            payload_hash(&json!({"b": {"d": 3, "c": 2}, "a": 1}))
        );
    }

    #[test]
    fn hash_changes_when_a_value_changes() {
        assert_ne!(
            payload_hash(&json!({"price": "12.50"})),
            payload_hash(&json!({"price": "12.5"}))
        );
    }

    #[test]
    fn hash_keeps_list_order_significant() {
        assert_ne!(payload_hash(&json!([1, 2])), payload_hash(&json!([2, 1])));
    }
}
