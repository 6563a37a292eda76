//! Snapshots for the unit tests: the captured demo snapshot, with settings planted.
#![allow(clippy::unwrap_used)]

use crate::snapshot::{Setting, Snapshot};

/// The demo snapshot (`testdata/snapshots/demo.json`, captured by
/// `scripts/make-demo-snapshot.sh`).
pub(crate) fn demo() -> Snapshot {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/snapshots/demo.json"
    );
    Snapshot::load(path).unwrap()
}

/// Sets (or adds) a server setting.
pub(crate) fn set(s: &mut Snapshot, name: &str, value: &str) {
    match s.settings.iter_mut().find(|x| x.name == name) {
        Some(x) => x.setting = value.into(),
        None => s.settings.push(Setting {
            name: name.into(),
            setting: value.into(),
            unit: None,
            vartype: "real".into(),
            source: "default".into(),
            context: "sighup".into(),
            boot_val: None,
            reset_val: None,
            pending_restart: false,
        }),
    }
}

/// Removes a server setting, as on a version that lacks it.
pub(crate) fn unset(s: &mut Snapshot, name: &str) {
    s.settings.retain(|x| x.name != name);
}
