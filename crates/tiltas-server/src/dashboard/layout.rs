//! The shell every dashboard page shares (head, CSS, navigation, who is signed in, the flash
//! message) and the small pieces pages repeat: status badges, times, counts, links.
use super::Flash;
use crate::auth::scope_name;
use chrono::{DateTime, Utc};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use tiltas_store::ApiKey;

/// The part of the dashboard a page belongs to (marked `aria-current` in the navigation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    /// `/`, flows, runs and records.
    Overview,
    /// `/dead-letters`.
    DeadLetters,
    /// `/deliveries`.
    Deliveries,
    /// `/connections`.
    Connections,
    /// `/workers`.
    Workers,
    /// `/audit` (admin keys).
    Audit,
    /// `/keys` (admin keys).
    Keys,
    /// Sign-in and error pages.
    Outside,
}

/// One whole page: `title` in the tab and as the `<h1>`, `body` under it.
pub(crate) fn page(title: &str, section: Section, key: Option<&ApiKey>, flash: &Flash, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Tiltas" }
                style { (PreEscaped(CSS)) }
            }
            body {
                a.skip href="#content" { "Skip to content" }
                header.top {
                    div.wrap {
                        a.brand href="/" { "Tiltas" }
                        @if key.is_some() {
                            nav aria-label="Dashboard" {
                                ul {
                                    (nav_link("/", "Overview", section == Section::Overview))
                                    (nav_link("/dead-letters", "Dead letters", section == Section::DeadLetters))
                                    (nav_link("/deliveries", "Deliveries", section == Section::Deliveries))
                                    (nav_link("/connections", "Connections", section == Section::Connections))
                                    (nav_link("/workers", "Workers", section == Section::Workers))
                                    @if key.is_some_and(|key| key.scope == tiltas_store::ApiScope::Admin) {
                                        (nav_link("/audit", "Audit", section == Section::Audit))
                                        (nav_link("/keys", "Keys", section == Section::Keys))
                                    }
                                }
                            }
                        }
                        @if let Some(key) = key {
                            div.who {
                                span { "Key " strong { (key.name) } " (" (scope_name(key.scope)) ")" }
                                form method="post" action="/logout" {
                                    button.link type="submit" { "Sign out" }
                                }
                            }
                        }
                    }
                }
                main.wrap #content {
                    h1 { (title) }
                    @if let Some(done) = &flash.done {
                        p.flash.done role="status" { span.icon aria-hidden="true" { "✓ " } (done) }
                    }
                    @if let Some(problem) = &flash.problem {
                        p.flash.problem role="alert" { span.icon aria-hidden="true" { "⚠ " } (problem) }
                    }
                    (body)
                }
            }
        }
    }
}

fn nav_link(href: &str, label: &str, current: bool) -> Markup {
    html! {
        li {
            @if current {
                a href=(href) aria-current="page" { (label) }
            } @else {
                a href=(href) { (label) }
            }
        }
    }
}

/// A run's or dead letter's status as a badge: a symbol and the word (colour is a third cue,
/// never the only one).
pub(crate) fn status_badge(status: &str) -> Markup {
    let symbol = match status {
        "succeeded" | "resolved" | "created" | "updated" | "booked" | "live" | "active" => "✓",
        "failed" | "open" | "unusable" | "dead_lettered" | "gone" | "revoked" | "expired" => "✗",
        "running" | "pending" => "…",
        "partial" => "⚠",
        "unchanged" => "=",
        _ => "•",
    };
    html! {
        span class={ "badge status-" (status) } { span aria-hidden="true" { (symbol) " " } (status.replace('_', " ")) }
    }
}

/// An RFC 3339 time as `2026-11-20 10:00 UTC (5 min ago)` in a `<time>` element.
pub(crate) fn when(rfc3339: &str, now: DateTime<Utc>) -> Markup {
    let Ok(at) = DateTime::parse_from_rfc3339(rfc3339) else {
        return html! { (rfc3339) };
    };
    let at = at.with_timezone(&Utc);
    html! {
        time datetime=(rfc3339) { (at.format("%Y-%m-%d %H:%M:%S UTC").to_string()) }
        " " span.muted { "(" (ago(now - at)) ")" }
    }
}

fn ago(elapsed: chrono::Duration) -> String {
    let seconds = elapsed.num_seconds();
    match seconds {
        i64::MIN..=-1 => "in the future".to_owned(),
        0..=59 => "just now".to_owned(),
        60..=3599 => format!("{} min ago", seconds / 60),
        3600..=86_399 => format!("{} h ago", seconds / 3600),
        _ => format!("{} days ago", seconds / 86_400),
    }
}

/// A milliseconds duration for people: `850 ms`, `12.4 s`, `3 min 5 s`.
pub(crate) fn duration(milliseconds: i64) -> String {
    match milliseconds {
        i64::MIN..=999 => format!("{milliseconds} ms"),
        1000..=59_999 => format!("{}.{} s", milliseconds / 1000, (milliseconds % 1000) / 100),
        _ => format!("{} min {} s", milliseconds / 60_000, (milliseconds % 60_000) / 1000),
    }
}

/// A count with its thousands grouped by a no-break space: `10 000`.
pub(crate) fn count(value: u64) -> String {
    let digits = value.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3 * 2);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            grouped.push('\u{a0}');
        }
        grouped.push(digit);
    }
    grouped
}

/// Characters left as they are in a path segment; everything else is percent-encoded so a
/// name with `/`, `?` or spaces still lands on its own page.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// `/base/NAME` with the name percent-encoded.
pub(crate) fn link(base: &str, name: &str) -> String {
    format!("{base}/{}", utf8_percent_encode(name, SEGMENT))
}

/// A value encoded for a query string.
pub(crate) fn query_value(value: &str) -> String {
    utf8_percent_encode(value, NON_ALPHANUMERIC).to_string()
}

/// Pretty JSON for a `<pre>` or a `<textarea>` (escaped by the template like any text).
pub(crate) fn pretty_json(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// Readable at ~1200 px on a laptop; status never by colour alone; focus always visible.
const CSS: &str = r#"
:root { --ink: #1d2330; --muted: #5b6475; --line: #d6dbe4; --accent: #1f5fae; --bg: #f6f7f9;
  --ok-bg: #e3f3e8; --ok: #17612f; --bad-bg: #fbe7e7; --bad: #9f1c1f; --run-bg: #e5eefc; --run: #1c4d8f;
  --warn-bg: #fff3cd; --warn: #6b4b00; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
.wrap { max-width: 1200px; margin: 0 auto; padding: 0 24px; }
main.wrap { padding-bottom: 48px; }
.skip { position: absolute; left: -9999px; }
.skip:focus { left: 8px; top: 8px; background: #fff; padding: 8px; z-index: 10; }
:focus-visible { outline: 3px solid #f0a400; outline-offset: 2px; }
header.top { background: #17202f; color: #fff; }
header.top .wrap { display: flex; align-items: center; gap: 24px; min-height: 56px; flex-wrap: wrap; }
header.top a { color: #fff; }
.brand { font-weight: 700; font-size: 20px; text-decoration: none; }
nav ul { display: flex; gap: 4px; list-style: none; margin: 0; padding: 0; }
nav a { display: block; padding: 6px 12px; border-radius: 6px; text-decoration: none; }
nav a:hover { background: #2c3a52; }
nav a[aria-current="page"] { background: #fff; color: #17202f; font-weight: 600; }
.who { margin-left: auto; display: flex; gap: 12px; align-items: center; }
.who form { margin: 0; }
h1 { font-size: 28px; margin: 24px 0 12px; }
h2 { font-size: 21px; margin: 32px 0 8px; }
h3 { font-size: 17px; margin: 20px 0 6px; }
a { color: var(--accent); }
.muted { color: var(--muted); }
.flash { padding: 10px 14px; border-radius: 6px; border: 1px solid; }
.flash.done { background: var(--ok-bg); color: var(--ok); }
.flash.problem, .error { background: var(--bad-bg); color: var(--bad); border: 1px solid; padding: 10px 14px; border-radius: 6px; }
table { border-collapse: collapse; width: 100%; background: #fff; margin: 8px 0 16px; }
th, td { border: 1px solid var(--line); padding: 6px 10px; text-align: left; vertical-align: top; }
thead th { background: #eef1f5; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 14px; font-weight: 600; border: 1px solid; white-space: nowrap; }
.status-succeeded, .status-resolved, .status-created, .status-updated, .status-enabled, .status-booked, .status-live, .status-active { background: var(--ok-bg); color: var(--ok); }
.status-failed, .status-open, .status-disabled, .status-unusable, .status-dead_lettered, .status-gone, .status-revoked, .status-expired { background: var(--bad-bg); color: var(--bad); }
.status-running, .status-skipped { background: var(--run-bg); color: var(--run); }
.status-pending, .status-partial { background: var(--warn-bg); color: var(--warn); }
.status-unchanged { background: #fff; color: var(--muted); }
ul.plain { list-style: none; margin: 0; padding: 0; }
button, .button { font: inherit; padding: 6px 14px; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: var(--accent); }
button.link { background: none; border: none; color: inherit; text-decoration: underline; padding: 0; }
form.inline { display: inline; margin: 0; }
label { font-weight: 600; }
input[type=password], input[type=text], input[type=number], select, textarea { font: inherit; padding: 6px 8px; border: 1px solid #8a93a3; border-radius: 4px; }
textarea { width: 100%; font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 14px; }
pre, code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 14px; }
pre { background: #fff; border: 1px solid var(--line); padding: 10px; overflow: auto; max-height: 480px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 12px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
.card meter { width: 100%; height: 18px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; background: #fff; border: 1px solid var(--line); padding: 12px 16px; border-radius: 8px; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; }
details.group { background: #fff; border: 1px solid var(--line); border-radius: 8px; margin: 10px 0; padding: 8px 14px; }
details.group > summary { cursor: pointer; font-weight: 600; }
.chart { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 8px; }
.chart svg { width: 100%; height: auto; display: block; }
.legend { display: flex; gap: 20px; margin: 4px 8px; }
.swatch { display: inline-block; width: 14px; height: 14px; vertical-align: -2px; margin-right: 6px; border: 1px solid #333; }
.swatch.delivered { background: #2f6fb0; }
.swatch.failed { background: repeating-linear-gradient(45deg, #c0392b 0 3px, #f4c7c3 3px 6px); }
tr.diff-changed td { background: var(--warn-bg); }
tr.diff-added td { background: var(--ok-bg); }
tr.diff-removed td { background: var(--bad-bg); }
td.mark { font-weight: 600; white-space: nowrap; }
tr.diff-same td.mark { font-weight: normal; color: var(--muted); }
body:has(#only-differences:checked) tr.diff-same { display: none; }
.actions { display: flex; gap: 8px; flex-wrap: wrap; margin: 10px 0; }
.login { max-width: 420px; background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px; }
.login input { width: 100%; margin: 6px 0 12px; }
"#;
