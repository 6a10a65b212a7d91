//! Query strings read the way PHP fills `$_GET`, which is what WooCommerce signs and filters on.
use percent_encoding::percent_decode_str;

/// Decodes one `application/x-www-form-urlencoded` component (`+` is a space, as in PHP).
fn form_decode(text: &str) -> String {
    percent_decode_str(&text.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// The query's parameters as PHP sees them: decoded, a repeated plain name keeps its first
/// position and its last value, `name[]` items are numbered `name[0]`, `name[1]`, … and dots
/// and spaces in a top-level name become underscores.
pub(super) fn php_query_pairs(raw_query: Option<&str>) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut list_lengths: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for part in raw_query.unwrap_or("").split('&').filter(|part| !part.is_empty()) {
        let (raw_name, raw_value) = part.split_once('=').unwrap_or((part, ""));
        let name = form_decode(raw_name);
        let value = form_decode(raw_value);
        let (top, rest) = match name.find('[') {
            Some(at) if at > 0 => name.split_at(at),
            _ => (name.as_str(), ""),
        };
        let top: String = top
            .chars()
            .map(|c| if c == '.' || c == ' ' { '_' } else { c })
            .collect();
        let name = if let Some(after) = rest.strip_prefix("[]") {
            let next = list_lengths.entry(top.clone()).or_default();
            let numbered = format!("{top}[{next}]{after}");
            *next += 1;
            numbered
        } else {
            format!("{top}{rest}")
        };
        match pairs.iter_mut().find(|(existing, _)| *existing == name) {
            Some(existing) => existing.1 = value,
            None => pairs.push((name, value)),
        }
    }
    pairs
}

/// Form-encodes a query the way PHP's `add_query_arg` builds links.
pub(super) fn form_encode(pairs: &[(String, String)]) -> String {
    const FORM: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b' ');
    let encode = |text: &str| {
        percent_encoding::utf8_percent_encode(text, FORM)
            .to_string()
            .replace(' ', "+")
    };
    pairs
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_decode_like_php_get() {
        let pairs = php_query_pairs(Some("a=1&b=x+y%2Bz&a=2&c[]=p&c[]=q&d.e=%C5%BE"));
        let expect = [("a", "2"), ("b", "x y+z"), ("c[0]", "p"), ("c[1]", "q"), ("d_e", "ž")];
        let expect: Vec<(String, String)> = expect.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        assert_eq!(pairs, expect);
        assert_eq!(form_encode(&expect[..2]), "a=2&b=x+y%2Bz");
    }
}
