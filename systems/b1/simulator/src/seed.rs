//! The seeded company: items, clients, warehouses with stock, sales invoices, half of them paid.
use super::*;

const NAMES: [&str; 10] = [
    "Grąžtas",
    "Plaktukas",
    "Atsuktuvas",
    "Replės",
    "Pjūklas",
    "Dažai",
    "Teptukas",
    "Varžtai",
    "Lipni juosta",
    "Matuoklė",
];
const COMPANIES: [&str; 6] = [
    "UAB Medis",
    "UAB Statyba",
    "MB Remontas",
    "UAB Baltic Tools",
    "IĮ Petras",
    "UAB Namai",
];
const PEOPLE: [&str; 6] = [
    "Ona Onaitė",
    "Jonas Jonaitis",
    "Rūta Rūtaitė",
    "Petras Petraitis",
    "Asta Astaitė",
    "Tomas Tomaitis",
];
const CITIES: [&str; 4] = ["Vilnius", "Kaunas", "Klaipėda", "Šiauliai"];

fn ean13(body: u64) -> String {
    let digits = format!("{:012}", body % 1_000_000_000_000);
    let sum: u32 = digits
        .chars()
        .enumerate()
        .map(|(index, digit)| digit.to_digit(10).unwrap_or(0) * if index % 2 == 0 { 1 } else { 3 })
        .sum();
    format!("{digits}{}", (10 - sum % 10) % 10)
}

fn seeded_time(n: usize) -> String {
    format!(
        "2024-{:02}-{:02} {:02}:{:02}:{:02}",
        1 + n / 28 % 12,
        1 + n % 28,
        n / 3600 % 24,
        n / 60 % 60,
        n % 60
    )
}

pub(crate) fn seed(seeding: &Seeding) -> Db {
    let mut rng = StdRng::seed_from_u64(seeding.seed);
    let mut db = Db::default();
    let warehouse_names = ["Pagrindinis sandėlis", "Kauno sandėlis", "Klaipėdos sandėlis"];
    for n in 0..seeding.warehouses {
        let id = db.id();
        let name = warehouse_names
            .get(n)
            .map_or_else(|| format!("Sandėlis {}", n + 1), |name| (*name).to_owned());
        db.warehouses.insert(id, json_record(json!({ "id": id, "name": name })));
    }
    for n in 0..seeding.items {
        let id = db.id();
        let (unit_id, unit) = tiltas_b1::UNITS[n % 3];
        let price = Decimal::new(rng.gen_range(150..50_000), 2);
        let vat = if n % 10 == 9 { "9" } else { "21" };
        db.items.insert(
            id,
            json_record(json!({
                "id": id,
                "code": format!("P{:05}", n + 1),
                "name": format!("{} {}", NAMES[n % NAMES.len()], n + 1),
                "barcode": ean13(4_770_000_000_000 / 10 + n as u64),
                "price": price.to_string(),
                "vatRate": vat,
                "attributeId": 1,
                "measurementUnitId": unit_id,
                "measurementUnitName": unit,
                "modifiedAt": seeded_time(n),
            })),
        );
    }
    let warehouse_ids: Vec<i64> = db.warehouses.keys().copied().collect();
    let item_ids: Vec<i64> = db.items.keys().copied().collect();
    let mut n = 0;
    for warehouse in &warehouse_ids {
        for item in &item_ids {
            let id = db.id();
            let record = balance(
                &db,
                *item,
                *warehouse,
                rng.gen_range(0..200),
                rng.gen_range(0..5),
                &seeded_time(n),
            );
            db.balances.insert(id, with_id(record, id));
            n += 1;
        }
    }
    for n in 0..seeding.clients {
        let id = db.id();
        let company = n % 3 != 2;
        let name = if company {
            format!("{} {}", COMPANIES[n % COMPANIES.len()], n + 1)
        } else {
            PEOPLE[n % PEOPLE.len()].to_owned()
        };
        db.clients.insert(
            id,
            json_record(json!({
                "id": id,
                "code": if company { format!("30{:07}", 1_000_000 + n) } else { format!("A{:05}", n + 1) },
                "name": name,
                "isCompany": company,
                "vatCode": if company { Value::String(format!("LT{:09}", 100_000_000 + n)) } else { Value::Null },
                "email": format!("klientas{}@example.lt", n + 1),
                "phone": format!("+3706{:07}", 1_000_000 + n),
                "address": format!("Gedimino pr. {}", n + 1),
                "cityName": CITIES[n % CITIES.len()],
                "postCode": format!("LT-{:05}", 10_000 + n),
                "countryCode": "LT",
                "locationId": 1,
                "modifiedAt": seeded_time(n),
            })),
        );
    }
    let client_ids: Vec<i64> = db.clients.keys().copied().collect();
    for n in 0..seeding.invoices {
        if client_ids.is_empty() || item_ids.is_empty() || warehouse_ids.is_empty() {
            break;
        }
        let lines: Vec<Value> = (0..rng.gen_range(1..=3))
            .filter_map(|_| {
                let item = db.items.get(&item_ids[rng.gen_range(0..item_ids.len())])?;
                Some(json!({
                    "code": item.get("code")?,
                    "name": item.get("name")?,
                    "quantity": rng.gen_range(1..=4).to_string(),
                    "price": item.get("price")?,
                    "vatPercent": item.get("vatRate")?,
                }))
            })
            .collect();
        let sale = json!({
            "number": format!("SF{:06}", n + 1),
            "saleDate": seeded_time(n).chars().take(10).collect::<String>(),
            "clientId": client_ids[n % client_ids.len()],
            "warehouseId": warehouse_ids[0],
            "currencyCode": "EUR",
            "items": lines,
        });
        let Ok((id, _)) = create_sale(&mut db, sale.as_object().cloned().unwrap_or_default(), &seeded_time(n)) else {
            continue;
        };
        if n % 2 == 0 {
            let total = db
                .sales
                .get(&id)
                .and_then(|sale| text(sale, "total"))
                .unwrap_or_default();
            let payment_id = db.id();
            db.payments.insert(
                payment_id,
                json_record(json!({
                    "id": payment_id,
                    "saleId": id,
                    "saleNumber": format!("SF{:06}", n + 1),
                    "clientId": client_ids[n % client_ids.len()],
                    "paymentDate": seeded_time(n + 3).chars().take(10).collect::<String>(),
                    "amount": total,
                    "currencyCode": "EUR",
                    "modifiedAt": seeded_time(n + 3),
                })),
            );
        }
    }
    db
}
