//! The `tenants` pack: one database per customer on a shared cluster, and the tenant that
//! takes more than its share of time, I/O, temporary files, storage or sessions. The
//! shares come from [`crate::knowledge::tenants`].

mod common;
mod noisy_tenant;
mod tenant_crowds_storage;
mod tenant_hogs_sessions;

pub use noisy_tenant::NoisyTenant;
pub use tenant_crowds_storage::TenantCrowdsStorage;
pub use tenant_hogs_sessions::TenantHogsSessions;

/// This pack's rules.
pub(crate) static RULES: &[super::Rule] = &[
    super::Rule::Snapshot(&NoisyTenant),
    super::Rule::Snapshot(&TenantCrowdsStorage),
    super::Rule::Snapshot(&TenantHogsSessions),
];
