//! Decoding answers, with the JSON path of whatever does not fit.

use std::fmt;

use serde::de::{DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Why a body does not decode as its operation's type: where, and what was wrong.
///
/// ```
/// #[derive(serde::Deserialize, Debug)]
/// struct Run { started_by: String }
/// #[derive(serde::Deserialize, Debug)]
/// struct Envelope { data: Run }
///
/// let error = tallyfy_api::decode::<Envelope>(br#"{"data": {"started_by": 1002}}"#).unwrap_err();
/// assert_eq!(error.path(), "data.started_by");
/// assert_eq!(error.to_string(), "data.started_by: invalid type: integer `1002`, expected a string");
/// ```
#[derive(Debug)]
pub struct DecodeError {
    path: String,
    inner: serde_json::Error,
}

impl DecodeError {
    /// For an operation whose answer is a file ([`crate::Download`]), which has no JSON
    /// body to decode.
    pub(crate) fn file_answer() -> Self {
        Self {
            path: ".".into(),
            inner: serde::de::Error::custom(
                "the answer is a file, not JSON: it is read as a stream",
            ),
        }
    }

    /// Where in the body decoding failed, such as `data.started_by` (`.` for the body
    /// itself).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What was wrong there, without the path.
    pub fn mismatch(&self) -> String {
        // serde_json appends " at line L column C": the path says where, more usefully.
        let text = self.inner.to_string();
        match text.rfind(" at line ") {
            Some(at) => text[..at].to_owned(),
            None => text,
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.mismatch())
    }
}

impl std::error::Error for DecodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.inner)
    }
}

/// Decodes a JSON body as `T`; on failure the error names the JSON path at fault.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, DecodeError> {
    let mut json = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut json).map_err(|e| DecodeError {
        path: e.path().to_string(),
        inner: e.into_inner(),
    })?;
    json.end().map_err(|inner| DecodeError {
        path: ".".into(),
        inner,
    })?;
    Ok(value)
}

/// Stands for the body of an answer that documents none: anything decodes, nothing is
/// kept.
#[derive(Debug)]
pub struct NoBody;

impl<'de> Deserialize<'de> for NoBody {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        IgnoredAny::deserialize(deserializer).map(|_| NoBody)
    }
}

impl Serialize for NoBody {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_unit()
    }
}

/// Decodes an answer as an operation documents it: a 2xx as `S`, anything else as `E`,
/// then writes what was decoded back as JSON, which is what a caller can read of it.
/// An empty body is `null`. [`Operation::decode`](crate::Operation::decode) calls this
/// with the operation's own types.
pub fn decode_answer<S, E>(status: u16, body: &[u8]) -> Result<Value, DecodeError>
where
    S: DeserializeOwned + Serialize,
    E: DeserializeOwned + Serialize,
{
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    let written = if (200..300).contains(&status) {
        serde_json::to_value(decode::<S>(body)?)
    } else {
        serde_json::to_value(decode::<E>(body)?)
    };
    written.map_err(|inner| DecodeError {
        path: ".".into(),
        inner,
    })
}
