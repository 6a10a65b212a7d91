//! Change hashes: the same record always hashes the same, whatever the key order.
use serde_json::Value;
use sha2::{Digest, Sha256};

/// SHA-256 (hex) of a payload in canonical form: object keys sorted at every level.
pub fn payload_hash(payload: &Value) -> String {
    let mut hasher = Sha256::new();
    write_canonical(payload, &mut hasher);
    const_hex::encode(hasher.finalize())
}

/// SHA-256 (hex) of a source record under a flow's mapping `fingerprint`: equal only when the
/// same record meets the same mapping, so a record with the hash last delivered need not be
/// mapped again to know it unchanged.
pub(crate) fn source_hash(fingerprint: &str, record: &Value) -> String {
    let mut hasher = Sha256::new();
    hasher.update(fingerprint.as_bytes());
    hasher.update(b"\0");
    write_canonical(record, &mut hasher);
    const_hex::encode(hasher.finalize())
}

/// Feeds serde_json's output straight into the hash: keys and scalars are written exactly as
/// `Value::to_string` would write them (quoting, escaping, number forms) without a string
/// allocated per key and per value — the hash is computed twice per record on the hot path.
struct HashWriter<'a>(&'a mut Sha256);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Writes a JSON scalar or key as serde_json does; writing into a hasher cannot fail.
fn write_json<T: serde::Serialize + ?Sized>(value: &T, hasher: &mut Sha256) {
    let _ = serde_json::to_writer(HashWriter(hasher), value);
}

fn write_canonical(value: &Value, hasher: &mut Sha256) {
    match value {
        Value::Object(object) => write_object(object, hasher, |_| true),
        Value::Array(items) => {
            hasher.update(b"[");
            for item in items {
                write_canonical(item, hasher);
                hasher.update(b",");
            }
            hasher.update(b"]");
        }
        scalar => write_json(scalar, hasher),
    }
}

/// An object's `kept` fields, keys sorted.
fn write_object(object: &serde_json::Map<String, Value>, hasher: &mut Sha256, kept: impl Fn(&str) -> bool) {
    let mut fields: Vec<(&String, &Value)> = object.iter().filter(|(key, _)| kept(key)).collect();
    fields.sort_unstable_by(|left, right| left.0.cmp(right.0));
    hasher.update(b"{");
    for (key, value) in fields {
        write_json(key.as_str(), hasher);
        hasher.update(b":");
        write_canonical(value, hasher);
        hasher.update(b",");
    }
    hasher.update(b"}");
}

/// Fields a system sets on its own; they never make a record different for echo detection.
const VOLATILE_FIELDS: [&str; 3] = ["raw", "updated_at", "id"];

/// The hash of a record's content as a system holds it: without the fields systems set on their
/// own, so what one flow wrote is recognised when the reverse flow reads it back.
pub(crate) fn echo_hash(record: &Value) -> String {
    match record {
        Value::Object(fields) => {
            let mut hasher = Sha256::new();
            write_object(fields, &mut hasher, |key| !VOLATILE_FIELDS.contains(&key));
            const_hex::encode(hasher.finalize())
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

    /// Delivered hashes are stored: if the canonical form ever changed, every record of every
    /// flow would look changed and be sent again. These values were produced by the first
    /// implementation (strings built per key and value) and must never change.
    #[test]
    fn hash_values_are_stable_across_versions() {
        let record = json!({"sku": "A-1", "name": "Žalias \"kubas\"\n", "price_net": "12.50",
                            "qty": 3, "ratio": 0.5, "on": true, "none": null, "tags": ["a", "b"],
                            "nested": {"z": 1, "a": [{"y": 2, "x": 1}]}});
        assert_eq!(payload_hash(&record), legacy_hash(&record));
        let mut without = record.clone();
        for volatile in VOLATILE_FIELDS {
            without
                .as_object_mut()
                .map(|fields| fields.insert(volatile.to_owned(), json!("x")));
        }
        assert_eq!(echo_hash(&without), legacy_hash(&record));
    }

    /// The first implementation, kept to pin the values.
    fn legacy_hash(payload: &Value) -> String {
        fn write(value: &Value, hasher: &mut Sha256) {
            match value {
                Value::Object(object) => {
                    let mut keys: Vec<&String> = object.keys().collect();
                    keys.sort();
                    hasher.update(b"{");
                    for key in keys {
                        hasher.update(Value::String(key.clone()).to_string().as_bytes());
                        hasher.update(b":");
                        write(&object[key.as_str()], hasher);
                        hasher.update(b",");
                    }
                    hasher.update(b"}");
                }
                Value::Array(items) => {
                    hasher.update(b"[");
                    for item in items {
                        write(item, hasher);
                        hasher.update(b",");
                    }
                    hasher.update(b"]");
                }
                scalar => hasher.update(scalar.to_string().as_bytes()),
            }
        }
        let mut hasher = Sha256::new();
        write(payload, &mut hasher);
        const_hex::encode(hasher.finalize())
    }

    #[test]
    fn hash_keeps_list_order_significant() {
        assert_ne!(payload_hash(&json!([1, 2])), payload_hash(&json!([2, 1])));
    }
}
