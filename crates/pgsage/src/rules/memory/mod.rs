//! The `memory` pack: shared_buffers, work_mem, maintenance memory, huge pages.

mod shared_buffers_size;

pub use shared_buffers_size::SharedBuffersSize;

/// This pack's rules.
pub(crate) static RULES: &[&dyn super::Rule] = &[&SharedBuffersSize];
