//! `tiltas order --config F --supplier CONNECTION --part CODE --qty N [--brand B]
//! [--reference WO-77] [--idempotency-key K] [--json]`: one order with one supplier, exactly
//! once per idempotency key (kept in the store with the order's answer).
use crate::args::{ConfigArgs, GlobalArgs};
use anyhow::bail;
use clap::Args;
use std::process::ExitCode;
use tiltas_engine::{Engine, OrderOnce, SupplierOrderOutcome, SupplierOrderRequest, SupplierOrderStatus};

/// Exit code of an order the supplier refused or failed (the answer says why and the fix).
pub const EXIT_ORDER_FAILED: u8 = 3;

/// `tiltas order`.
#[derive(Debug, Args)]
pub struct OrderArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The supplier connection to order from, as named in the flow file.
    #[arg(long, value_name = "CONNECTION")]
    pub supplier: String,
    /// The supplier's own part code (an offer's supplier code).
    #[arg(long, value_name = "CODE")]
    pub part: String,
    /// Pieces to order.
    #[arg(long, value_name = "N")]
    pub qty: rust_decimal::Decimal,
    /// The part's brand, as the offer named it.
    #[arg(long, value_name = "B")]
    pub brand: Option<String>,
    /// The garage's reference (work order): the order's number at the supplier.
    #[arg(long, value_name = "REF")]
    pub reference: Option<String>,
    /// The key this order is placed once under [default: SUPPLIER/REFERENCE]: the same key
    /// again prints the first answer and orders nothing.
    #[arg(long, value_name = "K")]
    pub idempotency_key: Option<String>,
    /// Print the answer as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Places the order (or reads the answer a previous run with the same key got).
pub async fn run(global: &GlobalArgs, args: &OrderArgs) -> anyhow::Result<ExitCode> {
    let config = match super::load_or_report(&args.config.config) {
        Ok(config) => config,
        Err(code) => return Ok(code),
    };
    let key = match (&args.idempotency_key, &args.reference) {
        (Some(key), _) if !key.trim().is_empty() => key.trim().to_owned(),
        (_, Some(reference)) if !reference.trim().is_empty() => format!("{}/{}", args.supplier, reference.trim()),
        _ => bail!(
            "give --reference WO-77 (the key is then {}/WO-77) or --idempotency-key K: \
             without a key a repeated command would order twice",
            args.supplier
        ),
    };
    let store = crate::store_url::open(global.db.as_deref(), Some(&config)).await?;
    let config = super::secrets::unseal(config, &store).await?;
    let engine = Engine::new(config, store, tiltas_systems::registry::systems());
    let request = SupplierOrderRequest {
        supplier: args.supplier.clone(),
        part: args.part.clone(),
        quantity: args.qty,
        brand: args.brand.clone(),
        reference: args.reference.clone(),
    };
    let (outcome, replayed) = match engine.place_supplier_order_once(&request, &key).await? {
        OrderOnce::Fresh(outcome) => (outcome, false),
        OrderOnce::Replayed(outcome) => (outcome, true),
    };
    print(&outcome, &key, replayed, args.json);
    Ok(match outcome.status {
        SupplierOrderStatus::Failed => ExitCode::from(EXIT_ORDER_FAILED),
        SupplierOrderStatus::Placed | SupplierOrderStatus::Found => ExitCode::SUCCESS,
    })
}

fn print(outcome: &SupplierOrderOutcome, key: &str, replayed: bool, json: bool) {
    if json {
        let mut answer = serde_json::to_value(outcome).unwrap_or_default();
        if let Some(fields) = answer.as_object_mut() {
            fields.insert("idempotency_key".into(), key.into());
            fields.insert("replayed".into(), replayed.into());
        }
        println!("{answer}");
        return;
    }
    let lines: Vec<String> = outcome
        .lines
        .iter()
        .map(|line| match &line.brand {
            Some(brand) => format!("{} × {} ({brand})", line.quantity, line.part),
            None => format!("{} × {}", line.quantity, line.part),
        })
        .collect();
    let again = if replayed {
        " (answer of an earlier run with this key; nothing sent)"
    } else {
        ""
    };
    let order_id = outcome.order_id.as_deref().unwrap_or("-");
    match outcome.status {
        SupplierOrderStatus::Placed => println!(
            "placed {} with {}: order {order_id}, {}{again}",
            outcome.reference,
            outcome.supplier,
            lines.join(", ")
        ),
        SupplierOrderStatus::Found => println!(
            "found {} at {} already: order {order_id}, not ordered again{again}",
            outcome.reference, outcome.supplier
        ),
        SupplierOrderStatus::Failed => {
            eprintln!(
                "failed: {}",
                outcome.message.as_deref().unwrap_or("the supplier failed")
            );
            if let Some(fix) = &outcome.fix {
                eprintln!("fix: {fix}");
            }
        }
    }
}
