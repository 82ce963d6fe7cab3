use serde::{Deserialize, Serialize};

use super::User;

/// A guild ban as Discord lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ban {
    pub reason: Option<String>,
    pub user: User,
}
