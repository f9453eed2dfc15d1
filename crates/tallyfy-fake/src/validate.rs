//! Reading request bodies as Tallyfy (Laravel) validates them: every field at fault is
//! named at once, in `{"error": true, "errors": {field: [message]}}`.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::Offset;
use serde_json::{Map, Value};

use crate::store::{Owners, Refusal};

/// A request body being read, and what is wrong with it so far.
pub(crate) struct Body<'a> {
    fields: &'a Map<String, Value>,
    errors: Map<String, Value>,
}

/// A field's name as Laravel writes it in a message: `checklist_id` → `checklist id`.
fn label(field: &str) -> String {
    field.replace('_', " ")
}

/// The body of a request: a JSON object, or 422.
pub(crate) fn object(bytes: &[u8]) -> Result<Map<String, Value>, Refusal> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(fields)) => Ok(fields),
        Ok(_) | Err(_) => Err(Refusal::invalid(
            "body",
            "The request body must be a JSON object.",
        )),
    }
}

/// Whether `value` counts as not given: absent, `null`, an empty string, list or object.
pub(crate) fn blank(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        Some(Value::Array(items)) => items.is_empty(),
        Some(Value::Object(fields)) => fields.is_empty(),
        Some(_) => false,
    }
}

impl<'a> Body<'a> {
    pub(crate) fn new(fields: &'a Map<String, Value>) -> Self {
        Self {
            fields,
            errors: Map::new(),
        }
    }

    /// The raw value of `field`, unless it is absent or `null`.
    pub(crate) fn raw(&self, field: &str) -> Option<&'a Value> {
        self.fields.get(field).filter(|v| !v.is_null())
    }

    /// Records `message` about `field`.
    pub(crate) fn fail(&mut self, field: &str, message: String) {
        let messages = self
            .errors
            .entry(field.to_string())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = messages {
            list.push(Value::String(message));
        }
    }

    /// Fails `field` as required if it is blank; whether it was there.
    pub(crate) fn require(&mut self, field: &str) -> bool {
        if blank(self.fields.get(field)) {
            self.fail(field, format!("The {} field is required.", label(field)));
            false
        } else {
            true
        }
    }

    /// `field` as a string of at most `max` characters, if given.
    pub(crate) fn string(&mut self, field: &str, max: usize) -> Option<String> {
        match self.raw(field)? {
            Value::String(s) if s.chars().count() > max => {
                let message = format!(
                    "The {} may not be greater than {max} characters.",
                    label(field)
                );
                self.fail(field, message);
                None
            }
            Value::String(s) => Some(s.clone()),
            _ => {
                self.fail(field, format!("The {} must be a string.", label(field)));
                None
            }
        }
    }

    /// `field` as a required, non-blank string of at most `max` characters.
    pub(crate) fn required_string(&mut self, field: &str, max: usize) -> Option<String> {
        if self.require(field) {
            self.string(field, max)
        } else {
            None
        }
    }

    /// `field` as a boolean, if given.
    pub(crate) fn boolean(&mut self, field: &str) -> Option<bool> {
        match self.raw(field)? {
            Value::Bool(b) => Some(*b),
            _ => {
                let message = format!("The {} field must be true or false.", label(field));
                self.fail(field, message);
                None
            }
        }
    }

    /// `field` as an integer, if given.
    pub(crate) fn integer(&mut self, field: &str) -> Option<i64> {
        match self.raw(field)? {
            Value::Number(n) if n.is_i64() => n.as_i64(),
            _ => {
                self.fail(field, format!("The {} must be an integer.", label(field)));
                None
            }
        }
    }

    /// `field` as a member ID (an integer, or a string of digits), if given.
    pub(crate) fn member(&mut self, field: &str) -> Option<u64> {
        let value = self.raw(field)?;
        let id = member_id(value);
        if id.is_none() {
            self.fail(field, format!("The selected {} is invalid.", label(field)));
        }
        id
    }

    /// `field` as a point in time, if given: ISO 8601, `YYYY-MM-DD HH:MM:SS` (UTC) or
    /// `YYYY-MM-DD`, as Tallyfy's pages show all three.
    pub(crate) fn time(&mut self, field: &str) -> Option<Timestamp> {
        let value = self.raw(field)?;
        let read = value.as_str().and_then(parse_time);
        if read.is_none() {
            self.fail(field, format!("The {} is not a valid date.", label(field)));
        }
        read
    }

    /// `field` as an object, if given.
    pub(crate) fn object(&mut self, field: &str) -> Option<&'a Map<String, Value>> {
        match self.raw(field)? {
            Value::Object(fields) => Some(fields),
            _ => {
                self.fail(field, format!("The {} must be an object.", label(field)));
                None
            }
        }
    }

    /// `field` as a list, if given.
    pub(crate) fn list(&mut self, field: &str) -> Option<&'a Vec<Value>> {
        match self.raw(field)? {
            Value::Array(items) => Some(items),
            _ => {
                self.fail(field, format!("The {} must be an array.", label(field)));
                None
            }
        }
    }

    /// `field` as assignees, `{"users": [member ID], "guests": [email], "groups": [ID]}`,
    /// if given.
    pub(crate) fn owners(&mut self, field: &str) -> Option<Owners> {
        let fields = self.object(field)?;
        let mut owners = Owners::default();
        let mut ok = true;
        for (key, value) in fields {
            let Value::Array(items) = value else {
                self.fail(
                    &format!("{field}.{key}"),
                    format!("The {field}.{key} must be an array."),
                );
                ok = false;
                continue;
            };
            for (n, item) in items.iter().enumerate() {
                let at = format!("{field}.{key}.{n}");
                match key.as_str() {
                    "users" => match member_id(item) {
                        Some(id) => owners.users.push(id),
                        None => {
                            self.fail(&at, format!("The selected {at} is invalid."));
                            ok = false;
                        }
                    },
                    "guests" => match item.as_str().filter(|s| s.contains('@')) {
                        Some(email) => owners.guests.push(email.to_string()),
                        None => {
                            self.fail(&at, format!("The {at} must be a valid email address."));
                            ok = false;
                        }
                    },
                    "groups" => match item.as_str() {
                        Some(group) => owners.groups.push(group.to_string()),
                        None => {
                            self.fail(&at, format!("The {at} must be a string."));
                            ok = false;
                        }
                    },
                    _ => {}
                }
            }
        }
        ok.then_some(owners)
    }

    /// Takes over what `inner`, the body of the object at `at`, found wrong, naming each
    /// field from here (`tasks.<step>.owners.users.0`).
    pub(crate) fn absorb(&mut self, at: &str, inner: Body<'_>) {
        for (field, messages) in inner.errors {
            let field = format!("{at}.{field}");
            let messages = messages.as_array().into_iter().flatten();
            for message in messages.filter_map(Value::as_str) {
                self.fail(&field, message.to_string());
            }
        }
    }

    /// `Ok` if nothing failed; else 422 naming every field at fault.
    pub(crate) fn finish(self) -> Result<(), Refusal> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(Refusal::invalid_fields(self.errors))
        }
    }
}

/// A member ID: an integer, or a string of digits (one documented example sends those).
pub(crate) fn member_id(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// `text` read as a point in time.
pub(crate) fn parse_time(text: &str) -> Option<Timestamp> {
    if let Ok(at) = text.parse::<Timestamp>() {
        return Some(at);
    }
    let civil = text.parse::<DateTime>().ok().or_else(|| {
        text.parse::<Date>()
            .ok()
            .map(|d| d.to_datetime(jiff::civil::Time::midnight()))
    })?;
    Offset::UTC.to_timestamp(civil).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::iso;
    use serde_json::json;

    #[test]
    fn the_three_documented_date_formats_are_read() {
        for (text, expected) in [
            ("2025-06-01T17:00:00Z", "2025-06-01T17:00:00.000Z"),
            ("2025-06-30T17:00:00.000Z", "2025-06-30T17:00:00.000Z"),
            ("2025-06-01 17:00:00", "2025-06-01T17:00:00.000Z"),
            ("2025-06-01", "2025-06-01T00:00:00.000Z"),
        ] {
            assert_eq!(
                parse_time(text).map(iso).as_deref(),
                Some(expected),
                "{text}"
            );
        }
        assert_eq!(parse_time("tomorrow"), None);
    }

    #[test]
    fn every_field_at_fault_is_named_at_once() {
        let fields = json!({"title": "", "owners": {"users": [1001, "x"]}, "max_assignable": "2"});
        let fields = fields.as_object().unwrap();
        let mut body = Body::new(fields);
        body.required_string("title", 600);
        body.required_string("deadline", 600);
        body.owners("owners");
        body.integer("max_assignable");
        let refusal = body.finish().unwrap_err();
        assert_eq!(
            refusal.body,
            json!({"error": true, "errors": {
                "title": ["The title field is required."],
                "deadline": ["The deadline field is required."],
                "owners.users.1": ["The selected owners.users.1 is invalid."],
                "max_assignable": ["The max assignable must be an integer."],
            }})
        );
    }
}
