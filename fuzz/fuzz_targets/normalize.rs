//! The statement normalizer on arbitrary input: no panic, no hang; the display text
//! fingerprints like the statement; bytes and text give the same fingerprint.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pgsage_core::workload::fingerprint::{
    analyze_bytes, fingerprint, fingerprint_bytes, normalize,
};

fuzz_target!(|data: &[u8]| {
    let a = analyze_bytes(data);
    assert_eq!(a.fingerprint, fingerprint_bytes(data));
    let Ok(sql) = std::str::from_utf8(data) else {
        return;
    };
    assert_eq!(fingerprint(sql), a.fingerprint);
    let text = normalize(sql);
    assert_eq!(fingerprint(&text), a.fingerprint, "{sql:?} -> {text:?}");
});
