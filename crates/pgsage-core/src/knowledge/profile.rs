//! The workload profile a configuration is sized for.

use serde::{Deserialize, Serialize};

/// The workload the server is tuned for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// Many short transactions.
    Oltp,
    /// Web application: short queries, many connections.
    Web,
    /// Mixed transactional and reporting (the default: ERP servers run both).
    #[default]
    Mixed,
    /// Data warehouse: few, large analytical queries.
    Dw,
}

impl std::str::FromStr for Profile {
    type Err = crate::ParseValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "oltp" => Ok(Profile::Oltp),
            "web" => Ok(Profile::Web),
            "mixed" => Ok(Profile::Mixed),
            "dw" => Ok(Profile::Dw),
            other => Err(crate::ParseValueError::new(
                "profile",
                other,
                "oltp, web, mixed or dw",
            )),
        }
    }
}

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Profile::Oltp => "oltp",
            Profile::Web => "web",
            Profile::Mixed => "mixed",
            Profile::Dw => "dw",
        })
    }
}
