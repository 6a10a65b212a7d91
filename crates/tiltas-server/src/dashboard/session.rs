//! Signing in to the dashboard with the same API keys as `/api/v1`: `POST /login` checks the
//! key by its hash and keeps it in an HttpOnly cookie; every page checks the cookie's key and
//! its scope (read views, write posts forms, admin switches connections).
//!
//! CSRF: the cookie is `SameSite=Strict`, so a browser never sends it with a request another
//! site started — a forged form post arrives without a key and is sent to `/login`. That is
//! the defence; there are no tokens in the forms. (No `Secure` flag: the server speaks plain
//! HTTP on loopback; behind TLS a proxy may add it.)
use super::layout::{self, Section};
use super::{Flash, PageError, PageResult};
use crate::auth::authorize_secret;
use crate::AppState;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;
use tiltas_store::{hash_api_key, ApiKey, ApiScope};

/// The cookie holding the signed-in key.
pub(crate) const KEY_COOKIE: &str = "tiltas_key";

/// The key in the request's cookie, if it is live and has the scope `needed`; otherwise a
/// redirect to `/login` (no or unknown key) or a 403 page naming the scope needed.
pub(crate) async fn signed_in(state: &AppState, headers: &HeaderMap, needed: ApiScope) -> PageResult<ApiKey> {
    let Some(secret) = key_from_cookies(headers) else {
        return Err(PageError::SignIn);
    };
    match authorize_secret(state, secret, needed).await {
        Ok(key) => Ok(key),
        Err(error) if error.status == StatusCode::UNAUTHORIZED.as_u16() => Err(PageError::SignIn),
        Err(error) => Err(PageError::Failed(error)),
    }
}

/// The value of the `tiltas_key` cookie, from any `Cookie` header of the request.
fn key_from_cookies(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == KEY_COOKIE)
        .map(|(_, value)| value.trim().trim_matches('"'))
        .filter(|value| !value.is_empty())
}

/// Keys made by `tiltas keys create` are letters, digits and `_`; anything else could break
/// the `Set-Cookie` header, so it is refused rather than quoted.
fn fits_in_cookie(secret: &str) -> bool {
    secret
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'.'))
}

/// The sign-in form.
#[derive(Debug, Deserialize)]
pub(crate) struct LoginForm {
    /// The API key as typed.
    #[serde(default)]
    key: String,
}

/// `GET /login`.
pub(crate) async fn login_page(Query(flash): Query<Flash>) -> Markup {
    login_form(&flash, None)
}

fn login_form(flash: &Flash, error: Option<&str>) -> Markup {
    let body = html! {
        form.login method="post" action="/login" {
            p { "Sign in with an API key. " span.muted { "A read key may look; write and admin keys may also act." } }
            @if let Some(error) = error {
                p.error role="alert" #login-error { (error) }
            }
            label for="key" { "API key" }
            @if error.is_some() {
                input #key type="password" name="key" autocomplete="current-password" required aria-describedby="login-error" aria-invalid="true";
            } @else {
                input #key type="password" name="key" autocomplete="current-password" required autofocus;
            }
            button type="submit" { "Sign in" }
            p.muted { "No key yet? " code { "tiltas keys create --scope read" } " makes one." }
        }
    };
    layout::page("Sign in", Section::Outside, None, flash, body)
}

/// `POST /login`: a known key gets the cookie and the overview; anything else the form again.
pub(crate) async fn login(State(state): State<AppState>, Form(form): Form<LoginForm>) -> PageResult<Response> {
    let secret = form.key.trim();
    let known = if secret.is_empty() {
        None
    } else {
        state.store.api_key_by_hash(&hash_api_key(secret)).await?
    };
    let refused =
        |message: &str| (StatusCode::UNAUTHORIZED, login_form(&Flash::default(), Some(message))).into_response();
    if let Some(expires_at) = known
        .as_ref()
        .and_then(|key| key.expires_at.filter(|_| key.expired(chrono::Utc::now())))
    {
        return Ok(refused(&format!(
            "That key expired at {}. Create a new one with `tiltas keys create --expires 90d`.",
            expires_at.format("%Y-%m-%d %H:%M UTC")
        )));
    }
    if known.is_none() {
        return Ok(refused(
            "That key is unknown or revoked. Check it, or list the keys with `tiltas keys list`.",
        ));
    }
    let cookie = format!("{KEY_COOKIE}={secret}; HttpOnly; SameSite=Strict; Path=/");
    let Some(cookie) = fits_in_cookie(secret)
        .then(|| HeaderValue::from_str(&cookie).ok())
        .flatten()
    else {
        return Ok(refused(
            "That key has characters a cookie cannot hold; create a new one with `tiltas keys create`.",
        ));
    };
    let mut response = Redirect::to("/").into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

/// `POST /logout`: forgets the cookie.
pub(crate) async fn logout() -> Response {
    let mut response = Redirect::to(&format!("/login?done={}", layout::query_value("Signed out."))).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("tiltas_key=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    response
}
