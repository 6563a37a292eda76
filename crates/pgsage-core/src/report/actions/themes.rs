//! The action themes: which findings make one action, what it is called, why it matters,
//! what doing it gives, and how it ranks. Data, kept apart from the grouping code: a new
//! rule gets a theme here (a test checks every audit rule has one).

use crate::report::{Finding, ObjectKind};

/// What an action protects against; actions rank by class first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ImpactClass {
    /// Data loss or an outage is possible: durability off, wraparound, keys or
    /// connections running out, WAL filling the disk.
    Outage,
    /// Time, I/O or memory is wasted: vacuum, indexes, settings, statements.
    Performance,
    /// Worth doing, nothing is lost meanwhile: unneeded indexes, constraints, keys.
    Hygiene,
}

impl ImpactClass {
    /// `outage`, `performance`, `hygiene`.
    pub fn as_str(self) -> &'static str {
        match self {
            ImpactClass::Outage => "outage",
            ImpactClass::Performance => "performance",
            ImpactClass::Hygiene => "hygiene",
        }
    }
}

/// One kind of action.
#[derive(Debug)]
pub(crate) struct Theme {
    /// The action's id, stable across runs (`durability-off`).
    pub id: &'static str,
    /// The rules whose findings it groups.
    pub rules: &'static [&'static str],
    /// Ranking class.
    pub class: ImpactClass,
    /// Imperative title; `{objects}` becomes "`schema.table`" or "9 tables", `{names}`
    /// the list of object names (settings).
    pub title: &'static str,
    /// Why it matters, in one or two sentences.
    pub why: &'static str,
    /// What doing it gives; `{dead_rows}`, `{bytes}`, `{objects}` are filled in from the
    /// findings' evidence.
    pub effect: &'static str,
}

macro_rules! theme {
    ($id:literal, $class:ident, [$($rule:literal),*], $title:literal, $why:literal, $effect:literal) => {
        Theme {
            id: $id,
            rules: &[$($rule),*],
            class: ImpactClass::$class,
            title: $title,
            why: $why,
            effect: $effect,
        }
    };
}

/// Every theme, in priority order within its class (earlier ranks first at equal class
/// and severity): the order a DBA would work through them.
pub(crate) static THEMES: &[Theme] = &[
    // Data loss and outages.
    theme!("durability-off", Outage, ["WAL008"],
        "Turn durability back on: {names}",
        "With these settings off, a crash or power loss can lose committed transactions or corrupt the whole cluster; no backup taken since is trustworthy either.",
        "Committed transactions survive a crash again."),
    theme!("wraparound", Outage, ["VAC006"],
        "Vacuum {objects} before transaction IDs wrap around",
        "When the oldest unfrozen transaction ID gets too old, PostgreSQL stops accepting writes until a vacuum freezes it.",
        "Writes cannot be stopped by wraparound protection."),
    theme!("key-exhaustion", Outage, ["SCH001", "SCH002"],
        "Widen {objects} before the keys run out",
        "When a sequence or an integer key reaches its maximum, every insert into the table fails until the type is widened, which rewrites the table.",
        "Inserts keep working; the rewrite is done in a planned window, not during an outage."),
    theme!("archiving-failing", Outage, ["WAL007"],
        "Fix WAL archiving",
        "Failed archiving leaves gaps in point-in-time recovery and WAL piles up in pg_wal until the disk is full.",
        "Backups can be restored to any point again and pg_wal stops growing."),
    theme!("slot-retaining-wal", Outage, ["WAL006"],
        "Drop or reconnect {objects}",
        "An inactive replication slot keeps every WAL segment since its consumer left; the disk fills and the server stops.",
        "pg_wal shrinks back and the disk stops filling."),
    theme!("replication-lag", Outage, ["WAL009"],
        "Bring the standbys back in sync",
        "A lagging or disconnected standby loses the transactions it has not received if it must take over.",
        "A failover loses no committed work."),
    theme!("connections-near-limit", Outage, ["CON001"],
        "Free connection slots before they run out",
        "When every slot is taken, new connections fail: the application is down for every new request.",
        "New sessions connect again under load."),
    theme!("odoo-connection-pools", Outage, ["ERP004"],
        "Size Odoo's connection pools to the server",
        "Odoo's processes can open more connections than the server accepts: when their pools fill, new connections fail and users, crons and the administrator are locked out.",
        "A busy hour cannot exhaust the server's connections."),
    theme!("memory-overcommit", Outage, ["MEM005"],
        "Bound worst-case memory below RAM",
        "When every connection uses its full memory budget at once, the kernel's OOM killer ends a backend and PostgreSQL restarts, dropping every session.",
        "A busy hour cannot crash the server for lack of memory."),
    theme!("prepared-transactions", Outage, ["CON008"],
        "Commit or roll back the prepared transactions left open",
        "A forgotten prepared transaction holds its locks and the xmin horizon until someone resolves it, even across restarts: vacuum stops cleaning and wraparound approaches.",
        "Vacuum can clean again and the locks are released."),
    // Performance, measured.
    theme!("autovacuum-off", Performance, ["VAC002"],
        "Turn autovacuum back on",
        "With autovacuum off, no table is vacuumed or analysed on its own: dead rows pile up, statistics go stale, updates stop being HOT, and only emergency anti-wraparound vacuums run.",
        "Vacuum and analyze resume on their own{dead_rows}."),
    theme!("autovacuum-off-tables", Performance, [],
        "Turn autovacuum back on for {objects}",
        "Autovacuum is off for these tables: their dead rows and statistics are left to manual maintenance.",
        "Dead rows are cleaned and statistics kept current without manual maintenance{dead_rows}."),
    theme!("long-transactions", Performance, ["VAC007", "CON004", "CON005"],
        "End the sessions holding back vacuum and locks",
        "A long or idle open transaction pins the xmin horizon: no vacuum anywhere can remove rows deleted since it started, and it holds its locks.",
        "Vacuum can remove dead rows again and blocked sessions proceed."),
    theme!("lock-waits", Performance, ["CON007"],
        "Resolve the lock waits",
        "Sessions wait on locks held by others; the application sees them as hangs.",
        "Blocked statements run."),
    theme!("odoo-reference-indexes", Performance, ["ERP003"],
        "Restore Odoo's (model, res_id) index on {objects}",
        "Odoo reads these tables by model and record id for every form it opens; without the index it creates, each read scans the whole table.",
        "Forms, chatter and attachments load from an index instead of a whole-table scan."),
    theme!("missing-indexes", Performance, ["IDX009"],
        "Create the indexes the workload needs on {objects}",
        "Frequent statements read whole tables where an index would find their rows; the index was validated against the statements.",
        "The statements that scan these tables read a few pages instead of the whole table."),
    theme!("odoo-queue-cleanup", Performance, ["ERP002"],
        "Restore Odoo's cleanup of {objects}",
        "Odoo's queue tables are read many times a minute and meant to stay small; their cleanup job has stopped, so they grow without bound.",
        "The queue tables shrink back to what the application needs{dead_rows}."),
    theme!("odoo-queue-vacuum", Performance, ["ERP005"],
        "Give Odoo's queue tables a queue's autovacuum triggers: {objects}",
        "A queue table's rows die within minutes and its readers poll it many times a minute; on the default triggers autovacuum waits for a fifth of the table to be dead.",
        "The queue tables are vacuumed every few thousand dead rows{dead_rows}."),
    theme!("odoo-attachments", Performance, ["ERP001"],
        "Move Odoo's attachments out of the database",
        "Files stored in the database are in every backup, restore and new replica, and every upload is WAL the replicas replay.",
        "Backups, restores and new replicas carry only the data; the files are backed up incrementally from the filestore."),
    theme!("dominant-query", Performance, ["QRY001"],
        "Tune the statement that dominates execution time",
        "One statement takes most of the server's execution time: any gain on it is a gain for the whole server.",
        "Most of the server's execution time is spent on this statement; making it faster frees the server."),
    theme!("temp-spills", Performance, ["MEM003", "QRY005"],
        "Stop statements spilling to temporary files",
        "Sorts and hashes larger than work_mem spill to disk, which is much slower and competes with every other read.",
        "Sorts and hashes stay in memory."),
    theme!("foreign-key-indexes", Performance, ["IDX005"],
        "Index {objects:foreign key|foreign keys}",
        "Without an index on the referencing columns, every delete or key update on the referenced table scans the referencing table, and joins on the key cannot use an index.",
        "Deletes on the referenced tables stop scanning the referencing ones."),
    theme!("seq-scans", Performance, ["IDX006"],
        "Look into the sequential scans on {objects}",
        "These tables are read mostly by sequential scans although they are large enough for an index to pay off.",
        "Finding the filtering statements and their index reduces the rows read."),
    theme!("connection-pooling", Performance, ["CON002", "CON003"],
        "Pool connections and size max_connections to the CPUs",
        "Many more connections than CPUs cost memory and context switches and make lock contention worse; a pooler keeps a few busy connections instead.",
        "Fewer, busier connections: less memory, less contention."),
    theme!("memory-sizing", Performance, ["MEM001", "MEM002", "MEM004", "MEM006"],
        "Size memory settings to the host: {names}",
        "Memory settings out of proportion to RAM waste the page cache or starve maintenance and the planner.",
        "The server uses the RAM it has."),
    theme!("cache-hit", Performance, ["MEM007", "QRY006"],
        "Raise the buffer cache hit ratio",
        "Reads that miss shared buffers go to the page cache or the disk.",
        "More reads are served from memory."),
    theme!("checkpoints", Performance, ["WAL001", "WAL002", "WAL003", "WAL004", "WAL005"],
        "Spread checkpoints out: {names}",
        "Frequent or bunched checkpoints write the same pages again and again and fill WAL with full-page images.",
        "Less write I/O and less WAL."),
    theme!("dead-rows", Performance, ["VAC001", "VAC003"],
        "Vacuum {objects}",
        "Dead rows make scans read pages of garbage and the table grow.",
        "The space of the dead rows is reused{dead_rows}."),
    theme!("autovacuum-capacity", Performance, ["VAC011"],
        "Give autovacuum enough workers and I/O",
        "Autovacuum cannot keep up with the tables that need it: work queues up and dead rows grow.",
        "Vacuum keeps up with the write rate."),
    theme!("large-table-triggers", Performance, ["VAC005"],
        "Lower autovacuum's triggers for the large tables",
        "A scale factor of a fifth lets a large table collect millions of dead rows before autovacuum starts, and then one long vacuum has to clean them.",
        "Large tables are vacuumed in small, frequent passes."),
    theme!("lax-autovacuum-parameters", Performance, ["VAC012"],
        "Reset the storage parameters that make autovacuum wait on {objects}",
        "Per-table settings laxer than the server's let dead rows and stale statistics pile up on busy tables, while the tables look within their own limits.",
        "The server's autovacuum triggers apply to these tables again."),
    theme!("stale-statistics", Performance, ["VAC004"],
        "Analyze {objects}",
        "The planner's statistics for these tables are stale or missing: estimates go wrong and plans with them.",
        "Plans are built from current statistics."),
    theme!("hot-updates", Performance, ["VAC008"],
        "Leave room for HOT updates on {objects}",
        "Updates that cannot stay on their page write a new entry in every index and leave dead index entries behind.",
        "Updates stay on their page: fewer index writes and less bloat."),
    theme!("bloat", Performance, ["VAC009", "IDX008"],
        "Reclaim the space bloat holds in {objects}",
        "Bloated tables and indexes are read page by page, empty space included.",
        "Scans read fewer pages{freed}."),
    theme!("visibility-map", Performance, ["VAC010"],
        "Vacuum {objects} to set the visibility map",
        "Without a current visibility map, index-only scans fetch every row from the table and vacuum rereads the whole table.",
        "Index-only scans skip the table."),
    theme!("planner-storage", Performance, ["PLN001", "PLN002"],
        "Tell the planner the storage is fast: {names}",
        "Costs set for spinning disks make the planner avoid index scans and prefetch too little on flash storage.",
        "Plans that fit the storage."),
    theme!("planner-methods", Performance, ["PLN004"],
        "Turn planner methods back on: {names}",
        "A planner method switched off server-wide forces worse plans on every statement that needed it.",
        "The planner can choose the best plan again."),
    theme!("jit", Performance, ["PLN003"],
        "Keep JIT compilation off short statements",
        "JIT compilation costs more than it saves on short statements.",
        "Short statements stop paying for compilation."),
    theme!("parallel-query", Performance, ["PLN005"],
        "Align parallel query settings with the CPUs",
        "Parallel settings out of line with each other or the CPUs waste workers or leave CPUs idle.",
        "Parallel plans get the workers they plan for."),
    theme!("lock-conflicts", Performance, ["LCK001", "LCK002", "LCK003"],
        "Stop the transactions that collide on {objects}",
        "Deadlocks, serialization failures and lock waits in the log throw away work or make requests wait: two operations (often a batch or cron job and interactive requests) change the same rows at the same time.",
        "Fewer rolled-back transactions, retries and waiting requests."),
    theme!("n-plus-one", Performance, ["QRY002"],
        "Batch the statements run once per row",
        "A trivial statement run a huge number of times (N+1) costs round trips more than work.",
        "Fewer round trips."),
    theme!("huge-results", Performance, ["QRY003"],
        "Page or aggregate the statements that return huge results",
        "Statements returning huge numbers of rows move data the application rarely shows.",
        "Less data read and sent."),
    theme!("planning-time", Performance, ["QRY004"],
        "Cut the planning time of {objects}",
        "Planning takes a large share of these statements' time.",
        "Less time spent planning."),
    theme!("noisy-tenant", Performance, ["CON009", "QRY007", "TEN001", "TEN002", "TEN003"],
        "Rein in the tenant that dominates the server",
        "One database, role or application takes a disproportionate share of connections or time.",
        "The other tenants get their share back."),
    theme!("reports-to-replica", Performance, ["WRK001"],
        "Move the reports off the primary's peak",
        "Long reads run on the primary while users are busiest: they compete for CPU, I/O and the cache, and hold back vacuum.",
        "The peak serves the users; the reports run on a replica or at a quiet hour."),
    theme!("batch-at-peak", Performance, ["WRK003"],
        "Move the batch jobs out of the interactive peak",
        "Imports and cron jobs write in bulk while users are busiest: they take CPU, I/O and row locks from them.",
        "The peak serves the users; the jobs run at a quiet hour."),
    theme!("application-cache", Performance, ["WRK002"],
        "Cache the hot reads of {objects} in the application",
        "The same answer is computed thousands of times a second from tables that rarely change.",
        "Fewer round trips and less CPU for the same answers."),
    theme!("headroom", Performance, ["WRK004"],
        "Make room at the peak before the busiest season",
        "At the busiest window, the sessions busy with queries approach the cores: response times climb steeply from there.",
        "Cores to spare at the peak."),
    theme!("files-in-database", Performance, ["STO001"],
        "Move stored files out of {objects}",
        "Files stored in the database inflate backups, replicas and the WAL, and take memory from the page cache.",
        "Smaller backups, replicas and WAL{stored}."),
    // Hygiene.
    theme!("application-superuser", Hygiene, [],
        "Connect the application as a non-superuser role",
        "A superuser ignores CONNECTION LIMIT and the slots reserved for administrators, bypasses row security and can drop anything: one runaway client takes the whole server, and a bug or an injection has no limit.",
        "Per-role limits and timeouts apply, and administrators keep their reserved slots."),
    theme!("invalid-indexes", Hygiene, ["IDX004"],
        "Rebuild or drop {objects}",
        "An invalid index is maintained on every write but never used; a unique one does not enforce anything.",
        "Writes stop maintaining an index nobody reads."),
    theme!("unneeded-indexes", Hygiene, ["IDX001", "IDX002", "IDX003", "IDX007"],
        "Drop {objects:index|indexes} nobody needs",
        "Every index is written on each insert and non-HOT update, vacuumed and backed up; these serve no statement another index does not.",
        "Faster writes and less to vacuum{freed}."),
    theme!("primary-keys", Hygiene, ["SCH003"],
        "Add a primary key to {objects}",
        "Without a primary key, rows cannot be addressed reliably: logical replication cannot replicate updates and deletes, and duplicates go unnoticed.",
        "Rows are addressable and logical replication works."),
    theme!("unvalidated-constraints", Hygiene, ["SCH004"],
        "Validate {objects}",
        "A constraint added NOT VALID is not checked for existing rows, and the planner cannot rely on it.",
        "The constraints hold for every row."),
    theme!("disabled-triggers", Hygiene, ["SCH005"],
        "Re-enable or drop the disabled triggers on {objects}",
        "A disabled trigger silently skips what it enforces (audit, denormalised totals).",
        "What the triggers maintain is maintained again."),
    theme!("reserved-slots", Hygiene, ["CON010"],
        "Reserve connection slots for administrators",
        "With no reserved slots, an administrator cannot connect when the application has taken every slot.",
        "An administrator can always connect."),
    theme!("safety-timeouts", Hygiene, ["CON006"],
        "Set safety timeouts for the application roles",
        "Without statement, lock or idle-in-transaction timeouts, one stuck session can hold locks and the xmin horizon indefinitely.",
        "A stuck session ends on its own."),
    theme!("observability", Hygiene, ["PLN006"],
        "Turn on the monitoring settings: {names}",
        "Without them, slow statements, lock waits and I/O time cannot be diagnosed after the fact.",
        "The next problem can be diagnosed."),
    theme!("largest-objects", Hygiene, ["STO002", "STO003"],
        "Know where the space goes: {objects}",
        "The largest tables and databases drive backup times, vacuum times and cache needs.",
        "Capacity planning starts from the right objects."),
];

/// Findings of these rules join the action of a finding of the `cause` rule when the
/// cause is server-wide (or on the same table): the cause explains them.
pub(crate) struct Cause {
    /// The explaining finding: rule and whether it is about a setting (server-wide).
    pub rule: &'static str,
    pub server_wide: bool,
    /// The findings it explains.
    pub explains: &'static [&'static str],
}

pub(crate) static CAUSES: &[Cause] = &[
    // Autovacuum off server-wide explains the dead rows, stale statistics, lost HOT
    // updates, bloat and an unset visibility map everywhere, and the tables that also
    // have it off per table.
    Cause {
        rule: "VAC002",
        server_wide: true,
        explains: &[
            "VAC001", "VAC002", "VAC003", "VAC004", "VAC008", "VAC009", "VAC010", "VAC011",
        ],
    },
    // Off for one table: that table's dead rows, statistics, HOT updates, bloat.
    Cause {
        rule: "VAC002",
        server_wide: false,
        explains: &["VAC001", "VAC003", "VAC004", "VAC008", "VAC009", "VAC010"],
    },
    // Odoo's lost (model, res_id) index is the index the advisor recommends on the
    // table (ERP003 then uses the advisor's statement) and explains its scans.
    Cause {
        rule: "ERP003",
        server_wide: false,
        explains: &["IDX009", "IDX006"],
    },
    // A queue table on the default triggers is why its dead rows pile up.
    Cause {
        rule: "ERP005",
        server_wide: false,
        explains: &["VAC001"],
    },
    // Odoo's attachments in the database are the binary data STO001 sees in the table.
    Cause {
        rule: "ERP001",
        server_wide: false,
        explains: &["STO001"],
    },
    // A workload-validated index explains the sequential scans on its table.
    Cause {
        rule: "IDX009",
        server_wide: false,
        explains: &["IDX006"],
    },
];

/// Whether a finding is about the server as a whole (a setting, the server) rather
/// than one object.
pub(crate) fn is_server_wide(f: &Finding) -> bool {
    matches!(f.object.kind, ObjectKind::Setting | ObjectKind::Server)
}

/// The theme of a finding: by rule, with VAC002 split between server-wide and per table.
pub(crate) fn theme_of(f: &Finding) -> Option<&'static Theme> {
    let id = match f.rule.as_str() {
        "VAC002" if is_server_wide(f) => "autovacuum-off",
        "VAC002" => "autovacuum-off-tables",
        // The dominant tenant is a superuser: that is the problem, not its share.
        "CON009" if has_superusers(f) => "application-superuser",
        rule => {
            return THEMES.iter().find(|t| t.rules.contains(&rule));
        }
    };
    THEMES.iter().find(|t| t.id == id)
}

fn has_superusers(f: &Finding) -> bool {
    f.evidence
        .get("superuser_roles")
        .and_then(serde_json::Value::as_array)
        .is_some_and(|roles| !roles.is_empty())
}
