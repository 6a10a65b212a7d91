//! The seeded state: warehouses, sales codes, products with barcodes, prices and stock,
//! clients with addresses, internal documents.
use crate::*;

pub(crate) const PRODUCTS: [&str; 10] = [
    "Stabdžių kaladėlės",
    "Alyvos filtras",
    "Oro filtras",
    "Uždegimo žvakė",
    "Valytuvo šluotelė",
    "Akumuliatorius",
    "Stabdžių diskas",
    "Amortizatorius",
    "Paskirstymo diržas",
    "Lemputė H7",
];
pub(crate) const COMPANIES: [&str; 8] = [
    "UAB Ratai",
    "UAB Detalė",
    "MB Autoservisas",
    "UAB Baltijos prekyba",
    "IĮ Jonas",
    "UAB Šilas",
    "UAB Vairas",
    "MB Žibintas",
];

pub(crate) fn timestamp(day: u32, second: u32) -> String {
    format!(
        "2024-{:02}-{:02}T{:02}:{:02}:{:02}",
        1 + day / 28 % 12,
        1 + day % 28,
        second / 3600 % 24,
        second / 60 % 60,
        second % 60
    )
}

pub(crate) fn ean13(body: u64) -> String {
    let digits = format!("{:012}", body % 1_000_000_000_000);
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    format!("{digits}{}", (10 - sum % 10) % 10)
}

impl RivileSim {
    /// A gateway accepting `api_key`, with seeded tables.
    pub fn new(api_key: impl Into<String>, seeding: Seeding) -> RivileSim {
        let mut rng = StdRng::seed_from_u64(seeding.seed);
        let mut db = Db::default();
        for table in tiltas_rivile::schema::TABLES {
            db.tables.insert(table.code, BTreeMap::new());
        }
        seed_reference(&mut db);
        seed_products(&mut db, &mut rng, seeding.products);
        seed_customers(&mut db, &mut rng, seeding.customers);
        seed_internal_documents(&mut db, &mut rng, seeding.products);
        RivileSim {
            api_key: api_key.into(),
            seeding,
            seeded: db.clone(),
            db: Mutex::new(db),
            bucket: Mutex::new((f64::from(BURST), Instant::now())),
        }
    }

    /// Takes a token of the key's bucket (10/s, bursts to 30).
    pub(crate) fn take_token(&self) -> bool {
        let mut bucket = lock(&self.bucket);
        let now = Instant::now();
        bucket.0 =
            (bucket.0 + now.duration_since(bucket.1).as_secs_f64() * f64::from(RATE_PER_S)).min(f64::from(BURST));
        bucket.1 = now;
        if bucket.0 >= 1.0 {
            bucket.0 -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Warehouses (N07) and sales/purchase codes (N25, the seed's row among them).
fn seed_reference(db: &mut Db) {
    for (code, name) in [("CENTR", "Centrinis sandėlis"), ("VLN", "Vilniaus parduotuvė")] {
        db.insert(
            &N07,
            &[
                ("N07_KODAS_IS", code.into()),
                ("N07_PAV", name.into()),
                ("N07_R_DATE", timestamp(0, 0)),
            ],
        );
    }
    for (code, name, kind) in [
        ("004", "Prekių pardavimas", "2"),
        ("5006", "Laiptinių valymas", "2"),
        ("PRISTATYMAS", "Prekių pristatymas", "2"),
        ("MOKESTIS", "Apmokėjimo mokestis", "2"),
        ("NUOLAIDA", "Nuolaida", "2"),
        ("P001", "Prekių pirkimas", "1"),
    ] {
        db.insert(
            &N25,
            &[
                ("N25_KODAS_BS", code.into()),
                ("N25_PAV", name.into()),
                ("N25_TIPAS", kind.into()),
                ("N25_KODAS_SS", "5001".into()),
                ("N25_KODAS_US", "VNT".into()),
                ("N25_FRAKCIJA", "100".into()),
                ("N25_MOKESTIS", "1".into()),
                ("N25_TAX", "1".into()),
                ("N25_USERIS", "MASTER".into()),
                ("N25_ADDUSR", "MASTER".into()),
                ("N25_R_DATE", "2019-08-13T10:55:42".into()),
                ("N25_ADD_TIME", "2019-08-13T00:00:00".into()),
                ("N25_BEG_DATE", "2019-08-12T00:00:00".into()),
                ("N25_END_DATE", "2019-08-12T00:00:00".into()),
                ("N25_OP_RUSIS", "1".into()),
                ("N25_KODAS_LP", "000000000000".into()),
            ],
        );
    }
}

/// Products with a barcode, a price, stock in CENTR and (every third) a CENTR price of its own.
fn seed_products(db: &mut Db, rng: &mut StdRng, count: usize) {
    for n in 1..=count {
        let code = format!("A{:05}", 100 + n);
        let changed = timestamp(n as u32 / 50, n as u32 * 37);
        db.insert(
            &N17,
            &[
                ("N17_KODAS_PS", code.clone()),
                ("N17_PAV", format!("{} {n}", PRODUCTS[rng.gen_range(0..PRODUCTS.len())])),
                ("N17_KODAS_US", "VNT".into()),
                ("N17_TIPAS", "1".into()),
                ("N17_KODAS_GS", "40".into()),
                ("N17_KILM", "LT".into()),
                ("N17_PVM", "21".into()),
                ("N17_USERIS", "API".into()),
                ("N17_R_DATE", changed.clone()),
                ("N17_ADDUSR", "API".into()),
                ("N17_ADD_DATE", changed.clone()),
            ],
        );
        db.insert(
            &N37,
            &[
                ("N37_KODAS_PS", code.clone()),
                ("N37_KODAS_US", "VNT".into()),
                ("N37_BAR_KODAS", ean13(477_100_000_000 + n as u64)),
                ("N37_R_DATE", changed.clone()),
            ],
        );
        db.insert(
            &N32,
            &[
                ("N32_KODAS_PS", format!("A{:05}", 100 + n)),
                ("N32_KODAS_US", "VNT".into()),
                ("N32_TIPAS", "1".into()),
                (
                    "N32_KAINA1",
                    format!("{}.{:02}", rng.gen_range(1..300), rng.gen_range(0..100)),
                ),
                ("N32_R_DATE", changed.clone()),
            ],
        );
        // Every third product has its own price in the central warehouse (I33).
        if n % 3 == 0 {
            db.insert(
                &I33,
                &[
                    ("I33_KODAS_PS", code.clone()),
                    ("I33_KODAS_IS", "CENTR".into()),
                    ("I33_KODAS_US", "VNT".into()),
                    (
                        "I33_KAINA",
                        format!("{}.{:02}", rng.gen_range(1..300), rng.gen_range(0..100)),
                    ),
                    ("I33_USERIS", "API".into()),
                    ("I33_R_DATE", changed.clone()),
                ],
            );
        }
        db.insert(
            &I17,
            &[
                ("I17_KODAS_PS", code),
                ("I17_KODAS_US", "VNT".into()),
                ("I17_KODAS_IS", "CENTR".into()),
                ("I17_KIEKIS", rng.gen_range(0..500).to_string()),
                ("I17_REZERVAS", rng.gen_range(0..5).to_string()),
                ("I17_R_DATE", changed),
            ],
        );
    }
}

/// Clients, each with one further (delivery) address.
fn seed_customers(db: &mut Db, rng: &mut StdRng, count: usize) {
    for n in 1..=count {
        let company = COMPANIES[rng.gen_range(0..COMPANIES.len())];
        let changed = timestamp(n as u32 / 20, n as u32 * 53);
        db.insert(
            &N08,
            &[
                ("N08_KODAS_KS", format!("{}", 120_000_000 + n * 7919)),
                ("N08_PAV", format!("{company} {n}")),
                ("N08_IM_KODAS", format!("{}", 300_000_000 + n)),
                ("N08_PVM_KODAS", format!("LT{}", 100_000_000_000u64 + n as u64)),
                ("N08_ADR", format!("Gedimino pr. {n}")),
                ("N08_MIESTAS", "Vilnius".into()),
                ("N08_POST_KOD", format!("LT-{:05}", 1000 + n)),
                ("N08_SALIS", "LT".into()),
                ("N08_E_MAIL", format!("info{n}@imone.lt")),
                ("N08_RUSIS", "1".into()),
                ("N08_USERIS", "API".into()),
                ("N08_R_DATE", changed.clone()),
                ("N08_ADDUSR", "API".into()),
                ("N08_ADD_DATE", changed.clone()),
            ],
        );
        db.insert(
            &N33,
            &[
                ("N33_KODAS_KS", format!("{}", 120_000_000 + n * 7919)),
                ("N33_EIL_NR", "1".into()),
                ("N33_ADR", format!("Pristatymo g. {n}")),
                ("N33_MIESTAS", "Kaunas".into()),
                ("N33_POST_KOD", format!("LT-{:05}", 44_000 + n)),
                ("N33_SALIS", "LT".into()),
                ("N33_R_DATE", changed),
            ],
        );
    }
    // Internal documents: a transfer, a write-off and an inventory count per 20 products.
}

/// A transfer, a write-off and an inventory count in turn, one per 20 products.
fn seed_internal_documents(db: &mut Db, rng: &mut StdRng, products: usize) {
    for n in 1..=products / 20 {
        let (kind, to) = match n % 3 {
            1 => ("31", "VLN"),
            2 => ("32", ""),
            _ => ("33", ""),
        };
        let key = format!("VD{n:06}");
        let changed = timestamp(n as u32, n as u32 * 61);
        db.insert(
            &I09,
            &[
                ("I09_KODAS_VD", key.clone()),
                ("I09_OP_TIP", kind.into()),
                ("I09_DOK_NR", format!("VD-{n}")),
                ("I09_OP_DATA", changed.clone()),
                ("I09_DOK_DATA", changed.clone()),
                ("I09_KODAS_IS", "CENTR".into()),
                ("I09_KODAS_IS2", to.into()),
                ("I09_PERKELTA", "2".into()),
                ("I09_USERIS", "API".into()),
                ("I09_R_DATE", changed.clone()),
            ],
        );
        for line in 1..=rng.gen_range(1..=3usize) {
            let product = rng.gen_range(1..=products);
            db.insert(
                &I10,
                &[
                    ("I10_KODAS_VD", key.clone()),
                    ("I10_EIL_NR", line.to_string()),
                    ("I10_KODAS", format!("A{:05}", 100 + product)),
                    ("I10_KODAS_US", "VNT".into()),
                    ("I10_KIEKIS", rng.gen_range(1..20).to_string()),
                    ("I10_R_DATE", changed.clone()),
                ],
            );
        }
    }
}
