//! Settings changed between two snapshots, with values as `SHOW` prints them, and those
//! waiting for a restart.
//!
//! `pg_settings.setting` keeps the running value of a parameter changed in the
//! configuration that needs a restart; `pending_restart` is what says the change was
//! made. Both are reported.
//!
//! The collector's own session sets some parameters (`statement_timeout`,
//! `application_name`, …: source `session`), and the client's connection others
//! (`client_encoding`, `DateStyle`: source `client`). Those are not the server's: a
//! session value is compared by the value it replaced (`reset_val`), and a client one
//! not at all, so another `--timeout` or client is not a change of the server.

use serde::{Deserialize, Serialize};

use crate::snapshot::{Setting, Snapshot};

/// A setting that differs between the snapshots, or waits for a restart in the new one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangedSetting {
    /// Parameter name.
    pub name: String,
    /// The old value as `SHOW` prints it (`128MB`, `1min`, `on`); absent when the
    /// parameter did not exist then (an extension loaded since, an upgrade).
    pub old: Option<String>,
    /// The new value as `SHOW` prints it; absent when the parameter is gone.
    pub new: Option<String>,
    /// Where the new value comes from (`configuration file`, `default`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// `postmaster` (a restart applies it), `sighup` (a reload), `user`, ….
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// Changed in the configuration but waiting for a restart: the running value is
    /// still `new`.
    pub pending_restart: bool,
}

/// Every setting whose value changed, that appeared or disappeared, or that waits for a
/// restart in `new`; by name.
pub fn changed(old: &Snapshot, new: &Snapshot) -> Vec<ChangedSetting> {
    let mut out = Vec::new();
    let servers =
        |s: &Snapshot| -> Vec<Setting> { s.settings.iter().filter_map(server_value).collect() };
    let (old_settings, new_settings) = (servers(old), servers(new));
    let find = |list: &'_ [Setting], name: &str| list.iter().find(|s| s.name == name).cloned();
    for n in &new_settings {
        // Set by the client's connection in the old snapshot: not comparable.
        if old
            .setting(&n.name)
            .is_some_and(|o| server_value(o).is_none())
        {
            continue;
        }
        let o = find(&old_settings, &n.name);
        let o = o.as_ref();
        let value_changed = o.is_none_or(|o| o.setting != n.setting || o.unit != n.unit);
        if value_changed || n.pending_restart {
            out.push(ChangedSetting {
                name: n.name.clone(),
                old: o.map(shown),
                new: Some(shown(n)),
                source: Some(n.source.clone()),
                context: Some(n.context.clone()),
                pending_restart: n.pending_restart,
            });
        }
    }
    for o in &old_settings {
        if new.setting(&o.name).is_none() {
            out.push(ChangedSetting {
                name: o.name.clone(),
                old: Some(shown(o)),
                new: None,
                source: None,
                context: None,
                pending_restart: false,
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The server's value of a setting: the value a session `SET` replaced for one the
/// collector's session set, none for one the client's connection set.
fn server_value(s: &Setting) -> Option<Setting> {
    match s.source.as_str() {
        "client" => None,
        "session" => Some(Setting {
            setting: s.reset_val.clone()?,
            source: "as before the collector's session SET".into(),
            ..s.clone()
        }),
        _ => Some(s.clone()),
    }
}

/// The value as `SHOW` prints it ([`crate::tune::current_text`], the one formatter of a
/// setting's value).
pub fn shown(s: &Setting) -> String {
    crate::tune::current_text(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setting(value: &str, unit: Option<&str>) -> Setting {
        Setting {
            name: "x".into(),
            setting: value.into(),
            unit: unit.map(Into::into),
            vartype: "integer".into(),
            source: "default".into(),
            context: "user".into(),
            boot_val: None,
            reset_val: None,
            pending_restart: false,
        }
    }

    #[test]
    fn values_read_as_show_prints_them() {
        assert_eq!(shown(&setting("16384", Some("8kB"))), "128MB");
        assert_eq!(shown(&setting("4096", Some("kB"))), "4MB");
        assert_eq!(shown(&setting("60", Some("s"))), "1min");
        assert_eq!(shown(&setting("200", Some("ms"))), "200ms");
        assert_eq!(shown(&setting("-1", Some("kB"))), "-1");
        assert_eq!(shown(&setting("0", Some("ms"))), "0");
        assert_eq!(shown(&setting("on", None)), "on");
        assert_eq!(shown(&setting("0.2", None)), "0.2");
    }
}
