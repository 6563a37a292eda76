//! The `storage` pack: large binary data, TOAST-heavy tables, the largest relations and databases.

mod binary_data_in_tables;
mod largest_databases;
mod largest_tables;

pub use binary_data_in_tables::BinaryDataInTables;
pub use largest_databases::LargestDatabases;
pub use largest_tables::LargestTables;

/// This pack's rules.
pub(crate) static RULES: &[super::Rule] = &[
    super::Rule::Snapshot(&BinaryDataInTables),
    super::Rule::Snapshot(&LargestTables),
    super::Rule::Snapshot(&LargestDatabases),
];

/// A size for messages: `1.2 GB`, `340 MB`, `12 kB`.
pub(crate) fn human_bytes(bytes: f64) -> String {
    const UNITS: [&str; 5] = ["bytes", "kB", "MB", "GB", "TB"];
    let mut v = bytes.max(0.0);
    let mut i = 0;
    while v >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{v:.0} {}", UNITS[i])
    } else if v < 10.0 {
        format!("{v:.1} {}", UNITS[i])
    } else {
        format!("{v:.0} {}", UNITS[i])
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn human_bytes_picks_a_unit() {
        assert_eq!(super::human_bytes(512.0), "512 bytes");
        assert_eq!(super::human_bytes(1536.0), "1.5 kB");
        assert_eq!(super::human_bytes(12.0 * 1024.0 * 1024.0 * 1024.0), "12 GB");
    }
}
