//! Shop time: WordPress keeps every date twice, in the site's zone (`date_modified`) and in GMT
//! (`date_modified_gmt`), to the second. The simulated shop is in Vilnius.
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc, Weekday};

/// The wire format of WooCommerce dates: no zone, no fraction.
const WIRE_FORMAT: &str = "%Y-%m-%dT%H:%M:%S";

/// The last Sunday of `month` in `year` at 01:00 UTC, when EU clocks change.
fn eu_switch(year: i32, month: u32) -> Option<DateTime<Utc>> {
    let first_of_next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)?
    };
    let mut day = first_of_next - Duration::days(1);
    while day.weekday() != Weekday::Sun {
        day -= Duration::days(1);
    }
    Some(Utc.from_utc_datetime(&day.and_hms_opt(1, 0, 0)?))
}

/// Europe/Vilnius' offset from UTC at `at`, in seconds (EET, EEST in summer).
fn vilnius_offset_seconds(at: DateTime<Utc>) -> i64 {
    let summer = match (eu_switch(at.year(), 3), eu_switch(at.year(), 10)) {
        (Some(start), Some(end)) => at >= start && at < end,
        _ => false,
    };
    if summer {
        3 * 3600
    } else {
        2 * 3600
    }
}

/// Unix seconds as the GMT wire date.
pub(super) fn gmt(seconds: i64) -> String {
    Utc.timestamp_opt(seconds, 0)
        .single()
        .unwrap_or_default()
        .format(WIRE_FORMAT)
        .to_string()
}

/// Unix seconds as the site-local (Vilnius) wire date.
pub(super) fn local(seconds: i64) -> String {
    let at = Utc.timestamp_opt(seconds, 0).single().unwrap_or_default();
    gmt(seconds + vilnius_offset_seconds(at))
}

/// Now, in unix seconds.
pub(super) fn now() -> i64 {
    Utc::now().timestamp()
}

/// A date parameter (`modified_after=…`) as unix seconds. A date with an offset or `Z` is
/// absolute; one without is GMT when `dates_are_gmt`, else site-local, as WordPress reads it.
pub(super) fn parse_date_param(text: &str, dates_are_gmt: bool) -> Option<i64> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.timestamp());
    }
    let naive = NaiveDateTime::parse_from_str(text, WIRE_FORMAT)
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S"))
        .or_else(|_| NaiveDate::parse_from_str(text, "%Y-%m-%d").map(|day| day.and_time(Default::default())))
        .ok()?;
    let as_gmt = Utc.from_utc_datetime(&naive).timestamp();
    if dates_are_gmt {
        return Some(as_gmt);
    }
    // Site-local: the offset in force at (roughly) that moment.
    let offset = vilnius_offset_seconds(Utc.from_utc_datetime(&naive));
    Some(as_gmt - offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vilnius_is_two_hours_ahead_in_winter_and_three_in_summer() {
        let winter = Utc.with_ymd_and_hms(2026, 1, 15, 10, 0, 0).unwrap().timestamp();
        let summer = Utc.with_ymd_and_hms(2026, 7, 15, 10, 0, 0).unwrap().timestamp();
        assert_eq!(local(winter), "2026-01-15T12:00:00");
        assert_eq!(local(summer), "2026-07-15T13:00:00");
        assert_eq!(gmt(summer), "2026-07-15T10:00:00");
        assert_eq!(parse_date_param("2026-07-15T13:00:00", false), Some(summer));
        assert_eq!(parse_date_param("2026-07-15T10:00:00", true), Some(summer));
        assert_eq!(parse_date_param("2026-07-15T10:00:00Z", false), Some(summer));
        assert_eq!(parse_date_param("yesterday", true), None);
    }
}
