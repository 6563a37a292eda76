//! Numbers for people: one spelling for bytes, durations, counts and percentages in every
//! message, recommendation, evidence line and rendered report.
//!
//! - [`bytes`] and [`rate`]: PostgreSQL's units in base 1024, as `pg_size_pretty` spells
//!   them (`bytes`, `kB`, `MB`, `GB`, `TB`), rounded for reading: `1.2 GB`, `122 MB`,
//!   `4 GB`, `0 bytes`, `114 kB/s`.
//! - [`setting_bytes`]: a size as `ALTER SYSTEM` takes it, exact and without a space
//!   (`4GB`, `1536MB`, `20560kB`). Only for setting values (fix SQL, `pgsage tune`'s
//!   recommended column, `Fix::settings`), never for reading.
//! - [`duration`] and [`millis`]: `250 ms`, `40 s`, `12 min`, `3.5 h`, `3 d 4 h`.
//! - [`count`]: integers with thousands separators, `27,409,133`.
//! - [`percent`] and [`share`]: `99%`, `2.5%`, `<0.1%`, `0%`.
//! - [`number`]: any other quantity (a ratio, events per second), rounded the same way.
//!
//! "Rounded for reading" is the same everywhere: one decimal below 10, none from 10, a
//! trailing `.0` dropped. A value is put in the unit it has once rounded, so that 1023.9
//! kB reads `1 MB`, not `1024 kB`. Machine-readable output (JSON evidence) keeps raw
//! numbers; these functions are for text only.

/// A number the formatters accept: the integer types and `f64`, so that callers need no
/// casts.
pub trait Amount: Copy {
    /// The value as a float.
    fn to_f64(self) -> f64;
    /// The value as an integer (a float rounded to the nearest, saturating).
    fn to_i128(self) -> i128;
}

macro_rules! integer_amount {
    ($($t:ty),*) => {$(
        impl Amount for $t {
            fn to_f64(self) -> f64 {
                self as f64
            }
            fn to_i128(self) -> i128 {
                self as i128
            }
        }
    )*};
}
integer_amount!(i32, i64, u32, u64, usize);

impl Amount for f64 {
    fn to_f64(self) -> f64 {
        self
    }
    fn to_i128(self) -> i128 {
        if self.is_nan() {
            0
        } else {
            // `as` saturates at the bounds.
            self.round() as i128
        }
    }
}

const KB: u64 = 1024;
const MB: u64 = 1024 * KB;
const GB: u64 = 1024 * MB;

/// `x` rounded for reading: one decimal below 10, none from 10, a trailing `.0` dropped,
/// thousands separators from 1,000. Not negative.
fn reading(x: f64) -> String {
    let tenths = (x * 10.0).round() / 10.0;
    if tenths < 10.0 {
        tenths_text(tenths)
    } else {
        group(x.round() as i128)
    }
}

/// A value already rounded to tenths, without a trailing `.0`: `2.5`, `3`.
fn tenths_text(tenths: f64) -> String {
    let text = format!("{tenths:.1}");
    text.trim_end_matches(".0").to_owned()
}

/// What [`reading`] rounds `x` to, to choose a unit after rounding.
fn rounded(x: f64) -> f64 {
    if (x * 10.0).round() / 10.0 < 10.0 {
        (x * 10.0).round() / 10.0
    } else {
        x.round()
    }
}

/// Digits with a comma every three: `27,409,133`.
fn group(n: i128) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).checked_rem(3) == Some(0) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `-` for negative values, then the text of the magnitude.
fn signed(x: f64, magnitude: impl FnOnce(f64) -> String) -> String {
    if x < 0.0 {
        format!("-{}", magnitude(-x))
    } else {
        magnitude(x)
    }
}

/// A size for reading: `0 bytes`, `512 bytes`, `1.5 kB`, `9.5 MB`, `122 MB`, `4 GB`,
/// `12 TB`. Base 1024, PostgreSQL's unit names, rounded for reading.
pub fn bytes(n: impl Amount) -> String {
    let n = n.to_f64();
    if !n.is_finite() {
        return "? bytes".to_owned();
    }
    signed(n, |b| {
        const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
        if b.round() < 1024.0 {
            return format!("{} bytes", b.round() as u64);
        }
        let mut v = b / 1024.0;
        let mut unit = 0;
        while rounded(v) >= 1024.0 && unit < UNITS.len() - 1 {
            v /= 1024.0;
            unit += 1;
        }
        // No separator in a size below 10,000 of its unit: `1000 kB`, as pg_size_pretty.
        let text = if v.round() < 10_000.0 {
            reading(v).replace(',', "")
        } else {
            reading(v)
        };
        format!("{text} {}", UNITS[unit])
    })
}

/// A throughput for reading: [`bytes`] per second, `114 kB/s`, `1.5 MB/s`.
pub fn rate(bytes_per_second: impl Amount) -> String {
    format!("{}/s", bytes(bytes_per_second))
}

/// A size as a setting takes it: in the largest unit that keeps it exact, without a
/// space (`4GB`, `1536MB`, `20560kB`, `100B`). For `ALTER SYSTEM`, `SET` and the values
/// of fixes and `pgsage tune`; [`bytes`] is for reading.
pub fn setting_bytes(n: u64) -> String {
    if n >= GB && n.checked_rem(GB) == Some(0) {
        format!("{}GB", n / GB)
    } else if n >= MB && n.checked_rem(MB) == Some(0) {
        format!("{}MB", n / MB)
    } else if n.checked_rem(KB) == Some(0) {
        format!("{}kB", n / KB)
    } else {
        format!("{n}B")
    }
}

/// A length of time for reading, from seconds: `250 ms` below 1 s, `40 s` below 2 min,
/// `12 min` below 2 h, `5 h` below 2 days, `3 d 4 h` from there; one decimal below 10 of
/// a unit (`1.5 s`, `3.5 h`), two below 1 ms (`0.05 ms`, `<0.01 ms` for less but not
/// zero). Negative durations (clock skew) read as zero.
pub fn duration(seconds: impl Amount) -> String {
    let s = seconds.to_f64();
    if s.is_nan() || s <= 0.0 {
        return "0 ms".to_owned();
    }
    let ms = s * 1000.0;
    if ms < 1.0 {
        let hundredths = (ms * 100.0).round() / 100.0;
        if hundredths == 0.0 {
            return "<0.01 ms".to_owned();
        }
        if hundredths < 1.0 {
            let text = format!("{hundredths:.2}");
            return format!("{} ms", text.trim_end_matches('0'));
        }
    }
    if rounded(ms) < 1000.0 {
        return format!("{} ms", reading(ms));
    }
    if rounded(s) < 120.0 {
        return format!("{} s", reading(s));
    }
    let min = s / 60.0;
    if rounded(min) < 120.0 {
        return format!("{} min", reading(min));
    }
    let h = s / 3600.0;
    if rounded(h) < 48.0 {
        return format!("{} h", reading(h));
    }
    let hours = h.round() as u64;
    match (hours / 24, hours % 24) {
        (d, 0) => format!("{} d", group(i128::from(d))),
        (d, h) => format!("{} d {h} h", group(i128::from(d))),
    }
}

/// [`duration`] from milliseconds (plan and statement timings): `0.12 ms`, `2.5 ms`,
/// `350 ms`, `4.1 s`.
pub fn millis(ms: impl Amount) -> String {
    duration(ms.to_f64() / 1000.0)
}

/// A count: an integer with thousands separators, `1,942`, `27,409,133` (a float is
/// rounded to the nearest integer).
pub fn count(n: impl Amount) -> String {
    group(n.to_i128())
}

/// A count with its noun, singular for one: `1 index`, `3 indexes`, `1,200 rows`.
pub fn counted(n: impl Amount, singular: &str, plural: &str) -> String {
    let text = count(n);
    if text == "1" {
        format!("1 {singular}")
    } else {
        format!("{text} {plural}")
    }
}

/// A percentage, from percentage points: `99%`, `12%`, `2.5%`, `<0.1%` for a tiny
/// non-zero value, `0%` for zero. One decimal below 10, integer from 10 — and, as the
/// mirror of the small end, one decimal from 90 up to 100, where the tenths matter as
/// much (`98.7%` against a 99% cache-hit threshold, a sequence at `97.8%` of its
/// maximum); a value below 100 never reads `100%` (`>99.9%`).
pub fn percent(points: f64) -> String {
    if points.is_nan() {
        return "?%".to_owned();
    }
    signed(points, |p| {
        if p == 0.0 {
            return "0%".to_owned();
        }
        let tenths = (p * 10.0).round() / 10.0;
        if tenths == 0.0 {
            return "<0.1%".to_owned();
        }
        if (90.0..100.0).contains(&p) {
            return if tenths >= 100.0 {
                ">99.9%".to_owned()
            } else {
                format!("{}%", tenths_text(tenths))
            };
        }
        format!("{}%", reading(p))
    })
}

/// A fraction (0.25) as a percentage ([`percent`]): `25%`.
pub fn share(fraction: f64) -> String {
    percent(fraction * 100.0)
}

/// A measured value as evidence shows it: rounded to two decimals (trailing zeros
/// dropped), thousands separators in the integer part: `2,100,000,000`, `19,672.46`,
/// `0.25`, `30`. Unlike [`number`], it keeps two decimals at any size, so a scale factor
/// (`0.01`) or a ratio stays exact enough to act on.
pub fn decimal(x: impl Amount) -> String {
    let x = x.to_f64();
    if !x.is_finite() {
        return "?".to_owned();
    }
    let hundredths = (x * 100.0).round() as i128;
    if hundredths == 0 {
        return "0".to_owned();
    }
    let whole = group(hundredths.abs() / 100);
    let sign = if hundredths < 0 { "-" } else { "" };
    match hundredths.abs() % 100 {
        0 => format!("{sign}{whole}"),
        f if f % 10 == 0 => format!("{sign}{whole}.{}", f / 10),
        f => format!("{sign}{whole}.{f:02}"),
    }
}

/// Any other quantity rounded for reading: `0.5`, `3.2`, `12`, `1,500` (a ratio, a rate
/// of events, a cost).
pub fn number(x: impl Amount) -> String {
    let x = x.to_f64();
    if !x.is_finite() {
        return "?".to_owned();
    }
    signed(x, reading)
}

#[cfg(test)]
mod tests {

    #[test]
    fn decimals_are_grouped_and_rounded_to_hundredths() {
        use super::decimal;
        assert_eq!(decimal(2_100_000_000.0), "2,100,000,000");
        assert_eq!(decimal(19_672.456), "19,672.46");
        assert_eq!(decimal(0.25), "0.25");
        assert_eq!(decimal(0.5), "0.5");
        assert_eq!(decimal(0.05), "0.05");
        assert_eq!(decimal(30.0), "30");
        assert_eq!(decimal(-1234.5), "-1,234.5");
        assert_eq!(decimal(0.001), "0");
        assert_eq!(decimal(f64::NAN), "?");
    }

    #[test]
    fn counted_nouns_agree_with_their_number() {
        assert_eq!(counted(1, "index", "indexes"), "1 index");
        assert_eq!(counted(1.0, "worker", "workers"), "1 worker");
        assert_eq!(counted(0, "index", "indexes"), "0 indexes");
        assert_eq!(counted(1200, "row", "rows"), "1,200 rows");
    }

    use super::*;

    #[test]
    fn bytes_read_like_pg_size_pretty() {
        assert_eq!(bytes(0), "0 bytes");
        assert_eq!(bytes(512), "512 bytes");
        assert_eq!(bytes(1023.4), "1023 bytes");
        assert_eq!(bytes(1023.6), "1 kB");
        assert_eq!(bytes(1536), "1.5 kB");
        assert_eq!(bytes(9.5 * MB as f64), "9.5 MB");
        assert_eq!(bytes(9.96 * MB as f64), "10 MB");
        assert_eq!(bytes(122 * MB), "122 MB");
        assert_eq!(bytes(1.2 * GB as f64), "1.2 GB");
        assert_eq!(bytes(4 * GB), "4 GB");
        assert_eq!(bytes(12 * GB), "12 GB");
        assert_eq!(bytes(1023 * MB + 900 * KB), "1 GB");
        assert_eq!(bytes(3 * GB * 1024), "3 TB");
        assert_eq!(bytes(2048 * GB * 1024), "2048 TB");
        assert_eq!(bytes(1000 * KB), "1000 kB");
        assert_eq!(bytes(20_000 * GB * 1024), "20,000 TB");
        assert_eq!(bytes(-5 * MB as i64), "-5 MB");
        assert_eq!(bytes(f64::NAN), "? bytes");
        for n in [1u64, 1000, 5 << 20, 7 << 30, 123_456_789] {
            let text = bytes(n);
            assert!(!text.contains("iB"), "{text}");
            assert!(text.contains(' '), "{text}");
        }
    }

    #[test]
    fn rates_are_bytes_per_second() {
        assert_eq!(rate(114.0 * 1024.0), "114 kB/s");
        assert_eq!(rate(1.5 * MB as f64), "1.5 MB/s");
    }

    #[test]
    fn setting_bytes_is_exact() {
        assert_eq!(setting_bytes(4 * GB), "4GB");
        assert_eq!(setting_bytes(1536 * MB), "1536MB");
        assert_eq!(setting_bytes(20560 * KB), "20560kB");
        assert_eq!(setting_bytes(3932 * KB), "3932kB");
        assert_eq!(setting_bytes(100), "100B");
        assert_eq!(setting_bytes(0), "0kB");
        // What a setting takes back: PostgreSQL's parser reads the same number.
        for n in [4 * GB, 1536 * MB, 20560 * KB, 64 * KB] {
            assert_eq!(crate::host::parse_size(&setting_bytes(n)), Ok(n));
        }
    }

    #[test]
    fn durations_pick_a_unit() {
        assert_eq!(duration(0.25), "250 ms");
        assert_eq!(duration(0.0025), "2.5 ms");
        assert_eq!(duration(0.00005), "0.05 ms");
        assert_eq!(duration(0.0005), "0.5 ms");
        assert_eq!(duration(0.000_001), "<0.01 ms");
        assert_eq!(duration(0.0), "0 ms");
        assert_eq!(duration(-3.0), "0 ms");
        assert_eq!(duration(0.9996), "1 s");
        assert_eq!(duration(1.5), "1.5 s");
        assert_eq!(duration(40), "40 s");
        assert_eq!(duration(119.7), "2 min");
        assert_eq!(duration(150), "2.5 min");
        assert_eq!(duration(12 * 60), "12 min");
        assert_eq!(duration(119 * 60), "119 min");
        assert_eq!(duration(3.5 * 3600.0), "3.5 h");
        assert_eq!(duration(5 * 3600), "5 h");
        assert_eq!(duration(47 * 3600), "47 h");
        assert_eq!(duration(2 * 86_400), "2 d");
        assert_eq!(duration(3 * 86_400 + 4 * 3600), "3 d 4 h");
        assert_eq!(duration(1500 * 86_400), "1,500 d");
    }

    #[test]
    fn millis_are_durations() {
        assert_eq!(millis(0.123), "0.12 ms");
        assert_eq!(millis(2.5), "2.5 ms");
        assert_eq!(millis(350.4), "350 ms");
        assert_eq!(millis(4100), "4.1 s");
        assert_eq!(millis(12.0 * 60_000.0), "12 min");
    }

    #[test]
    fn counts_have_separators() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1942), "1,942");
        assert_eq!(count(27_409_133u64), "27,409,133");
        assert_eq!(count(1_234_567.4), "1,234,567");
        assert_eq!(count(-1200i64), "-1,200");
        assert_eq!(count(i64::MAX), "9,223,372,036,854,775,807");
    }

    #[test]
    fn percentages() {
        assert_eq!(percent(0.0), "0%");
        assert_eq!(percent(0.01), "<0.1%");
        assert_eq!(percent(2.5), "2.5%");
        assert_eq!(percent(3.0), "3%");
        assert_eq!(percent(9.96), "10%");
        assert_eq!(percent(12.4), "12%");
        assert_eq!(percent(89.6), "90%");
        assert_eq!(percent(93.14), "93.1%");
        assert_eq!(percent(98.66), "98.7%");
        assert_eq!(percent(99.0), "99%");
        assert_eq!(percent(99.04), "99%");
        assert_eq!(percent(99.7), "99.7%");
        assert_eq!(percent(99.97), ">99.9%");
        assert_eq!(percent(100.0), "100%");
        assert_eq!(percent(250.0), "250%");
        assert_eq!(percent(-40.0), "-40%");
        assert_eq!(share(0.25), "25%");
        assert_eq!(share(0.025), "2.5%");
    }

    #[test]
    fn numbers_round_for_reading() {
        assert_eq!(number(0.5), "0.5");
        assert_eq!(number(3.0), "3");
        assert_eq!(number(12.6), "13");
        assert_eq!(number(1500), "1,500");
        assert_eq!(number(12_345), "12,345");
        assert_eq!(number(-2.25), "-2.3");
    }
}
