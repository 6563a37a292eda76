use crate::report::{Fix, ObjectRef, Severity};
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::units;

use super::bytes_setting;

declare_rule! {
    /// ## What it detects
    /// A large `shared_buffers` (at least `min_shared_buffers_mb`) without huge pages:
    /// `huge_pages = off`, or `try` where the server reports it fell back to normal pages
    /// (`huge_pages_status = off`, PostgreSQL 17+). Before 17, `try` cannot be verified
    /// from SQL: the finding is then informational, with low confidence.
    ///
    /// ## Why it matters
    /// With 4 kB pages, every backend maps the whole shared memory through its own page
    /// tables: with hundreds of connections and tens of GB of `shared_buffers` the page
    /// tables alone take gigabytes, and TLB misses slow every buffer access. Huge pages
    /// (2 MB on x86-64 Linux) remove most of that cost.
    ///
    /// ## How to fix
    /// On Linux, reserve huge pages (`vm.nr_hugepages` in `/etc/sysctl.conf`, the count
    /// given by `postgres -D … -C shared_memory_size_in_huge_pages` on 15+), then set
    /// `huge_pages = try` (the recommended configuration's value: it uses the reserved
    /// pages and still starts if they are gone; `on` refuses to start without them, for
    /// those who prefer a loud failure) and restart. Managed
    /// services (RDS, Cloud SQL, Azure) decide this themselves; there the finding is only
    /// informative.
    ///
    /// ## Thresholds
    /// - `min_shared_buffers_mb` (default 8192): smaller `shared_buffers` are ignored.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/kernel-resources.html#LINUX-HUGE-PAGES>
    /// - <https://www.postgresql.org/docs/current/runtime-config-resource.html#GUC-HUGE-PAGES>
    pub struct HugePagesOff {
        id: "MEM006",
        name: "huge-pages-off",
        pack: "memory",
        title: "Large shared_buffers without huge pages",
        params: {
            min_shared_buffers_mb: f64 = ("MB", "shared_buffers below this size are ignored"),
        },
    }
}

impl SnapshotRule for HugePagesOff {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let min = p.min_shared_buffers_mb * super::MB;
        let sb = bytes_setting(ctx, "shared_buffers")?;
        if sb < min {
            return Ok(vec![]);
        }
        let mode = ctx.setting("huge_pages")?.setting.clone();
        let status = ctx
            .snapshot
            .setting("huge_pages_status")
            .map(|s| s.setting.clone());
        let (state, sure) = match (mode.as_str(), status.as_deref()) {
            ("on", _) | (_, Some("on")) => return Ok(vec![]),
            ("off", _) => ("`huge_pages` is off".to_owned(), true),
            (_, Some("off")) => (
                "`huge_pages` is `try` and the server fell back to normal pages (`huge_pages_status` = off)".to_owned(),
                true,
            ),
            (m, _) => (format!("`huge_pages` is `{m}`"), false),
        };
        let pages = ctx
            .snapshot
            .setting("shared_memory_size_in_huge_pages")
            .and_then(|s| s.as_f64())
            .filter(|n| *n > 0.0)
            .unwrap_or_else(|| (sb * 1.05 / (2.0 * super::MB)).ceil());
        // `try` (the recommended configuration's value) uses the pages once reserved and
        // still starts without them; `None` when the server already has it.
        let setting = ctx.value_for("huge_pages", || "try".into());
        let sysctl = format!(
            "-- as root: sysctl -w vm.nr_hugepages={} (and persist it in /etc/sysctl.d/)",
            (pages * 1.02).ceil()
        );
        let watch = "HugePages_Free/HugePages_Rsvd in /proc/meminfo and huge_pages_status (17+)";
        let mut draft = Draft::new(
            ObjectRef::setting("huge_pages"),
            format!(
                "{state} with `shared_buffers` = {}: every backend maps the shared memory with 4 kB pages (large page tables, TLB misses); managed services decide this themselves",
                units::bytes(sb)
            ),
        )
        .evidence("shared_buffers_bytes", sb)
        .evidence("huge_pages", mode)
        .evidence("huge_pages_status", status.unwrap_or_else(|| "unknown".into()))
        .evidence("huge_pages_needed_2mb", pages)
        .recommend(match &setting {
            Some(v) => format!(
                "On a self-managed Linux host reserve {} huge pages of 2 MB (vm.nr_hugepages, a little more to be safe), set huge_pages = {v} and restart; on managed services leave it to the provider",
                units::count(pages)
            ),
            None => format!(
                "On a self-managed Linux host reserve {} huge pages of 2 MB (vm.nr_hugepages, a little more to be safe) and restart so that `try` obtains them; on managed services leave it to the provider",
                units::count(pages)
            ),
        })
        .with_fix(match &setting {
            Some(v) => ctx.settings_fix(&[("huge_pages", v.clone())], &sysctl, watch),
            None => Fix {
                sql: format!("{sysctl}\n-- then restart PostgreSQL"),
                requires: Some("restart".into()),
                watch: Some(watch.into()),
                settings: Vec::new(),
                ..Default::default()
            },
        });
        if !sure {
            draft = draft.severity(Severity::Info).low_confidence(
                "before PostgreSQL 17 SQL cannot tell whether `try` obtained huge pages; check HugePages_Rsvd in /proc/meminfo",
            );
        }
        Ok(vec![draft])
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn fires_when_huge_pages_are_off() {
        assert_fires("MEM006", "huge_pages");
    }

    #[test]
    fn quiet_with_small_shared_buffers() {
        assert_quiet("MEM006");
    }
}
