//! B1's daily request packages. A package belongs to a payer company; several companies can
//! share one package, so their requests come off one counter — the payer's — and when it is
//! used up every one of them is refused until midnight UTC.
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{NaiveDate, Utc};
use serde_json::json;
use std::sync::Mutex;

/// One daily request package.
#[derive(Debug)]
pub struct Package {
    /// Requests a day.
    requests: u64,
    /// Requests counted today: (day, count).
    used: Mutex<(NaiveDate, u64)>,
}

impl Package {
    /// A package of `requests` a day, unused.
    pub fn new(requests: u64) -> Package {
        Package {
            requests,
            used: Mutex::new((Utc::now().date_naive(), 0)),
        }
    }

    /// Requests counted against it today.
    pub fn used(&self) -> u64 {
        let used = self.used.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if used.0 == Utc::now().date_naive() {
            used.1
        } else {
            0
        }
    }

    /// Unused again, as at the start of a day.
    pub fn reset(&self) {
        let mut used = self.used.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *used = (Utc::now().date_naive(), 0);
    }

    /// Counts a request: `Err` is B1's refusal when the package is used up (429, `errors.package`
    /// in Lithuanian as B1 words it, `resetsAt` the next midnight UTC).
    pub fn take(&self) -> Result<(), Response> {
        let today = Utc::now().date_naive();
        let mut used = self.used.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if used.0 != today {
            *used = (today, 0);
        }
        if used.1 < self.requests {
            used.1 += 1;
            return Ok(());
        }
        let resets = today
            .succ_opt()
            .and_then(|day| day.and_hms_opt(0, 0, 0))
            .map(|at| at.and_utc().to_rfc3339())
            .unwrap_or_default();
        let mut response = Json(json!({
            "code": 429,
            "message": "Daily request package is used up",
            "errors": { "package": [format!("Išnaudotas dienos užklausų paketas ({} užklausų)", self.requests)] },
            "resetsAt": resets,
        }))
        .into_response();
        *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        Err(response)
    }
}
