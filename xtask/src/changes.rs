//! What a change of the spec does to code that uses the `tallyfy` crate: the operations,
//! parameters, body fields and statuses of two specs compared, each difference classified
//! **breaking** or **compatible**.
//!
//! Operations are matched by `operationId` (it names the method of `tallyfy::Client`).
//! `$ref`s to components (schemas, parameters, request bodies, responses) are followed.
//! Each body is walked recursively (properties, `required`, type, `nullable`, `items`,
//! `allOf`/`oneOf`/`anyOf`), its fields named by a JSON-ish path: `data.owner_id`,
//! `data[].id` for the items of a list, none for the body itself. The response body is the
//! first success response's, the error body the first error response's (progenitor needs
//! each kind to share one type). A field's type is its schema's: a component by name (it is
//! the name of the Rust type), else the JSON type with its format (`integer(int64)`), its
//! values if it is an enum, and `| null` if it is nullable. Below an added, removed or
//! retyped field its own fields are not listed again.
//!
//! The rules, for code that calls the operations and reads what they answer. Adding a
//! field to a type is compatible: the generated types are meant to be read, and request
//! bodies built with their builders or `..Default::default()`; code that builds one with a
//! struct literal naming every field breaks on any added field. A field is an `Option` in
//! Rust when it is optional or nullable, so whether it is required matters to Rust code
//! where it changes that.
//!
//! | change | classification |
//! |---|---|
//! | operation added | compatible |
//! | operation removed | **breaking** |
//! | method or path changed | **breaking** |
//! | `x-tallyfy-irreversible` changed | **breaking** (it changes confirmation and retries) |
//! | parameter added, optional | compatible |
//! | parameter added, required | **breaking** |
//! | parameter removed | **breaking** |
//! | parameter made required | **breaking** |
//! | parameter made optional | compatible |
//! | parameter retyped | **breaking** |
//! | request field (or body) added, optional | compatible |
//! | request field (or body) added, required | **breaking** |
//! | request field made required | **breaking** |
//! | response or error field (or body) added | compatible |
//! | any field removed | **breaking** |
//! | any field retyped (narrowed, widened, made nullable or not, renamed component) | **breaking** |
//! | field made optional, or a response field made required | **breaking**, unless it is nullable (its type stays an `Option`) |
//! | status added | compatible |
//! | success (2xx) status removed | **breaking** |
//! | error status removed | compatible |

use std::borrow::Borrow;
use std::collections::{BTreeMap, BTreeSet};

use openapiv3::{
    OpenAPI, Operation, Parameter, ParameterSchemaOrContent, ReferenceOr, RequestBody, Schema,
    SchemaKind, StatusCode, Type,
};
use serde_json::json;

use crate::spec;

/// Where a change goes in the changelog: Keep a Changelog's groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    /// Something new: an operation, a parameter, a field, a status.
    Added,
    /// Something that stays but differs.
    Changed,
    /// Something gone.
    Removed,
}

impl Group {
    /// Its heading in the changelog (`### Added`).
    pub fn name(self) -> &'static str {
        match self {
            Group::Added => "Added",
            Group::Changed => "Changed",
            Group::Removed => "Removed",
        }
    }
}

/// One difference of one operation, classified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// The operation's `operationId`.
    pub operation: String,
    /// Its group in the changelog.
    pub group: Group,
    /// Whether code that uses the `tallyfy` crate may stop building or working.
    pub breaking: bool,
    /// What changed, for example "response field `data.name` removed".
    pub what: String,
}

impl Change {
    /// A change of `operation`.
    fn new(operation: &str, group: Group, breaking: bool, what: String) -> Self {
        Change {
            operation: operation.to_owned(),
            group,
            breaking,
            what,
        }
    }

    /// The report's line: the classification, the operation and what changed.
    pub fn line(&self) -> String {
        let class = if self.breaking {
            "breaking"
        } else {
            "compatible"
        };
        format!("{class:<10}  `{}`: {}", self.operation, self.what)
    }

    /// The changelog's entry, breaking ones marked.
    pub fn entry(&self) -> String {
        let mark = if self.breaking { "**Breaking:** " } else { "" };
        format!("- {mark}`{}`: {}.", self.operation, self.what)
    }

    /// The change as JSON, for tools.
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "operation": self.operation,
            "group": self.group.name(),
            "breaking": self.breaking,
            "change": self.what,
            "changelog": self.entry(),
        })
    }
}

/// The report for people: a count and one line per change.
pub fn render(changes: &[Change]) -> String {
    if changes.is_empty() {
        return "no change to the API".into();
    }
    let breaking = changes.iter().filter(|c| c.breaking).count();
    let mut lines = vec![format!(
        "{} change(s) to the API, {breaking} breaking for users of the `tallyfy` crate:",
        changes.len()
    )];
    lines.extend(changes.iter().map(|c| format!("  {}", c.line())));
    lines.join("\n")
}

/// The report for tools: every change, and the counts.
pub fn render_json(changes: &[Change]) -> serde_json::Value {
    let breaking = changes.iter().filter(|c| c.breaking).count();
    json!({
        "changes": changes.iter().map(Change::to_json).collect::<Vec<_>>(),
        "breaking": breaking,
        "compatible": changes.len() - breaking,
    })
}

/// Every change from `old` to `new`: the operations of `new` in its order, then those
/// removed.
pub fn diff(old: &OpenAPI, new: &OpenAPI) -> Vec<Change> {
    let old_ops = summaries(old);
    let new_ops = summaries(new);
    let mut changes = Vec::new();
    for (id, now) in &new_ops {
        match old_ops.iter().find(|(old_id, _)| old_id == id) {
            Some((_, before)) => changes.extend(diff_operation(id, before, now)),
            None => changes.push(Change::new(
                id,
                Group::Added,
                false,
                format!("new operation `{} {}`", now.method, now.path),
            )),
        }
    }
    for (id, before) in &old_ops {
        if !new_ops.iter().any(|(new_id, _)| new_id == id) {
            changes.push(Change::new(
                id,
                Group::Removed,
                true,
                format!(
                    "operation removed (was `{} {}`)",
                    before.method, before.path
                ),
            ));
        }
    }
    changes
}

/// What of an operation the comparison looks at.
struct Summary {
    /// Its method, in capitals.
    method: String,
    /// Its path template.
    path: String,
    /// Whether it says `x-tallyfy-irreversible: true`.
    irreversible: bool,
    /// Its parameters, the path item's included, by "query parameter `page`".
    params: BTreeMap<String, Field>,
    /// The fields of its request body, by path (the body itself at `""`).
    request: BTreeMap<String, Field>,
    /// The fields of its success body.
    response: BTreeMap<String, Field>,
    /// The fields of its error body.
    error: BTreeMap<String, Field>,
    /// Its documented statuses (`200`, `4XX`), each with whether it is a success.
    statuses: Vec<(String, bool)>,
}

/// A parameter or a body field.
#[derive(Clone, PartialEq)]
struct Field {
    /// Its type, as [`describe`] shows it.
    ty: String,
    /// Whether it is required.
    required: bool,
    /// Whether it is nullable.
    nullable: bool,
}

impl Field {
    /// Whether its Rust type is an `Option`.
    fn optional_in_rust(&self) -> bool {
        !self.required || self.nullable
    }
}

/// Every operation of `spec` by `operationId` (else `METHOD path`), in spec order.
fn summaries(spec: &OpenAPI) -> Vec<(String, Summary)> {
    spec::operations(spec)
        .map(|(path, method, op)| {
            let method = method.to_uppercase();
            let id = op
                .operation_id
                .clone()
                .unwrap_or_else(|| format!("{method} {path}"));
            let summary = Summary {
                irreversible: op
                    .extensions
                    .get(spec::IRREVERSIBLE)
                    .and_then(|v| v.as_bool())
                    == Some(true),
                params: params(spec, path, op),
                request: request_fields(spec, op),
                response: response_fields(spec, op, true),
                error: response_fields(spec, op, false),
                statuses: op
                    .responses
                    .responses
                    .keys()
                    .map(|s| (status_name(s), is_success(s)))
                    .collect(),
                method,
                path: path.to_owned(),
            };
            (id, summary)
        })
        .collect()
}

/// The parameters of `op` at `path`, the path item's included, by "query parameter `page`".
fn params(spec: &OpenAPI, path: &str, op: &Operation) -> BTreeMap<String, Field> {
    let shared = spec.paths.paths.get(path).and_then(ReferenceOr::as_item);
    let all = shared.map(|i| i.parameters.iter()).into_iter().flatten();
    let mut params = BTreeMap::new();
    for param in all.chain(&op.parameters) {
        let Some(param) = component(spec, param, "parameters", |c, n| c.parameters.get(n)) else {
            continue;
        };
        let location = match param {
            Parameter::Query { .. } => "query",
            Parameter::Header { .. } => "header",
            Parameter::Path { .. } => "path",
            Parameter::Cookie { .. } => "cookie",
        };
        let data = param.parameter_data_ref();
        let (ty, nullable) = match &data.format {
            ParameterSchemaOrContent::Schema(schema) => (describe(schema), nullable(spec, schema)),
            ParameterSchemaOrContent::Content(_) => ("content".into(), false),
        };
        let field = Field {
            ty,
            required: data.required,
            nullable,
        };
        params.insert(format!("{location} parameter `{}`", data.name), field);
    }
    params
}

/// The fields of the request body of `op`; the body is required only if it says so.
fn request_fields(spec: &OpenAPI, op: &Operation) -> BTreeMap<String, Field> {
    let body: Option<&RequestBody> = op
        .request_body
        .as_ref()
        .and_then(|b| component(spec, b, "requestBodies", |c, n| c.request_bodies.get(n)));
    let mut walker = Walker::new(spec);
    if let Some(body) = body
        && let Some(schema) = json_schema(&body.content)
    {
        walker.field(String::new(), schema, body.required);
    }
    walker.fields
}

/// The fields of the first success (or error) response with a body.
fn response_fields(spec: &OpenAPI, op: &Operation, success: bool) -> BTreeMap<String, Field> {
    let mut walker = Walker::new(spec);
    let schema = op
        .responses
        .responses
        .iter()
        .filter(|(status, _)| is_success(status) == success)
        .find_map(|(_, response)| json_schema(&spec::resolve(spec, response)?.content));
    if let Some(schema) = schema {
        walker.field(String::new(), schema, true);
    }
    walker.fields
}

/// The schema of the JSON body among `content` (or of the first media type).
fn json_schema(content: &openapiv3::Content) -> Option<&ReferenceOr<Schema>> {
    content
        .get("application/json")
        .or_else(|| content.values().next())?
        .schema
        .as_ref()
}

/// Collects the fields of a body by path.
struct Walker<'a> {
    /// The spec, for `$ref`s.
    spec: &'a OpenAPI,
    /// The fields found, by path.
    fields: BTreeMap<String, Field>,
    /// The components being walked, against cycles.
    stack: Vec<String>,
}

impl<'a> Walker<'a> {
    /// A walker that has found nothing yet.
    fn new(spec: &'a OpenAPI) -> Self {
        Walker {
            spec,
            fields: BTreeMap::new(),
            stack: Vec::new(),
        }
    }

    /// Records the field at `path` and walks its own fields.
    fn field<S: Borrow<Schema>>(
        &mut self,
        path: String,
        schema: &'a ReferenceOr<S>,
        required: bool,
    ) {
        let field = Field {
            ty: describe(schema),
            required,
            nullable: nullable(self.spec, schema),
        };
        self.fields.insert(path.clone(), field);
        self.inside(&path, schema);
    }

    /// Walks the fields of `schema`, which sits at `path`.
    fn inside<S: Borrow<Schema>>(&mut self, path: &str, schema: &'a ReferenceOr<S>) {
        match schema {
            ReferenceOr::Reference { reference } => {
                let name = component_name(reference).to_owned();
                if self.stack.contains(&name) {
                    return;
                }
                let Some(target) = schema_component(self.spec, reference) else {
                    return;
                };
                self.stack.push(name);
                self.inside_schema(path, target);
                self.stack.pop();
            }
            ReferenceOr::Item(schema) => self.inside_schema(path, schema.borrow()),
        }
    }

    /// [`Self::inside`] for a schema that is not a reference.
    fn inside_schema(&mut self, path: &str, schema: &'a Schema) {
        let join = |name: &str| {
            if path.is_empty() {
                name.to_owned()
            } else {
                format!("{path}.{name}")
            }
        };
        match &schema.schema_kind {
            SchemaKind::Type(Type::Object(object)) => {
                for (name, property) in &object.properties {
                    self.field(join(name), property, object.required.contains(name));
                }
            }
            SchemaKind::Type(Type::Array(array)) => {
                if let Some(items) = &array.items {
                    self.inside(&format!("{path}[]"), items);
                }
            }
            SchemaKind::OneOf { one_of: all }
            | SchemaKind::AllOf { all_of: all }
            | SchemaKind::AnyOf { any_of: all } => {
                for variant in all {
                    self.inside(path, variant);
                }
            }
            SchemaKind::Any(any) => {
                for (name, property) in &any.properties {
                    self.field(join(name), property, any.required.contains(name));
                }
                if let Some(items) = &any.items {
                    self.inside(&format!("{path}[]"), items);
                }
                for variant in any.one_of.iter().chain(&any.all_of).chain(&any.any_of) {
                    self.inside(path, variant);
                }
            }
            _ => {}
        }
    }
}

/// A schema's type as the report shows it: `Run`, `string(date-time)`, `array of
/// integer(int64)`, `oneOf(boolean | string)`, `UserId | null`.
fn describe<S: Borrow<Schema>>(schema: &ReferenceOr<S>) -> String {
    let schema = match schema {
        ReferenceOr::Reference { reference } => return component_name(reference).to_owned(),
        ReferenceOr::Item(schema) => schema.borrow(),
    };
    let list = |schemas: &[ReferenceOr<Schema>], separator: &str| {
        let names: Vec<String> = schemas.iter().map(describe).collect();
        names.join(separator)
    };
    let base = match &schema.schema_kind {
        SchemaKind::Type(Type::String(t)) => {
            let values: Vec<String> = t.enumeration.iter().flatten().cloned().collect();
            with_enum(
                with_format("string", serde_json::to_value(&t.format)),
                &values,
            )
        }
        SchemaKind::Type(Type::Integer(t)) => {
            let values: Vec<String> = t.enumeration.iter().flatten().map(i64::to_string).collect();
            with_enum(
                with_format("integer", serde_json::to_value(&t.format)),
                &values,
            )
        }
        SchemaKind::Type(Type::Number(t)) => with_format("number", serde_json::to_value(&t.format)),
        SchemaKind::Type(Type::Boolean(_)) => "boolean".into(),
        SchemaKind::Type(Type::Object(_)) => "object".into(),
        SchemaKind::Type(Type::Array(array)) => match &array.items {
            Some(items) => format!("array of {}", describe(items)),
            None => "array".into(),
        },
        SchemaKind::AllOf { all_of } if all_of.len() == 1 => list(all_of, ""),
        SchemaKind::AllOf { all_of } => format!("allOf({})", list(all_of, " & ")),
        SchemaKind::OneOf { one_of } => format!("oneOf({})", list(one_of, " | ")),
        SchemaKind::AnyOf { any_of } => format!("anyOf({})", list(any_of, " | ")),
        SchemaKind::Not { not } => format!("not({})", describe(not)),
        SchemaKind::Any(any) => any.typ.clone().unwrap_or_else(|| "any".into()),
    };
    if schema.schema_data.nullable {
        format!("{base} | null")
    } else {
        base
    }
}

/// `ty` with its format (`format`, serialized), if it has one: `integer(int64)`.
fn with_format(ty: &str, format: serde_json::Result<serde_json::Value>) -> String {
    match format {
        Ok(serde_json::Value::String(format)) => format!("{ty}({format})"),
        _ => ty.to_owned(),
    }
}

/// `ty` with the values of its enum, if it is one: `string enum [a, b]`.
fn with_enum(ty: String, values: &[String]) -> String {
    if values.is_empty() {
        ty
    } else {
        format!("{ty} enum [{}]", values.join(", "))
    }
}

/// Whether the schema, or the component it refers to, is nullable.
fn nullable<S: Borrow<Schema>>(spec: &OpenAPI, schema: &ReferenceOr<S>) -> bool {
    match schema {
        ReferenceOr::Reference { reference } => {
            schema_component(spec, reference).is_some_and(|s| s.schema_data.nullable)
        }
        ReferenceOr::Item(schema) => schema.borrow().schema_data.nullable,
    }
}

/// `Run` of `#/components/schemas/Run`.
fn component_name(reference: &str) -> &str {
    reference.rsplit('/').next().unwrap_or(reference)
}

/// The schema a `#/components/schemas/...` reference names.
fn schema_component<'a>(spec: &'a OpenAPI, reference: &str) -> Option<&'a Schema> {
    let name = reference.strip_prefix("#/components/schemas/")?;
    spec.components.as_ref()?.schemas.get(name)?.as_item()
}

/// The item itself, following a `#/components/<kind>/...` reference with `lookup`.
fn component<'a, T>(
    spec: &'a OpenAPI,
    item: &'a ReferenceOr<T>,
    kind: &str,
    lookup: impl Fn(&'a openapiv3::Components, &str) -> Option<&'a ReferenceOr<T>>,
) -> Option<&'a T> {
    match item {
        ReferenceOr::Item(item) => Some(item),
        ReferenceOr::Reference { reference } => {
            let name = reference.strip_prefix(&format!("#/components/{kind}/"))?;
            lookup(spec.components.as_ref()?, name)?.as_item()
        }
    }
}

/// `200`, or `4XX` for a range.
fn status_name(status: &StatusCode) -> String {
    match status {
        StatusCode::Code(code) => code.to_string(),
        StatusCode::Range(range) => format!("{range}XX"),
    }
}

/// Whether `status` is 2xx.
fn is_success(status: &StatusCode) -> bool {
    match status {
        StatusCode::Code(code) => (200..300).contains(code),
        StatusCode::Range(range) => *range == 2,
    }
}

/// The changes of the operation `id`, in both specs.
fn diff_operation(id: &str, old: &Summary, new: &Summary) -> Vec<Change> {
    let mut changes = Vec::new();
    let mut change =
        |group, breaking, what: String| changes.push(Change::new(id, group, breaking, what));
    if (&old.method, &old.path) != (&new.method, &new.path) {
        let what = format!(
            "now `{} {}`, was `{} {}`",
            new.method, new.path, old.method, old.path
        );
        change(Group::Changed, true, what);
    }
    if old.irreversible != new.irreversible {
        let what = if new.irreversible {
            "now irreversible (`x-tallyfy-irreversible`)"
        } else {
            "no longer irreversible (`x-tallyfy-irreversible`)"
        };
        change(Group::Changed, true, what.into());
    }
    for (name, old_param, new_param) in pairs(&old.params, &new.params) {
        match (old_param, new_param) {
            (None, Some(p)) => {
                let kind = if p.required { "required" } else { "optional" };
                change(Group::Added, p.required, format!("new {kind} {name}"));
            }
            (Some(_), None) => change(Group::Removed, true, format!("{name} removed")),
            (Some(before), Some(now)) => {
                if before.ty != now.ty {
                    let what = format!("{name} is now `{}`, was `{}`", now.ty, before.ty);
                    change(Group::Changed, true, what);
                }
                if before.required != now.required {
                    let what = if now.required { "required" } else { "optional" };
                    change(
                        Group::Changed,
                        now.required,
                        format!("{name} is now {what}"),
                    );
                }
            }
            (None, None) => {}
        }
    }
    changes.extend(diff_fields(id, Place::Request, &old.request, &new.request));
    changes.extend(diff_fields(
        id,
        Place::Response,
        &old.response,
        &new.response,
    ));
    changes.extend(diff_fields(id, Place::Error, &old.error, &new.error));
    for (status, _) in &new.statuses {
        if !old.statuses.iter().any(|(s, _)| s == status) {
            let what = format!("documents status {status}");
            changes.push(Change::new(id, Group::Added, false, what));
        }
    }
    for (status, success) in &old.statuses {
        if !new.statuses.iter().any(|(s, _)| s == status) {
            let what = format!("status {status} no longer documented");
            changes.push(Change::new(id, Group::Removed, *success, what));
        }
    }
    changes
}

/// Which body a field is of.
#[derive(Clone, Copy, PartialEq)]
enum Place {
    Request,
    Response,
    Error,
}

impl Place {
    /// `request`, `response` or `error`.
    fn name(self) -> &'static str {
        match self {
            Place::Request => "request",
            Place::Response => "response",
            Place::Error => "error",
        }
    }

    /// "request field `data.name`", or "the request body" for the body itself.
    fn subject(self, path: &str) -> String {
        if path.is_empty() {
            format!("the {} body", self.name())
        } else {
            format!("{} field `{path}`", self.name())
        }
    }
}

/// The changes of the fields of one body of the operation `id`.
fn diff_fields(
    id: &str,
    place: Place,
    old: &BTreeMap<String, Field>,
    new: &BTreeMap<String, Field>,
) -> Vec<Change> {
    let request = place == Place::Request;
    let mut changes: Vec<(&str, Change)> = Vec::new();
    // Fields listed with their own change: their fields are not listed again.
    let mut covered: BTreeSet<&str> = BTreeSet::new();
    for (path, before, now) in pairs(old, new) {
        let subject = place.subject(path);
        let mut change = |group, breaking, what: String| {
            changes.push((path, Change::new(id, group, breaking, what)));
        };
        match (before, now) {
            (None, Some(now)) => {
                covered.insert(path);
                let kind = match (request, now.required) {
                    (false, _) => "",
                    (true, true) => "required ",
                    (true, false) => "optional ",
                };
                let what = match path {
                    "" => format!("new {kind}{} body", place.name()),
                    _ => format!("new {kind}{} field `{path}`", place.name()),
                };
                change(Group::Added, request && now.required, what);
            }
            (Some(_), None) => {
                covered.insert(path);
                change(Group::Removed, true, format!("{subject} removed"));
            }
            (Some(before), Some(now)) => {
                if before.ty != now.ty {
                    covered.insert(path);
                    let what = format!("{subject} is now `{}`, was `{}`", now.ty, before.ty);
                    change(Group::Changed, true, what);
                }
                if before.required != now.required {
                    let option_changed = before.optional_in_rust() != now.optional_in_rust();
                    let breaking = option_changed || (request && now.required);
                    let what = if now.required { "required" } else { "optional" };
                    change(Group::Changed, breaking, format!("{subject} is now {what}"));
                }
            }
            (None, None) => {}
        }
    }
    changes
        .into_iter()
        .filter(|(path, _)| !covered.iter().any(|c| is_inside(path, c)))
        .map(|(_, change)| change)
        .collect()
}

/// Whether the field at `path` is one of the fields of the field at `outer`.
fn is_inside(path: &str, outer: &str) -> bool {
    path != outer
        && (outer.is_empty()
            || path
                .strip_prefix(outer)
                .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('[')))
}

/// Every key of either map, with its value in each.
fn pairs<'a, V>(
    old: &'a BTreeMap<String, V>,
    new: &'a BTreeMap<String, V>,
) -> Vec<(&'a str, Option<&'a V>, Option<&'a V>)> {
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    keys.into_iter()
        .map(|k| (k.as_str(), old.get(k), new.get(k)))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_yaml::{Mapping, Value};

    use super::*;

    const RUN: &str = "/organizations/{org_id}/runs/{run_id}";
    const RUNS: &str = "/organizations/{org_id}/runs";
    const ACTIVATE: &str = "/organizations/{org_id}/runs/{run_id}/activate";
    const DELETE_RUN: &str = "/organizations/{org_id}/runs/{run_id}/delete";
    const TASK: &str = "/organizations/{org_id}/tasks/{task_id}";

    /// The real spec, as YAML to mutate.
    fn real() -> Value {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi/tallyfy.yaml");
        let text = std::fs::read_to_string(path).expect("the spec reads");
        serde_yaml::from_str(&text).expect("the spec is YAML")
    }

    fn yaml(text: &str) -> Value {
        serde_yaml::from_str(text).expect("valid YAML in the test")
    }

    /// The value at `keys` (mapping keys, or indexes of lists).
    fn at<'v>(value: &'v mut Value, keys: &[&str]) -> &'v mut Value {
        keys.iter().fold(value, |value, key| {
            let next = match key.parse::<usize>() {
                Ok(index) if value.is_sequence() => value.get_mut(index),
                _ => value.get_mut(*key),
            };
            next.unwrap_or_else(|| panic!("no `{key}` in the spec"))
        })
    }

    fn map<'v>(value: &'v mut Value, keys: &[&str]) -> &'v mut Mapping {
        at(value, keys).as_mapping_mut().expect("a mapping")
    }

    fn list<'v>(value: &'v mut Value, keys: &[&str]) -> &'v mut Vec<Value> {
        at(value, keys).as_sequence_mut().expect("a list")
    }

    fn schema<'v>(spec: &'v mut Value, name: &str) -> &'v mut Value {
        at(spec, &["components", "schemas", name])
    }

    /// One spec mutation: the change, its classification and its changelog entry.
    struct Row {
        change: &'static str,
        mutate: fn(&mut Value),
        breaking: bool,
        entry: &'static str,
    }

    fn rows() -> Vec<Row> {
        vec![
            Row {
                change: "an operation added",
                mutate: |s| {
                    let added = yaml(
                        "get: {operationId: list_folders, responses: {'200': {description: ok}}}",
                    );
                    map(s, &["paths"]).insert("/organizations/{org_id}/folders".into(), added);
                },
                breaking: false,
                entry: "- `list_folders`: new operation `GET /organizations/{org_id}/folders`.",
            },
            Row {
                change: "an operation removed",
                mutate: |s| drop(map(s, &["paths", RUN]).remove("get")),
                breaking: true,
                entry: "- **Breaking:** `get_process`: operation removed (was `GET /organizations/{org_id}/runs/{run_id}`).",
            },
            Row {
                change: "a path changed",
                mutate: |s| {
                    let item = map(s, &["paths"]).remove(ACTIVATE).expect("the path");
                    map(s, &["paths"])
                        .insert("/organizations/{org_id}/runs/{run_id}/restore".into(), item);
                },
                breaking: true,
                entry: "- **Breaking:** `activate_process`: now `PUT /organizations/{org_id}/runs/{run_id}/restore`, \
                        was `PUT /organizations/{org_id}/runs/{run_id}/activate`.",
            },
            Row {
                change: "a method changed",
                mutate: |s| {
                    let op = map(s, &["paths", ACTIVATE])
                        .remove("put")
                        .expect("the operation");
                    map(s, &["paths", ACTIVATE]).insert("post".into(), op);
                },
                breaking: true,
                entry: "- **Breaking:** `activate_process`: now `POST /organizations/{org_id}/runs/{run_id}/activate`, \
                        was `PUT /organizations/{org_id}/runs/{run_id}/activate`.",
            },
            Row {
                change: "x-tallyfy-irreversible set",
                mutate: |s| {
                    drop(
                        map(s, &["paths", RUN, "delete"])
                            .insert("x-tallyfy-irreversible".into(), true.into()),
                    )
                },
                breaking: true,
                entry: "- **Breaking:** `archive_process`: now irreversible (`x-tallyfy-irreversible`).",
            },
            Row {
                change: "x-tallyfy-irreversible dropped",
                mutate: |s| {
                    drop(map(s, &["paths", DELETE_RUN, "delete"]).remove("x-tallyfy-irreversible"))
                },
                breaking: true,
                entry: "- **Breaking:** `permanently_delete_process`: no longer irreversible (`x-tallyfy-irreversible`).",
            },
            Row {
                change: "an optional parameter added",
                mutate: |s| {
                    list(s, &["paths", RUNS, "get", "parameters"])
                        .push(yaml("{name: folder, in: query, schema: {type: string}}"))
                },
                breaking: false,
                entry: "- `list_processes`: new optional query parameter `folder`.",
            },
            Row {
                change: "a required parameter added",
                mutate: |s| {
                    list(s, &["paths", RUNS, "get", "parameters"]).push(yaml(
                        "{name: folder, in: query, required: true, schema: {type: string}}",
                    ))
                },
                breaking: true,
                entry: "- **Breaking:** `list_processes`: new required query parameter `folder`.",
            },
            Row {
                change: "a parameter removed",
                mutate: |s| {
                    list(s, &["paths", RUNS, "get", "parameters"]).retain(|p| p["name"] != "tag")
                },
                breaking: true,
                entry: "- **Breaking:** `list_processes`: query parameter `tag` removed.",
            },
            Row {
                change: "a parameter made required",
                mutate: |s| {
                    let q = list(s, &["paths", RUNS, "get", "parameters"])
                        .iter_mut()
                        .find(|p| p["name"] == "q");
                    drop(
                        q.expect("q")
                            .as_mapping_mut()
                            .expect("a parameter")
                            .insert("required".into(), true.into()),
                    );
                },
                breaking: true,
                entry: "- **Breaking:** `list_processes`: query parameter `q` is now required.",
            },
            Row {
                change: "a parameter retyped",
                mutate: |s| {
                    *at(s, &["paths", RUNS, "get", "parameters", "0", "schema"]) =
                        yaml("{type: string}")
                },
                breaking: true,
                entry: "- **Breaking:** `list_processes`: query parameter `page` is now `string`, was `integer(uint32)`.",
            },
            Row {
                change: "an optional request field added",
                mutate: |s| {
                    drop(
                        map(schema(s, "LaunchProcess"), &["properties"])
                            .insert("priority".into(), yaml("{type: integer}")),
                    )
                },
                breaking: false,
                entry: "- `launch_process`: new optional request field `priority`.",
            },
            Row {
                change: "a required request field added",
                mutate: |s| {
                    map(schema(s, "LaunchProcess"), &["properties"])
                        .insert("priority".into(), yaml("{type: integer}"));
                    list(schema(s, "LaunchProcess"), &["required"]).push("priority".into());
                },
                breaking: true,
                entry: "- **Breaking:** `launch_process`: new required request field `priority`.",
            },
            Row {
                change: "a request field removed",
                mutate: |s| {
                    drop(map(schema(s, "LaunchProcess"), &["properties"]).remove("starred"))
                },
                breaking: true,
                entry: "- **Breaking:** `launch_process`: request field `starred` removed.",
            },
            Row {
                change: "a request field made required",
                mutate: |s| list(schema(s, "LaunchProcess"), &["required"]).push("name".into()),
                breaking: true,
                entry: "- **Breaking:** `launch_process`: request field `name` is now required.",
            },
            Row {
                change: "a request field retyped",
                mutate: |s| {
                    *at(schema(s, "LaunchProcess"), &["properties", "starred"]) =
                        yaml("{type: string}")
                },
                breaking: true,
                entry: "- **Breaking:** `launch_process`: request field `starred` is now `string`, was `boolean`.",
            },
            Row {
                change: "an optional request body added",
                mutate: |s| {
                    drop(map(s, &["paths", ACTIVATE, "put"]).insert(
                    "requestBody".into(),
                    yaml("{content: {application/json: {schema: {type: object, properties: {note: {type: string}}}}}}"),
                ))
                },
                breaking: false,
                entry: "- `activate_process`: new optional request body.",
            },
            Row {
                change: "a response field added",
                mutate: |s| {
                    drop(
                        map(schema(s, "Activity"), &["properties"])
                            .insert("icon".into(), yaml("{type: string, nullable: true}")),
                    )
                },
                breaking: false,
                entry: "- `list_activity`: new response field `data[].icon`.",
            },
            Row {
                change: "a response field removed",
                mutate: |s| drop(map(schema(s, "Activity"), &["properties"]).remove("created_at")),
                breaking: true,
                entry: "- **Breaking:** `list_activity`: response field `data[].created_at` removed.",
            },
            Row {
                change: "a response field narrowed",
                mutate: |s| {
                    *at(schema(s, "Activity"), &["properties", "id", "format"]) = "int32".into()
                },
                breaking: true,
                entry: "- **Breaking:** `list_activity`: response field `data[].id` is now `integer(int32)`, was `integer(int64)`.",
            },
            Row {
                change: "a response field made nullable",
                mutate: |s| {
                    drop(
                        map(schema(s, "Activity"), &["properties", "id"])
                            .insert("nullable".into(), true.into()),
                    )
                },
                breaking: true,
                entry: "- **Breaking:** `list_activity`: response field `data[].id` is now `integer(int64) | null`, was `integer(int64)`.",
            },
            Row {
                change: "a nullable response field made required",
                mutate: |s| {
                    list(schema(s, "Activity"), &["required"]).push("organization_id".into())
                },
                breaking: false,
                entry: "- `list_activity`: response field `data[].organization_id` is now required.",
            },
            Row {
                change: "a response field made required, losing its Option",
                mutate: |s| list(schema(s, "Activity"), &["required"]).push("verb".into()),
                breaking: true,
                entry: "- **Breaking:** `list_activity`: response field `data[].verb` is now required.",
            },
            Row {
                change: "a response field made optional",
                mutate: |s| list(schema(s, "Activity"), &["required"]).clear(),
                breaking: true,
                entry: "- **Breaking:** `list_activity`: response field `data[].id` is now optional.",
            },
            Row {
                change: "the response body replaced",
                mutate: |s| {
                    *at(
                        s,
                        &[
                            "paths",
                            RUN,
                            "get",
                            "responses",
                            "200",
                            "content",
                            "application/json",
                            "schema",
                            "$ref",
                        ],
                    ) = "#/components/schemas/TaskEnvelope".into()
                },
                breaking: true,
                entry: "- **Breaking:** `get_process`: the response body is now `TaskEnvelope`, was `RunEnvelope`.",
            },
            Row {
                change: "a status added",
                mutate: |s| {
                    drop(
                        map(s, &["paths", RUN, "get", "responses"])
                            .insert("409".into(), yaml("{description: Conflict.}")),
                    )
                },
                breaking: false,
                entry: "- `get_process`: documents status 409.",
            },
            Row {
                change: "an error status removed",
                mutate: |s| drop(map(s, &["paths", RUN, "get", "responses"]).remove("404")),
                breaking: false,
                entry: "- `get_process`: status 404 no longer documented.",
            },
            Row {
                change: "a success status removed",
                mutate: |s| drop(map(s, &["paths", TASK, "delete", "responses"]).remove("204")),
                breaking: true,
                entry: "- **Breaking:** `archive_task`: status 204 no longer documented.",
            },
        ]
    }

    fn parse(value: &Value) -> OpenAPI {
        serde_yaml::from_value(value.clone()).expect("still an OpenAPI document")
    }

    /// Each mutation of a copy of the real spec is exactly one change, classified and
    /// logged as the table says.
    #[test]
    fn every_mutation_of_the_real_spec_is_classified_and_logged() {
        let old = parse(&real());
        let mut failures = Vec::new();
        for row in rows() {
            let mut mutated = real();
            (row.mutate)(&mut mutated);
            let changes = diff(&old, &parse(&mutated));
            let got: Vec<(bool, String)> =
                changes.iter().map(|c| (c.breaking, c.entry())).collect();
            if got != [(row.breaking, row.entry.to_owned())] {
                failures.push(format!(
                    "{}:\n  expected {:?}\n  got      {got:?}",
                    row.change,
                    (row.breaking, row.entry)
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn the_same_spec_or_new_words_are_no_change() {
        let spec = real();
        assert_eq!(diff(&parse(&spec), &parse(&spec)), []);
        let mut reworded = real();
        *at(&mut reworded, &["paths", RUN, "get", "summary"]) = "Fetch a process.".into();
        *at(
            &mut reworded,
            &["components", "schemas", "Run", "description"],
        ) = "A run.".into();
        assert_eq!(diff(&parse(&spec), &parse(&reworded)), []);
    }

    #[test]
    fn a_schema_that_refers_to_itself_is_walked_once() {
        let spec: OpenAPI = serde_yaml::from_str(
            r##"
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /tree:
    get:
      operationId: get_tree
      responses:
        "200":
          description: ok
          content: {application/json: {schema: {$ref: "#/components/schemas/Node"}}}
components:
  schemas:
    Node:
      type: object
      properties:
        name: {type: string}
        children: {type: array, items: {$ref: "#/components/schemas/Node"}}
"##,
        )
        .expect("a valid spec");
        let fields = response_fields(&spec, spec::operations(&spec).next().expect("one").2, true);
        let paths: Vec<&str> = fields.keys().map(String::as_str).collect();
        assert_eq!(paths, ["", "children", "name"]);
        assert_eq!(fields["children"].ty, "array of Node");
    }

    #[test]
    fn the_json_report_has_every_change_and_the_counts() {
        let mut mutated = real();
        drop(map(&mut mutated, &["paths", RUN]).remove("get"));
        let changes = diff(&parse(&real()), &parse(&mutated));
        let json = render_json(&changes);
        assert_eq!(json["breaking"], 1);
        assert_eq!(json["compatible"], 0);
        assert_eq!(json["changes"][0]["operation"], "get_process");
        assert_eq!(json["changes"][0]["group"], "Removed");
        assert!(render(&changes).contains("breaking    `get_process`: operation removed"));
    }
}
