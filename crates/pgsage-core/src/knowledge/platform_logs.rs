//! Where each managed platform's server log comes from, and the `log_line_prefix` its
//! lines carry, so that `pgsage workload` and `pgsage plan --log` read them with no
//! guessing ([`crate::workload::log::LogOptions::with_platform`] takes the prefix from
//! here). Every fact cites the provider's documentation next to it; where the provider
//! documents nothing (Cloud SQL's and AlloyDB's prefix), the entry says it was observed
//! in exported entries, and where ([`PrefixRule::Observed`]).
//!
//! Commands keep their placeholders (`<rg>`, `<server>`, `<instance>`, `<project>`):
//! values are never guessed.

use crate::snapshot::Platform;

/// How the provider hands the server log over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogDelivery {
    /// Files in PostgreSQL's stderr format (`log_line_prefix`, then the message),
    /// downloaded with the provider's CLI.
    StderrFiles,
    /// Cloud Logging entries (`gcloud logging read --format=json`: a JSON array, or one
    /// entry per line in a storage export), each server line in `textPayload`.
    CloudLoggingJson,
}

/// Whether users can change the platform's `log_line_prefix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrefixRule {
    /// The provider allows only this value.
    Fixed,
    /// The provider's default; users may change it (a snapshot of the server, or the
    /// prefix named by the user, then wins).
    Default,
    /// Not a setting users can change, and not documented by the provider: observed in
    /// exported log entries (the sources say where).
    Observed,
}

/// One step of getting the log: what it does and the command, with placeholders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogStep {
    /// What the step does.
    pub what: &'static str,
    /// The command.
    pub command: &'static str,
}

/// A platform's server log: where it comes from and how its lines start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlatformLogs {
    /// The platform.
    pub platform: Platform,
    /// The `log_line_prefix` of the lines (for Cloud Logging, of each `textPayload`).
    pub log_line_prefix: &'static str,
    /// Whether users can change it.
    pub prefix_rule: PrefixRule,
    /// How the log is handed over.
    pub delivery: LogDelivery,
    /// Turning statement logging on and fetching the log, in order.
    pub steps: &'static [LogStep],
    /// What else a DBA needs to know.
    pub notes: &'static [&'static str],
    /// The documentation (and, for observed facts, the reports) these facts come from.
    pub sources: &'static [&'static str],
}

/// The prefix of Cloud SQL's and AlloyDB's `textPayload` lines. Older entries (2019–2020)
/// had no timestamp of their own (`[%p]: [%l-1] db=%d,user=%u `), the time being the
/// entry's `timestamp`; the reader of Cloud Logging exports takes both.
pub const GOOGLE_CLOUD_PREFIX: &str = "%m [%p]: [%l-1] db=%d,user=%u ";

/// [`GOOGLE_CLOUD_PREFIX`] without its time, as the `textPayload` of older Cloud SQL
/// entries has it (pgbadger #579, 2020).
pub const GOOGLE_CLOUD_UNTIMED_PREFIX: &str = "[%p]: [%l-1] db=%d,user=%u ";

/// The RDS and Aurora prefix: "Amazon RDS only allows the following value for
/// `log_line_prefix`".
pub const AWS_PREFIX: &str = "%t:%r:%u@%d:[%p]:";

/// Azure Database for PostgreSQL flexible server's default `log_line_prefix`.
pub const AZURE_DEFAULT_PREFIX: &str = "%t-%c-";

/// Every managed platform's log, in the order of [`Platform::ALL`].
pub const PLATFORM_LOGS: &[PlatformLogs] = &[
    PlatformLogs {
        platform: Platform::AzureFlexibleServer,
        // Default `%t-%c-`, parameter type dynamic; log_timezone `UTC`, read-only:
        // https://github.com/MicrosoftDocs/azure-docs/blob/main/articles/postgresql/flexible-server/includes/server-parameters-table-11-reporting-and-logging---what-to-log.md
        log_line_prefix: AZURE_DEFAULT_PREFIX,
        prefix_rule: PrefixRule::Default,
        delivery: LogDelivery::StderrFiles,
        steps: &[
            // logfiles.download_enable: default off; logfiles.retention_days: 1–7, default 3:
            // https://github.com/MicrosoftDocs/azure-docs/blob/main/articles/postgresql/flexible-server/includes/server-parameters-table-15-log-files.md
            LogStep {
                what: "turn on server logs (kept logfiles.retention_days, 1 to 7 days, 3 by default)",
                command: "az postgres flexible-server parameter set --resource-group <rg> --server-name <server> --name logfiles.download_enable --value on",
            },
            // log_min_duration_statement: dynamic, in milliseconds, -1 (off) by default:
            // https://github.com/MicrosoftDocs/azure-docs/blob/main/articles/postgresql/flexible-server/includes/server-parameters-table-11-reporting-and-logging---when-to-log.md
            LogStep {
                what: "log every statement slower than <ms> milliseconds, with its duration",
                command: "az postgres flexible-server parameter set --resource-group <rg> --server-name <server> --name log_min_duration_statement --value <ms>",
            },
            // https://learn.microsoft.com/cli/azure/postgres/flexible-server/server-logs
            LogStep {
                what: "list the log files",
                command: "az postgres flexible-server server-logs list --resource-group <rg> --server-name <server>",
            },
            LogStep {
                what: "download one (the name as listed, with its folder)",
                command: "az postgres flexible-server server-logs download --resource-group <rg> --server-name <server> --name <file>",
            },
        ],
        notes: &[
            "log_line_prefix is a server parameter users may change: a snapshot of the server (or the prefix named by the user) wins over the default.",
            "log_timezone is UTC and read-only.",
            "Log Analytics (the AzureDiagnostics table, category PostgreSQLLogs) stores each message apart from its prefix; pgsage reads the downloaded server log files.",
        ],
        sources: &[
            "https://github.com/MicrosoftDocs/azure-docs/blob/main/articles/postgresql/flexible-server/includes/server-parameters-table-11-reporting-and-logging---what-to-log.md",
            "https://github.com/MicrosoftDocs/azure-docs/blob/main/articles/postgresql/flexible-server/includes/server-parameters-table-15-log-files.md",
            "https://learn.microsoft.com/cli/azure/postgres/flexible-server/server-logs",
            "https://learn.microsoft.com/azure/postgresql/flexible-server/concepts-logging",
        ],
    },
    PlatformLogs {
        platform: Platform::AwsRds,
        // "Amazon RDS only allows the following value for log_line_prefix":
        // https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_LogAccess.Concepts.PostgreSQL.html
        log_line_prefix: AWS_PREFIX,
        prefix_rule: PrefixRule::Fixed,
        delivery: LogDelivery::StderrFiles,
        steps: &[
            LogStep {
                what: "log every statement slower than <ms> milliseconds, with its duration (a custom parameter group: the default one cannot be modified)",
                command: "aws rds modify-db-parameter-group --db-parameter-group-name <group> --parameters \"ParameterName=log_min_duration_statement,ParameterValue=<ms>,ApplyMethod=immediate\"",
            },
            LogStep {
                what: "list the log files (one an hour: log_filename postgresql.log.%Y-%m-%d-%H)",
                command: "aws rds describe-db-log-files --db-instance-identifier <instance>",
            },
            // Marker "0" returns the file from its beginning; the CLI pages through it:
            // https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DownloadDBLogFilePortion.html
            LogStep {
                what: "download one whole file (--starting-token 0: from its beginning, not only its last lines)",
                command: "aws rds download-db-log-file-portion --db-instance-identifier <instance> --log-file-name error/postgresql.log.YYYY-MM-DD-HH --starting-token 0 --output text > postgresql.log.YYYY-MM-DD-HH",
            },
        ],
        notes: &[
            "log_line_prefix is fixed: no snapshot or flag is needed to read RDS logs.",
            "Logs are kept rds.log_retention_period minutes (4,320 by default, 3 days); publish them to CloudWatch Logs to keep them longer.",
            "With log_destination including csvlog, RDS also writes .csv files; pgsage reads them too.",
        ],
        sources: &[
            "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_LogAccess.Concepts.PostgreSQL.html",
            "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_LogAccess.Concepts.PostgreSQL.overview.parameter-groups.html",
            "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DownloadDBLogFilePortion.html",
        ],
    },
    PlatformLogs {
        platform: Platform::AwsAurora,
        // Same prefix as RDS; log_filename postgresql.log.%Y-%m-%d-%H%M:
        // https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_LogAccess.Concepts.PostgreSQL.overview.parameter-groups.html
        log_line_prefix: AWS_PREFIX,
        prefix_rule: PrefixRule::Fixed,
        delivery: LogDelivery::StderrFiles,
        steps: &[
            LogStep {
                what: "log every statement slower than <ms> milliseconds, with its duration (a custom DB cluster parameter group)",
                command: "aws rds modify-db-cluster-parameter-group --db-cluster-parameter-group-name <group> --parameters \"ParameterName=log_min_duration_statement,ParameterValue=<ms>,ApplyMethod=immediate\"",
            },
            LogStep {
                what: "list the log files of one instance of the cluster (the writer and each reader log apart)",
                command: "aws rds describe-db-log-files --db-instance-identifier <instance>",
            },
            LogStep {
                what: "download one whole file (log_filename postgresql.log.%Y-%m-%d-%H%M)",
                command: "aws rds download-db-log-file-portion --db-instance-identifier <instance> --log-file-name error/postgresql.log.YYYY-MM-DD-HHMM --starting-token 0 --output text > postgresql.log.YYYY-MM-DD-HHMM",
            },
        ],
        notes: &[
            "log_line_prefix is fixed, as on RDS.",
            "Each instance of the cluster writes its own log: read the writer's and the readers' files together for the whole workload.",
        ],
        sources: &[
            "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_LogAccess.Concepts.PostgreSQL.overview.parameter-groups.html",
            "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DownloadDBLogFilePortion.html",
        ],
    },
    PlatformLogs {
        platform: Platform::GcpCloudSql,
        // Not a Cloud SQL flag, and not in Google's documentation: the value a Cloud SQL
        // user read with SHOW log_line_prefix (pgbadger #699), and the textPayload of
        // exported entries (pgbadger #579, #747).
        log_line_prefix: GOOGLE_CLOUD_PREFIX,
        prefix_rule: PrefixRule::Observed,
        delivery: LogDelivery::CloudLoggingJson,
        steps: &[
            LogStep {
                what: "log every statement slower than <ms> milliseconds, with its duration (--database-flags replaces every flag: list the current ones with gcloud sql instances describe <instance> and repeat them)",
                command: "gcloud sql instances patch <instance> --database-flags=log_min_duration_statement=<ms>",
            },
            // --order=asc: oldest first (the default is newest first); --freshness works
            // only with the default order, so the window is a timestamp filter:
            // https://cloud.google.com/sdk/gcloud/reference/logging/read
            LogStep {
                what: "export the server log entries since <from> (RFC 3339, e.g. 2026-12-01T00:00:00Z), oldest first",
                command: "gcloud logging read 'resource.type=\"cloudsql_database\" AND resource.labels.database_id=\"<project>:<instance>\" AND logName=\"projects/<project>/logs/cloudsql.googleapis.com%2Fpostgres.log\" AND timestamp>=\"<from>\"' --project=<project> --order=asc --format=json > cloudsql.json",
            },
        ],
        notes: &[
            "The export is JSON (Cloud Logging entries); pgsage reads it as it is, an array or one entry per line (a Cloud Storage sink), and takes each line from textPayload.",
            "Users cannot set log_line_prefix on Cloud SQL.",
        ],
        sources: &[
            "https://docs.cloud.google.com/sql/docs/postgres/logging",
            "https://cloud.google.com/sdk/gcloud/reference/logging/read",
            "https://github.com/darold/pgbadger/issues/699",
            "https://github.com/darold/pgbadger/issues/579",
            "https://github.com/darold/pgbadger/issues/747",
        ],
    },
    PlatformLogs {
        platform: Platform::GcpAlloydb,
        // Observed in exported AlloyDB entries (pgbadger #762): the same textPayload shape
        // as Cloud SQL, under the log alloydb.googleapis.com/postgres.log.
        log_line_prefix: GOOGLE_CLOUD_PREFIX,
        prefix_rule: PrefixRule::Observed,
        delivery: LogDelivery::CloudLoggingJson,
        steps: &[LogStep {
            what: "export the server log entries of one instance since <from> (RFC 3339), oldest first",
            command: "gcloud logging read 'resource.type=\"alloydb.googleapis.com/Instance\" AND resource.labels.cluster_id=\"<cluster>\" AND resource.labels.instance_id=\"<instance>\" AND logName=\"projects/<project>/logs/alloydb.googleapis.com%2Fpostgres.log\" AND timestamp>=\"<from>\"' --project=<project> --order=asc --format=json > alloydb.json",
        }],
        notes: &[
            "The export is JSON (Cloud Logging entries), read as for Cloud SQL.",
        ],
        sources: &[
            "https://github.com/darold/pgbadger/issues/762",
            "https://cloud.google.com/sdk/gcloud/reference/logging/read",
        ],
    },
];

/// The platform's log, `None` for a self-managed server (its `log_line_prefix` is
/// whatever postgresql.conf says).
pub fn of(platform: Platform) -> Option<&'static PlatformLogs> {
    PLATFORM_LOGS.iter().find(|l| l.platform == platform)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_managed_platform_has_its_log_and_no_other() {
        for p in Platform::ALL {
            assert_eq!(of(p).is_some(), p.is_managed(), "{p}");
        }
        let mut seen: Vec<Platform> = PLATFORM_LOGS.iter().map(|l| l.platform).collect();
        seen.dedup();
        assert_eq!(seen.len(), PLATFORM_LOGS.len(), "one entry per platform");
    }

    /// Every entry says where its facts come from and how to fetch the log; commands keep
    /// their placeholders in angle brackets.
    #[test]
    fn entries_are_sourced_and_commands_keep_placeholders() {
        for l in PLATFORM_LOGS {
            assert!(!l.sources.is_empty(), "{}", l.platform);
            assert!(l.sources.iter().all(|s| s.starts_with("https://")));
            assert!(!l.steps.is_empty(), "{}", l.platform);
            for s in l.steps {
                assert!(s.command.contains('<'), "{}: {}", l.platform, s.command);
            }
        }
    }

    /// docs/platform-logs.md shows every platform's prefix and every command as they
    /// are here, character for character.
    #[test]
    fn the_docs_show_the_prefixes_and_commands_of_this_data() {
        let path = pgsage_testkit::scenario::repo_root().join("docs/platform-logs.md");
        let doc = std::fs::read_to_string(&path).expect("docs/platform-logs.md");
        for l in PLATFORM_LOGS {
            assert!(
                doc.contains(&format!("`{}`", l.log_line_prefix)),
                "{}: prefix {:?} not in the docs",
                l.platform,
                l.log_line_prefix
            );
            assert!(doc.contains(&format!("`{}`", l.platform)), "{}", l.platform);
            for s in l.steps {
                assert!(
                    doc.lines().any(|line| line == s.command),
                    "{}: command not in the docs: {}",
                    l.platform,
                    s.command
                );
            }
        }
    }

    #[test]
    fn the_prefixes_are_the_documented_ones() {
        let prefix = |p| of(p).map(|l| (l.log_line_prefix, l.prefix_rule));
        assert_eq!(
            prefix(Platform::AzureFlexibleServer),
            Some(("%t-%c-", PrefixRule::Default))
        );
        assert_eq!(
            prefix(Platform::AwsRds),
            Some(("%t:%r:%u@%d:[%p]:", PrefixRule::Fixed))
        );
        assert_eq!(
            prefix(Platform::AwsAurora),
            Some(("%t:%r:%u@%d:[%p]:", PrefixRule::Fixed))
        );
        assert_eq!(
            prefix(Platform::GcpCloudSql),
            Some(("%m [%p]: [%l-1] db=%d,user=%u ", PrefixRule::Observed))
        );
    }
}
