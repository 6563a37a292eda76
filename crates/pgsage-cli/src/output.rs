//! Where a command's output goes, how a table is laid out there, and the exit status its
//! findings give: shared by the commands that print a report.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use pgsage::Severity;

use crate::shared_args::SeverityArg;

/// Whether the output goes to a terminal: no `-o FILE` and standard output is one.
pub fn to_terminal(file: Option<&Path>) -> bool {
    file.is_none() && std::io::stdout().is_terminal()
}

/// `--width`; else the terminal's (`None`) on a terminal, 100 in a pipe or a file, so
/// saved reports do not depend on the window they were made in.
pub fn table_width(width: Option<u16>, to_terminal: bool) -> Option<u16> {
    width.or(if to_terminal { None } else { Some(100) })
}

/// Colour on a terminal, unless `NO_COLOR` is set.
pub fn color(to_terminal: bool) -> bool {
    to_terminal && std::env::var_os("NO_COLOR").is_none()
}

/// Writes what `render` produces to `file` or to standard output. A file is written only
/// once rendering has succeeded, so a failed run leaves no half report behind.
pub fn write(
    file: Option<&Path>,
    render: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    match file {
        Some(path) => {
            let mut buf = Vec::new();
            render(&mut buf)?;
            std::fs::write(path, buf).with_context(|| format!("writing {}", path.display()))
        }
        None => {
            let mut out = std::io::stdout().lock();
            render(&mut out)?;
            out.flush()?;
            Ok(())
        }
    }
}

/// Exit status 1 when a finding is at or above `--fail-on`, else 0.
pub fn status(
    fail_on: Option<SeverityArg>,
    severities: impl IntoIterator<Item = Severity>,
) -> ExitCode {
    let fail_on = fail_on.map(Severity::from);
    if fail_on.is_some_and(|f| severities.into_iter().any(|s| s >= f)) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
