//! A small validator of JSON values against the spec's schemas: what the corpus and the
//! fake are both held to.

use openapiv3::{OpenAPI, ReferenceOr, Schema, SchemaKind, StatusCode, Type};
use serde_json::Value;

pub fn spec() -> OpenAPI {
    let text = include_str!("../../openapi/tallyfy.yaml");
    serde_yaml::from_str(text).expect("the spec parses")
}

/// Checks `value` against `schema`; every mismatch is pushed to `errors` with its path.
fn validate(
    spec: &OpenAPI,
    schema: &ReferenceOr<Schema>,
    value: &Value,
    at: &str,
    errors: &mut Vec<String>,
) {
    let schema = match schema {
        ReferenceOr::Item(schema) => schema,
        ReferenceOr::Reference { reference } => {
            let name = reference.trim_start_matches("#/components/schemas/");
            let components = spec.components.as_ref().expect("components");
            return validate(spec, &components.schemas[name], value, at, errors);
        }
    };
    if value.is_null() {
        if !schema.schema_data.nullable && !matches!(schema.schema_kind, SchemaKind::Any(_)) {
            errors.push(format!("{at}: null where the spec does not allow it"));
        }
        return;
    }
    let mut mismatch =
        |expected: &str| errors.push(format!("{at}: expected {expected}, got {value}"));
    match &schema.schema_kind {
        SchemaKind::Type(Type::String(_)) if !value.is_string() => mismatch("a string"),
        SchemaKind::Type(Type::Integer(_)) if !(value.is_i64() || value.is_u64()) => {
            mismatch("an integer")
        }
        SchemaKind::Type(Type::Number(_)) if !value.is_number() => mismatch("a number"),
        SchemaKind::Type(Type::Boolean(_)) if !value.is_boolean() => mismatch("a boolean"),
        SchemaKind::Type(Type::Object(object)) => {
            let Some(map) = value.as_object() else {
                return mismatch("an object");
            };
            for required in &object.required {
                if !map.contains_key(required) {
                    errors.push(format!("{at}.{required}: required but missing"));
                }
            }
            for (key, item) in map {
                match (object.properties.get(key), &object.additional_properties) {
                    (Some(property), _) => validate(
                        spec,
                        &property.clone().unbox(),
                        item,
                        &format!("{at}.{key}"),
                        errors,
                    ),
                    (None, Some(openapiv3::AdditionalProperties::Schema(extra))) => {
                        validate(spec, extra, item, &format!("{at}.{key}"), errors)
                    }
                    // Unknown fields are allowed: clients must ignore them.
                    (None, _) => {}
                }
            }
        }
        SchemaKind::Type(Type::Array(array)) => {
            let Some(items) = value.as_array() else {
                return mismatch("an array");
            };
            if array.max_items.is_some_and(|max| items.len() > max) {
                mismatch("fewer items");
            }
            if let Some(schema) = &array.items {
                for (n, item) in items.iter().enumerate() {
                    validate(
                        spec,
                        &schema.clone().unbox(),
                        item,
                        &format!("{at}[{n}]"),
                        errors,
                    );
                }
            }
        }
        SchemaKind::OneOf { one_of } => {
            let matching = one_of
                .iter()
                .filter(|option| {
                    let mut sub = Vec::new();
                    validate(spec, option, value, at, &mut sub);
                    sub.is_empty()
                })
                .count();
            if matching != 1 {
                mismatch(&format!(
                    "exactly one of {} shapes ({matching} match)",
                    one_of.len()
                ));
            }
        }
        SchemaKind::AllOf { all_of } => {
            for part in all_of {
                validate(spec, part, value, at, errors);
            }
        }
        SchemaKind::Any(_) | SchemaKind::Type(_) => {}
        other => errors.push(format!("{at}: the validator does not know {other:?}")),
    }
}

/// Validates an answer of `operation_id` against the spec; returns the problems. An answer
/// documented as a file (any content type but JSON) may have any body.
pub fn check(spec: &OpenAPI, operation_id: &str, status: u16, body: &str) -> Vec<String> {
    let op = tallyfy::Operation::find(operation_id).unwrap();
    let item = spec.paths.paths[op.path].as_item().unwrap();
    let operation = item
        .iter()
        .find(|(_, o)| o.operation_id.as_deref() == Some(operation_id))
        .unwrap()
        .1;
    let responses = &operation.responses.responses;
    let Some(response) = responses
        .get(&StatusCode::Code(status))
        .or_else(|| responses.get(&StatusCode::Range(status / 100)))
    else {
        return vec![format!("{operation_id}: status {status} is not documented")];
    };
    let response = match response {
        ReferenceOr::Item(r) => r,
        ReferenceOr::Reference { reference } => {
            let name = reference.trim_start_matches("#/components/responses/");
            spec.components.as_ref().unwrap().responses[name]
                .as_item()
                .unwrap()
        }
    };
    let mut errors = Vec::new();
    match response
        .content
        .get("application/json")
        .and_then(|m| m.schema.as_ref())
    {
        None if body.is_empty() => {}
        // A file (`application/octet-stream`): any bytes.
        None if response.content.keys().any(|t| t != "application/json") => {}
        None => errors.push(format!(
            "{operation_id} {status}: a body where none is documented: {body}"
        )),
        Some(schema) => match serde_json::from_str::<Value>(body) {
            Ok(value) => validate(
                spec,
                schema,
                &value,
                &format!("{operation_id} {status} body"),
                &mut errors,
            ),
            Err(e) => errors.push(format!("{operation_id} {status}: not JSON ({e}): {body}")),
        },
    }
    errors
}
