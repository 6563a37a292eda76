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

/// The width reports are laid out at: `--width`; else `COLUMNS` when set to a number; else
/// the terminal's on a terminal; else 100 — also when a terminal reports a width of 0
/// (a 0×0 pseudo-terminal), so saved reports do not depend on the window they were made
/// in and no layout collapses to one character per column.
pub fn table_width(width: Option<u16>, to_terminal: bool) -> Option<u16> {
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<u16>().ok());
    let terminal = if to_terminal {
        terminal_size::terminal_size().map(|(w, _)| w.0)
    } else {
        None
    };
    Some(resolve_width(width, columns, terminal))
}

/// The narrowest layout the reports support; `--width` below it is refused.
pub const MIN_WIDTH: u16 = 40;
const FALLBACK_WIDTH: u16 = 100;

fn resolve_width(flag: Option<u16>, columns: Option<u16>, terminal: Option<u16>) -> u16 {
    flag.or(columns.filter(|w| *w > 0))
        .or(terminal.filter(|w| *w > 0))
        .unwrap_or(FALLBACK_WIDTH)
        .max(MIN_WIDTH)
}

/// `--width`: a number of columns, at least [`MIN_WIDTH`].
pub fn parse_width(text: &str) -> std::result::Result<u16, String> {
    let w: u16 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number of columns (e.g. 100)"))?;
    if w < MIN_WIDTH {
        return Err(format!(
            "{w} columns is too narrow: give at least {MIN_WIDTH} (or leave --width out to use the terminal's)"
        ));
    }
    Ok(w)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_terminal_of_width_zero_falls_back_to_100_columns() {
        assert_eq!(resolve_width(None, None, Some(0)), 100);
        assert_eq!(resolve_width(None, Some(0), Some(0)), 100);
        assert_eq!(resolve_width(None, None, None), 100);
    }

    #[test]
    fn flag_then_columns_then_terminal() {
        assert_eq!(resolve_width(Some(120), Some(80), Some(200)), 120);
        assert_eq!(resolve_width(None, Some(80), Some(200)), 80);
        assert_eq!(resolve_width(None, None, Some(200)), 200);
        assert_eq!(resolve_width(None, Some(10), None), MIN_WIDTH);
    }

    #[test]
    fn width_zero_or_too_narrow_is_refused() {
        assert!(parse_width("0").is_err());
        assert!(parse_width("39").is_err());
        assert!(parse_width("abc").is_err());
        assert_eq!(parse_width("80"), Ok(80));
    }
}
