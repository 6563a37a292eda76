//! The shell commands that set server parameters on a managed platform, in the form each
//! provider's CLI documents:
//! - Azure: `az postgres flexible-server parameter set --resource-group <rg> --server-name
//!   <server> --name <param> --value <value>`, one per parameter, then `az postgres
//!   flexible-server restart --resource-group <rg> --name <server>` when one needs it
//!   (<https://learn.microsoft.com/cli/azure/postgres/flexible-server/parameter>);
//! - RDS and Aurora: `aws rds modify-db-parameter-group --db-parameter-group-name <group>
//!   --parameters "ParameterName=…,ParameterValue=…,ApplyMethod=immediate|pending-reboot"`
//!   (at most 20 parameters per call), Aurora's cluster-level parameters with
//!   `modify-db-cluster-parameter-group`, then `aws rds reboot-db-instance`
//!   (<https://docs.aws.amazon.com/cli/latest/reference/rds/modify-db-parameter-group.html>);
//! - Cloud SQL: one `gcloud sql instances patch <instance> --database-flags=a=1,b=2`, which
//!   replaces every flag of the instance (<https://cloud.google.com/sql/docs/postgres/flags>);
//!   AlloyDB: `gcloud alloydb instances update` with the same flag semantics.
//!
//! Values pgsage cannot know (resource group, server, parameter group, instance, the
//! flags set now) are `<placeholders>` that stay visible.

use super::{ParameterGroup, PlatformSetting};
use crate::snapshot::Platform;

/// Commands and the notes that go with them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rendered {
    /// Shell commands, in order.
    pub commands: Vec<String>,
    /// What to know before running them.
    pub notes: Vec<String>,
}

/// The most parameters one `modify-db-parameter-group` call takes.
pub const RDS_PARAMETERS_PER_CALL: usize = 20;

/// The placeholder for the flags a Cloud SQL or AlloyDB instance has now.
pub const FLAGS_SET_NOW: &str = "<flags set now>";

/// The provider's command-line tool, for reading: `the Azure CLI (az)`.
pub fn cli_name(platform: Platform) -> &'static str {
    match platform {
        Platform::AzureFlexibleServer => "the Azure CLI (az)",
        Platform::AwsRds | Platform::AwsAurora => "the AWS CLI (aws)",
        Platform::GcpCloudSql | Platform::GcpAlloydb => "the Google Cloud CLI (gcloud)",
        Platform::SelfManaged => "psql (ALTER SYSTEM)",
    }
}

/// The provider's command: `az`, `aws`, `gcloud`.
pub fn cli_command(platform: Platform) -> &'static str {
    match platform {
        Platform::AzureFlexibleServer => "az",
        Platform::AwsRds | Platform::AwsAurora => "aws",
        Platform::GcpCloudSql | Platform::GcpAlloydb => "gcloud",
        Platform::SelfManaged => "psql",
    }
}

/// Whether the platform's command replaces every flag (so the command must repeat those
/// set now).
pub fn replaces_all_flags(platform: Platform) -> bool {
    matches!(platform, Platform::GcpCloudSql | Platform::GcpAlloydb)
}

/// A word as a POSIX shell reads it: bare when it holds no character the shell treats
/// specially (placeholders such as `<rg>` stay bare: they are to be replaced), else in
/// single quotes.
pub fn shell_word(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_.,:/=@%+-^".contains(c);
    if !word.is_empty() && (word.chars().all(safe) || is_placeholder(word)) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

fn is_placeholder(word: &str) -> bool {
    word.starts_with('<') && word.ends_with('>') && !word[1..word.len() - 1].contains(['<', '>'])
}

/// The commands that set `settings` on `platform` (`keep_flags`: the flags Cloud SQL
/// must be given again).
pub fn render(platform: Platform, settings: &[PlatformSetting], keep_flags: &[String]) -> Rendered {
    if settings.is_empty() {
        return Rendered::default();
    }
    // What applies at once first (switching a pooler on before the applications move to
    // it), what waits for the restart last, next to the restart.
    let mut ordered: Vec<PlatformSetting> = settings.to_vec();
    ordered.sort_by_key(|s| s.restart);
    let settings = ordered.as_slice();
    match platform {
        Platform::AzureFlexibleServer => azure(settings),
        Platform::AwsRds | Platform::AwsAurora => aws(platform, settings),
        Platform::GcpCloudSql | Platform::GcpAlloydb => gcloud(platform, settings, keep_flags),
        Platform::SelfManaged => Rendered::default(),
    }
}

/// The settings that need a restart, for a sentence: `shared_buffers takes` or
/// `shared_buffers, max_connections take`; `None` when none does.
fn restart_subject(settings: &[PlatformSetting]) -> Option<String> {
    let names: Vec<&str> = settings
        .iter()
        .filter(|s| s.restart)
        .map(|s| s.name.as_str())
        .collect();
    match names.as_slice() {
        [] => None,
        [one] => Some(format!("{one} takes")),
        many => Some(format!("{} take", many.join(", "))),
    }
}

fn azure(settings: &[PlatformSetting]) -> Rendered {
    let mut commands: Vec<String> = settings
        .iter()
        .map(|s| {
            format!(
                "az postgres flexible-server parameter set --resource-group <rg> --server-name <server> --name {} --value {}",
                shell_word(&s.name),
                shell_word(&s.provider_value)
            )
        })
        .collect();
    let mut notes = vec![
        "Replace <rg> with the server's resource group and <server> with its name.".to_owned(),
    ];
    if let Some(subject) = restart_subject(settings) {
        commands.push(
            "az postgres flexible-server restart --resource-group <rg> --name <server>".to_owned(),
        );
        notes.push(format!(
            "{subject} effect only at the restart (the last command; the server is unavailable while it restarts)."
        ));
    }
    Rendered { commands, notes }
}

/// One `--parameters` entry in the AWS CLI's shorthand syntax, as one shell word.
fn aws_parameter(s: &PlatformSetting) -> String {
    // The shorthand splits on commas: a value with one is quoted inside the entry.
    let value = if s.provider_value.contains([',', '=', '"', ' ']) {
        format!("\"{}\"", s.provider_value.replace('"', "\\\""))
    } else {
        s.provider_value.clone()
    };
    let method = if s.restart {
        "pending-reboot"
    } else {
        "immediate"
    };
    shell_word(&format!(
        "ParameterName={},ParameterValue={value},ApplyMethod={method}",
        s.name
    ))
}

fn aws(platform: Platform, settings: &[PlatformSetting]) -> Rendered {
    let mut commands = Vec::new();
    for (group, command, option, placeholder) in [
        (
            ParameterGroup::Cluster,
            "modify-db-cluster-parameter-group",
            "--db-cluster-parameter-group-name",
            "<cluster-parameter-group>",
        ),
        (
            ParameterGroup::Instance,
            "modify-db-parameter-group",
            "--db-parameter-group-name",
            "<parameter-group>",
        ),
    ] {
        let in_group: Vec<&PlatformSetting> =
            settings.iter().filter(|s| s.group == group).collect();
        for chunk in in_group.chunks(RDS_PARAMETERS_PER_CALL) {
            let parameters: Vec<String> = chunk.iter().map(|s| aws_parameter(s)).collect();
            commands.push(format!(
                "aws rds {command} {option} {placeholder} --parameters {}",
                parameters.join(" ")
            ));
        }
    }
    let uses_cluster = settings.iter().any(|s| s.group == ParameterGroup::Cluster);
    let uses_instance = settings.iter().any(|s| s.group == ParameterGroup::Instance);
    let mut notes = Vec::new();
    if uses_instance {
        let default = if platform == Platform::AwsAurora {
            "default.aurora-postgresql16"
        } else {
            "default.postgres16"
        };
        notes.push(format!(
            "Replace <parameter-group> with the instance's DB parameter group (aws rds describe-db-instances --db-instance-identifier <instance> --query 'DBInstances[0].DBParameterGroups'). A default group ({default} …) cannot be modified: create one with aws rds create-db-parameter-group, attach it with aws rds modify-db-instance --db-parameter-group-name, then run these."
        ));
    }
    if uses_cluster {
        notes.push(
            "Replace <cluster-parameter-group> with the cluster's DB cluster parameter group (aws rds describe-db-clusters --db-cluster-identifier <cluster> --query 'DBClusters[0].DBClusterParameterGroup'); a default one cannot be modified: create one with aws rds create-db-cluster-parameter-group and attach it with aws rds modify-db-cluster first."
                .to_owned(),
        );
    }
    if let Some(subject) = restart_subject(settings) {
        commands.push("aws rds reboot-db-instance --db-instance-identifier <instance>".to_owned());
        notes.push(format!(
            "{subject} effect only at the reboot (the last command; ApplyMethod=pending-reboot){}.",
            if platform == Platform::AwsAurora {
                "; reboot each instance of the cluster"
            } else {
                ""
            }
        ));
    }
    Rendered { commands, notes }
}

fn gcloud(platform: Platform, settings: &[PlatformSetting], keep_flags: &[String]) -> Rendered {
    let mut flags: Vec<String> = vec![FLAGS_SET_NOW.to_owned()];
    flags.extend(
        settings
            .iter()
            .map(|s| format!("{}={}", s.name, s.provider_value)),
    );
    // gcloud's list syntax: a value with a comma needs another delimiter (`^:^a=1:b=x,y`).
    let list = if settings.iter().any(|s| s.provider_value.contains(',')) {
        format!("^:^{}", flags.join(":"))
    } else {
        flags.join(",")
    };
    let (command, target) = match platform {
        Platform::GcpAlloydb => (
            "gcloud alloydb instances update",
            "<instance> --cluster=<cluster> --region=<region>",
        ),
        _ => ("gcloud sql instances patch", "<instance>"),
    };
    let commands = vec![format!(
        "{command} {target} --database-flags={}",
        shell_word(&list)
    )];
    let describe = match platform {
        Platform::GcpAlloydb => {
            "gcloud alloydb instances describe <instance> --cluster=<cluster> --region=<region> --format='value(databaseFlags)'"
        }
        _ => "gcloud sql instances describe <instance> --format='value(settings.databaseFlags)'",
    };
    let mut notes = vec![format!(
        "--database-flags replaces every flag of the instance: a flag left out returns to its default. Replace {FLAGS_SET_NOW} with the flags the instance has now (read them with {describe}), or remove it when there are none."
    )];
    if !keep_flags.is_empty() {
        const SHOWN: usize = 25;
        let mut listed = keep_flags
            .iter()
            .take(SHOWN)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if keep_flags.len() > SHOWN {
            listed.push_str(&format!(" and {} more", keep_flags.len() - SHOWN));
        }
        notes.push(format!(
            "The server's configuration sets these, the flags among them must be kept: {listed}."
        ));
    }
    if let Some(subject) = restart_subject(settings) {
        notes.push(format!(
            "{subject} effect only after a restart: the service restarts the instance when it applies the command."
        ));
    }
    Rendered { commands, notes }
}
