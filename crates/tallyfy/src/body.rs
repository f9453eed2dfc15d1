//! Reading Tallyfy's error bodies, whatever their shape.
//!
//! `error` may be a boolean, a string (OAuth) or an object; `message`, `code` and
//! `errors` are optional; the body may be empty, HTML or broken JSON. Nothing here fails:
//! what cannot be read is left out, and the raw text is kept, truncated.

use std::collections::BTreeMap;

use serde_json::Value;

/// What an error body says, as far as it can be read.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct ErrorBody {
    pub message: Option<String>,
    pub code: Option<String>,
    pub field_errors: BTreeMap<String, Vec<String>>,
}

/// How much of a raw body an error keeps, in bytes (like Tallyfy's own CLI).
pub(crate) const KEPT_BODY: usize = 8 * 1024;

/// Reads `raw` leniently: never fails, never panics.
pub(crate) fn parse(raw: &[u8]) -> ErrorBody {
    let Ok(Value::Object(top)) = serde_json::from_slice::<Value>(raw) else {
        return ErrorBody::default();
    };
    let nested = top.get("error").and_then(Value::as_object);
    let text = |key: &str| {
        top.get(key)
            .and_then(scalar)
            .or_else(|| nested.and_then(|n| n.get(key)).and_then(scalar))
    };
    ErrorBody {
        message: text("message").or_else(|| text("error_description")),
        code: text("code").or_else(|| top.get("error").and_then(Value::as_str).map(str::to_owned)),
        field_errors: top.get("errors").map(field_errors).unwrap_or_default(),
    }
}

/// A string or number as text; anything else is not a message.
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `{"field": ["msg", ...]}` or `{"field": "msg"}`; other shapes are skipped.
fn field_errors(errors: &Value) -> BTreeMap<String, Vec<String>> {
    let Some(fields) = errors.as_object() else {
        return BTreeMap::new();
    };
    fields
        .iter()
        .filter_map(|(field, messages)| {
            let messages: Vec<String> = match messages {
                Value::Array(items) => items.iter().filter_map(scalar).collect(),
                other => scalar(other).into_iter().collect(),
            };
            (!messages.is_empty()).then(|| (field.clone(), messages))
        })
        .collect()
}

/// The raw body as text, cut to [`KEPT_BODY`] bytes on a character boundary.
pub(crate) fn excerpt(raw: &[u8]) -> Option<String> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    let text = String::from_utf8_lossy(raw);
    if text.len() <= KEPT_BODY {
        return Some(text.into_owned());
    }
    let mut end = KEPT_BODY;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Some(format!("{}…[truncated]", &text[..end]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message_and_code(raw: &str) -> (Option<String>, Option<String>) {
        let body = parse(raw.as_bytes());
        (body.message, body.code)
    }

    #[test]
    fn every_documented_shape_is_read() {
        let cases: &[(&str, Option<&str>, Option<&str>)] = &[
            (
                r#"{"error": true, "message": "Resource not found", "code": "RESOURCE_NOT_FOUND"}"#,
                Some("Resource not found"),
                Some("RESOURCE_NOT_FOUND"),
            ),
            (
                r#"{"error": true, "errors": {"name": ["The name is required."]}}"#,
                None,
                None,
            ),
            (
                r#"{"message": "The given data was invalid.", "errors": {}}"#,
                Some("The given data was invalid."),
                None,
            ),
            (
                r#"{"message": "You've reached the hourly limit", "code": "RATE_LIMIT_EXCEEDED"}"#,
                Some("You've reached the hourly limit"),
                Some("RATE_LIMIT_EXCEEDED"),
            ),
            (
                r#"{"error": "invalid_client"}"#,
                None,
                Some("invalid_client"),
            ),
            (
                r#"{"error": {"code": "RUN_NOT_ARCHIVED", "message": "Archive it first", "details": {}}}"#,
                Some("Archive it first"),
                Some("RUN_NOT_ARCHIVED"),
            ),
            ("", None, None),
            ("<html><body>502 Bad Gateway</body></html>", None, None),
            (r#"{"message": "#, None, None),
            (r#"["not", "an", "object"]"#, None, None),
        ];
        for (raw, message, code) in cases {
            let expected = (message.map(str::to_owned), code.map(str::to_owned));
            assert_eq!(message_and_code(raw), expected, "{raw}");
        }
    }

    #[test]
    fn field_errors_accept_lists_and_single_strings() {
        let body = parse(
            br#"{"errors": {"name": ["required", "too short"], "due": "bad date", "x": {}}}"#,
        );
        assert_eq!(body.field_errors["name"], ["required", "too short"]);
        assert_eq!(body.field_errors["due"], ["bad date"]);
        assert!(!body.field_errors.contains_key("x"));
    }

    #[test]
    fn excerpts_are_truncated_on_a_character_boundary() {
        let long = "é".repeat(KEPT_BODY);
        let kept = excerpt(long.as_bytes()).unwrap();
        assert!(kept.ends_with("…[truncated]"));
        assert!(kept.len() <= KEPT_BODY + "…[truncated]".len());
        assert_eq!(excerpt(b"  \n"), None);
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    /// JSON-like text: the shapes a server or proxy might send, broken anywhere.
    fn jsonish() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop_oneof![
                Just("{".to_string()),
                Just("}".to_string()),
                Just("[".to_string()),
                Just("]".to_string()),
                Just("\"error\":".to_string()),
                Just("\"message\":".to_string()),
                Just("\"errors\":".to_string()),
                Just("\"code\":".to_string()),
                Just(",".to_string()),
                Just("true".to_string()),
                Just("null".to_string()),
                any::<i64>().prop_map(|n| n.to_string()),
                "\"[^\"]{0,8}\"",
                ".{0,4}",
            ],
            0..40,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest! {
        #[test]
        fn parse_never_panics_on_bytes(raw in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse(&raw);
            let kept = excerpt(&raw);
            prop_assert!(kept.is_none_or(|k| k.len() <= KEPT_BODY + "…[truncated]".len() + 3 * 512));
        }

        #[test]
        fn parse_never_panics_on_jsonish_text(text in jsonish()) {
            let body = parse(text.as_bytes());
            prop_assert!(body.field_errors.values().all(|messages| !messages.is_empty()));
        }

        #[test]
        fn excerpts_stay_under_the_cap(text in ".{0,3000}", repeat in 1usize..8) {
            let long = text.repeat(repeat * 4);
            if let Some(kept) = excerpt(long.as_bytes()) {
                prop_assert!(kept.len() <= KEPT_BODY + "…[truncated]".len());
            }
        }
    }
}
