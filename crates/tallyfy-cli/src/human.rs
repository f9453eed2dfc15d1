//! What people see of an answer: one general reading of Tallyfy's shapes, so that a new
//! operation prints sensibly with no code of its own. `--output json` prints the payload
//! itself.

use serde_json::Value;
use tallyfy::Operation;

/// The fields shown of one object, with their labels, when it has them.
const FIELDS: &[(&str, &str)] = &[
    ("id", "id"),
    ("name", "name"),
    ("title", "title"),
    ("checklist_title", "template"),
    ("filename", "file"),
    ("status", "status"),
    ("created_at", "created at"),
    ("last_updated", "last updated"),
    ("uploaded_at", "uploaded at"),
    ("archived_at", "archived at"),
];

/// A page (`data` a list) as one line per item and where the page stands; one object
/// (`data` an object) as labelled lines; anything else as compact JSON.
pub fn describe(op: &Operation, answer: &Value) -> String {
    match &answer["data"] {
        Value::Array(items) => {
            let mut lines: Vec<String> = items.iter().map(item).collect();
            let pagination = &answer["meta"]["pagination"];
            let number = |key: &str, default: u64| pagination[key].as_u64().unwrap_or(default);
            lines.push(format!(
                "Page {} of {} ({} {}).",
                number("current_page", 1),
                number("total_pages", 1),
                number("total", items.len() as u64),
                op.group
            ));
            lines.join("\n")
        }
        object @ Value::Object(fields) => FIELDS
            .iter()
            .filter(|(key, _)| fields.contains_key(*key))
            .map(|(key, label)| format!("{label:<14}{}", text(object, key)))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => answer.to_string(),
    }
}

/// The value of a JSON answer at `key`, as text (`-` when absent).
pub fn text(value: &Value, key: &str) -> String {
    match &value[key] {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

/// One item of a list: its ID, its state (archived, or its status) and its name.
fn item(item: &Value) -> String {
    let state = if item["archived_at"].is_string() {
        "archived".to_string()
    } else {
        text(item, "status")
    };
    let name = if item["name"].is_string() {
        text(item, "name")
    } else {
        text(item, "title")
    };
    format!("{}  {state:<8}  {name}", text(item, "id"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_page_an_object_and_anything_else() {
        let list = Operation::find("list_processes").unwrap();
        let page = json!({
            "data": [
                {"id": "a1", "status": "active", "name": "Onboarding", "archived_at": null},
                {"id": "b2", "status": "active", "title": "Follow up", "archived_at": "2025-01-01T00:00:00Z"}
            ],
            "meta": {"pagination": {"total": 12, "current_page": 1, "total_pages": 6}}
        });
        assert_eq!(
            describe(list, &page),
            "a1  active    Onboarding\nb2  archived  Follow up\nPage 1 of 6 (12 processes)."
        );
        let get = Operation::find("get_process").unwrap();
        let one = json!({"data": {"id": "a1", "name": "Onboarding", "started_by": 1002, "archived_at": null}});
        assert_eq!(
            describe(get, &one),
            "id            a1\nname          Onboarding\narchived at   -"
        );
        assert_eq!(describe(get, &json!({"ok": true})), r#"{"ok":true}"#);
    }
}
