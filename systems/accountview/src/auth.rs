//! OAuth2 for AccountView.net: how a person authorises a connection once ([`authorization`],
//! for `tiltas connect`), and the connection's [`TokenSource`] on the rotating refresh token
//! kept in the credential vault.
//! One token source per connection and vault is shared by every source and target of the
//! process, so two flows never spend the same refresh token. A refresh the provider refuses
//! (`invalid_grant`: expired, revoked or already used) is an auth error that tells the user to
//! connect again — never retried in a loop.
use crate::{ConnectionSettings, ACCOUNTVIEW};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use tiltas_config::Connection;
use tiltas_connector::oauth2::{Authorization, ClientAuth, Grant, OAuth2Settings, TokenSource};
use tiltas_connector::vault::{ConnectionVault, CredentialVault};
use tiltas_connector::{CallGate, ConnectorError, ErrorKind};

/// The vault entry a connection's refresh token is kept under.
pub const REFRESH_TOKEN: &str = "refresh_token";

/// What to run when the connection's authorisation is gone.
pub(crate) fn reconnect(connection: &str) -> String {
    format!("run `tiltas connect accountview --connection {connection}` again")
}

fn fatal(connection: &str, message: impl std::fmt::Display) -> ConnectorError {
    ConnectorError::new(ErrorKind::Fatal, format!("connection \"{connection}\": {message}"))
}

pub(crate) fn settings_of(connection: &Connection) -> Result<ConnectionSettings, ConnectorError> {
    connection
        .settings
        .typed(ACCOUNTVIEW.connection_keys)
        .map_err(|mismatch| {
            fatal(
                &connection.name,
                format!("{mismatch} — a defect in Tiltas, please report it"),
            )
        })
}

fn endpoint(connection: &str, base: &str, path: &str) -> Result<reqwest::Url, ConnectorError> {
    let base = if base.ends_with('/') {
        base.to_owned()
    } else {
        format!("{base}/")
    };
    reqwest::Url::parse(&base)
        .and_then(|base| base.join(path))
        .map_err(|error| {
            fatal(
                connection,
                format!("base_url {base:?} is not a URL ({error}): set it to …/api/v3/"),
            )
        })
}

/// The token endpoint of a connection.
pub(crate) fn token_url(connection: &str, settings: &ConnectionSettings) -> Result<reqwest::Url, ConnectorError> {
    endpoint(connection, &settings.base_url, crate::wire::TOKEN_PATH)
}

fn oauth2_settings(connection: &str, settings: &ConnectionSettings) -> Result<OAuth2Settings, ConnectorError> {
    let mut oauth = OAuth2Settings::new(
        connection,
        token_url(connection, settings)?,
        settings.client_id.clone(),
        settings.client_secret.clone(),
    );
    oauth.client_auth = ClientAuth::Form;
    oauth.extra_fields = vec![("redirect_uri".to_owned(), settings.redirect_uri.clone())];
    oauth.credentials = "`client_id` and `client_secret`".to_owned();
    Ok(oauth)
}

/// How a person authorises the connection (`tiltas connect accountview --connection NAME`,
/// through `System::authorization`): the authorisation page (`authorize_url`, default
/// `base_url` + `authorize`), the client (id and secret as form fields) at the token endpoint,
/// the registered `redirect_uri`, and the vault entry the refresh token goes to.
pub fn authorization(connection: &Connection) -> Result<Authorization, ConnectorError> {
    let settings = settings_of(connection)?;
    let authorize_url = match &settings.authorize_url {
        Some(url) => reqwest::Url::parse(url).map_err(|error| {
            fatal(
                &connection.name,
                format!("authorize_url {url:?} is not a URL ({error})"),
            )
        })?,
        None => endpoint(&connection.name, &settings.base_url, crate::wire::AUTHORIZE_PATH)?,
    };
    let mut oauth = oauth2_settings(&connection.name, &settings)?;
    // The code grant sends the redirect URI the code was asked with (`tiltas connect` may be
    // given another one than the connection's).
    oauth.extra_fields.clear();
    Ok(Authorization {
        authorize_url,
        settings: oauth,
        redirect_uri: Some(settings.redirect_uri),
        token_name: REFRESH_TOKEN,
    })
}

type Shared = Mutex<HashMap<String, Weak<TokenSource>>>;

/// The token source of a connection: the one already open in this process for the same
/// connection, token endpoint, client and vault, else a new one.
pub(crate) fn token_source(
    connection: &str,
    settings: &ConnectionSettings,
    http: reqwest::Client,
    gate: Arc<dyn CallGate>,
    vault: &Arc<dyn CredentialVault>,
) -> Result<Arc<TokenSource>, ConnectorError> {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    let oauth = oauth2_settings(connection, settings)?;
    let key = format!(
        "{connection}\u{0}{}\u{0}{}\u{0}{:p}",
        oauth.token_url,
        oauth.client_id,
        Arc::as_ptr(vault).cast::<()>()
    );
    let shared = SHARED.get_or_init(Shared::default);
    let mut shared = shared.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    shared.retain(|_, source| source.strong_count() > 0);
    if let Some(source) = shared.get(&key).and_then(Weak::upgrade) {
        return Ok(source);
    }
    let store = Arc::new(ConnectionVault::new(vault.clone(), connection, REFRESH_TOKEN));
    let source = Arc::new(TokenSource::new(http, gate, oauth, Grant::RefreshToken(store)));
    shared.insert(key, Arc::downgrade(&source));
    Ok(source)
}

/// An auth failure of the token endpoint as the user must read it: a refresh token that is
/// gone (never stored, expired, revoked, already used) means connecting again.
pub(crate) fn explain(connection: &str, error: ConnectorError) -> ConnectorError {
    let gone = error.kind == ErrorKind::Auth
        && (error.message.contains("invalid_grant") || error.message.contains("has no refresh token"));
    if !gone {
        return error;
    }
    let fix = reconnect(connection);
    ConnectorError::new(
        ErrorKind::Auth,
        format!(
            "connection \"{connection}\": AccountView no longer accepts the connection's authorisation (the refresh \
             token is missing, expired, revoked or already used), so nothing more is tried: {fix} ({})",
            error.message
        ),
    )
    .with_fix(fix)
}
