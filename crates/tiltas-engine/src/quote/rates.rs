//! Exchange rates for quotes: a fixed table from `[quote.rates]` or the ECB's daily euro
//! reference rates (`eurofxref-daily.xml`, fetched or a downloaded copy), all as units of a
//! currency per euro. Conversion is in `Decimal` through the euro, rounded to cents at the end.
use chrono::{DateTime, NaiveDate, Utc};
use quick_xml::events::Event;
use quick_xml::Reader;
use rust_decimal::{Decimal, RoundingStrategy};
use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;
use tiltas_config::RateSource;

/// Rates of one day: units of each currency per euro (the euro itself is 1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rates {
    /// The day the rates are of (the ECB's `Cube time`), unknown for a fixed table.
    pub date: Option<NaiveDate>,
    /// Units per euro by ISO 4217 code.
    pub per_euro: BTreeMap<String, Decimal>,
}

impl Rates {
    /// Units of `code` per euro.
    fn rate(&self, code: &str) -> Option<Decimal> {
        if code == "EUR" {
            return Some(Decimal::ONE);
        }
        self.per_euro.get(code).copied().filter(|rate| !rate.is_zero())
    }

    /// `amount` of `from` in `to`, through the euro, rounded half away from zero to 2 places;
    /// `None` when either currency has no rate.
    pub fn convert(&self, amount: Decimal, from: &str, to: &str) -> Option<Decimal> {
        let exact = if from == to {
            amount
        } else {
            let euros = amount.checked_div(self.rate(from)?)?;
            euros.checked_mul(self.rate(to)?)?
        };
        Some(exact.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero))
    }
}

/// Reads the ECB's reference-rate file: `<Cube time="YYYY-MM-DD">` holding
/// `<Cube currency="PLN" rate="4.2675"/>` entries, in whatever namespace prefixes it uses.
pub fn parse_ecb(xml: &str) -> Result<Rates, String> {
    let mut reader = Reader::from_str(xml);
    let mut rates = Rates::default();
    loop {
        let event = reader
            .read_event()
            .map_err(|error| format!("not XML at byte {}: {error}", reader.error_position()))?;
        match event {
            Event::Start(element) | Event::Empty(element) if element.local_name().as_ref() == b"Cube" => {
                let mut currency = None;
                let mut rate = None;
                for attribute in element.attributes() {
                    let attribute = attribute.map_err(|error| format!("a Cube has a broken attribute: {error}"))?;
                    let value = attribute
                        .unescape_value()
                        .map_err(|error| format!("a Cube attribute is not text: {error}"))?
                        .into_owned();
                    match attribute.key.local_name().as_ref() {
                        b"time" => {
                            let day = NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")
                                .map_err(|_| format!("Cube time {value:?} is not a date YYYY-MM-DD"))?;
                            rates.date = Some(day);
                        }
                        b"currency" => currency = Some(value),
                        b"rate" => rate = Some(value),
                        _ => {}
                    }
                }
                if let (Some(currency), Some(rate)) = (currency, rate) {
                    let value = Decimal::from_str(rate.trim())
                        .ok()
                        .filter(|value| *value > Decimal::ZERO)
                        .ok_or_else(|| format!("the rate of {currency} is {rate:?}, not a positive decimal"))?;
                    rates.per_euro.insert(currency.trim().to_owned(), value);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if rates.per_euro.is_empty() {
        return Err("no <Cube currency=… rate=…/> in it: is it the ECB's eurofxref-daily.xml?".to_owned());
    }
    Ok(rates)
}

/// Rates fetched from an address, by address: kept for the rest of the day once they are of
/// today, otherwise (before the ECB publishes, around 16:00 CET) for an hour.
static FETCHED: LazyLock<Mutex<HashMap<String, Fetched>>> = LazyLock::new(Default::default);

/// Rates and when they were fetched.
type Fetched = (DateTime<Utc>, Rates);

/// How long rates not yet of today are kept before the address is asked again.
const STALE_AFTER: chrono::Duration = chrono::Duration::hours(1);

/// Whether rates fetched at `fetched` may still be used `now`.
fn fresh(fetched: DateTime<Utc>, rates: &Rates, now: DateTime<Utc>) -> bool {
    fetched.date_naive() == now.date_naive() && (rates.date == Some(now.date_naive()) || now - fetched < STALE_AFTER)
}

/// A description of the source for answers: `fixed table`, `ECB (URL)`, `ECB file (PATH)`.
pub fn describe(source: &RateSource) -> String {
    match source {
        RateSource::Fixed(_) => "fixed table [quote.rates]".to_owned(),
        RateSource::EcbUrl(url) => format!("ECB daily reference rates ({url})"),
        RateSource::EcbFile(path) => format!("ECB reference rates file ({})", path.display()),
    }
}

/// The rates of `source`; fetching waits at most `timeout`. An error says what failed and
/// the fix.
pub async fn load(source: &RateSource, timeout: Duration) -> Result<Rates, String> {
    match source {
        RateSource::Fixed(table) => Ok(Rates {
            date: None,
            per_euro: table.clone(),
        }),
        RateSource::EcbFile(path) => {
            let text = tokio::fs::read_to_string(path).await.map_err(|error| {
                format!(
                    "cannot read the ECB rates file {}: {error}; download {} there or fix `ecb_file` in [quote]",
                    path.display(),
                    tiltas_config::ECB_DAILY_URL
                )
            })?;
            parse_ecb(&text).map_err(|why| format!("the ECB rates file {}: {why}", path.display()))
        }
        RateSource::EcbUrl(url) => fetch(url, timeout).await,
    }
}

async fn fetch(url: &str, timeout: Duration) -> Result<Rates, String> {
    let now = Utc::now();
    {
        let cache = FETCHED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((fetched, rates)) = cache.get(url) {
            if fresh(*fetched, rates, now) {
                return Ok(rates.clone());
            }
        }
    }
    let fix = "check the address (`ecb_url` in [quote]) and the network, or use `ecb_file` with a downloaded copy";
    let client = tiltas_connector::http::client(timeout).map_err(|error| error.message)?;
    let reply = client
        .get(url)
        .send()
        .await
        .map_err(|error| format!("cannot fetch ECB rates from {url}: {error}; {fix}"))?;
    let status = reply.status();
    if !status.is_success() {
        return Err(format!("the ECB rates address {url} answered HTTP {status}; {fix}"));
    }
    let text = reply
        .text()
        .await
        .map_err(|error| format!("cannot read ECB rates from {url}: {error}; {fix}"))?;
    let rates = parse_ecb(&text).map_err(|why| format!("ECB rates from {url}: {why}; {fix}"))?;
    FETCHED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(url.to_owned(), (now, rates.clone()));
    Ok(rates)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape the ECB publishes (abridged).
    pub(crate) const ECB_SAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
	<gesmes:subject>Reference rates</gesmes:subject>
	<gesmes:Sender>
		<gesmes:name>European Central Bank</gesmes:name>
	</gesmes:Sender>
	<Cube>
		<Cube time='2026-11-27'>
			<Cube currency='USD' rate='1.0512'/>
			<Cube currency='PLN' rate='4.2675'/>
			<Cube currency='CZK' rate='25.123'/>
		</Cube>
	</Cube>
</gesmes:Envelope>"#;

    fn dec(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn the_ecb_file_gives_its_day_and_units_per_euro() {
        let rates = parse_ecb(ECB_SAMPLE).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rates.date, NaiveDate::from_ymd_opt(2026, 11, 27));
        assert_eq!(rates.per_euro.len(), 3);
        assert_eq!(rates.per_euro["PLN"], dec("4.2675"));
        assert_eq!(rates.per_euro["USD"], dec("1.0512"));
    }

    #[test]
    fn a_file_that_is_not_the_ecbs_is_refused_with_why() {
        let html = parse_ecb("<html><body>Maintenance</body></html>")
            .err()
            .unwrap_or_default();
        assert!(html.contains("no <Cube currency"), "{html}");
        let bad_rate = parse_ecb("<Cube><Cube time='2026-11-27'><Cube currency='PLN' rate='four'/></Cube></Cube>")
            .err()
            .unwrap_or_default();
        assert!(bad_rate.contains("PLN") && bad_rate.contains("\"four\""), "{bad_rate}");
        let broken = parse_ecb("<Cube><Cube currency='PLN' rate='4'></Cub></Cube>")
            .err()
            .unwrap_or_default();
        assert!(broken.contains("not XML"), "{broken}");
    }

    #[test]
    fn conversion_goes_through_the_euro_exactly_and_rounds_at_the_end() {
        let rates = parse_ecb(ECB_SAMPLE).unwrap_or_else(|e| panic!("{e}"));
        // 100 PLN / 4.2675 = 23.43292… EUR
        assert_eq!(rates.convert(dec("100"), "PLN", "EUR"), Some(dec("23.43")));
        assert_eq!(
            rates.convert(dec("10"), "EUR", "PLN"),
            Some(dec("42.68")),
            "42.675 half away from zero"
        );
        // PLN → USD through the euro, rounded once: 100 / 4.2675 × 1.0512 = 24.6327…
        assert_eq!(rates.convert(dec("100"), "PLN", "USD"), Some(dec("24.63")));
        assert_eq!(rates.convert(dec("19.999"), "EUR", "EUR"), Some(dec("20.00")));
        assert_eq!(
            rates.convert(dec("5"), "UAH", "EUR"),
            None,
            "no rate: no price, not a guess"
        );
        assert_eq!(rates.convert(dec("5"), "EUR", "UAH"), None);
    }

    #[test]
    fn fetched_rates_are_kept_for_the_day_once_they_are_of_today() {
        let now = DateTime::parse_from_rfc3339("2026-11-27T17:00:00Z")
            .unwrap_or_else(|e| panic!("{e}"))
            .with_timezone(&Utc);
        let of_today = Rates {
            date: NaiveDate::from_ymd_opt(2026, 11, 27),
            per_euro: BTreeMap::new(),
        };
        let of_yesterday = Rates {
            date: NaiveDate::from_ymd_opt(2026, 11, 26),
            ..of_today.clone()
        };
        let morning = now - chrono::Duration::hours(8);
        assert!(fresh(morning, &of_today, now));
        assert!(
            !fresh(morning, &of_yesterday, now),
            "asked again: the ECB may have published since"
        );
        assert!(fresh(now - chrono::Duration::minutes(10), &of_yesterday, now));
        assert!(!fresh(now - chrono::Duration::hours(20), &of_today, now), "another day");
    }
}

#[cfg(test)]
mod fetch_tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    /// Serves `body` as XML on 127.0.0.1 for every request, counting them.
    fn serve(body: String) -> (String, Arc<AtomicUsize>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        let url = format!(
            "http://{}/stats/eurofxref/eurofxref-daily.xml",
            listener.local_addr().unwrap_or_else(|e| panic!("{e}"))
        );
        let hits = Arc::new(AtomicUsize::new(0));
        let counted = hits.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                counted.fetch_add(1, Ordering::SeqCst);
                let mut reader = BufReader::new(&stream);
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|read| read > 2) {
                    line.clear();
                }
                let mut stream = &stream;
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\ncontent-type: text/xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        (url, hits)
    }

    #[tokio::test]
    async fn ecb_rates_are_fetched_once_and_kept_for_the_day() {
        let today = Utc::now().date_naive().format("%Y-%m-%d").to_string();
        let body = format!("<Cube><Cube time='{today}'><Cube currency='PLN' rate='4.2675'/></Cube></Cube>");
        let (url, hits) = serve(body);
        let source = RateSource::EcbUrl(url.clone());
        for _ in 0..2 {
            let rates = load(&source, Duration::from_secs(5))
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                rates.per_euro.get("PLN").map(ToString::to_string).as_deref(),
                Some("4.2675")
            );
        }
        assert_eq!(
            hits.load(Ordering::SeqCst),
            1,
            "the second quote of the day used the kept rates"
        );

        let (html, _) = serve("<html>maintenance</html>".to_owned());
        let error = load(&RateSource::EcbUrl(html.clone()), Duration::from_secs(5))
            .await
            .err()
            .unwrap_or_default();
        assert!(error.contains(&html) && error.contains("ecb_file"), "{error}");
    }
}
