//! `GET /api/v1/quote?part=…&brand=…&qty=…`: the parts suppliers of the flow file asked about
//! one part at once, within the time budget — the same answer as `tiltas quote --json`.
use super::ApiResult;
use crate::auth::authorize;
use crate::error::ApiQuery as Query;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use rust_decimal::Decimal;
use serde::Deserialize;
use std::str::FromStr;
use std::time::Duration;
use tiltas_engine::quote::{QuoteAnswer, QuoteError, QuoteRequest};
use tiltas_store::ApiScope;
use utoipa::IntoParams;

/// The longest budget a caller may ask for: a quote is for a person waiting.
const MAX_BUDGET: Duration = Duration::from_secs(30);

/// What is asked.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QuoteQuery {
    /// The maker's article number, as written anywhere (`W 712/75`).
    #[param(pattern = "[A-Za-z0-9]", example = "W 712/75")]
    pub part: String,
    /// The maker (`MANN-FILTER`): offers of other makers are left out.
    pub brand: Option<String>,
    /// The part's EAN: offers with another EAN are left out.
    pub ean: Option<String>,
    /// Pieces wanted (default 1): the best price is for this many, among offers with enough stock.
    #[param(pattern = "^[1-9][0-9]{0,5}$", example = "2")]
    pub qty: Option<String>,
    /// How long suppliers may take (`2s`, at most 30s); default: `[quote] budget`, else 3s.
    #[param(pattern = "^([1-9]|[12][0-9]|30)s$", example = "2s")]
    pub budget: Option<String>,
    /// Ask only these supplier connections, comma-separated; default: every one that quotes.
    #[param(pattern = "^[A-Za-z0-9_-]+(,[A-Za-z0-9_-]+)*$")]
    pub suppliers: Option<String>,
}

fn request_of(query: QuoteQuery) -> Result<QuoteRequest, ApiError> {
    let quantity = match query.qty.as_deref().map(str::trim) {
        None | Some("") => Decimal::ONE,
        Some(text) => Decimal::from_str(text)
            .ok()
            .filter(|qty| *qty > Decimal::ZERO)
            .ok_or_else(|| ApiError::invalid(format!("qty {text:?} is not a number of pieces above 0, e.g. qty=2")))?,
    };
    let budget = match query.budget.as_deref() {
        None => None,
        Some(text) => {
            let budget =
                tiltas_config::parse_duration(text).map_err(|why| ApiError::invalid(format!("budget: {why}")))?;
            if budget.is_zero() || budget > MAX_BUDGET {
                return Err(ApiError::invalid(format!(
                    "budget {text:?} must be above 0s and at most 30s"
                )));
            }
            Some(budget)
        }
    };
    let suppliers = query
        .suppliers
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect();
    let nonempty = |text: Option<String>| text.filter(|t| !t.trim().is_empty());
    Ok(QuoteRequest {
        brand: nonempty(query.brand),
        ean: nonempty(query.ean),
        suppliers,
        budget,
        ..QuoteRequest::new(&query.part, quantity)
    })
}

impl From<QuoteError> for ApiError {
    fn from(error: QuoteError) -> ApiError {
        let (status, code) = match &error {
            QuoteError::NoPart(_) | QuoteError::Quantity(_) => (StatusCode::BAD_REQUEST, "invalid"),
            QuoteError::UnknownSupplier { .. } => (StatusCode::NOT_FOUND, "not_found"),
            QuoteError::NoSuppliers { .. } => (StatusCode::CONFLICT, "conflict"),
        };
        ApiError::new(status, code, error.to_string())
    }
}

/// Who has the part, where, for how much (in the offer's and the company currency), delivered
/// when; the best offers by price and by delivery. Suppliers slower than the budget are
/// reported `late` and failing ones `failed`: neither fails the quote.
#[utoipa::path(get, path = "/api/v1/quote", params(QuoteQuery), responses(
    (status = 200, body = QuoteAnswer), (status = 400, body = ApiError), (status = 401, body = ApiError),
    (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, body = ApiError)))]
pub(super) async fn quote(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<QuoteQuery>,
) -> ApiResult<QuoteAnswer> {
    authorize(&state, &headers, ApiScope::Read).await?;
    let request = request_of(query)?;
    Ok(axum::Json(state.engine.quote(&request).await?))
}
