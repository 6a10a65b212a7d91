//! `tiltas quote --config F PART… [--brand B] [--qty N] [--budget 2s] [--json]`: the parts
//! suppliers of a flow file asked about each part at once (see `tiltas_engine::quote`).
use super::flows::print_table;
use crate::args::{GlobalArgs, QuoteArgs};
use anyhow::Context;
use rust_decimal::Decimal;
use std::process::ExitCode;
use std::str::FromStr;
use tiltas_engine::quote::{Money, QuoteAnswer, QuoteOffer, QuoteRequest, SupplierStatus};
use tiltas_engine::Engine;

/// Exit code when no supplier answered a part in time.
pub const EXIT_NO_ANSWER: u8 = 1;

/// Asks for each part and prints the answers.
pub async fn run(global: &GlobalArgs, args: &QuoteArgs) -> anyhow::Result<ExitCode> {
    let quantity = Decimal::from_str(args.qty.trim())
        .ok()
        .filter(|qty| *qty > Decimal::ZERO)
        .with_context(|| format!("--qty {:?} is not a number of pieces above 0, e.g. --qty 2", args.qty))?;
    let budget = args
        .budget
        .as_deref()
        .map(tiltas_config::parse_duration)
        .transpose()
        .map_err(|why| anyhow::anyhow!("--budget: {why}"))?;
    let config = match super::load_or_report(&args.config.config) {
        Ok(config) => config,
        Err(code) => return Ok(code),
    };
    let store = crate::store_url::open(global.db.as_deref(), Some(&config)).await?;
    let config = super::secrets::unseal(config, &store).await?;
    let engine = Engine::new(config, store, tiltas_systems::registry::systems());
    let mut every_part_answered = true;
    for part in &args.parts {
        let request = QuoteRequest {
            brand: args.brand.clone(),
            ean: args.ean.clone(),
            suppliers: args.suppliers.clone(),
            budget,
            ..QuoteRequest::new(part, quantity)
        };
        let answer = engine.quote(&request).await?;
        every_part_answered &= answer.any_answered();
        if args.json {
            println!("{}", serde_json::to_string(&answer)?);
        } else {
            print_answer(&answer);
        }
    }
    Ok(if every_part_answered {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_NO_ANSWER)
    })
}

fn amount(money: Option<&Money>) -> String {
    match money {
        Some(Money {
            net: Some(net),
            currency,
            ..
        }) => format!("{net} {currency}"),
        _ => "-".to_owned(),
    }
}

fn best_marks(answer: &QuoteAnswer, offer: &QuoteOffer) -> String {
    let is = |best: &Option<tiltas_engine::quote::BestOffer>| {
        best.as_ref()
            .is_some_and(|best| best.supplier == offer.supplier && best.part_code == offer.part_code)
    };
    let mut marks = Vec::new();
    if is(&answer.best_price) {
        marks.push("* price");
    }
    if is(&answer.best_delivery) {
        marks.push("* delivery");
    }
    marks.join(", ")
}

fn offer_row(answer: &QuoteAnswer, offer: &QuoteOffer) -> [String; 10] {
    let branches = offer
        .availability
        .iter()
        .filter(|branch| branch.quantity > Decimal::ZERO)
        .map(|branch| format!("{} {}", branch.branch, branch.quantity))
        .collect::<Vec<_>>()
        .join(", ");
    [
        offer.supplier.clone(),
        offer.part_code.clone(),
        offer.brand.clone().unwrap_or_default(),
        amount(offer.price.as_ref()),
        offer.price_company.as_ref().map_or_else(
            || offer.note.clone().unwrap_or_else(|| "-".to_owned()),
            |m| amount(Some(m)),
        ),
        offer
            .total_company
            .map(|t| t.to_string())
            .unwrap_or_else(|| "-".to_owned()),
        offer.available.to_string(),
        branches,
        offer.delivery_estimate.map(|d| d.to_string()).unwrap_or_default(),
        best_marks(answer, offer),
    ]
}

/// One part's answer as a table, then the suppliers that were late or failed.
fn print_answer(answer: &QuoteAnswer) {
    let answered = answer
        .suppliers
        .iter()
        .filter(|s| s.status == SupplierStatus::Answered)
        .count();
    println!(
        "{}{} × {}: {} offer{} from {answered} of {} suppliers in {:.2}s (prices in {}; rates: {}{})",
        answer.part,
        answer.brand.as_deref().map(|b| format!(" ({b})")).unwrap_or_default(),
        answer.quantity,
        answer.offers.len(),
        if answer.offers.len() == 1 { "" } else { "s" },
        answer.suppliers.len(),
        answer.elapsed_ms as f64 / 1000.0,
        answer.currency,
        answer.rates.source,
        answer.rates.date.map(|d| format!(" of {d}")).unwrap_or_default(),
    );
    if let Some(error) = &answer.rates.error {
        println!("rates: {error}");
    }
    if !answer.offers.is_empty() {
        let total = format!("TOTAL {}", answer.currency);
        let company = format!("PRICE {}", answer.currency);
        let header = [
            "SUPPLIER", "CODE", "BRAND", "PRICE", &company, &total, "STOCK", "BRANCHES", "DELIVERY", "BEST",
        ];
        let rows: Vec<[String; 10]> = answer.offers.iter().map(|offer| offer_row(answer, offer)).collect();
        print_table(&header, &rows);
    }
    for supplier in &answer.suppliers {
        match supplier.status {
            SupplierStatus::Answered if supplier.offers == 0 => {
                println!("{}: does not carry it", supplier.supplier);
            }
            SupplierStatus::Answered => {}
            SupplierStatus::Late => println!(
                "{}: late — no answer within {}ms, not waited for",
                supplier.supplier, answer.budget_ms
            ),
            SupplierStatus::Failed => println!(
                "{}: failed — {}{}",
                supplier.supplier,
                supplier.error.as_deref().unwrap_or("no reason given"),
                supplier
                    .fix
                    .as_deref()
                    .map(|fix| format!(" (fix: {fix})"))
                    .unwrap_or_default()
            ),
        }
    }
    for note in &answer.notes {
        println!("note: {note}");
    }
}
