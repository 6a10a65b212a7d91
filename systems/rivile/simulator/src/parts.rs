//! A garage's books: the car parts of the shared catalogue (`tiltas_sim::parts`, the one the
//! parts-supplier simulators draw from with the same seed) as GAMA products, and the parts
//! suppliers as clients (N08), so supplier invoices can be booked as purchase documents.
//!
//! How a garage keeps parts in GAMA is inferred [I]: N17 has no maker or maker's-number column,
//! so half the parts are coded by the maker's number without spaces or signs (`W71275`), the
//! other half have a code of the garage's own (`D00001`) and the maker's number as written kept
//! as the product's barcode (N37, which GAMA lets hold any text of 20 characters) — the two
//! ways an invoice line finds its item by the maker's number (`systems/rivile/README.md`).
use crate::*;
use tiltas_model::parts::normalise_article;

/// The parts suppliers of the seed's garage software, as N08 client codes (the counterparty
/// of their invoices) and names.
pub const SUPPLIERS: [(&str, &str); 6] = [
    ("INTERCARS", "Inter Cars Lietuva UAB"),
    ("OMEGA", "Omega Autoparts"),
    ("ELIT", "Elit UA"),
    ("BUSMARKET", "Bus Market"),
    ("UNIQUETRADE", "Unique Trade"),
    ("VESNA", "Vesna"),
];

/// The product code a part of the catalogue has in these books, and its barcode.
pub fn part_product(part: &tiltas_sim::parts::Part, index: usize) -> (String, Option<String>) {
    let number = normalise_article(&part.article);
    if index % 2 == 0 && number.chars().count() <= 12 {
        (number, None)
    } else {
        (
            format!("D{:05}", index + 1),
            Some(part.article.chars().take(20).collect()),
        )
    }
}

impl Db {
    /// Adds a product (N17, VAT 21 %) with an optional barcode (N37) and a price (N32).
    pub(crate) fn add_product(&mut self, code: &str, name: &str, barcode: Option<&str>, price: Option<Decimal>) {
        let changed = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string();
        self.insert(
            &N17,
            &[
                ("N17_KODAS_PS", code.to_owned()),
                ("N17_PAV", name.chars().take(100).collect()),
                ("N17_KODAS_US", "VNT".into()),
                ("N17_TIPAS", "1".into()),
                ("N17_KODAS_GS", "DET".into()),
                ("N17_PVM", "21".into()),
                ("N17_USERIS", "API".into()),
                ("N17_R_DATE", changed.clone()),
                ("N17_ADDUSR", "API".into()),
                ("N17_ADD_DATE", changed.clone()),
            ],
        );
        if let Some(barcode) = barcode {
            self.insert(
                &N37,
                &[
                    ("N37_KODAS_PS", code.to_owned()),
                    ("N37_KODAS_US", "VNT".into()),
                    ("N37_BAR_KODAS", barcode.to_owned()),
                    ("N37_R_DATE", changed.clone()),
                ],
            );
        }
        if let Some(price) = price {
            self.insert(
                &N32,
                &[
                    ("N32_KODAS_PS", code.to_owned()),
                    ("N32_KODAS_US", "VNT".into()),
                    ("N32_TIPAS", "1".into()),
                    ("N32_KAINA1", price.to_string()),
                    ("N32_R_DATE", changed),
                ],
            );
        }
    }

    /// Adds a client (N08) that is a supplier (`N08_RUSIS` 2).
    pub(crate) fn add_supplier(&mut self, code: &str, name: &str) {
        self.insert(
            &N08,
            &[
                ("N08_KODAS_KS", code.to_owned()),
                ("N08_PAV", name.to_owned()),
                ("N08_RUSIS", "2".into()),
                ("N08_USERIS", "API".into()),
                ("N08_R_DATE", timestamp(0, 0)),
                ("N08_ADDUSR", "API".into()),
                ("N08_ADD_DATE", timestamp(0, 0)),
            ],
        );
    }
}

impl RivileSim {
    /// These books with the first `count` parts of the shared catalogue of the seeding's seed
    /// as products (see the module's notes on their codes) and the parts suppliers as clients;
    /// with none, the books stay as seeded (no suppliers either).
    pub fn with_parts(mut self, count: usize) -> RivileSim {
        if count == 0 {
            return self;
        }
        let parts = tiltas_sim::parts::catalogue(self.seeding.seed, count);
        for db in [
            &mut self.seeded,
            self.db.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner),
        ] {
            for (code, name) in SUPPLIERS {
                db.add_supplier(code, name);
            }
            for (index, part) in parts.iter().enumerate() {
                let (code, barcode) = part_product(part, index);
                let name = format!("{} {} {}", part.name, part.brand, part.article);
                db.add_product(&code, &name, barcode.as_deref(), Some(part.base_price_eur));
            }
        }
        self
    }

    /// Adds a product now (a garage creating the item a dead letter asked for).
    pub fn add_product(&self, code: &str, name: &str, barcode: Option<&str>) {
        lock(&self.db).add_product(code, name, barcode, None);
    }

    /// The purchase documents (`I06_OP_TIP` 1) with their lines, as stored.
    pub fn purchases(&self) -> Vec<Value> {
        let db = lock(&self.db);
        let Some(headers) = db.tables.get("I06") else {
            return Vec::new();
        };
        headers
            .values()
            .filter(|row| row.get("I06_OP_TIP").map(String::as_str) == Some("1"))
            .map(|row| {
                let key = row
                    .get("I06_KODAS_PO")
                    .map(|code| code.to_lowercase())
                    .unwrap_or_default();
                let mut fields: Map<String, Value> = row
                    .iter()
                    .map(|(name, value)| ((*name).to_owned(), Value::String(value.clone())))
                    .collect();
                let lines = db
                    .tables
                    .get("I07")
                    .map(|rows| {
                        rows.iter()
                            .filter(|(line_key, _)| line_key.first() == Some(&key))
                            .map(|(_, line)| {
                                Value::Object(
                                    line.iter()
                                        .map(|(name, value)| ((*name).to_owned(), Value::String(value.clone())))
                                        .collect(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                fields.insert("I07".into(), Value::Array(lines));
                Value::Object(fields)
            })
            .collect()
    }
}
