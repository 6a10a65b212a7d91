//! B1's request signature (`shared/protocols/erp-and-suppliers.md` §2): the signed headers,
//! sorted by name, each as its lower-cased name followed by its value, then the raw body;
//! `B1-Signature` is the hex HMAC-SHA512 of that text under the private key. B1's own library
//! signs the names without their `B1-` prefix (`api-key`, `time`, …); other published clients
//! sign them with it (`b1-api-key`, …). Shared by the connector and the simulator, so both
//! read the description the same way.
use hmac::{Hmac, Mac};
use sha2::Sha512;

/// The headers the connector signs and sends besides `Content-Type` and `Content-Length`.
pub const API_KEY: &str = "B1-Api-Key";
/// Unix seconds of the request; B1 refuses a time more than [`MAX_SKEW_S`] away from its own.
pub const TIME: &str = "B1-Time";
/// The client's version.
pub const VERSION: &str = "B1-Version";
/// The client's platform.
pub const PLATFORM: &str = "B1-Platform";
/// The newer clients' marker, signed like the others when sent.
pub const SIGNATURE_VERSION: &str = "B1-Signature-Version";
/// The signature itself (never signed).
pub const SIGNATURE: &str = "B1-Signature";
/// How far `B1-Time` may be from the server's clock, in seconds (±5 minutes).
pub const MAX_SKEW_S: i64 = 300;

/// How the signed header names are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Naming {
    /// B1's own library: `api-key`, `content-length`, `content-type`, `platform`, `time`, `version`.
    Unprefixed,
    /// Other published clients: `b1-api-key`, `b1-platform`, `b1-time`, `b1-version`, …
    Prefixed,
}

/// The text that is signed: `headers` (as sent, any case) sorted by their signed names, each
/// name lower-cased and followed by its value, then the body.
pub fn canonical_text(headers: &[(&str, &str)], body: &[u8], naming: Naming) -> Vec<u8> {
    let mut named: Vec<(String, &str)> = headers
        .iter()
        .filter(|(name, _)| !name.eq_ignore_ascii_case(SIGNATURE))
        .map(|(name, value)| {
            let lower = name.to_ascii_lowercase();
            let signed = match naming {
                Naming::Unprefixed => lower.strip_prefix("b1-").map(str::to_owned).unwrap_or(lower),
                Naming::Prefixed => lower,
            };
            (signed, *value)
        })
        .collect();
    named.sort();
    let mut text = Vec::new();
    for (name, value) in named {
        text.extend_from_slice(name.as_bytes());
        text.extend_from_slice(value.as_bytes());
    }
    text.extend_from_slice(body);
    text
}

/// The hex HMAC-SHA512 of `text` under `private_key`.
pub fn hmac_hex(private_key: &str, text: &[u8]) -> String {
    // HMAC takes a key of any length: `new_from_slice` cannot fail for it.
    let mut mac = match Hmac::<Sha512>::new_from_slice(private_key.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(text);
    hex::encode(mac.finalize().into_bytes())
}

/// The `B1-Signature` of a request with these headers and body.
pub fn signature(private_key: &str, headers: &[(&str, &str)], body: &[u8], naming: Naming) -> String {
    hmac_hex(private_key, &canonical_text(headers, body, naming))
}

/// Whether `given` signs the request in any documented form (either naming).
pub fn verify(private_key: &str, headers: &[(&str, &str)], body: &[u8], given: &str) -> bool {
    [Naming::Unprefixed, Naming::Prefixed]
        .into_iter()
        .any(|naming| signature(private_key, headers, body, naming).eq_ignore_ascii_case(given.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADERS: [(&str, &str); 6] = [
        ("B1-Api-Key", "KEY1"),
        ("Content-Type", "application/json"),
        ("Content-Length", "2"),
        ("B1-Time", "1700000000"),
        ("B1-Version", "1.0"),
        ("B1-Platform", "tiltas"),
    ];

    #[test]
    fn the_signed_text_is_sorted_lower_cased_names_with_values_then_the_body() {
        assert_eq!(
            String::from_utf8(canonical_text(&HEADERS, b"{}", Naming::Unprefixed)).unwrap(),
            "api-keyKEY1content-length2content-typeapplication/jsonplatformtiltastime1700000000version1.0{}"
        );
        assert_eq!(
            String::from_utf8(canonical_text(&HEADERS, b"{}", Naming::Prefixed)).unwrap(),
            "b1-api-keyKEY1b1-platformtiltasb1-time1700000000b1-version1.0content-length2content-typeapplication/json{}"
        );
    }

    #[test]
    fn the_signature_matches_a_vector_computed_by_hand_with_openssl() {
        // printf '%s' 'api-keyKEY1content-length2content-typeapplication/jsonplatformtiltastime1700000000version1.0{}' \
        //   | openssl dgst -sha512 -hmac SECRET
        assert_eq!(
            signature("SECRET", &HEADERS, b"{}", Naming::Unprefixed),
            UNPREFIXED_VECTOR
        );
        assert!(verify("SECRET", &HEADERS, b"{}", &UNPREFIXED_VECTOR.to_uppercase()));
        assert!(verify(
            "SECRET",
            &HEADERS,
            b"{}",
            &signature("SECRET", &HEADERS, b"{}", Naming::Prefixed)
        ));
        assert!(!verify("OTHER", &HEADERS, b"{}", UNPREFIXED_VECTOR));
        assert!(
            !verify("SECRET", &HEADERS, b"{ }", UNPREFIXED_VECTOR),
            "the body is signed"
        );
    }

    const UNPREFIXED_VECTOR: &str = "fcfad729bbe57dbb873f6106a55d01a63416328bb2b6bfe29ce2c7271c9899ce8b9d1ff8d120ce54ec8300cb52de1f10228d77d7d7fcffd27234b2a7a2631204";
}
