//! Comparing JSON as a caller of the SDK reads it; shared by the test binaries.

use serde_json::Value;

/// Equal as a caller of the typed API reads JSON: a field that is null, an empty list or
/// an empty object is the same as one left out (the generated types read them alike; the
/// raw body keeps the difference), and numbers compare by value (`50` and `50.0`).
pub fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            let present = |m: &serde_json::Map<String, Value>| {
                m.iter()
                    .filter(|(_, v)| !absent(v))
                    .map(|(k, _)| k.clone())
                    .collect::<std::collections::BTreeSet<_>>()
            };
            present(x) == present(y)
                && x.iter()
                    .filter(|(_, v)| !absent(v))
                    .all(|(k, v)| same_json(v, &y[k]))
        }
        _ => a == b,
    }
}

/// A value that says no more than a field left out (an object of such values too).
fn absent(value: &Value) -> bool {
    value.is_null()
        || value.as_array().is_some_and(Vec::is_empty)
        || value.as_object().is_some_and(|m| m.values().all(absent))
}
