//! `tiltas connect`: a person authorises a connection at its provider once (OAuth2
//! authorization code); the refresh token is sealed in the store, where the connector and
//! every worker find it. The code comes back to a listener on 127.0.0.1 (the default), is
//! pasted (a redirect URI the client registered elsewhere), or is given with `--code`.
use crate::args::{ConnectArgs, GlobalArgs};
use anyhow::{anyhow, bail, Context};
use axum::extract::{Query, State};
use axum::response::Html;
use rand::distributions::Alphanumeric;
use rand::Rng;
use std::collections::HashMap;
use std::io::BufRead;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tiltas_engine::StoreVault;
use tiltas_systems::oauth2::Authorization;
use tiltas_systems::vault::{ConnectionVault, CredentialVault};
use tiltas_systems::{http, OpenGate};
use tokio::sync::oneshot;

/// Runs `tiltas connect`.
pub async fn run(global: &GlobalArgs, args: &ConnectArgs) -> anyhow::Result<ExitCode> {
    let config = tiltas_engine::load_config(&args.config.config, tiltas_systems::registry::catalog())
        .map_err(|problems| anyhow!("{problems}"))?;
    let store = crate::store_url::open(global.db.as_deref(), Some(&config)).await?;
    let config = super::secrets::unseal(config, &store).await?;
    let connection = config.connection(&args.connection).ok_or_else(|| {
        let known: Vec<&str> = config
            .connections
            .iter()
            .map(|connection| connection.name.as_str())
            .collect();
        anyhow!(
            "{}: no connection \"{}\" (it has: {})",
            args.config.config.display(),
            args.connection,
            known.join(", ")
        )
    })?;
    if let Some(system) = args
        .system
        .as_deref()
        .filter(|system| *system != connection.system.name)
    {
        bail!(
            "connection \"{}\" is a {} connection, not {system}: name the system it has, or leave it out",
            connection.name,
            connection.system.name
        );
    }
    let system = tiltas_systems::registry::systems().of(connection)?;
    let Some(authorization) = system.authorization(connection)? else {
        bail!(
            "connection \"{}\" ({}) needs no `tiltas connect`: its credentials are its settings in {}",
            connection.name,
            connection.system.name,
            args.config.config.display()
        );
    };
    let vault: Arc<dyn CredentialVault> = Arc::new(StoreVault::new(store, &config.base_dir));
    let (code, redirect_uri) = obtain_code(&authorization, args).await?;
    let tokens = Arc::new(ConnectionVault::new(
        vault,
        connection.name.clone(),
        authorization.token_name,
    ));
    authorization
        .complete(
            http::client(Duration::from_secs(60))?,
            Arc::new(OpenGate),
            tokens,
            &code,
            &redirect_uri,
        )
        .await
        .with_context(|| format!("connection \"{}\" was not authorised", connection.name))?;
    println!(
        "connection \"{}\" is authorised: its refresh token is sealed in the store; flows using it can run now",
        connection.name
    );
    Ok(ExitCode::SUCCESS)
}

/// The code and the redirect URI it was issued for.
async fn obtain_code(authorization: &Authorization, args: &ConnectArgs) -> anyhow::Result<(String, String)> {
    let registered = args.redirect_uri.clone().or_else(|| authorization.redirect_uri.clone());
    if let Some(code) = &args.code {
        let redirect_uri = registered.ok_or_else(|| {
            anyhow!("--code needs the redirect URI it was issued for: give --redirect-uri (or the connection's redirect_uri)")
        })?;
        return Ok((code.clone(), redirect_uri));
    }
    let state: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(32)
        .map(char::from)
        .collect();
    match registered {
        Some(uri) if !is_loopback(&uri) => {
            let url = authorization.url(&uri, &state);
            println!("Open this address, sign in and allow access:\n\n  {url}\n");
            println!("You are then sent to {uri}?code=…: paste that whole address (or only the code) here:");
            let line = tokio::task::spawn_blocking(|| {
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line).map(|_| line)
            })
            .await??;
            Ok((pasted_code(line.trim(), &state)?, uri))
        }
        loopback => listen_for_code(authorization, loopback, &state, Duration::from_secs(args.wait)).await,
    }
}

/// Whether the provider sends the browser back to this machine.
fn is_loopback(uri: &str) -> bool {
    reqwest::Url::parse(uri)
        .is_ok_and(|url| url.scheme() == "http" && matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")))
}

/// The code from a pasted address (checking its `state`) or a bare code.
fn pasted_code(pasted: &str, state: &str) -> anyhow::Result<String> {
    if pasted.is_empty() {
        bail!("nothing was pasted: run `tiltas connect` again and paste the address you were sent to");
    }
    let Ok(url) = reqwest::Url::parse(pasted) else {
        return Ok(pasted.to_owned());
    };
    let query: HashMap<String, String> = url.query_pairs().into_owned().collect();
    code_from(&query, state)
}

/// The code of a redirect's query, or why there is none.
fn code_from(query: &HashMap<String, String>, state: &str) -> anyhow::Result<String> {
    if let Some(error) = query.get("error") {
        let description = query
            .get("error_description")
            .map(|text| format!(" ({text})"))
            .unwrap_or_default();
        bail!("the provider refused the authorisation: {error}{description}");
    }
    if query.get("state").map(String::as_str) != Some(state) {
        bail!("the answer does not belong to this sign-in (its `state` differs): run `tiltas connect` again");
    }
    query
        .get("code")
        .filter(|code| !code.is_empty())
        .cloned()
        .ok_or_else(|| anyhow!("the provider sent no `code` back: run `tiltas connect` again"))
}

type Sender = Arc<Mutex<Option<oneshot::Sender<HashMap<String, String>>>>>;

/// Serves the redirect URI on 127.0.0.1 until the browser comes back with the code.
async fn listen_for_code(
    authorization: &Authorization,
    registered: Option<String>,
    state: &str,
    wait: Duration,
) -> anyhow::Result<(String, String)> {
    let (address, path) = match &registered {
        Some(uri) => {
            let url = reqwest::Url::parse(uri).with_context(|| format!("the redirect URI {uri} is not a URL"))?;
            let port = url.port().ok_or_else(|| {
                anyhow!("the redirect URI {uri} names no port to listen on: register one with a port")
            })?;
            (format!("127.0.0.1:{port}"), url.path().to_owned())
        }
        None => ("127.0.0.1:0".to_owned(), "/callback".to_owned()),
    };
    let listener = tokio::net::TcpListener::bind(&address)
        .await
        .with_context(|| format!("cannot listen on {address} for the provider's answer"))?;
    let redirect_uri = registered.unwrap_or(format!("http://{}{path}", listener.local_addr()?));
    let (sender, receiver) = oneshot::channel();
    let sender: Sender = Arc::new(Mutex::new(Some(sender)));
    let app = axum::Router::new()
        .route(&path, axum::routing::get(came_back))
        .with_state(sender);
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let url = authorization.url(&redirect_uri, state);
    println!("Open this address, sign in and allow access:\n\n  {url}\n");
    println!("Waiting for the provider to send the browser back to {redirect_uri} …");
    let answer = tokio::time::timeout(wait, receiver).await;
    server.abort();
    let query = answer
        .map_err(|_| {
            anyhow!(
                "no answer came back within {} s: run `tiltas connect` again",
                wait.as_secs()
            )
        })?
        .map_err(|_| anyhow!("the listener stopped before an answer came back"))?;
    Ok((code_from(&query, state)?, redirect_uri))
}

/// The browser's return: hands the query over and tells the person they are done.
async fn came_back(State(sender): State<Sender>, Query(query): Query<HashMap<String, String>>) -> Html<&'static str> {
    if let Some(sender) = sender.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take() {
        let _ = sender.send(query);
    }
    Html("<!doctype html><title>Tiltas</title><p>Tiltas received the answer. You can close this window.</p>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pasted_address_gives_its_code_only_with_this_sign_ins_state() {
        let pasted = "https://app.example/cb?code=abc&state=s1";
        assert_eq!(pasted_code(pasted, "s1").unwrap(), "abc");
        let error = pasted_code(pasted, "other").unwrap_err().to_string();
        assert!(error.contains("state"), "{error}");
        assert_eq!(pasted_code("bare-code", "s1").unwrap(), "bare-code");
        let refused = pasted_code("https://app.example/cb?error=access_denied&state=s1", "s1").unwrap_err();
        assert!(refused.to_string().contains("access_denied"), "{refused}");
    }

    #[test]
    fn only_http_on_this_machine_is_listened_for() {
        assert!(is_loopback("http://127.0.0.1:8765/callback"));
        assert!(is_loopback("http://localhost:8765/cb"));
        assert!(!is_loopback("https://app.example/callback"));
        assert!(!is_loopback("http://10.0.0.5:80/cb"));
    }
}
