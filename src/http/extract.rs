//! Request decoding with Discord's error shapes: authentication, JSON bodies (with the
//! 50035 `errors` tree on type errors), query strings, and snowflakes in paths.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::AppState;
use crate::error::{ApiError, FormErrors};
use crate::model::Snowflake;
use crate::service::Caller;

/// The authenticated caller (`Authorization: Bot <token>` or a raw user token).
pub struct Auth(pub Caller);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .ok_or_else(ApiError::unauthorized)?;
        Ok(Auth(state.service.authenticate(header).await?))
    }
}

/// A JSON body decoded into `T`. Unknown fields are ignored; a body that is not JSON is 50109;
/// a field of the wrong type or a missing required field is 50035 at that field's path.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| ApiError::invalid_json())?;
        // Discord treats an empty body on a JSON route as an empty object.
        let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        decode_json(bytes).map(Body)
    }
}

/// Decodes JSON with Discord's error shapes.
pub fn decode_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_err() {
        return Err(ApiError::invalid_json());
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let mut path: Vec<String> = err
            .path()
            .iter()
            .filter_map(|segment| match segment {
                serde_path_to_error::Segment::Seq { index } => Some(index.to_string()),
                serde_path_to_error::Segment::Map { key } => Some(key.clone()),
                serde_path_to_error::Segment::Enum { variant } => Some(variant.clone()),
                serde_path_to_error::Segment::Unknown => None,
            })
            .collect();
        let message = err.inner().to_string();
        let (code, text) = classify_decode_error(&message, &mut path);
        let path: Vec<&str> = path.iter().map(String::as_str).collect();
        let mut form = FormErrors::default();
        form.add(&path, code, text);
        form.into_error()
    })
}

/// Maps serde's message to Discord's string codes; a missing field extends the path.
fn classify_decode_error(message: &str, path: &mut Vec<String>) -> (&'static str, String) {
    if let Some(rest) = message.strip_prefix("missing field `") {
        if let Some(field) = rest.split('`').next() {
            path.push(field.to_owned());
        }
        return ("BASE_TYPE_REQUIRED", "This field is required".into());
    }
    let code = if message.contains("snowflake") {
        "NUMBER_TYPE_COERCE"
    } else if message.contains("expected a string") {
        "STRING_TYPE_CONVERT"
    } else if message.contains("expected a boolean") {
        "BOOLEAN_TYPE_CONVERT"
    } else if message.contains("integer")
        || message.contains("expected u")
        || message.contains("expected i")
    {
        "NUMBER_TYPE_COERCE"
    } else if message.contains("sequence") {
        "LIST_TYPE_CONVERT"
    } else if message.contains("expected struct") || message.contains("map") {
        "DICT_TYPE_CONVERT"
    } else {
        "BASE_TYPE_CHOICES"
    };
    let text = message
        .split(" at line ")
        .next()
        .unwrap_or(message)
        .to_owned();
    (code, text)
}

/// The `X-Audit-Log-Reason` header (URL-encoded, 1–512 characters), decoded.
pub struct AuditReason(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for AuditReason {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let reason = parts
            .headers
            .get("x-audit-log-reason")
            .and_then(|value| value.to_str().ok())
            .map(|raw| {
                percent_encoding::percent_decode_str(raw)
                    .decode_utf8_lossy()
                    .into_owned()
            })
            .filter(|reason| !reason.is_empty())
            .map(|reason| reason.chars().take(512).collect());
        Ok(AuditReason(reason))
    }
}

/// A query string decoded into `T` (`?&k=v` and repeated keys tolerated).
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        serde_urlencoded::from_str(query)
            .map(QueryParams)
            .map_err(|err| {
                let mut form = FormErrors::default();
                form.add(&[], "BASE_TYPE_CHOICES", err.to_string());
                form.into_error()
            })
    }
}

/// Parses a snowflake from a path segment; `name` is the parameter in the error tree.
pub fn snowflake(name: &str, raw: &str) -> Result<Snowflake, ApiError> {
    Snowflake::parse(raw).ok_or_else(|| {
        ApiError::invalid_field(
            &[name],
            "NUMBER_TYPE_COERCE",
            format!("Value \"{raw}\" is not snowflake."),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Sample {
        name: String,
        #[serde(default)]
        nested: Option<Vec<Inner>>,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        id: Snowflake,
    }

    #[test]
    fn errors_point_at_the_field() {
        let err = decode_json::<Sample>(b"{}").unwrap_err();
        assert_eq!(err.code, 50035);
        assert_eq!(
            err.errors.unwrap()["name"]["_errors"][0]["code"],
            "BASE_TYPE_REQUIRED"
        );
        let err =
            decode_json::<Sample>(br#"{"name":"a","nested":[{"id":"1"},{"id":"x"}]}"#).unwrap_err();
        assert_eq!(
            err.errors.unwrap()["nested"]["1"]["id"]["_errors"][0]["code"],
            "NUMBER_TYPE_COERCE"
        );
        assert_eq!(decode_json::<Sample>(b"{nope").unwrap_err().code, 50109);
        assert!(decode_json::<Sample>(br#"{"name":"a","unknown":1}"#).is_ok());
    }
}
