//! Reading the spec, and the normalisations applied before generation.

use std::path::Path;

use anyhow::{Context, Result};
use openapiv3::{
    AdditionalProperties, AnySchema, OpenAPI, Operation, Parameter, PathItem, ReferenceOr,
    Response, Schema, SchemaKind, StatusCode, Type,
};

/// The extension that marks an operation whose effect cannot be undone.
pub const IRREVERSIBLE: &str = "x-tallyfy-irreversible";
/// The extension that names the page of Tallyfy's API docs an operation's examples are
/// on (relative to the docs' `open-api/` folder); the response corpus holds them.
pub const DOCS: &str = "x-tallyfy-docs";
/// The extension that names an operation's command in the command line.
pub const COMMAND: &str = "x-tallyfy-command";
/// The extension that names a parameter's flag in the command line.
pub const FLAG: &str = "x-tallyfy-flag";
/// Set by [`forms_as_typed_bodies`]: the fields of an operation's `multipart/form-data`
/// body that are files.
pub const FORM_FILES: &str = "x-tallyfy-form-files";
/// The schema a form's file field becomes: a path on disk, `crate::LocalFile` in Rust.
pub const LOCAL_FILE: &str = "LocalFile";
const FORM: &str = "multipart/form-data";

/// Reads and parses the OpenAPI document at `path`.
pub fn load(path: &Path) -> Result<OpenAPI> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_yaml::from_str(&text)
        .with_context(|| format!("parsing {} as OpenAPI 3.0", path.display()))
}

/// Every operation of the spec with its method and path template, in spec order.
pub fn operations(spec: &OpenAPI) -> impl Iterator<Item = (&str, &str, &Operation)> {
    spec.paths.iter().flat_map(|(path, item)| {
        item.as_item().into_iter().flat_map(move |item| {
            item.iter()
                .map(move |(method, op)| (path.as_str(), method, op))
        })
    })
}

/// Every normalisation the generator applies before progenitor sees the spec, in order.
pub fn normalise(spec: &mut OpenAPI) {
    widen_empty_successes(spec);
    forms_as_typed_bodies(spec);
    keep_unnamed_fields(spec);
    optional_collections_in_requests(spec);
}

/// Lenient success: an operation whose documented success responses carry no body also
/// accepts any other 2xx status (200 where 204 is documented, say) as success.
///
/// Servers and proxies differ in which success status they send for an empty answer; a
/// caller cares that it succeeded. Operations with a success body are left as they are.
pub fn widen_empty_successes(spec: &mut OpenAPI) {
    for item in spec.paths.paths.values_mut() {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        for op in slots(item).into_iter().flatten() {
            let successes: Vec<&ReferenceOr<Response>> = op
                .responses
                .responses
                .iter()
                .filter(|(status, _)| is_success(status))
                .map(|(_, response)| response)
                .collect();
            let all_empty = !successes.is_empty()
                && successes
                    .iter()
                    .all(|r| matches!(r, ReferenceOr::Item(r) if r.content.is_empty()));
            let has_range = op.responses.responses.contains_key(&StatusCode::Range(2));
            if all_empty && !has_range {
                op.responses.responses.insert(
                    StatusCode::Range(2),
                    ReferenceOr::Item(Response {
                        description: "Any other success status: also success, body ignored.".into(),
                        ..Response::default()
                    }),
                );
            }
        }
    }
}

/// Kept fields: every object that does not say otherwise (`additionalProperties`) keeps
/// the fields its schema does not name, in a flattened `extra` map of JSON values.
///
/// Tallyfy adds fields over time; a user reads a new one without waiting for the spec,
/// and nothing the server sent is lost on the way through the SDK. An object that wants
/// to refuse unknown fields says `additionalProperties: false`.
pub fn keep_unnamed_fields(spec: &mut OpenAPI) {
    let mut responses: Vec<&mut ReferenceOr<Response>> = Vec::new();
    if let Some(components) = spec.components.as_mut() {
        for schema in components.schemas.values_mut() {
            if let ReferenceOr::Item(schema) = schema {
                keep_in(schema);
            }
        }
        responses.extend(components.responses.values_mut());
    }
    for item in spec.paths.paths.values_mut() {
        if let ReferenceOr::Item(item) = item {
            for op in slots(item).into_iter().flatten() {
                responses.extend(op.responses.responses.values_mut());
            }
        }
    }
    for response in responses {
        if let ReferenceOr::Item(response) = response {
            for media in response.content.values_mut() {
                if let Some(ReferenceOr::Item(schema)) = media.schema.as_mut() {
                    keep_in(schema);
                }
            }
        }
    }
}

/// Requests say what they mean: in every schema a request body uses (directly or
/// through `$ref`), an optional list or map property becomes an `Option`, so that a
/// field left out is not sent and an empty one is sent empty.
///
/// Without it a list is a `Vec` that is skipped when empty, and an update could not
/// clear assignees (`"groups": []`) nor leave them alone: the two would be one.
pub fn optional_collections_in_requests(spec: &mut OpenAPI) {
    let mut names: Vec<String> = Vec::new();
    for item in spec.paths.paths.values_mut() {
        if let ReferenceOr::Item(item) = item {
            for op in slots(item).into_iter().flatten() {
                if let Some(ReferenceOr::Item(body)) = &op.request_body {
                    for media in body.content.values() {
                        if let Some(ReferenceOr::Reference { reference }) = &media.schema {
                            names.extend(schema_name(reference));
                        }
                    }
                }
            }
        }
    }
    let Some(components) = spec.components.as_mut() else {
        return;
    };
    let mut seen = std::collections::BTreeSet::new();
    while let Some(name) = names.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let Some(ReferenceOr::Item(schema)) = components.schemas.get_mut(&name) else {
            continue;
        };
        let SchemaKind::Type(Type::Object(object)) = &mut schema.schema_kind else {
            continue;
        };
        for (property, value) in object.properties.iter_mut() {
            match value {
                ReferenceOr::Reference { reference } => names.extend(schema_name(reference)),
                ReferenceOr::Item(inner) => {
                    if let SchemaKind::AllOf { all_of } = &inner.schema_kind {
                        names.extend(all_of.iter().filter_map(|s| match s {
                            ReferenceOr::Reference { reference } => schema_name(reference),
                            ReferenceOr::Item(_) => None,
                        }));
                    }
                    let collection = matches!(
                        inner.schema_kind,
                        SchemaKind::Type(Type::Array(_)) | SchemaKind::Type(Type::Object(_))
                    );
                    if collection && !object.required.contains(property) {
                        inner.schema_data.nullable = true;
                    }
                }
            }
        }
    }
}

/// Forms: a `multipart/form-data` body is generated as a typed JSON body whose file
/// fields (`format: binary`) are [`LOCAL_FILE`]s, paths on disk; the operation is marked
/// with [`FORM_FILES`], and its `Call::build` encodes the body as a form, the files
/// streamed from disk.
///
/// progenitor generates no multipart bodies; this way a form operation gets the same
/// builder, setters, call by name and command as any other.
pub fn forms_as_typed_bodies(spec: &mut OpenAPI) {
    let mut components = spec.components.take().unwrap_or_default();
    let mut any = false;
    for item in spec.paths.paths.values_mut() {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        for op in slots(item).into_iter().flatten() {
            let Some(ReferenceOr::Item(body)) = op.request_body.as_mut() else {
                continue;
            };
            let Some(mut media) = body.content.shift_remove(FORM) else {
                continue;
            };
            let schema = match media.schema.as_mut() {
                Some(ReferenceOr::Reference { reference }) => schema_name(reference)
                    .and_then(|name| components.schemas.get_mut(&name))
                    .and_then(|schema| match schema {
                        ReferenceOr::Item(schema) => Some(schema),
                        ReferenceOr::Reference { .. } => None,
                    }),
                Some(ReferenceOr::Item(schema)) => Some(schema),
                None => None,
            };
            let files = schema.map(files_to_local).unwrap_or_default();
            body.content.insert("application/json".into(), media);
            op.extensions.insert(FORM_FILES.into(), files.into());
            any = true;
        }
    }
    if any {
        components.schemas.insert(
            LOCAL_FILE.into(),
            ReferenceOr::Item(Schema {
                schema_data: openapiv3::SchemaData {
                    description: Some("A file on disk, sent as a form's file part.".into()),
                    ..Default::default()
                },
                schema_kind: SchemaKind::Type(Type::String(Default::default())),
            }),
        );
    }
    spec.components = Some(components);
}

/// Turns the `format: binary` properties of a form's schema into [`LOCAL_FILE`]
/// references, and names them.
fn files_to_local(schema: &mut Schema) -> Vec<String> {
    let SchemaKind::Type(Type::Object(object)) = &mut schema.schema_kind else {
        return Vec::new();
    };
    let mut files = Vec::new();
    for (name, property) in object.properties.iter_mut() {
        let binary = matches!(
            property.as_item().map(|p| &p.schema_kind),
            Some(SchemaKind::Type(Type::String(s)))
                if s.format == openapiv3::VariantOrUnknownOrEmpty::Unknown("binary".into())
                    || s.format == openapiv3::VariantOrUnknownOrEmpty::Item(openapiv3::StringFormat::Binary)
        );
        if binary {
            *property = ReferenceOr::Reference {
                reference: format!("#/components/schemas/{LOCAL_FILE}"),
            };
            files.push(name.clone());
        }
    }
    files
}

/// The file fields of an operation whose body is a form ([`forms_as_typed_bodies`]).
pub fn form_files(op: &Operation) -> Option<Vec<&str>> {
    let files = op.extensions.get(FORM_FILES)?.as_array()?;
    Some(files.iter().filter_map(|f| f.as_str()).collect())
}

/// Whether `op`'s success answer is a file (a body that is not JSON), read as it comes.
pub fn streams_success(spec: &OpenAPI, op: &Operation) -> bool {
    op.responses
        .responses
        .iter()
        .filter(|(status, _)| is_success(status))
        .filter_map(|(_, response)| resolve(spec, response))
        .flat_map(|r| r.content.keys())
        .any(|media| !media.contains("json"))
}

fn schema_name(reference: &str) -> Option<String> {
    reference
        .strip_prefix("#/components/schemas/")
        .map(str::to_owned)
}

/// [`keep_unnamed_fields`] for one schema and the schemas inside it.
fn keep_in(schema: &mut Schema) {
    let inline = |schemas: &mut Vec<ReferenceOr<Schema>>| {
        for schema in schemas.iter_mut() {
            if let ReferenceOr::Item(schema) = schema {
                keep_in(schema);
            }
        }
    };
    match &mut schema.schema_kind {
        SchemaKind::Type(Type::Object(object)) => {
            for property in object.properties.values_mut() {
                if let ReferenceOr::Item(property) = property {
                    keep_in(property);
                }
            }
            if object.additional_properties.is_none() {
                object.additional_properties = Some(AdditionalProperties::Schema(Box::new(
                    ReferenceOr::Item(Schema {
                        schema_data: Default::default(),
                        schema_kind: SchemaKind::Any(AnySchema::default()),
                    }),
                )));
            }
        }
        SchemaKind::Type(Type::Array(array)) => {
            if let Some(ReferenceOr::Item(items)) = array.items.as_mut() {
                keep_in(items);
            }
        }
        SchemaKind::OneOf { one_of: schemas }
        | SchemaKind::AllOf { all_of: schemas }
        | SchemaKind::AnyOf { any_of: schemas } => inline(schemas),
        _ => {}
    }
}

/// A parameter of an operation, as the command line and the dynamic call name it.
pub struct Param {
    pub name: String,
    /// Its flag in the command line when it is one (`x-tallyfy-flag`, or its name in
    /// kebab case).
    pub flag: String,
    /// `path` or `query`.
    pub location: &'static str,
    pub required: bool,
    pub description: String,
}

/// The parameters of `op` at `path`: the path item's and the operation's own, references
/// followed, in the spec's order.
pub fn parameters(spec: &OpenAPI, path: &str, op: &Operation) -> Vec<Param> {
    let item = spec.paths.paths.get(path).and_then(ReferenceOr::as_item);
    let shared = item.map(|i| i.parameters.iter()).into_iter().flatten();
    shared
        .chain(op.parameters.iter())
        .filter_map(|p| match p {
            ReferenceOr::Item(p) => Some(p),
            ReferenceOr::Reference { reference } => reference
                .strip_prefix("#/components/parameters/")
                .and_then(|name| spec.components.as_ref()?.parameters.get(name)?.as_item()),
        })
        .filter_map(|p| {
            let (location, data) = match p {
                Parameter::Path { parameter_data, .. } => ("path", parameter_data),
                Parameter::Query { parameter_data, .. } => ("query", parameter_data),
                _ => return None,
            };
            let flag = data
                .extensions
                .get(FLAG)
                .and_then(|v| v.as_str())
                .map_or_else(|| data.name.replace('_', "-"), str::to_owned);
            Some(Param {
                flag,
                name: data.name.clone(),
                location,
                required: data.required,
                description: data.description.clone().unwrap_or_default(),
            })
        })
        .collect()
}

/// Whether any success response of `op` documents a body.
pub fn documents_success_body(spec: &OpenAPI, op: &Operation) -> bool {
    op.responses
        .responses
        .iter()
        .filter(|(status, _)| is_success(status))
        .any(|(_, response)| resolve(spec, response).is_some_and(|r| !r.content.is_empty()))
}

/// The response itself, following a `#/components/responses/...` reference.
pub fn resolve<'a>(spec: &'a OpenAPI, response: &'a ReferenceOr<Response>) -> Option<&'a Response> {
    match response {
        ReferenceOr::Item(response) => Some(response),
        ReferenceOr::Reference { reference } => reference
            .strip_prefix("#/components/responses/")
            .and_then(|name| spec.components.as_ref()?.responses.get(name)?.as_item()),
    }
}

fn is_success(status: &StatusCode) -> bool {
    match status {
        StatusCode::Code(code) => (200..300).contains(code),
        StatusCode::Range(range) => *range == 2,
    }
}

/// Returns a copy of `spec` that keeps only the operation `operation_id`.
pub fn only_operation(spec: &OpenAPI, operation_id: &str) -> OpenAPI {
    let mut single = spec.clone();
    for item in single.paths.paths.values_mut() {
        if let ReferenceOr::Item(item) = item {
            for slot in slots(item) {
                if slot.as_ref().and_then(|o| o.operation_id.as_deref()) != Some(operation_id) {
                    *slot = None;
                }
            }
        }
    }
    single.paths.paths.retain(|_, item| {
        item.as_item()
            .is_some_and(|item| item.iter().next().is_some())
    });
    single
}

/// The operation slots of a path item, one per HTTP method.
fn slots(item: &mut PathItem) -> [&mut Option<Operation>; 8] {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
}
