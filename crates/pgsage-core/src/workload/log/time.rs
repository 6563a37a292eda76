//! Log timestamps (`%m`, `%t`, `%n`, csvlog's and jsonlog's `log_time`) to UTC.
//!
//! Time zones come as PostgreSQL prints them: an abbreviation (`UTC`, `CEST`) or a
//! numeric offset (`+03`, `-0330`). Numeric offsets and a table of common
//! abbreviations are understood; others use [`super::LogOptions::utc_offset_minutes`]
//! when given, else the sample has no time and the reader counts it.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

/// Parses timestamps, remembering the last second seen (log lines come in runs with the
/// same second, so most lines cost a comparison).
#[derive(Debug, Default)]
pub struct TimeParser {
    fallback_offset_min: Option<i32>,
    last_key: String,
    last: Option<DateTime<Utc>>,
}

/// What came of parsing one timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed {
    /// The instant.
    At(DateTime<Utc>),
    /// The time zone is not known (and no fallback offset was given).
    UnknownZone,
    /// Not a timestamp.
    Invalid,
}

impl TimeParser {
    /// A parser; `fallback_offset_min` is used for unknown zone abbreviations.
    pub fn new(fallback_offset_min: Option<i32>) -> TimeParser {
        TimeParser {
            fallback_offset_min,
            ..TimeParser::default()
        }
    }

    /// `YYYY-MM-DD HH:MM:SS[.fff] TZ` or epoch seconds `1700000000.123`.
    pub fn parse(&mut self, s: &str) -> Parsed {
        let b = s.as_bytes();
        if b.len() >= 19 && b[4] == b'-' {
            // Key: seconds and zone; milliseconds added after. A non-ASCII byte in the
            // first 19 (junk, found by fuzzing) is no timestamp.
            let Some((secs, rest)) = s.split_at_checked(19) else {
                return Parsed::Invalid;
            };
            let (millis, zone) = match rest.strip_prefix('.') {
                Some(r) => {
                    let n = r.bytes().take_while(u8::is_ascii_digit).count();
                    (frac_millis(&r[..n]), &r[n..])
                }
                None => (0, rest),
            };
            let zone = zone.trim_start();
            let base = if self.last.is_some()
                && self.last_key.len() == secs.len() + zone.len()
                && self.last_key.starts_with(secs)
                && self.last_key.ends_with(zone)
            {
                self.last
            } else {
                let Some(naive) = naive_seconds(secs) else {
                    return Parsed::Invalid;
                };
                let Some(offset) = zone_offset_min(zone).or(self.fallback_offset_min) else {
                    return Parsed::UnknownZone;
                };
                let utc = naive - TimeDelta::minutes(i64::from(offset));
                self.last_key.clear();
                self.last_key.push_str(secs);
                self.last_key.push_str(zone);
                self.last = Some(utc.and_utc());
                self.last
            };
            return match base {
                Some(t) => Parsed::At(t + TimeDelta::milliseconds(millis)),
                None => Parsed::Invalid,
            };
        }
        // %n: seconds since the epoch with milliseconds.
        let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
        match whole.parse::<i64>() {
            Ok(secs) => DateTime::from_timestamp(secs, 0)
                .map(|t| Parsed::At(t + TimeDelta::milliseconds(frac_millis(frac))))
                .unwrap_or(Parsed::Invalid),
            Err(_) => Parsed::Invalid,
        }
    }
}

fn frac_millis(digits: &str) -> i64 {
    let mut ms = 0;
    for (i, c) in digits
        .bytes()
        .take_while(u8::is_ascii_digit)
        .take(3)
        .enumerate()
    {
        ms += i64::from(c - b'0') * [100, 10, 1][i];
    }
    ms
}

fn num(b: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

fn naive_seconds(s: &str) -> Option<chrono::NaiveDateTime> {
    let b = s.as_bytes();
    let date = NaiveDate::from_ymd_opt(num(&b[0..4])? as i32, num(&b[5..7])?, num(&b[8..10])?)?;
    date.and_hms_opt(num(&b[11..13])?, num(&b[14..16])?, num(&b[17..19])?)
}

/// Minutes east of UTC for a zone as PostgreSQL prints it.
pub fn zone_offset_min(zone: &str) -> Option<i32> {
    let b = zone.as_bytes();
    if let Some(&sign @ (b'+' | b'-')) = b.first() {
        let d = &b[1..];
        let (h, m) = match d.len() {
            2 => (num(d)?, 0),
            4 => (num(&d[..2])?, num(&d[2..])?),
            5 if d[2] == b':' => (num(&d[..2])?, num(&d[3..])?),
            _ => return None,
        };
        let v = (h * 60 + m) as i32;
        return Some(if sign == b'-' { -v } else { v });
    }
    let hours: f32 = match zone {
        "UTC" | "GMT" | "UCT" | "Z" | "WET" => 0.0,
        "BST" | "CET" | "WEST" | "MET" => 1.0,
        "CEST" | "EET" | "SAST" | "MEST" => 2.0,
        "EEST" | "MSK" => 3.0,
        "IST" => 5.5,
        "HKT" | "AWST" => 8.0,
        "JST" | "KST" => 9.0,
        "ACST" => 9.5,
        "AEST" => 10.0,
        "ACDT" => 10.5,
        "AEDT" => 11.0,
        "NZST" => 12.0,
        "NZDT" => 13.0,
        "HST" => -10.0,
        "AKST" => -9.0,
        "AKDT" | "PST" => -8.0,
        "PDT" | "MST" => -7.0,
        "MDT" | "CST" => -6.0,
        "CDT" | "EST" => -5.0,
        "EDT" | "AST" => -4.0,
        "ADT" => -3.0,
        "NST" => -3.5,
        "NDT" => -2.5,
        _ => return None,
    };
    Some((hours * 60.0) as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junk_with_a_multibyte_character_is_invalid() {
        let mut p = TimeParser::new(None);
        // A multi-byte character across byte 19 (crash found by fuzzing).
        assert_eq!(p.parse("2024-01-01 00:00:0\u{20ac}0 UTC"), Parsed::Invalid);
        assert_eq!(
            p.parse("2024-\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}"),
            Parsed::Invalid
        );
    }

    #[test]
    fn parses_forms() {
        let mut p = TimeParser::new(None);
        let Parsed::At(a) = p.parse("2024-05-01 10:00:00.250 CEST") else {
            panic!("not parsed")
        };
        assert_eq!(a.to_rfc3339(), "2024-05-01T08:00:00.250+00:00");
        let Parsed::At(b) = p.parse("2024-05-01 10:00:00.500 CEST") else {
            panic!("not parsed")
        };
        assert_eq!((b - a).num_milliseconds(), 250);
        let Parsed::At(c) = p.parse("2024-05-01 10:00:00 -0330") else {
            panic!("not parsed")
        };
        assert_eq!(c.to_rfc3339(), "2024-05-01T13:30:00+00:00");
        assert_eq!(p.parse("2024-05-01 10:00:00 XYZT"), Parsed::UnknownZone);
        let Parsed::At(d) = p.parse("1714557600.125") else {
            panic!("not parsed")
        };
        assert_eq!(d.to_rfc3339(), "2024-05-01T10:00:00.125+00:00");
        assert_eq!(p.parse("2024-13-01 10:00:00 UTC"), Parsed::Invalid);
    }
}
