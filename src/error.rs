//! The one error type of the API: every failure a client can see is an `ApiError`, rendered as
//! Discord's body `{"code", "message", "errors"?}` with Discord's HTTP status.

use serde_json::{json, Map, Value};

/// A failure with Discord's JSON error code and the HTTP status Discord pairs with it.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub code: u32,
    pub message: String,
    /// The nested `errors` tree of a 50035 "Invalid Form Body".
    pub errors: Option<Value>,
}

impl ApiError {
    pub fn new(status: u16, code: u32, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            errors: None,
        }
    }

    pub fn unauthorized() -> Self {
        Self::new(401, 0, "401: Unauthorized")
    }
    pub fn not_found_route() -> Self {
        Self::new(404, 0, "404: Not Found")
    }
    pub fn method_not_allowed() -> Self {
        Self::new(405, 0, "405: Method Not Allowed")
    }
    pub fn unknown_application() -> Self {
        Self::new(404, 10002, "Unknown Application")
    }
    pub fn unknown_channel() -> Self {
        Self::new(404, 10003, "Unknown Channel")
    }
    pub fn unknown_guild() -> Self {
        Self::new(404, 10004, "Unknown Guild")
    }
    pub fn unknown_invite() -> Self {
        Self::new(404, 10006, "Unknown Invite")
    }
    pub fn unknown_member() -> Self {
        Self::new(404, 10007, "Unknown Member")
    }
    pub fn unknown_message() -> Self {
        Self::new(404, 10008, "Unknown Message")
    }
    pub fn unknown_role() -> Self {
        Self::new(404, 10011, "Unknown Role")
    }
    pub fn unknown_user() -> Self {
        Self::new(404, 10013, "Unknown User")
    }
    pub fn bots_forbidden() -> Self {
        Self::new(403, 20001, "Bots cannot use this endpoint")
    }
    pub fn missing_access() -> Self {
        Self::new(403, 50001, "Missing Access")
    }
    pub fn empty_message() -> Self {
        Self::new(400, 50006, "Cannot send an empty message")
    }
    pub fn missing_permissions() -> Self {
        Self::new(403, 50013, "Missing Permissions")
    }
    pub fn invalid_json() -> Self {
        Self::new(400, 50109, "The request body contains invalid JSON.")
    }
    pub fn internal() -> Self {
        Self::new(500, 0, "500: Internal Server Error")
    }

    /// A 50035 with one error at `path` (field names; array indexes as strings).
    pub fn invalid_field(path: &[&str], code: &str, message: impl Into<String>) -> Self {
        let mut form = FormErrors::default();
        form.add(path, code, message);
        form.into_error()
    }

    /// The JSON body Discord sends for this error.
    pub fn body(&self) -> Value {
        let mut body = json!({ "code": self.code, "message": self.message });
        if let Some(errors) = &self.errors {
            body["errors"] = errors.clone();
        }
        body
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

/// Collects validation failures into Discord's nested `errors` tree so one response reports
/// every bad field at once.
#[derive(Debug, Default)]
pub struct FormErrors {
    tree: Map<String, Value>,
}

impl FormErrors {
    pub fn add(&mut self, path: &[&str], code: &str, message: impl Into<String>) {
        let mut node = &mut self.tree;
        for key in path {
            let entry = node
                .entry(key.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            node = entry.as_object_mut().expect("just made an object");
        }
        let errors = node
            .entry("_errors")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = errors {
            list.push(json!({ "code": code, "message": message.into() }));
        }
    }

    pub fn is_empty(&self) -> bool {
        self.tree.is_empty()
    }

    pub fn into_error(self) -> ApiError {
        ApiError {
            status: 400,
            code: 50035,
            message: "Invalid Form Body".into(),
            errors: Some(Value::Object(self.tree)),
        }
    }

    /// `Ok(())` when nothing was added, else the 50035 error.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.into_error())
        }
    }
}

/// Failures of the storage layer; the service maps them to API errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write (e.g. a taken username).
    #[error("conflict on {0}")]
    Conflict(&'static str),
    #[error("storage backend: {0}")]
    Backend(String),
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        tracing::error!(error = %err, "store failure");
        ApiError::internal()
    }
}
