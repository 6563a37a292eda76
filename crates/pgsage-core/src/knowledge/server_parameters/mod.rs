//! How each platform lets a user change a server parameter: through `ALTER SYSTEM` on a
//! self-managed server, through the provider's CLI on a managed service (`az postgres
//! flexible-server parameter set`, `aws rds modify-db-parameter-group`, `gcloud sql
//! instances patch --database-flags`), in the unit and value form the provider takes; and
//! which parameters a platform does not let users change at all, with what they can do
//! instead.
//!
//! Three steps, so that merging several fixes renders one set of commands:
//! 1. [`PlatformFix::plan`] turns setting changes (as `ALTER SYSTEM` takes them) into
//!    [`PlatformSetting`]s: the value converted to the provider's unit ([`convert`]), the
//!    parameter group it belongs to (Aurora's cluster or instance group), or why the
//!    platform refuses it ([`rules`]). This needs the snapshot (units, current values).
//! 2. [`PlatformFix::merge`] joins the plans of several fixes, each setting once.
//! 3. [`commands`] renders the shell commands and the notes that go with them, from the
//!    planned settings alone.

pub mod commands;
pub mod convert;
pub mod rules;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

use crate::snapshot::{Platform, Snapshot};

/// A server setting a fix changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingChange {
    /// Parameter name, e.g. `max_wal_size`.
    pub name: String,
    /// The value as `ALTER SYSTEM` takes it: `4GB`, `0.9`, `on`, `15min`.
    pub value: String,
    /// Whether it takes effect on reload or needs a restart.
    pub restart: bool,
}

/// Which of the provider's parameter groups holds a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ParameterGroup {
    /// The server's (Azure server parameters, RDS DB parameter group, Cloud SQL flags).
    #[default]
    Instance,
    /// Aurora's DB cluster parameter group: applies to every instance of the cluster.
    Cluster,
}

/// One setting change as the platform takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformSetting {
    /// Parameter name.
    pub name: String,
    /// The value as `ALTER SYSTEM` takes it (`4GB`), what the findings and `tune` say.
    pub value: String,
    /// The value as the provider's API takes it (`524288`, in `unit`).
    pub provider_value: String,
    /// The unit of `provider_value` (`8kB`, `kB`, `MB`, `ms`, `s`), when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Whether the server must restart for it to take effect.
    pub restart: bool,
    /// The parameter group it is set in.
    #[serde(default)]
    pub group: ParameterGroup,
}

/// A change the platform does not let users make, and what they can do instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotAllowed {
    /// Parameter name.
    pub name: String,
    /// The value the advice wanted.
    pub value: String,
    /// Why the platform refuses it.
    pub why: String,
    /// What the user can do instead.
    pub instead: String,
}

/// How a fix's setting changes are applied on a managed platform: the settings in the
/// provider's form, the commands that set them, what to know before running them, and
/// the changes the platform does not allow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformFix {
    /// The platform.
    pub platform: Platform,
    /// The settings to set, in the provider's units.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub settings: Vec<PlatformSetting>,
    /// The shell commands that set them, in order, with `<placeholders>` to fill in
    /// (`<rg>`, `<server>`, `<parameter-group>`, `<instance>`): values pgsage cannot know
    /// are never guessed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<String>,
    /// What to know before running them (placeholders, default parameter groups, flags
    /// that a command replaces).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Changes the platform does not let users make.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_allowed: Vec<NotAllowed>,
    /// Cloud SQL and AlloyDB: the flags the instance may have set now, which a
    /// `--database-flags` command must repeat to keep (`name=value`, from the settings the
    /// server's configuration sets).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keep_flags: Vec<String>,
}

impl PlatformFix {
    /// How `changes` are applied on `platform`; `None` on a self-managed server, where
    /// `ALTER SYSTEM` does it.
    pub fn plan(
        platform: Platform,
        changes: &[SettingChange],
        snapshot: Option<&Snapshot>,
    ) -> Option<PlatformFix> {
        if !platform.is_managed() {
            return None;
        }
        let mut fix = PlatformFix {
            platform,
            settings: Vec::new(),
            commands: Vec::new(),
            notes: Vec::new(),
            not_allowed: Vec::new(),
            keep_flags: Vec::new(),
        };
        for change in changes {
            match rules::access(platform, &change.name) {
                rules::Access::Refused { why, instead } => fix.not_allowed.push(NotAllowed {
                    name: change.name.clone(),
                    value: change.value.clone(),
                    why: why.to_owned(),
                    instead: instead.to_owned(),
                }),
                rules::Access::Settable(group) => {
                    let converted = convert::to_provider(platform, snapshot, change);
                    fix.settings.push(PlatformSetting {
                        name: change.name.clone(),
                        value: change.value.clone(),
                        provider_value: converted.value,
                        unit: converted.unit,
                        restart: change.restart,
                        group,
                    });
                }
            }
        }
        if let Some(snapshot) = snapshot.filter(|_| commands::replaces_all_flags(platform)) {
            fix.keep_flags = keep_flags(snapshot, platform, &fix.settings);
        }
        fix.render();
        Some(fix)
    }

    /// The plans of several fixes as one: each setting once (the first value wins: one
    /// setting has one value across a report), each refusal once, commands rendered anew
    /// (Cloud SQL takes every flag in one command).
    pub fn merge<'a>(fixes: impl IntoIterator<Item = &'a PlatformFix>) -> Option<PlatformFix> {
        let mut merged: Option<PlatformFix> = None;
        for f in fixes {
            let m = merged.get_or_insert_with(|| PlatformFix {
                platform: f.platform,
                settings: Vec::new(),
                commands: Vec::new(),
                notes: Vec::new(),
                not_allowed: Vec::new(),
                keep_flags: Vec::new(),
            });
            for s in &f.settings {
                if !m.settings.iter().any(|x| x.name == s.name) {
                    m.settings.push(s.clone());
                }
            }
            for n in &f.not_allowed {
                if !m.not_allowed.iter().any(|x| x.name == n.name) {
                    m.not_allowed.push(n.clone());
                }
            }
            for k in &f.keep_flags {
                let name = k.split('=').next().unwrap_or(k);
                if !m.keep_flags.contains(k) && !m.settings.iter().any(|s| s.name == name) {
                    m.keep_flags.push(k.clone());
                }
            }
        }
        if let Some(m) = merged.as_mut() {
            let set: Vec<String> = m.settings.iter().map(|s| s.name.clone()).collect();
            m.keep_flags
                .retain(|k| !set.iter().any(|n| k.split('=').next() == Some(n.as_str())));
            m.render();
        }
        merged
    }

    /// Renders `commands` and `notes` from the settings.
    fn render(&mut self) {
        let rendered = commands::render(self.platform, &self.settings, &self.keep_flags);
        self.commands = rendered.commands;
        self.notes = rendered.notes;
    }

    /// The line that introduces the commands: `Server parameters, with the Azure CLI (az)
    /// in a shell (not psql):`.
    pub fn heading(&self) -> String {
        format!(
            "Server parameters, with {} in a shell (not psql):",
            commands::cli_name(self.platform)
        )
    }

    /// One line per refused change: `fsync = off: read-only on Azure flexible server
    /// (only on is allowed); instead: nothing to change: …`.
    pub fn refusal_lines(&self) -> Vec<String> {
        self.not_allowed
            .iter()
            .map(|n| {
                format!(
                    "{} = {}: {}; instead: {}",
                    n.name, n.value, n.why, n.instead
                )
            })
            .collect()
    }

    /// Whether any setting needs the server restarted.
    pub fn needs_restart(&self) -> bool {
        self.settings.iter().any(|s| s.restart)
    }
}

/// How to make `extension` creatable and create it on `platform`, for advice text: the
/// provider's commands that allow it first (Azure's `azure.extensions`, its current list
/// kept), then `CREATE EXTENSION`. One line per step.
pub fn enable_extension_steps(
    platform: Platform,
    snapshot: Option<&Snapshot>,
    extension: &str,
) -> Vec<String> {
    let mut steps = Vec::new();
    if let Some(allow) = rules::allow_extensions(platform, snapshot, &[extension.to_owned()]) {
        if let Some(fix) = PlatformFix::plan(platform, &[allow], snapshot) {
            steps.extend(fix.commands);
        }
    }
    steps.push(format!(
        "CREATE EXTENSION {};",
        crate::sql::quote_ident(extension)
    ));
    steps
}

/// The settings the server's configuration sets (`source = configuration file`), other
/// than those being changed: on Cloud SQL the flags are among them, and a
/// `--database-flags` command that leaves one out resets it.
fn keep_flags(
    snapshot: &Snapshot,
    snapshot_platform: Platform,
    changing: &[PlatformSetting],
) -> Vec<String> {
    let mut flags: Vec<String> = snapshot
        .settings
        .iter()
        .filter(|s| s.source == "configuration file")
        .filter(|s| !changing.iter().any(|c| c.name == s.name))
        .filter(|s| rules::is_user_flag(&s.name))
        // A parameter the platform refuses is no flag of the instance.
        .filter(|s| {
            matches!(
                rules::access(snapshot_platform, &s.name),
                rules::Access::Settable(_)
            )
        })
        .map(|s| format!("{}={}", s.name, s.setting))
        .collect();
    flags.sort();
    flags
}
