//! Request bodies that may carry files: `application/json` (no files), `multipart/form-data`
//! (`payload_json` with the JSON parameters plus file parts `files[n]`, as discord.py and
//! discord.js send them; without `payload_json` the plain fields are the parameters) and
//! `application/x-www-form-urlencoded`. Message create/edit use it; webhook execution and
//! interaction responses take the same shape.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::extract::decode_json;
use super::AppState;
use crate::error::{ApiError, FormErrors};
use crate::service::files::{Upload, MAX_FILES};

/// A body decoded into `T` plus the uploaded files (empty for JSON bodies).
pub struct Payload<T> {
    pub body: T,
    pub files: Vec<Upload>,
}

/// Room for the JSON parameters and part headers beyond the files themselves.
const OVERHEAD_BYTES: u64 = 1024 * 1024;
/// Discord's cap on a whole message request (25 MiB); `--max-upload-bytes` raises it.
const REQUEST_BYTES: u64 = 25 * 1024 * 1024;

/// 413 / 40005, Discord's answer to an upload over the limit.
pub fn too_large() -> ApiError {
    ApiError::new(413, 40005, "Request entity too large")
}

fn form_error(code: &str, message: impl Into<String>) -> ApiError {
    let mut form = FormErrors::default();
    form.add(&[], code, message);
    form.into_error()
}

impl<T: DeserializeOwned> FromRequest<AppState> for Payload<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let content_type = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "multipart/form-data" => {
                multipart(req, &content_type, state.service.max_upload_bytes()).await
            }
            "application/x-www-form-urlencoded" => {
                let bytes = Bytes::from_request(req, state)
                    .await
                    .map_err(|_| ApiError::invalid_json())?;
                let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
                    .map_err(|err| form_error("BASE_TYPE_CHOICES", err.to_string()))?;
                let mut fields = Map::new();
                for (name, value) in pairs {
                    fields.insert(name.clone(), field_value(&name, value));
                }
                let body = decode_json(&serde_json::to_vec(&fields).unwrap_or_default())?;
                Ok(Payload {
                    body,
                    files: Vec::new(),
                })
            }
            _ => {
                let super::extract::Body(body) =
                    super::extract::Body::<T>::from_request(req, state).await?;
                Ok(Payload {
                    body,
                    files: Vec::new(),
                })
            }
        }
    }
}

/// Reads a multipart body: each file part at most `max_file` bytes (413 / 40005 beyond), at
/// most 10 files, `payload_json` (or the plain fields) decoded into `T`.
async fn multipart<T: DeserializeOwned>(
    req: Request,
    content_type: &str,
    max_file: u64,
) -> Result<Payload<T>, ApiError> {
    let boundary = multer::parse_boundary(content_type).map_err(|_| {
        form_error(
            "CONTENT_TYPE_INVALID",
            "multipart/form-data needs a boundary.",
        )
    })?;
    let whole = REQUEST_BYTES.max(max_file).saturating_add(OVERHEAD_BYTES);
    let limits = multer::SizeLimit::new()
        .whole_stream(whole)
        .per_field(max_file.max(OVERHEAD_BYTES));
    let mut parts = multer::Multipart::with_constraints(
        req.into_body().into_data_stream(),
        boundary,
        multer::Constraints::new().size_limit(limits),
    );
    let mut payload_json: Option<Bytes> = None;
    let mut fields = Map::new();
    let mut files: Vec<Upload> = Vec::new();
    let mut position = 0u64;
    while let Some(field) = parts.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or("").to_owned();
        let filename = field.file_name().map(str::to_owned);
        let bytes = field.bytes().await.map_err(multipart_error)?;
        match filename {
            Some(filename) if name != "payload_json" => {
                if bytes.len() as u64 > max_file {
                    return Err(too_large());
                }
                let index = file_index(&name).unwrap_or(position);
                position += 1;
                if files.iter().any(|f| f.index == index) {
                    return Err(ApiError::invalid_field(
                        &[&name],
                        "BASE_TYPE_DUPLICATE_VALUES",
                        "Duplicate file index.",
                    ));
                }
                files.push(Upload {
                    index,
                    filename,
                    bytes,
                });
                if files.len() > MAX_FILES {
                    return Err(ApiError::invalid_field(
                        &["files"],
                        "BASE_TYPE_MAX_LENGTH",
                        format!("Must be {MAX_FILES} or fewer in length."),
                    ));
                }
            }
            _ if name == "payload_json" => payload_json = Some(bytes),
            _ => {
                let value = String::from_utf8(bytes.to_vec()).map_err(|_| {
                    ApiError::invalid_field(
                        &[&name],
                        "STRING_TYPE_CONVERT",
                        "Could not interpret value as string.",
                    )
                })?;
                fields.insert(name.clone(), field_value(&name, value));
            }
        }
    }
    let body = match payload_json {
        Some(json) => decode_json(&json)?,
        None => decode_json(&serde_json::to_vec(&fields).unwrap_or_default())?,
    };
    Ok(Payload { body, files })
}

/// `n` of `files[n]` / `file[n]`; other names get the part's position.
fn file_index(name: &str) -> Option<u64> {
    let inner = name.strip_suffix(']')?.split_once('[')?.1;
    inner.parse().ok()
}

/// A plain form field as a JSON value: booleans and numbers for the fields that take them,
/// strings otherwise (so `content: "123"` stays text).
fn field_value(name: &str, value: String) -> Value {
    let textual = matches!(
        name,
        "content" | "nonce" | "username" | "avatar_url" | "thread_name"
    );
    if !textual {
        if let Ok(parsed) = serde_json::from_str::<Value>(&value) {
            if !parsed.is_string() {
                return parsed;
            }
        }
    }
    Value::String(value)
}

fn multipart_error(err: multer::Error) -> ApiError {
    match err {
        multer::Error::FieldSizeExceeded { .. } | multer::Error::StreamSizeExceeded { .. } => {
            too_large()
        }
        other => form_error(
            "MULTIPART_INVALID",
            format!("Invalid multipart/form-data body: {other}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_part_names() {
        assert_eq!(file_index("files[3]"), Some(3));
        assert_eq!(file_index("file[0]"), Some(0));
        assert_eq!(file_index("file"), None);
        assert_eq!(file_index("files[x]"), None);
    }

    #[test]
    fn form_fields_keep_text_as_text() {
        assert_eq!(field_value("content", "123".into()), Value::from("123"));
        assert_eq!(field_value("tts", "true".into()), Value::from(true));
        assert_eq!(field_value("flags", "4".into()), Value::from(4));
        assert_eq!(field_value("embeds", "x".into()), Value::from("x"));
    }
}
