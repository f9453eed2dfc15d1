//! A member's ID, as Tallyfy sends it: an integer, or now and then a string.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A member's (user's) ID, such as a process's `started_by` or `owner_id`.
///
/// Tallyfy sends user IDs as integers (`1002`); one of its documented examples shows a
/// string. Both read into this one type: an integer or a numeric string becomes the
/// number, any other string is kept as text. It is written back in the form it holds,
/// so a number stays a number.
///
/// ```
/// use tallyfy_api::UserId;
///
/// let from_number: UserId = serde_json::from_str("1002").unwrap();
/// let from_text: UserId = serde_json::from_str("\"1002\"").unwrap();
/// assert_eq!(from_number, from_text);
/// assert_eq!(from_number.as_u64(), Some(1002));
/// assert_eq!(serde_json::to_string(&from_text).unwrap(), "1002");
///
/// let placeholder: UserId = serde_json::from_str("\"user_id\"").unwrap();
/// assert_eq!(placeholder.as_u64(), None);
/// assert_eq!(placeholder.to_string(), "user_id");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(Repr);

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Repr {
    Number(u64),
    Text(String),
}

impl UserId {
    /// The ID as a number, when it is one (as Tallyfy sends it).
    pub fn as_u64(&self) -> Option<u64> {
        match &self.0 {
            Repr::Number(n) => Some(*n),
            Repr::Text(_) => None,
        }
    }
}

impl From<u64> for UserId {
    fn from(id: u64) -> Self {
        Self(Repr::Number(id))
    }
}

impl FromStr for UserId {
    type Err = std::convert::Infallible;

    /// Reads a numeric string as the number; keeps any other text as it is.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(Self(match text.parse() {
            Ok(n) => Repr::Number(n),
            Err(_) => Repr::Text(text.to_owned()),
        }))
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Number(n) => n.fmt(f),
            Repr::Text(text) => f.write_str(text),
        }
    }
}

impl Serialize for UserId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Repr::Number(n) => serializer.serialize_u64(*n),
            Repr::Text(text) => serializer.serialize_str(text),
        }
    }
}

impl<'de> Deserialize<'de> for UserId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Either;

        impl Visitor<'_> for Either {
            type Value = UserId;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a user ID (a non-negative integer or a string)")
            }

            fn visit_u64<E: de::Error>(self, n: u64) -> Result<UserId, E> {
                Ok(UserId::from(n))
            }

            fn visit_i64<E: de::Error>(self, n: i64) -> Result<UserId, E> {
                u64::try_from(n)
                    .map(UserId::from)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(n), &self))
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<UserId, E> {
                let Ok(id) = text.parse();
                Ok(id)
            }
        }

        deserializer.deserialize_any(Either)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_and_numeric_strings_are_one_id() {
        for json in ["1002", "\"1002\""] {
            let id: UserId = serde_json::from_str(json).unwrap();
            assert_eq!(id, UserId::from(1002), "{json}");
            assert_eq!(serde_json::to_string(&id).unwrap(), "1002");
        }
    }

    #[test]
    fn other_strings_are_kept_as_text() {
        for text in ["user_id", "u_38", "", " 12", "12.5"] {
            let id: UserId = serde_json::from_value(serde_json::json!(text)).unwrap();
            assert_eq!((id.as_u64(), id.to_string()), (None, text.to_owned()));
            assert_eq!(serde_json::to_value(&id).unwrap(), serde_json::json!(text));
        }
    }

    #[test]
    fn anything_else_is_a_clear_error() {
        for json in ["-3", "1.5", "true", "null", "{}", "[]"] {
            let error = serde_json::from_str::<UserId>(json)
                .unwrap_err()
                .to_string();
            assert!(error.contains("expected a user ID"), "{json}: {error}");
        }
    }
}
