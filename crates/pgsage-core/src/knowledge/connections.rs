//! Connections: the default `max_connections` per profile.
//!
//! Reference: <https://www.postgresql.org/docs/current/runtime-config-connection.html#GUC-MAX-CONNECTIONS>.

use super::Profile;

/// Default `max_connections` per profile (PGTune's), when neither the server nor the user
/// says.
pub fn default_connections(profile: Profile) -> i64 {
    match profile {
        Profile::Web => 200,
        Profile::Oltp => 300,
        Profile::Dw => 40,
        Profile::Mixed => 100,
    }
}
