//! The compute sizes of managed services ("tiers": Azure flexible server SKUs, RDS and
//! Aurora DB instance classes, Cloud SQL machine types) and the host facts each gives:
//! RAM, vCPUs and, where the size decides it, the kind of storage.
//!
//! On a managed service SQL cannot see the machine, and nobody can log in to it: the
//! compute size the user picked is how its RAM and CPUs are known. `--tier` (and
//! `[host] tier`, Python's `tier=`) names it; [`with_tier`] turns the name into facts whose
//! source is `tier <name>`, below the facts given explicitly (`--ram`, `--cpus`,
//! `--storage` win). A name not in these tables is an error that says how to name one,
//! never a guess; a tier of another platform than the server's is an error too
//! ([`check`], [`check_snapshot`]).
//!
//! Every number comes from the provider's documentation, cited above each table; rows the
//! documentation does not state plainly are left out (`docs/tiers.md`, generated from
//! these tables, lists what is known).

use crate::snapshot::{Fact, HostFacts, Platform, Snapshot, StorageKind};
use crate::{Error, Result};

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

/// A managed service's compute size and what it gives PostgreSQL.
#[derive(Debug, Clone, PartialEq)]
pub struct Tier {
    /// The name as the provider writes it: `Standard_D4ds_v5`, `db.r6g.large`,
    /// `db-custom-4-16384`.
    pub name: String,
    /// The platforms that offer it (RDS classes that Aurora PostgreSQL also runs on name
    /// both).
    pub platforms: &'static [Platform],
    /// vCPUs; `None` for shared-core sizes, whose share of a CPU is not a count.
    pub vcpus: Option<f64>,
    /// Memory, in bytes, as the provider documents it for the size.
    pub ram_bytes: u64,
    /// The storage under the data directory, when the size decides it (network block
    /// storage everywhere here: `san`); `None` when the user picks it separately.
    pub storage: Option<StorageKind>,
    /// What the provider says about the memory PostgreSQL gets, when it says it gets
    /// less than the size: shown in the RAM fact's source.
    pub ram_note: Option<&'static str>,
}

// ---------------------------------------------------------------------------------------
// Azure Database for PostgreSQL flexible server.
//
// Source: "Compute options in Azure Database for PostgreSQL", table "Compute tiers, vCores,
// and server types" (ms.date 01/13/2026):
// https://learn.microsoft.com/en-us/azure/postgresql/compute-storage/concepts-compute
// (vCores, memory size in GiB; one entry per row of that table, with the SKU names the row
// lists). The service's memory can differ from the Azure VM of the same name: E64ds_v4 is
// 432 GiB here (the VM has 504), and Azure's capability API agrees (6,912 MB per vCore:
// https://learn.microsoft.com/powershell/module/az.postgresql/get-azpostgresqlflexibleserverlocationbasedcapability).
// Left out: names the table misprints (its "D16ds_v5 / D16ds_v5", "E16ds_v5 / E16ds_v5",
// "E32ds_v5 / D32ads_v5" and "E64ds_v5 / E64ads_v4" rows hide D16ads_v5, E16ads_v5,
// E32ads_v5 and E64ads_v5), rather than inferred.
//
// Storage is network storage: "data files reside in Azure Storage ... If the service
// fails, a new Linux VM is provisioned and the data files are mapped to the new VM"
// (https://learn.microsoft.com/en-us/training/modules/explore-postgresql-architecture/2-describe-azure-database-postgresql),
// on Premium SSD or Premium SSD v2 managed disks
// (https://learn.microsoft.com/en-us/azure/postgresql/flexible-server/how-to-auto-grow-storage-portal).
// ---------------------------------------------------------------------------------------

/// `(vCores, memory GiB, SKU names without the `Standard_` prefix)`, row by row.
const AZURE_FLEXIBLE_SERVER: &[(u32, u32, &[&str])] = &[
    // Burstable
    (1, 2, &["B1ms"]),
    (2, 4, &["B2s"]),
    (2, 8, &["B2ms"]),
    (4, 16, &["B4ms"]),
    (8, 32, &["B8ms"]),
    (12, 48, &["B12ms"]),
    (16, 64, &["B16ms"]),
    (20, 80, &["B20ms"]),
    // General Purpose
    (2, 8, &["D2s_v3", "D2ds_v4"]),
    (2, 8, &["D2ds_v5", "D2ads_v5"]),
    (2, 8, &["D2ads_v6"]),
    (2, 8, &["D2ds_v6"]),
    (4, 16, &["D4s_v3", "D4ds_v4"]),
    (4, 16, &["D4ds_v5", "D4ads_v5"]),
    (4, 16, &["D4ads_v6"]),
    (4, 16, &["D4ds_v6"]),
    (8, 32, &["D8s_v3", "D8ds_v4"]),
    (8, 32, &["D8ds_v5", "D8ads_v5"]),
    (8, 32, &["D8ads_v6"]),
    (8, 32, &["D8ds_v6"]),
    (16, 64, &["D16s_v3", "D16ds_v4"]),
    (16, 64, &["D16ds_v5"]),
    (16, 64, &["D16ads_v6"]),
    (16, 64, &["D16ds_v6"]),
    (32, 128, &["D32s_v3", "D32ds_v4"]),
    (32, 128, &["D32ds_v5", "D32ads_v5"]),
    (32, 128, &["D32ads_v6"]),
    (32, 128, &["D32ds_v6"]),
    (48, 192, &["D48s_v3", "D48ds_v4"]),
    (48, 192, &["D48ds_v5", "D48ads_v5"]),
    (48, 192, &["D48ads_v6"]),
    (48, 192, &["D48ds_v6"]),
    (64, 256, &["D64s_v3", "D64ds_v4", "D64ds_v5", "D64ads_v5"]),
    (64, 256, &["D64ads_v6"]),
    (64, 256, &["D64ds_v6"]),
    (96, 384, &["D96ds_v5", "D96ads_v5"]),
    (96, 384, &["D96ads_v6"]),
    (96, 384, &["D96ds_v6"]),
    (128, 512, &["D128ds_v6"]),
    (192, 768, &["D192ds_v6"]),
    // Memory Optimized
    (2, 16, &["E2s_v3", "E2ds_v4"]),
    (2, 16, &["E2ds_v5", "E2ads_v5"]),
    (2, 16, &["E2ads_v6"]),
    (2, 16, &["E2ds_v6"]),
    (4, 32, &["E4s_v3", "E4ds_v4"]),
    (4, 32, &["E4ds_v5", "E4ads_v5"]),
    (4, 32, &["E4ads_v6"]),
    (4, 32, &["E4ds_v6"]),
    (8, 64, &["E8s_v3", "E8ds_v4"]),
    (8, 64, &["E8ds_v5", "E8ads_v5"]),
    (8, 64, &["E8ads_v6"]),
    (8, 64, &["E8ds_v6"]),
    (16, 128, &["E16s_v3", "E16ds_v4"]),
    (16, 128, &["E16ds_v5"]),
    (16, 128, &["E16ads_v6"]),
    (16, 128, &["E16ds_v6"]),
    (20, 160, &["E20ds_v4"]),
    (20, 160, &["E20ds_v5", "E20ads_v5"]),
    (20, 160, &["E20ads_v6"]),
    (20, 160, &["E20ds_v6"]),
    (32, 256, &["E32s_v3", "E32ds_v4"]),
    (32, 256, &["E32ds_v5"]),
    (32, 256, &["E32ads_v6"]),
    (32, 256, &["E32ds_v6"]),
    (48, 384, &["E48s_v3", "E48ds_v4", "E48ds_v5", "E48ads_v5"]),
    (48, 384, &["E48ads_v6"]),
    (48, 384, &["E48ds_v6"]),
    (64, 432, &["E64s_v3", "E64ds_v4"]),
    (64, 512, &["E64ds_v5"]),
    (64, 512, &["E64ads_v6"]),
    (64, 512, &["E64ds_v6"]),
    (96, 672, &["E96ds_v5", "E96ads_v5"]),
    (96, 672, &["E96ads_v6"]),
    (96, 768, &["E96ds_v6"]),
    (128, 1024, &["E128ds_v6"]),
    (192, 1832, &["E192ds_v6"]),
];

/// The prefix of every Azure SKU name (`--sku-name Standard_D4ds_v5`); the compute table
/// writes names without it, and so may the user.
const AZURE_PREFIX: &str = "Standard_";

// ---------------------------------------------------------------------------------------
// Amazon RDS and Aurora DB instance classes.
//
// Source: "Hardware specifications for DB instance classes" (vCPU, Memory (GiB)):
// https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.DBInstanceClass.Summary.html
// (as archived in github.com/awsdocs/amazon-rds-user-guide, doc_source/Concepts.DBInstanceClass.md),
// and for Aurora "Hardware specifications for DB instance classes for Aurora" and
// "Supported DB engines for DB instance classes" (which classes Aurora PostgreSQL runs on):
// https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Concepts.DBInstanceClass.Summary.html
// https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Concepts.DBInstanceClass.SupportAurora.html
// Left out: classes whose figures those pages do not give in the sources read (db.m7g,
// db.r7g, db.r8g and later), rather than copied from EC2 or third parties.
//
// Memory: the table gives the class's memory; RDS gives PostgreSQL less. Its formula
// variable DBInstanceClassMemory "subtracts memory reserved for the operating system and
// the RDS processes that manage the instance. Therefore, the number is always somewhat
// lower than the memory figures shown in the instance class tables", with no figure:
// https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ParamValuesRef.html
//
// Storage: RDS DB instances use Amazon EBS volumes, Aurora its cluster volume; both are
// network storage: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Storage.html
// ---------------------------------------------------------------------------------------

/// `(class, vCPU, memory GiB)`.
const RDS_CLASSES: &[(&str, u32, u32)] = &[
    ("db.m5.large", 2, 8),
    ("db.m5.xlarge", 4, 16),
    ("db.m5.2xlarge", 8, 32),
    ("db.m5.4xlarge", 16, 64),
    ("db.m5.8xlarge", 32, 128),
    ("db.m5.12xlarge", 48, 192),
    ("db.m5.16xlarge", 64, 256),
    ("db.m5.24xlarge", 96, 384),
    ("db.m6g.large", 2, 8),
    ("db.m6g.xlarge", 4, 16),
    ("db.m6g.2xlarge", 8, 32),
    ("db.m6g.4xlarge", 16, 64),
    ("db.m6g.8xlarge", 32, 128),
    ("db.m6g.12xlarge", 48, 192),
    ("db.m6g.16xlarge", 64, 256),
    ("db.m6i.large", 2, 8),
    ("db.m6i.xlarge", 4, 16),
    ("db.m6i.2xlarge", 8, 32),
    ("db.m6i.4xlarge", 16, 64),
    ("db.m6i.8xlarge", 32, 128),
    ("db.m6i.12xlarge", 48, 192),
    ("db.m6i.16xlarge", 64, 256),
    ("db.m6i.24xlarge", 96, 384),
    ("db.m6i.32xlarge", 128, 512),
    ("db.r5.large", 2, 16),
    ("db.r5.xlarge", 4, 32),
    ("db.r5.2xlarge", 8, 64),
    ("db.r5.4xlarge", 16, 128),
    ("db.r5.8xlarge", 32, 256),
    ("db.r5.12xlarge", 48, 384),
    ("db.r5.16xlarge", 64, 512),
    ("db.r5.24xlarge", 96, 768),
    ("db.r6g.large", 2, 16),
    ("db.r6g.xlarge", 4, 32),
    ("db.r6g.2xlarge", 8, 64),
    ("db.r6g.4xlarge", 16, 128),
    ("db.r6g.8xlarge", 32, 256),
    ("db.r6g.12xlarge", 48, 384),
    ("db.r6g.16xlarge", 64, 512),
    ("db.r6i.large", 2, 16),
    ("db.r6i.xlarge", 4, 32),
    ("db.r6i.2xlarge", 8, 64),
    ("db.r6i.4xlarge", 16, 128),
    ("db.r6i.8xlarge", 32, 256),
    ("db.r6i.12xlarge", 48, 384),
    ("db.r6i.16xlarge", 64, 512),
    ("db.r6i.24xlarge", 96, 768),
    ("db.r6i.32xlarge", 128, 1024),
    ("db.x2g.large", 2, 32),
    ("db.x2g.xlarge", 4, 64),
    ("db.x2g.2xlarge", 8, 128),
    ("db.x2g.4xlarge", 16, 256),
    ("db.x2g.8xlarge", 32, 512),
    ("db.x2g.12xlarge", 48, 768),
    ("db.x2g.16xlarge", 64, 1024),
    ("db.t3.micro", 2, 1),
    ("db.t3.small", 2, 2),
    ("db.t3.medium", 2, 4),
    ("db.t3.large", 2, 8),
    ("db.t3.xlarge", 4, 16),
    ("db.t3.2xlarge", 8, 32),
    ("db.t4g.micro", 2, 1),
    ("db.t4g.small", 2, 2),
    ("db.t4g.medium", 2, 4),
    ("db.t4g.large", 2, 8),
    ("db.t4g.xlarge", 4, 16),
    ("db.t4g.2xlarge", 8, 32),
];

/// The classes of [`RDS_CLASSES`] Aurora PostgreSQL runs on: whole families (a name ending
/// in `.`) or single classes (the burstable ones only from medium to large).
const AURORA_POSTGRESQL: &[&str] = &[
    "db.r5.",
    "db.r6g.",
    "db.r6i.",
    "db.x2g.",
    "db.t3.medium",
    "db.t3.large",
    "db.t4g.medium",
    "db.t4g.large",
];

const RDS_NOTE: &str = "instance class memory; RDS keeps part of it for the operating \
                        system and its own processes";

// ---------------------------------------------------------------------------------------
// Google Cloud SQL for PostgreSQL machine types.
//
// Custom machine types `db-custom-<vCPUs>-<memory MiB>` name their size; the documented
// limits: "Cores: 1 to 96 (must be either 1 or an even number)", "Memory: 0.9 to 6.5 GB
// per vCPU (must be a multiple of 256 MB and at least 3.75 GB)" (GB here are GiB:
// db-custom-2-7680 is 7.5 GB):
// https://cloud.google.com/sql/docs/postgres/instance-settings
//
// Enterprise Plus N2 machine types `db-perf-optimized-N-<vCPUs>`, 8 GB per vCPU, SSD only
// ("N2 | SSD"): https://cloud.google.com/sql/docs/postgres/machine-series-overview
// (rows N-2 … N-80 as read; larger ones left out).
//
// Shared core: db-f1-micro 0.6 GiB ("Memory size, in GiB: 0.6 (db-f1-micro)"),
// https://cloud.google.com/sql/docs/postgres/faq; db-g1-small 1.7 GB (shared core VMs "up
// to 1 vCPU, 1.7 GB RAM": Google's Cloud SQL skill, github.com/google/skills,
// skills/cloud/cloud-sql-basics/references/core-concepts.md). A shared vCPU is a fraction
// of a CPU, not a count: no CPU fact.
//
// Storage: dedicated and shared core types take SSD or HDD persistent disks, chosen apart
// from the machine type, so those give no storage fact.
// ---------------------------------------------------------------------------------------

/// `db-perf-optimized-N-<vCPUs>` sizes listed by the machine series overview.
const CLOUD_SQL_PERF_OPTIMIZED_VCPUS: &[u32] = &[2, 4, 8, 16, 32, 48, 64, 80];
/// GiB per vCPU of the N2 machine series.
const CLOUD_SQL_N2_GIB_PER_VCPU: u32 = 8;
/// `(name, memory MiB)` of the shared-core types (0.6 and 1.7 GiB).
const CLOUD_SQL_SHARED_CORE: &[(&str, u64)] = &[("db-f1-micro", 614), ("db-g1-small", 1741)];

/// The limits of `db-custom-<vCPUs>-<MiB>` (see the source above).
const CUSTOM_MAX_VCPUS: u32 = 96;
const CUSTOM_MIN_MIB: u64 = 3840;
const CUSTOM_MIB_STEP: u64 = 256;
/// 0.9 and 6.5 GiB per vCPU, in MiB.
const CUSTOM_MIB_PER_VCPU: (f64, f64) = (0.9 * 1024.0, 6.5 * 1024.0);

/// How to name a tier, for error messages.
const HOW_TO_NAME: &str = "pgsage knows Azure flexible server compute sizes \
    (Standard_D4ds_v5, Standard_E8ds_v5, Standard_B2s), RDS and Aurora DB instance \
    classes (db.r6g.large, db.m5.xlarge, db.t4g.medium) and Cloud SQL machine types \
    (db-custom-<vCPUs>-<memory MiB> such as db-custom-4-16384, db-perf-optimized-N-8, \
    db-f1-micro); docs/tiers.md lists them. For another size, give the RAM and CPUs \
    instead";

/// The tier `name` names (any case; Azure names with or without `Standard_`), or an
/// [`Error::InvalidValue`] for `tier` that says how tiers are named.
pub fn lookup(name: &str) -> Result<Tier> {
    let given = name.trim();
    let lower = given.to_ascii_lowercase();
    let unknown = |why: String| Error::InvalidValue {
        what: "tier".into(),
        problem: format!("{why}. {HOW_TO_NAME}"),
    };
    if let Some(tier) = azure(&lower) {
        return Ok(tier);
    }
    if let Some(tier) = rds(&lower) {
        return Ok(tier);
    }
    if let Some(rest) = lower.strip_prefix("db-custom-") {
        return cloud_sql_custom(rest).map_err(|why| unknown(format!("`{given}`: {why}")));
    }
    if let Some(tier) = cloud_sql_named(&lower) {
        return Ok(tier);
    }
    Err(unknown(format!("unknown tier `{given}`")))
}

fn azure(lower: &str) -> Option<Tier> {
    let bare = lower
        .strip_prefix(&AZURE_PREFIX.to_ascii_lowercase())
        .unwrap_or(lower);
    AZURE_FLEXIBLE_SERVER
        .iter()
        .find_map(|(vcores, gib, names)| {
            let name = names.iter().find(|n| n.eq_ignore_ascii_case(bare))?;
            Some(Tier {
                name: format!("{AZURE_PREFIX}{name}"),
                platforms: &[Platform::AzureFlexibleServer],
                vcpus: Some(f64::from(*vcores)),
                ram_bytes: u64::from(*gib) * GIB,
                storage: Some(StorageKind::San),
                ram_note: None,
            })
        })
}

fn rds(lower: &str) -> Option<Tier> {
    let (class, vcpus, gib) = RDS_CLASSES.iter().find(|(c, ..)| *c == lower)?;
    let on_aurora = AURORA_POSTGRESQL.iter().any(|a| {
        if a.ends_with('.') {
            class.starts_with(a)
        } else {
            class == a
        }
    });
    Some(Tier {
        name: (*class).to_owned(),
        platforms: if on_aurora {
            &[Platform::AwsRds, Platform::AwsAurora]
        } else {
            &[Platform::AwsRds]
        },
        vcpus: Some(f64::from(*vcpus)),
        ram_bytes: u64::from(*gib) * GIB,
        storage: Some(StorageKind::San),
        ram_note: Some(RDS_NOTE),
    })
}

/// `db-custom-<vCPUs>-<MiB>` (`rest` is what follows `db-custom-`): the size it names, or
/// why Cloud SQL would not accept it.
fn cloud_sql_custom(rest: &str) -> std::result::Result<Tier, String> {
    let shape = "a custom machine type is db-custom-<vCPUs>-<memory MiB>, e.g. db-custom-4-16384";
    let (cpus, mib) = rest.split_once('-').ok_or_else(|| shape.to_owned())?;
    let vcpus: u32 = cpus.parse().map_err(|_| shape.to_owned())?;
    let mib: u64 = mib.parse().map_err(|_| shape.to_owned())?;
    if vcpus == 0 || vcpus > CUSTOM_MAX_VCPUS || (vcpus > 1 && vcpus % 2 == 1) {
        return Err(format!(
            "Cloud SQL custom machine types have 1 or an even number of vCPUs up to \
             {CUSTOM_MAX_VCPUS}, not {vcpus}"
        ));
    }
    let per_vcpu = mib as f64 / f64::from(vcpus);
    if mib < CUSTOM_MIN_MIB
        || !mib.is_multiple_of(CUSTOM_MIB_STEP)
        || per_vcpu < CUSTOM_MIB_PER_VCPU.0
        || per_vcpu > CUSTOM_MIB_PER_VCPU.1
    {
        return Err(format!(
            "Cloud SQL custom machine types have at least {CUSTOM_MIN_MIB} MiB of memory, \
             a multiple of {CUSTOM_MIB_STEP} MiB, 0.9 to 6.5 GiB per vCPU; {mib} MiB for \
             {vcpus} vCPUs is not one"
        ));
    }
    Ok(Tier {
        name: format!("db-custom-{vcpus}-{mib}"),
        platforms: &[Platform::GcpCloudSql],
        vcpus: Some(f64::from(vcpus)),
        ram_bytes: mib * MIB,
        storage: None,
        ram_note: None,
    })
}

/// The Cloud SQL machine types with fixed sizes: N2 and shared core.
fn cloud_sql_named(lower: &str) -> Option<Tier> {
    let cloud_sql = |name: String, vcpus: Option<u32>, ram_bytes, storage| Tier {
        name,
        platforms: &[Platform::GcpCloudSql],
        vcpus: vcpus.map(f64::from),
        ram_bytes,
        storage,
        ram_note: None,
    };
    if let Some(n) = lower.strip_prefix("db-perf-optimized-n-") {
        let vcpus: u32 = n.parse().ok()?;
        return CLOUD_SQL_PERF_OPTIMIZED_VCPUS.contains(&vcpus).then(|| {
            cloud_sql(
                format!("db-perf-optimized-N-{vcpus}"),
                Some(vcpus),
                u64::from(vcpus * CLOUD_SQL_N2_GIB_PER_VCPU) * GIB,
                Some(StorageKind::San),
            )
        });
    }
    CLOUD_SQL_SHARED_CORE
        .iter()
        .find(|(name, _)| *name == lower)
        .map(|(name, mib)| cloud_sql((*name).to_owned(), None, mib * MIB, None))
}

/// The facts `tier` gives, each with the source `tier <name>` (the RAM's with what the
/// provider says of it), and the tier itself as named by `given_by` (`flag`, `config`).
pub fn facts(tier: &Tier, given_by: &str) -> HostFacts {
    let source = format!("tier {}", tier.name);
    let ram_source = match tier.ram_note {
        Some(note) => format!("{source}: {note}"),
        None => source.clone(),
    };
    HostFacts {
        ram_bytes: Some(Fact::new(tier.ram_bytes, &ram_source)),
        cpus: tier.vcpus.map(|v| Fact::new(v, &source)),
        storage: tier.storage.map(|s| Fact::new(s, &source)),
        platform: None,
        tier: Some(Fact::new(tier.name.clone(), given_by)),
    }
}

/// `explicit` (the facts given one by one, and the platform if given) completed with the
/// facts of the tier named `tier`: explicit RAM, CPUs and storage win. The tier must exist
/// and, when `explicit` names a platform, be one of that platform's.
pub fn with_tier(explicit: HostFacts, tier: Option<&str>, given_by: &str) -> Result<HostFacts> {
    let Some(name) = tier else {
        return Ok(explicit);
    };
    let tier = lookup(name)?;
    if let Some(platform) = &explicit.platform {
        check(&tier, platform)?;
    }
    Ok(explicit.or(&facts(&tier, given_by)))
}

/// An [`Error::InvalidValue`] for `tier` when `tier` is not a size of `platform` (given or
/// detected: the message says how it is known).
pub fn check(tier: &Tier, platform: &Fact<Platform>) -> Result<()> {
    if tier.platforms.contains(&platform.value) {
        return Ok(());
    }
    let offered: Vec<&str> = tier.platforms.iter().map(|p| p.service_name()).collect();
    let runs_on = if platform.value == Platform::SelfManaged {
        "the server looks self-managed".to_owned()
    } else {
        format!("the server runs on {}", platform.value.service_name())
    };
    Err(Error::InvalidValue {
        what: "tier".into(),
        problem: format!(
            "`{}` is a compute size of {}, but {runs_on} ({}); name a tier of the server's \
             platform, or its platform when detection got it wrong",
            tier.name,
            offered.join(" and "),
            platform.source
        ),
    })
}

/// [`check`] of the tier named in `host` (else in the snapshot's host facts) against the
/// platform the advice is for ([`super::platform::of`]). A tier the snapshot recorded that
/// these tables no longer know is not checked: the snapshot's facts stand as recorded.
pub fn check_snapshot(snapshot: &Snapshot, host: &HostFacts) -> Result<()> {
    let platform = super::platform::of(snapshot, host);
    if let Some(given) = &host.tier {
        return check(&lookup(&given.value)?, &platform);
    }
    match snapshot.host.tier.as_ref().map(|t| lookup(&t.value)) {
        Some(Ok(tier)) => check(&tier, &platform),
        Some(Err(_)) | None => Ok(()),
    }
}

/// Every tier with a fixed size, in table order (for `docs/tiers.md`); Cloud SQL's custom
/// machine types are a formula, not rows.
pub fn listed() -> Vec<Tier> {
    let azure = AZURE_FLEXIBLE_SERVER
        .iter()
        .flat_map(|(_, _, names)| names.iter())
        .filter_map(|n| azure(&n.to_ascii_lowercase()));
    let rds_classes = RDS_CLASSES.iter().filter_map(|(c, ..)| rds(c));
    let perf = CLOUD_SQL_PERF_OPTIMIZED_VCPUS
        .iter()
        .filter_map(|n| cloud_sql_named(&format!("db-perf-optimized-n-{n}")));
    let shared = CLOUD_SQL_SHARED_CORE
        .iter()
        .filter_map(|(n, _)| cloud_sql_named(n));
    azure.chain(rds_classes).chain(perf).chain(shared).collect()
}

/// `docs/tiers.md`: the tiers pgsage knows, with where the numbers come from.
pub fn catalogue_markdown() -> String {
    use std::fmt::Write as _;
    let mut out = String::from(
        "# Managed-service tiers\n\n\
         <!-- Generated from crates/pgsage-core/src/knowledge/platform_tiers.rs by \
         scripts/generate-docs.sh; do not edit. -->\n\n\
         `--tier NAME` (`[host] tier` in pgsage.toml, `tier=` in Python) gives the host facts \
         of a managed service's compute size: RAM and vCPUs, and the storage kind where the \
         size decides it (`san`: network block storage). Their source in the report is \
         `tier NAME`; `--ram`, `--cpus` and `--storage` still win. A name not listed here \
         is an error, never a guess: give `--ram` and `--cpus` instead. Names are matched \
         in any case; Azure names with or without `Standard_`.\n\n\
         The numbers are the providers' documentation, cited in the source above each \
         table; rows the documentation does not state plainly are left out. Memory is \
         written as PostgreSQL writes sizes (1 GB = 1024 MB).\n",
    );
    let section = |out: &mut String, title: &str, intro: &str, platform: Platform| {
        let _ = write!(
            out,
            "\n## {title}\n\n{intro}\n\n| Tier | vCPUs | Memory | Storage |\n|---|---:|---:|---|\n"
        );
        for t in listed().iter().filter(|t| t.platforms[0] == platform) {
            let aurora = if t.platforms.contains(&Platform::AwsAurora) {
                " (also Aurora)"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "| `{}`{aurora} | {} | {} | {} |",
                t.name,
                t.vcpus.map_or("shared".to_owned(), |v| v.to_string()),
                crate::units::bytes(t.ram_bytes),
                t.storage.map_or("not decided by the tier", |_| "san"),
            );
        }
    };
    section(
        &mut out,
        "Azure Database for PostgreSQL flexible server",
        "Source: [Compute options](https://learn.microsoft.com/en-us/azure/postgresql/compute-storage/concepts-compute) \
         (vCores, memory size). The service's memory can differ from the Azure VM of the \
         same name (`Standard_E64ds_v4`: 432 GiB, the VM 504 GiB); pgsage follows the \
         service. Data files live in Azure Storage (Premium SSD managed disks), mapped to \
         the server's VM over the network.",
        Platform::AzureFlexibleServer,
    );
    section(
        &mut out,
        "Amazon RDS and Aurora PostgreSQL",
        "Source: [Hardware specifications for DB instance classes](https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.DBInstanceClass.Summary.html) \
         and, for Aurora, [its specifications](https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Concepts.DBInstanceClass.Summary.html) \
         and [supported classes](https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Concepts.DBInstanceClass.SupportAurora.html). \
         The memory is the class's; RDS keeps part of it for the operating system and its \
         own processes ([`DBInstanceClassMemory`](https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ParamValuesRef.html) \
         is \"somewhat lower\", with no figure), and the RAM fact's source says so. Storage \
         is EBS (RDS) or the Aurora cluster volume.",
        Platform::AwsRds,
    );
    section(
        &mut out,
        "Google Cloud SQL for PostgreSQL",
        "Custom machine types `db-custom-<vCPUs>-<memory MiB>` give their size by name \
         (`db-custom-4-16384`: 4 vCPUs, 16 GiB) within the documented limits: 1 or an even \
         number of vCPUs up to 96; memory a multiple of 256 MiB, at least 3840 MiB, 0.9 to \
         6.5 GiB per vCPU ([instance settings](https://cloud.google.com/sql/docs/postgres/instance-settings)). \
         Their disk (SSD or HDD) is chosen apart from the machine type: give `--storage`. \
         Enterprise Plus N2 types from the [machine series overview](https://cloud.google.com/sql/docs/postgres/machine-series-overview) \
         (8 GiB per vCPU, SSD persistent disk); shared-core types from the \
         [FAQ](https://cloud.google.com/sql/docs/postgres/faq) (a shared vCPU is no CPU \
         count: give `--cpus` if a rule needs one).",
        Platform::GcpCloudSql,
    );
    out
}

#[cfg(test)]
mod tests;
