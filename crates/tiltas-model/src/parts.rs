//! Part identity across suppliers: the same part has a different code at each supplier, so a
//! part is known by its maker's article number and brand, both normalised, or by its EAN.
//!
//! Article numbers are compared without case and without any character that is not a letter
//! or a digit (`W 712/75`, `w712-75` and `W71275` are one number): suppliers strip spaces,
//! dashes, dots and slashes in different ways, and no maker tells two parts apart by them.
//! Brands are compared the same way after [`BRAND_ALIASES`] (`MANN-FILTER` = `MANN`).

pub mod matching;

/// Spellings suppliers use for a brand, each with the one name it is compared under: both
/// normalised (upper case, letters and digits only).
pub const BRAND_ALIASES: &[(&str, &str)] = &[
    ("MANNFILTER", "MANN"),
    ("FEBIBILSTEIN", "FEBI"),
    ("LEMFORDER", "LEMFORDER"),
    ("LEMFOERDER", "LEMFORDER"),
    ("LEMFÖRDER", "LEMFORDER"),
    ("CONTITECH", "CONTITECH"),
    ("CONTINENTALCTAM", "CONTITECH"),
    ("BOSCHAUTOMOTIVE", "BOSCH"),
    ("ROBERTBOSCH", "BOSCH"),
    ("TRWAUTOMOTIVE", "TRW"),
    ("ZFSACHS", "SACHS"),
    ("NGKSPARKPLUG", "NGK"),
    ("KNECHTMAHLE", "KNECHT"),
    ("MAHLEKNECHT", "KNECHT"),
];

/// Upper case, letters and digits only.
fn letters_and_digits(text: &str) -> String {
    text.chars()
        .filter(|character| character.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect()
}

/// An article number as it is compared: `W 712/75` → `W71275`.
pub fn normalise_article(article: &str) -> String {
    letters_and_digits(article)
}

/// A brand as it is compared: `Mann-Filter` → `MANN`, `FEBI BILSTEIN` → `FEBI`.
pub fn normalise_brand(brand: &str) -> String {
    let plain = letters_and_digits(brand);
    BRAND_ALIASES
        .iter()
        .find(|(spelling, _)| *spelling == plain)
        .map_or(plain, |(_, name)| (*name).to_owned())
}

/// A part's identity: normalised article number and brand.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PartIdentity {
    /// [`normalise_article`] of the maker's number.
    pub article: String,
    /// [`normalise_brand`] of the maker, empty when unknown.
    pub brand: String,
}

impl PartIdentity {
    /// The identity of `article` by `brand`.
    pub fn new(article: &str, brand: Option<&str>) -> PartIdentity {
        PartIdentity {
            article: normalise_article(article),
            brand: brand.map(normalise_brand).unwrap_or_default(),
        }
    }

    /// Whether `other` is the same part: equal numbers, and equal brands where both are known.
    pub fn matches(&self, other: &PartIdentity) -> bool {
        self.article == other.article && (self.brand.is_empty() || other.brand.is_empty() || self.brand == other.brand)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_match_whatever_the_supplier_strips() {
        for spelling in ["W 712/75", "w712-75", "W71275", "W.712.75"] {
            assert_eq!(normalise_article(spelling), "W71275", "{spelling}");
        }
        assert_eq!(normalise_article("0 986 494 104"), "0986494104");
    }

    #[test]
    fn brands_match_through_aliases_and_unknown_brands_match_any() {
        assert_eq!(normalise_brand("MANN-FILTER"), "MANN");
        assert_eq!(normalise_brand("mann"), "MANN");
        assert_eq!(normalise_brand("Febi Bilstein"), "FEBI");
        assert_eq!(normalise_brand("Lemförder"), "LEMFORDER");
        let asked = PartIdentity::new("W 712/75", Some("MANN-FILTER"));
        assert!(asked.matches(&PartIdentity::new("W71275", Some("MANN"))));
        assert!(asked.matches(&PartIdentity::new("w712-75", None)));
        assert!(!asked.matches(&PartIdentity::new("W71275", Some("BOSCH"))));
        assert!(!asked.matches(&PartIdentity::new("W71276", Some("MANN"))));
    }
}
