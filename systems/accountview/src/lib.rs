//! Visma AccountView.net through its REST API (`shared/protocols/erp-and-suppliers.md` §3b):
//! OAuth2 authorisation code with rotating refresh tokens kept in the credential vault
//! ([`auth`]: [`authorization`], what `tiltas connect` runs), `x-company`, `accountviewdata` reads and positional writes ([`wire`], shared with the
//! simulator). Reads articles (products with variants), article groups, debtors, stock
//! (available = on hand − reserved) and price lists; writes debtors and sales orders through
//! the engine's order pipeline (`accounting`).
#![forbid(unsafe_code)]
pub mod auth;
mod client;
mod read;
pub mod wire;
mod write;

#[cfg(test)]
mod tests;

pub use auth::{authorization, REFRESH_TOKEN};
use std::collections::BTreeMap;
use tiltas_config::{EntityAccess, KeyKind, KeySpec, MoneyPlaces, SystemSpec};
#[allow(unused_imports)] // modules of this crate name the contract as `crate::Source`
use tiltas_connector::*;
use tiltas_connector::{ConnectorError, OpenContext, Source, Target};
use tiltas_model::EntityKind;

const ACCESS: [EntityAccess; 6] = [
    EntityAccess::new(EntityKind::Product, true, false, true),
    EntityAccess::new(EntityKind::Category, true, false, true),
    EntityAccess::new(EntityKind::Customer, true, true, true),
    EntityAccess::new(EntityKind::Stock, true, false, true),
    EntityAccess::new(EntityKind::PriceList, true, false, true),
    EntityAccess::new(EntityKind::Order, false, true, false),
];

/// `system = "accountview"`.
pub static ACCOUNTVIEW: SystemSpec = SystemSpec {
    name: "accountview",
    description: "Visma AccountView.net accounting through its REST API (OAuth2, rotating refresh tokens)",
    connection_keys: &[
        KeySpec::new("base_url", KeyKind::Url, false, Some("https://www.accountview.net/api/v3/"), "the API's address, ending in /api/v3/ (the token and data endpoints are under it)"),
        KeySpec::new("company", KeyKind::String, true, None, "the administration's id, sent as x-company on every data request"),
        KeySpec::new("client_id", KeyKind::String, true, None, "the app's OAuth2 client id (AccountView.net developer portal)"),
        KeySpec::new("client_secret", KeyKind::Secret, true, None, "the app's OAuth2 client secret"),
        KeySpec::new("redirect_uri", KeyKind::Url, true, None, "the redirect URI registered for the app; `tiltas connect` listens on it when it is a 127.0.0.1 address"),
        KeySpec::new("authorize_url", KeyKind::Url, false, None, "the authorisation page, when not base_url + authorize"),
        KeySpec::new("page_size", KeyKind::Integer, false, Some("1000"), "rows per page (PageSize), at most 1000"),
        KeySpec::new("timeout", KeyKind::Duration, false, Some("30s"), "how long one request may take"),
    ],
    source_keys: &[
        KeySpec::new("variants", KeyKind::OneOf(&["nested", "separate"]), false, Some("nested"), "for products: a configurable article with its variants inside (nested), or every article as its own product with parent_sku and attributes (separate, for a till that sells each variant)"),
        KeySpec::new("warehouse", KeyKind::String, false, None, "for stock: the warehouse code (WH_CODE) to read; unset: every warehouse, one record per article and warehouse"),
        KeySpec::new("where", KeyKind::StringMap, false, None, "custom filters: AccountView field = value (Equal), all must hold, e.g. { AG_CODE = \"KOF\" }"),
    ],
    target_keys: &[
        KeySpec::new("book_as", KeyKind::OneOf(&["order", "invoice"]), false, Some("order"), "for orders: book each as a sales order (SO1) or a sales invoice (SI1)"),
        KeySpec::new("employee", KeyKind::String, false, Some("999999"), "for orders: the employee number (EMPL_NR) of an order that names none"),
        KeySpec::new("warehouse", KeyKind::String, false, None, "for orders: the warehouse code (WH_CODE) orders are booked in"),
        KeySpec::new("order_status", KeyKind::String, false, None, "for orders: the status (ORD_STAT) new sales orders get; unset: the order's own"),
        KeySpec::new("revenue_accounts", KeyKind::StringMap, false, None, "for debtors (and the order pipeline's new buyers): revenue account (REV_ACCT) per billing country, \"*\" for the rest"),
        KeySpec::new("vat_codes", KeyKind::StringMap, false, None, "for debtors: default VAT code (VAT_CODE) per billing country, \"*\" for the rest"),
    ],
    entities: &ACCESS,
    accounting: true,
    one_of: &[],
    needs: &[],
    money_places: Some(MoneyPlaces {
        unit_price: 4,
        sum: 2,
    }),
};

/// An AccountView connection (`[connections.NAME]`), defaults from [`ACCOUNTVIEW`]'s spec.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct ConnectionSettings {
    pub base_url: String,
    pub company: String,
    pub client_id: String,
    pub client_secret: tiltas_config::Secret,
    pub redirect_uri: String,
    pub authorize_url: Option<String>,
    pub page_size: usize,
    pub timeout: std::time::Duration,
}

/// A flow's `from` on AccountView.
#[derive(Debug, serde::Deserialize)]
struct SourceSettings {
    variants: String,
    warehouse: Option<String>,
    #[serde(rename = "where")]
    filters: Option<BTreeMap<String, String>>,
}

/// A flow's `to` on AccountView.
#[derive(Debug, serde::Deserialize)]
struct TargetSettings {
    book_as: String,
    employee: String,
    warehouse: Option<String>,
    order_status: Option<String>,
    revenue_accounts: Option<BTreeMap<String, String>>,
    vat_codes: Option<BTreeMap<String, String>>,
}

fn client(context: &OpenContext<'_>) -> Result<client::Client, ConnectorError> {
    let connection: ConnectionSettings = context.connection_settings(&ACCOUNTVIEW)?;
    let name = &context.connection.name;
    let http = tiltas_connector::http::client(connection.timeout)?;
    let tokens = auth::token_source(name, &connection, http.clone(), context.gate.clone(), &context.vault)?;
    client::Client::new(name, &connection, tokens, http)
}

fn open_source(context: &OpenContext<'_>) -> Result<Box<dyn Source>, ConnectorError> {
    context.check_access(&ACCOUNTVIEW, false)?;
    let settings: SourceSettings = context.endpoint_settings(ACCOUNTVIEW.source_keys)?;
    let reading = match context.entity {
        EntityKind::Product => read::Reading::Products {
            separate_variants: settings.variants == "separate",
        },
        EntityKind::Category => read::Reading::Groups,
        EntityKind::Customer => read::Reading::Debtors,
        EntityKind::Stock => read::Reading::Stock {
            warehouse: settings.warehouse,
        },
        EntityKind::PriceList => read::Reading::PriceLists,
        _ => return Err(context.unsupported("source")),
    };
    let filters = settings
        .filters
        .unwrap_or_default()
        .iter()
        .map(|(field, value)| wire::Filter::equal(&field.to_uppercase(), value))
        .collect();
    Ok(Box::new(read::AccountViewSource {
        client: client(context)?,
        reading,
        filters,
    }))
}

fn open_target(context: &OpenContext<'_>) -> Result<Box<dyn Target>, ConnectorError> {
    let settings: TargetSettings = context.endpoint_settings(ACCOUNTVIEW.target_keys)?;
    let writing = match context.entity {
        EntityKind::Customer => write::Writing::Debtors,
        EntityKind::Order if settings.book_as == "invoice" => write::Writing::Invoices,
        EntityKind::Order => write::Writing::Orders,
        // The order pipeline checks an order's articles through a product target.
        EntityKind::Product => write::Writing::Articles,
        _ => return Err(context.unsupported("target")),
    };
    let upper = |map: Option<BTreeMap<String, String>>| {
        map.unwrap_or_default()
            .into_iter()
            .map(|(country, value)| (country.to_uppercase(), value))
            .collect()
    };
    Ok(Box::new(write::AccountViewTarget {
        client: client(context)?,
        writing,
        settings: write::WriteSettings {
            employee: settings.employee,
            warehouse: settings.warehouse,
            order_status: settings.order_status,
            revenue_accounts: upper(settings.revenue_accounts),
            vat_codes: upper(settings.vat_codes),
        },
    }))
}

/// AccountView.net as one system: its spec and how to open its sources and targets.
pub struct AccountViewSystem;

impl crate::System for AccountViewSystem {
    fn spec(&self) -> &'static SystemSpec {
        &ACCOUNTVIEW
    }

    fn readme(&self) -> Option<tiltas_connector::Readme> {
        tiltas_connector::readme!()
    }

    fn open_source(&self, context: &OpenContext<'_>) -> Result<Box<dyn Source>, ConnectorError> {
        open_source(context)
    }

    fn open_target(&self, context: &OpenContext<'_>) -> Result<Box<dyn Target>, ConnectorError> {
        open_target(context)
    }

    fn authorization(
        &self,
        connection: &tiltas_config::Connection,
    ) -> Result<Option<tiltas_connector::oauth2::Authorization>, ConnectorError> {
        authorization(connection).map(Some)
    }
}
