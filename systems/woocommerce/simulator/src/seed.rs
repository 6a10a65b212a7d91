//! The seeded shop (Lithuanian names, EUR, SKUs prefixed `WC-` so they differ from ERP codes,
//! simple and variable products) and the `/__sim/mutate` changes: new checkout orders,
//! price and name changes, new phone numbers.
use super::api::Ctx;
use super::customers::{self, address};
use super::input::{money_text, slugify};
use super::{catalog, orders, Event, Record, Seeding, Shop};
use chrono::{TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

/// WordPress' own posts and pages come first; shop posts start after them.
const FIRST_POST_ID: u64 = 100;
/// Term 15 is `Uncategorized` in a fresh WooCommerce.
const FIRST_TERM_ID: u64 = 14;
/// User 1 is the shop administrator.
const FIRST_USER_ID: u64 = 1;

const FIRST_NAMES: [&str; 12] = [
    "Jonas", "Ona", "Petras", "Rūta", "Tomas", "Eglė", "Mantas", "Aistė", "Lukas", "Gintarė", "Darius", "Ieva",
];
const LAST_NAMES: [&str; 10] = [
    "Kazlauskas",
    "Petraitė",
    "Jankauskas",
    "Žukauskaitė",
    "Butkus",
    "Šimkus",
    "Vasiliauskas",
    "Paulauskė",
    "Balčiūnas",
    "Urbonas",
];
const CITIES: [(&str, &str); 4] = [
    ("Vilnius", "LT-01100"),
    ("Kaunas", "LT-44280"),
    ("Klaipėda", "LT-91100"),
    ("Šiauliai", "LT-76101"),
];
const STREETS: [&str; 5] = [
    "Gedimino pr.",
    "Laisvės al.",
    "Taikos pr.",
    "Vilniaus g.",
    "Savanorių pr.",
];
const COMPANIES: [&str; 4] = [
    "UAB Medvilnė",
    "UAB Statybų centras",
    "MB Žalias kiemas",
    "UAB Baltų prekyba",
];
const TOOLS: [&str; 10] = [
    "Grąžtas",
    "Plaktukas",
    "Atsuktuvas",
    "Replės",
    "Pjūklas",
    "Kaltas",
    "Dažai",
    "Teptukas",
    "Varžtai",
    "Kopėčios",
];
const TOOL_KINDS: [&str; 6] = [
    "metalui",
    "medžiui",
    "betonui",
    "universalus",
    "profesionalus",
    "rinkinys",
];
const GARMENTS: [&str; 4] = ["Marškinėliai", "Džemperis", "Kepurė", "Striukė"];
const SIZES: [&str; 3] = ["S", "M", "L"];
const COLOURS: [(&str, &str); 3] = [("Juoda", "BLK"), ("Balta", "WHT"), ("Mėlyna", "BLU")];
const CATEGORIES: [&str; 5] = ["Be kategorijos", "Įrankiai", "Drabužiai", "Namams", "Sodui"];
const PAYMENTS: [(&str, &str); 3] = [
    ("paysera", "Paysera"),
    ("bacs", "Bankinis pavedimas"),
    ("cod", "Apmokėjimas pristatymo metu"),
];
const SHIPPING: [(&str, &str, i64); 3] = [
    ("flat_rate", "Kurjeris", 399),
    ("local_pickup", "Atsiėmimas parduotuvėje", 0),
    ("lp_express", "LP Express paštomatas", 249),
];

/// Seeded records were written a few minutes apart from this moment (unix seconds).
pub(super) fn seeded_epoch() -> i64 {
    Utc.with_ymd_and_hms(2026, 1, 5, 8, 0, 0)
        .single()
        .map_or(0, |at| at.timestamp())
}

fn cents(amount: i64) -> String {
    money_text(Decimal::new(amount, 2))
}

fn ascii(text: &str) -> String {
    slugify(text).replace('-', ".")
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// A Lithuanian person with an address, e-mail and phone; `company` sometimes.
fn person(rng: &mut StdRng, n: u64, with_company: bool) -> (String, String, Map<String, Value>) {
    let first = FIRST_NAMES[rng.gen_range(0..FIRST_NAMES.len())];
    let last = LAST_NAMES[rng.gen_range(0..LAST_NAMES.len())];
    let (city, postcode) = CITIES[rng.gen_range(0..CITIES.len())];
    let email = format!("{}.{}{n}@example.lt", ascii(first), ascii(last));
    let company = if with_company {
        COMPANIES[rng.gen_range(0..COMPANIES.len())]
    } else {
        ""
    };
    let billing = json!({
        "first_name": first, "last_name": last, "company": company,
        "address_1": format!("{} {}", STREETS[rng.gen_range(0..STREETS.len())], rng.gen_range(1..120)),
        "address_2": "", "city": city, "state": "", "postcode": postcode, "country": "LT",
        "email": email, "phone": format!("+3706{:07}", rng.gen_range(0..10_000_000)),
    });
    (first.to_owned(), last.to_owned(), object(billing))
}

fn shipping_of(billing: &Map<String, Value>) -> Value {
    Value::Object(address(Some(billing), false))
}

/// The seeded shop: categories, products (every fourth variable), customers and orders.
pub(super) fn seeded_shop(seeding: &Seeding) -> Shop {
    let mut rng = StdRng::seed_from_u64(seeding.seed);
    let mut shop = Shop {
        next_post_id: FIRST_POST_ID,
        next_term_id: FIRST_TERM_ID,
        next_user_id: FIRST_USER_ID,
        ..Shop::default()
    };
    let mut at = seeded_epoch();
    let tick = |at: &mut i64| {
        *at += 7 * 60;
        *at
    };
    for name in CATEGORIES {
        shop.next_term_id += 1;
        let mut body = catalog::category_defaults();
        body.insert("name".into(), json!(name));
        body.insert("slug".into(), json!(slugify(name)));
        shop.categories.insert(shop.next_term_id, Record::new(body, at));
    }
    let category_id = |name: &str| FIRST_TERM_ID + 1 + CATEGORIES.iter().position(|c| *c == name).unwrap_or(0) as u64;
    for n in 1..=seeding.products as u64 {
        let now = tick(&mut at);
        let site = "http://127.0.0.1".to_owned();
        let mut ctx = Ctx {
            shop: &mut shop,
            now,
            site,
            events: Vec::new(),
        };
        if n % 4 == 0 {
            seed_variable_product(&mut ctx, &mut rng, n, category_id("Drabužiai"));
        } else {
            let tool = TOOLS[rng.gen_range(0..TOOLS.len())];
            let kind = TOOL_KINDS[rng.gen_range(0..TOOL_KINDS.len())];
            let regular = rng.gen_range(199..19_999);
            // About one simple product in ten has no SKU yet, as in real shops.
            let sku = if seeding.some_without_sku && n % 10 == 7 {
                String::new()
            } else {
                format!("WC-{n:05}")
            };
            let manage_stock = rng.gen_bool(0.7);
            let mut input = json!({
                "name": format!("{tool} {kind} {n}"),
                "type": "simple",
                "sku": sku,
                "regular_price": cents(regular),
                "manage_stock": manage_stock,
                "stock_quantity": rng.gen_range(0..60),
                "categories": [{ "id": category_id(if rng.gen_bool(0.7) { "Įrankiai" } else { "Namams" }) }],
                "weight": format!("{:.1}", rng.gen_range(1..50) as f64 / 10.0),
            });
            if rng.gen_bool(0.2) {
                input["sale_price"] = json!(cents(regular * 8 / 10));
            }
            if let Value::Object(fields) = input {
                let _ = catalog::create_product(&mut ctx, &fields);
            }
        }
    }
    for n in 1..=seeding.customers as u64 {
        let now = tick(&mut at);
        let with_company = rng.gen_bool(0.2);
        let (first, last, billing) = person(&mut rng, n, with_company);
        let email = billing.get("email").cloned().unwrap_or_default();
        let body = object(json!({
            "email": email, "first_name": first, "last_name": last, "role": "customer",
            "username": email.as_str().unwrap_or("").split('@').next().unwrap_or(""),
            "billing": billing, "shipping": shipping_of(&billing), "is_paying_customer": false,
            "avatar_url": "https://secure.gravatar.com/avatar/?s=96&d=mm&r=g", "meta_data": [],
        }));
        customers::insert(&mut shop, body, now);
    }
    for _ in 0..seeding.orders {
        let now = tick(&mut at);
        let mut ctx = Ctx {
            shop: &mut shop,
            now,
            site: "http://127.0.0.1".to_owned(),
            events: Vec::new(),
        };
        // Seeding a shop without SKUs simply places no orders.
        let _ = place_order(&mut ctx, &mut rng);
    }
    shop
}

fn seed_variable_product(ctx: &mut Ctx<'_>, rng: &mut StdRng, n: u64, category: u64) {
    let garment = GARMENTS[rng.gen_range(0..GARMENTS.len())];
    let colours: Vec<(&str, &str)> = if rng.gen_bool(0.5) {
        COLOURS[..2].to_vec()
    } else {
        vec![COLOURS[2]]
    };
    let regular = rng.gen_range(999..8_999);
    let input = object(json!({
        "name": format!("{garment} {n}"),
        "type": "variable",
        "sku": format!("WC-{n:05}"),
        "categories": [{ "id": category }],
        "attributes": [
            { "id": 0, "name": "Dydis", "position": 0, "visible": true, "variation": true, "options": SIZES },
            { "id": 0, "name": "Spalva", "position": 1, "visible": true, "variation": true,
              "options": colours.iter().map(|(name, _)| *name).collect::<Vec<_>>() },
        ],
    }));
    let Ok(parent) = catalog::create_product(ctx, &input) else {
        return;
    };
    for size in SIZES {
        for (colour, code) in &colours {
            let manage_stock = rng.gen_bool(0.8);
            let variation = object(json!({
                "sku": format!("WC-{n:05}-{size}-{code}"),
                "regular_price": cents(regular + if size == "L" { 200 } else { 0 }),
                "manage_stock": manage_stock,
                "stock_quantity": rng.gen_range(0..25),
                "attributes": [{ "id": 0, "name": "Dydis", "option": size }, { "id": 0, "name": "Spalva", "option": colour }],
            }));
            let _ = catalog::create_variation(ctx, parent, &variation);
        }
    }
}

/// Items a shopper can buy: published simple products with a SKU and a price, and the
/// variations (with a SKU and a price) of published variable products.
fn purchasable(shop: &Shop) -> Vec<u64> {
    let mut items: Vec<u64> = shop
        .products
        .iter()
        .filter(|(_, product)| {
            product.str("status") == "publish"
                && product.str("type") == "simple"
                && !product.str("sku").is_empty()
                && !product.str("price").is_empty()
        })
        .map(|(id, _)| *id)
        .collect();
    items.extend(
        shop.variations
            .iter()
            .filter(|(_, variation)| {
                let parent_published = variation
                    .body
                    .get("parent_id")
                    .and_then(Value::as_u64)
                    .and_then(|parent| shop.products.get(&parent))
                    .is_some_and(|parent| parent.str("status") == "publish");
                parent_published
                    && variation.str("status") == "publish"
                    && !variation.str("sku").is_empty()
                    && !variation.str("price").is_empty()
            })
            .map(|(id, _)| *id),
    );
    items
}

/// A checkout order: a registered customer, a returning guest or a new guest (some buying
/// for a company), one to three lines of purchasable items. As at a real checkout the order is
/// created `pending` (`order.created`) and then paid, which makes it `processing`
/// (`order.updated`).
fn place_order(ctx: &mut Ctx<'_>, rng: &mut StdRng) -> Result<u64, String> {
    let items = purchasable(ctx.shop);
    if items.is_empty() {
        return Err("no products with a SKU to order".to_owned());
    }
    let customer_ids: Vec<u64> = ctx.shop.customers.keys().copied().collect();
    let guest_billings: Vec<Map<String, Value>> = ctx
        .shop
        .orders
        .values()
        .filter(|order| order.body.get("customer_id").and_then(Value::as_u64) == Some(0))
        .filter_map(|order| order.body.get("billing").and_then(Value::as_object).cloned())
        .collect();
    let roll = rng.gen_range(0..10);
    let (customer_id, billing) = if roll < 4 && !customer_ids.is_empty() {
        let id = customer_ids[rng.gen_range(0..customer_ids.len())];
        let billing = ctx
            .shop
            .customers
            .get(&id)
            .and_then(|customer| customer.body.get("billing").and_then(Value::as_object).cloned())
            .unwrap_or_default();
        (id, billing)
    } else if roll < 7 && !guest_billings.is_empty() {
        (0, guest_billings[rng.gen_range(0..guest_billings.len())].clone())
    } else {
        let n = 1000 + ctx.shop.orders.len() as u64;
        let with_company = rng.gen_bool(0.25);
        (0, person(rng, n, with_company).2)
    };
    let lines: Vec<Value> = (0..rng.gen_range(1..=3))
        .map(|_| json!({ "product_id": items[rng.gen_range(0..items.len())], "quantity": rng.gen_range(1..=3) }))
        .map(|mut line| {
            // A variation is ordered by its own id, as the cart does.
            if let Some(id) = line["product_id"]
                .as_u64()
                .filter(|id| ctx.shop.variations.contains_key(id))
            {
                line["variation_id"] = json!(id);
            }
            line
        })
        .collect();
    let (method, title) = PAYMENTS[rng.gen_range(0..PAYMENTS.len())];
    let (shipping_id, shipping_title, shipping_cents) = SHIPPING[rng.gen_range(0..SHIPPING.len())];
    let input = object(json!({
        "status": "pending",
        "customer_id": customer_id,
        "billing": billing,
        "shipping": shipping_of(&billing),
        "payment_method": method,
        "payment_method_title": title,
        "line_items": lines,
        "shipping_lines": [{ "method_id": shipping_id, "method_title": shipping_title, "total": cents(shipping_cents) }],
    }));
    let id = orders::create(ctx, &input, "checkout").map_err(|error| error.message)?;
    let paid = object(json!({ "set_paid": true }));
    orders::update(ctx, id, &paid).map_err(|error| error.message)?;
    Ok(id)
}

/// `/__sim/mutate`: what happens in a shop on its own.
pub(super) fn mutate(
    shop: &mut Shop,
    seeding: &Seeding,
    site: &str,
    entity: &str,
    count: usize,
) -> Result<(usize, Vec<Event>), String> {
    shop.mutations += 1;
    let mut rng = StdRng::seed_from_u64(seeding.seed.wrapping_add(shop.mutations.wrapping_mul(7919)));
    let now = super::clock::now();
    let mut ctx = Ctx {
        shop,
        now,
        site: site.to_owned(),
        events: Vec::new(),
    };
    let changed = match entity {
        "order" => {
            for _ in 0..count {
                place_order(&mut ctx, &mut rng)?;
            }
            count
        }
        "product" => {
            let ids = pick(&mut rng, ctx.shop.products.keys().copied().collect(), count);
            for id in &ids {
                let Some(product) = ctx.shop.products.get(id) else {
                    continue;
                };
                let input = if product.str("type") == "simple" && rng.gen_bool(0.7) {
                    json!({ "regular_price": cents(rng.gen_range(199..19_999)) })
                } else {
                    json!({ "name": format!("{} (nauja)", product.str("name").trim_end_matches(" (nauja)")) })
                };
                if let Value::Object(fields) = input {
                    catalog::update_product(&mut ctx, *id, &fields).map_err(|error| error.message)?;
                }
            }
            ids.len()
        }
        "customer" => {
            let ids = pick(&mut rng, ctx.shop.customers.keys().copied().collect(), count);
            for id in &ids {
                let phone = format!("+3706{:07}", rng.gen_range(0..10_000_000));
                let input = object(json!({ "billing": { "phone": phone } }));
                customers::update(&mut ctx, *id, &input).map_err(|error| error.message)?;
            }
            ids.len()
        }
        other => return Err(format!("unknown entity {other:?}: use order, product or customer")),
    };
    Ok((changed, ctx.events))
}

/// Up to `count` distinct ids drawn from `ids`.
fn pick(rng: &mut StdRng, mut ids: Vec<u64>, count: usize) -> Vec<u64> {
    let mut chosen = Vec::new();
    while chosen.len() < count && !ids.is_empty() {
        let index = rng.gen_range(0..ids.len());
        chosen.push(ids.swap_remove(index));
    }
    chosen
}
