//! One seeded catalogue of car parts shared by the parts-supplier simulators: started with the
//! same seed, every supplier draws its assortment from the same parts (the same canonical
//! `article` and `brand`, EAN, name and base price), writes the part's code in its own format,
//! carries an overlapping but not identical subset and keeps stock at its own branches.
//!
//! [`catalogue`] gives the parts; [`assortment`] gives one supplier's view of them from a
//! [`SupplierProfile`] (its share of the catalogue, code format, branches, price factor).
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use serde::Serialize;

/// Brands the generated parts come from (as makers spell them).
const BRANDS: [&str; 10] = [
    "MANN-FILTER",
    "BOSCH",
    "FEBI BILSTEIN",
    "TRW",
    "SACHS",
    "VALEO",
    "KNECHT",
    "LEMFORDER",
    "NGK",
    "CONTITECH",
];

/// Kinds of part with a name and a base price range in euro cents.
const KINDS: [(&str, i64, i64); 8] = [
    ("Oil filter", 350, 1_800),
    ("Air filter", 600, 3_200),
    ("Brake pad set", 1_800, 9_500),
    ("Brake disc", 2_500, 14_000),
    ("Shock absorber", 3_500, 19_000),
    ("Spark plug", 300, 2_400),
    ("Timing belt kit", 4_500, 26_000),
    ("Wiper blade", 500, 3_500),
];

/// One part of the shared catalogue, as its maker identifies it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Part {
    /// The maker's article number, as the maker prints it (`W 712/75`, `0 986 494 104`).
    pub article: String,
    /// The maker, as the maker spells it (`MANN-FILTER`).
    pub brand: String,
    /// EAN-13 with a valid check digit.
    pub ean: String,
    /// What it is (`Oil filter`).
    pub name: String,
    /// Net list price in euro before any supplier's margin, two decimals.
    pub base_price_eur: Decimal,
}

/// An EAN-13 of twelve digits plus their check digit.
fn ean13(body: u64) -> String {
    let digits = format!("{:012}", body % 1_000_000_000_000);
    let sum: u32 = digits
        .bytes()
        .enumerate()
        .map(|(index, digit)| u32::from(digit - b'0') * if index % 2 == 0 { 1 } else { 3 })
        .sum();
    format!("{digits}{}", (10 - sum % 10) % 10)
}

/// An article number in one of the shapes makers use: spaces, slashes, dashes, dots.
fn article_number(rng: &mut StdRng, index: usize) -> String {
    match index % 4 {
        0 => format!("W {}/{}", rng.gen_range(600..999), rng.gen_range(1..99)),
        1 => format!("0 986 {} {:03}", rng.gen_range(400..499), index % 1000),
        2 => format!("{}-{:04}", rng.gen_range(10..99), index),
        _ => format!(
            "{}.{}.{:03}",
            rng.gen_range(100..999),
            rng.gen_range(10..99),
            index % 1000
        ),
    }
}

/// The first `count` parts of the catalogue of `seed`: the same seed gives the same parts in
/// every simulator, and a longer catalogue starts with the shorter one's parts.
pub fn catalogue(seed: u64, count: usize) -> Vec<Part> {
    (0..count)
        .map(|index| {
            let mut rng = StdRng::seed_from_u64(seed.wrapping_mul(0x9E37_79B9).wrapping_add(index as u64));
            let (kind, low, high) = KINDS[index % KINDS.len()];
            Part {
                article: article_number(&mut rng, index),
                brand: BRANDS[(index / KINDS.len() + index) % BRANDS.len()].to_owned(),
                ean: ean13(400_000_000_000 + seed % 1000 * 1_000_000 + index as u64),
                name: kind.to_owned(),
                base_price_eur: Decimal::new(rng.gen_range(low..high), 2),
            }
        })
        .collect()
}

/// How one supplier shows the shared catalogue.
#[derive(Debug, Clone)]
pub struct SupplierProfile {
    /// The supplier's name, mixed into its draws so suppliers differ.
    pub name: &'static str,
    /// Share of the catalogue it carries (0–1); each part is in or out by a stable draw.
    pub share: f64,
    /// The supplier's code for a part at a position of the catalogue.
    pub code: fn(&Part, usize) -> String,
    /// Its branches (warehouses).
    pub branches: &'static [&'static str],
    /// Its price over the base price, in percent (`112` = 12 % margin).
    pub price_percent: i64,
}

/// One part as a supplier carries it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SupplierPart {
    /// The shared part.
    pub part: Part,
    /// The supplier's own code for it.
    pub code: String,
    /// Its net price at the supplier, in euro.
    pub price_eur: Decimal,
    /// Stock per branch (branch, quantity), every branch listed, zero included.
    pub stock: Vec<(String, u32)>,
}

/// FNV-1a of a text, stable across builds.
fn stable(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// What `profile`'s supplier carries of the first `count` parts of the catalogue of `seed`,
/// in catalogue order: the same seed and profile give the same assortment, codes and stock.
pub fn assortment(seed: u64, count: usize, profile: &SupplierProfile) -> Vec<SupplierPart> {
    let salt = stable(profile.name);
    catalogue(seed, count)
        .into_iter()
        .enumerate()
        .filter_map(|(index, part)| {
            let mut rng = StdRng::seed_from_u64(seed ^ salt ^ (index as u64).wrapping_mul(0x2545_F491));
            if !rng.gen_bool(profile.share.clamp(0.0, 1.0)) {
                return None;
            }
            let price_eur = (part.base_price_eur * Decimal::new(profile.price_percent, 2)).round_dp(2);
            let stock = profile
                .branches
                .iter()
                .map(|branch| {
                    (
                        (*branch).to_owned(),
                        if rng.gen_bool(0.3) { 0 } else { rng.gen_range(1..40) },
                    )
                })
                .collect();
            Some(SupplierPart {
                code: (profile.code)(&part, index),
                part,
                price_eur,
                stock,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(name: &'static str, share: f64) -> SupplierProfile {
        SupplierProfile {
            name,
            share,
            code: |part, _| format!("{}-{}", part.brand, part.article),
            branches: &["A", "B"],
            price_percent: 110,
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_parts_and_suppliers_overlap_without_being_equal() {
        assert_eq!(catalogue(7, 50), catalogue(7, 50));
        assert_eq!(catalogue(7, 20)[..], catalogue(7, 50)[..20]);
        assert_ne!(catalogue(7, 20), catalogue(8, 20));
        let first = assortment(7, 200, &profile("one", 0.7));
        let second = assortment(7, 200, &profile("two", 0.7));
        let articles = |parts: &[SupplierPart]| {
            parts
                .iter()
                .map(|p| (p.part.article.clone(), p.part.brand.clone()))
                .collect::<std::collections::BTreeSet<_>>()
        };
        let common = articles(&first).intersection(&articles(&second)).count();
        assert!(common > 50 && common < first.len().min(second.len()), "{common} shared");
        assert!(first
            .iter()
            .all(|p| p.price_eur > p.part.base_price_eur && p.stock.len() == 2));
    }

    #[test]
    fn every_ean_has_a_valid_check_digit() {
        for part in catalogue(3, 30) {
            let digits: Vec<u32> = part.ean.bytes().map(|b| u32::from(b - b'0')).collect();
            let sum: u32 = digits
                .iter()
                .enumerate()
                .map(|(i, d)| d * if i % 2 == 0 { 1 } else { 3 })
                .sum();
            assert_eq!((part.ean.len(), sum % 10), (13, 0), "{}", part.ean);
        }
    }
}
