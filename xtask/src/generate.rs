//! `cargo xtask generate`: the spec in, committed Rust out.
//!
//! Outputs, all under `crates/tallyfy-api/src/`:
//! - `generated.rs`: progenitor's builder-style client and types;
//! - `operations.rs`: the table of operations (method, path, irreversible flag, documented
//!   statuses) and a `Call` impl for every builder, which the handwritten crate uses to
//!   give every operation the same typed errors;
//!
//! `crates/tallyfy/src/operations.rs`: every operation as a method of `tallyfy::Client`;
//! `crates/tallyfy-api-mock/src/generated.rs`: a typed httpmock extension; and
//! `crates/tallyfy-api/spec.yaml`, a copy of the spec they were generated from, against
//! which the next run reports what changed ([`crate::gate`]).

use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use openapiv3::{OpenAPI, StatusCode};
use proc_macro2::TokenStream;
use progenitor::{GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle, TypeImpl};
use quote::{ToTokens, format_ident, quote};

use crate::calls::{self, is_named};
use crate::{gate, rewrite, spec};

/// Whether to write the outputs or compare them with what is committed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Write,
    Check,
}

const SPEC: &str = "openapi/tallyfy.yaml";

struct Output {
    path: &'static str,
    code: String,
    /// The operations it covers.
    operations: Vec<String>,
}

pub fn run(mode: Mode) -> Result<()> {
    let root = workspace_root();
    let spec = spec::load(&root.join(SPEC))?;
    let changes = gate::since_generated(&root)?;
    let mut outputs = outputs(spec)?;
    outputs.push(Output {
        path: gate::SPEC_COPY,
        code: std::fs::read_to_string(root.join(SPEC))?,
        operations: Vec::new(),
    });

    let mut stale = Vec::new();
    for output in &outputs {
        let path = root.join(output.path);
        match mode {
            Mode::Write => std::fs::write(&path, &output.code)
                .with_context(|| format!("writing {}", path.display()))?,
            Mode::Check => {
                let committed = std::fs::read_to_string(&path).unwrap_or_default();
                if committed != output.code {
                    if output.path != gate::SPEC_COPY {
                        print_diff(output.path, &committed, &output.code);
                    }
                    stale.push(output.path);
                }
            }
        }
    }
    if !stale.is_empty() {
        gate::print_pending(changes.as_deref());
        bail!(
            "generated code is stale: {}\nrun `cargo xtask generate` and commit the result",
            stale.join(", ")
        );
    }
    if mode == Mode::Write {
        println!("{}", summary(&outputs));
        gate::record(&root, changes.as_deref())?;
    }
    Ok(())
}

/// What a run generated, for the maintainer: each file and its size, and the operations.
fn summary(outputs: &[Output]) -> String {
    let mut lines = vec![format!(
        "generated {} operations: {}",
        outputs.first().map_or(0, |o| o.operations.len()),
        outputs
            .first()
            .map(|o| o.operations.join(", "))
            .unwrap_or_default()
    )];
    for output in outputs {
        lines.push(format!(
            "  {} ({} lines)",
            output.path,
            output.code.lines().count()
        ));
    }
    lines.join("\n")
}

/// Every generated file for `spec`.
fn outputs(mut spec: OpenAPI) -> Result<Vec<Output>> {
    check_operation_ids(&spec)?;
    spec::normalise(&mut spec);

    let client = generate_client(&spec)?;
    let mut client_file: syn::File =
        syn::parse2(client).context("progenitor produced code that does not parse")?;
    rewrite::omit_api_version(&mut client_file);
    rewrite::default_with_kept_fields(&mut client_file);
    rewrite::builders_start_with_no_unnamed_fields(&mut client_file);
    let operations = operations_table(&spec, &client_file)?;
    rewrite::split_send(&mut client_file);
    let names: Vec<(String, String)> = spec::operations(&spec)
        .filter_map(|(_, _, op)| op.operation_id.clone())
        .map(|id| {
            let builder = pascal_case(&id);
            (id, builder)
        })
        .collect();
    let files: Vec<String> = spec::operations(&spec)
        .filter(|(_, _, op)| spec::streams_success(&spec, op))
        .filter_map(|(_, _, op)| op.operation_id.clone())
        .collect();
    let methods = calls::client_methods(&client_file, &names, &files);
    let mock = generate_mock(&spec)?;
    let ids: Vec<String> = names.into_iter().map(|(id, _)| id).collect();
    let output = |path, code| Output {
        path,
        code,
        operations: ids.clone(),
    };
    Ok(vec![
        output(
            "crates/tallyfy-api/src/generated.rs",
            rewrite::examples_execute(&render(&client_file)),
        ),
        output(
            "crates/tallyfy-api/src/operations.rs",
            render(&syn::parse2(operations)?),
        ),
        output(
            "crates/tallyfy/src/operations.rs",
            rewrite::examples_execute(&render(&syn::parse2(methods)?)),
        ),
        output(
            "crates/tallyfy-api-mock/src/generated.rs",
            render(&syn::parse2(mock)?),
        ),
    ])
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new("."))
        .to_path_buf()
}

fn check_operation_ids(spec: &OpenAPI) -> Result<()> {
    for (path, method, op) in spec::operations(spec) {
        if op.operation_id.is_none() {
            bail!(
                "{} {path}: every operation needs an operationId",
                method.to_uppercase()
            );
        }
    }
    Ok(())
}

fn settings() -> GenerationSettings {
    let mut settings = GenerationSettings::new();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        .with_inner_type(quote!(crate::Extension))
        .with_hooks(HooksMode::Expected)
        .with_derive("PartialEq")
        // Deterministic order for the maps of fields a schema does not name.
        .with_map_type("::std::collections::BTreeMap")
        // A member's ID comes as an integer or a string: one handwritten type reads both.
        .with_replacement(
            "UserId",
            "crate::UserId",
            [TypeImpl::Display, TypeImpl::FromStr].into_iter(),
        )
        // A form's file field: a path on disk, streamed when the request is sent.
        .with_replacement(
            spec::LOCAL_FILE,
            "crate::LocalFile",
            [TypeImpl::Display, TypeImpl::FromStr].into_iter(),
        );
    settings
}

/// Runs progenitor on `spec`; a panic inside it becomes an error naming the operation.
fn generate_client(spec: &OpenAPI) -> Result<TokenStream> {
    match quietly(|| Generator::new(&settings()).generate_tokens(spec)) {
        Ok(Ok(tokens)) => Ok(tokens),
        Ok(Err(error)) => Err(blame_operation(spec)
            .unwrap_or_else(|| anyhow!("progenitor refused the spec as a whole: {error}"))),
        Err(panic) => Err(blame_operation(spec)
            .unwrap_or_else(|| anyhow!("progenitor failed on the spec as a whole: {panic}"))),
    }
}

/// progenitor's typed httpmock extension for the same spec.
fn generate_mock(spec: &OpenAPI) -> Result<TokenStream> {
    match quietly(|| Generator::new(&settings()).httpmock(spec, "tallyfy_api")) {
        Ok(Ok(tokens)) => Ok(tokens),
        Ok(Err(error)) => Err(anyhow!(
            "progenitor refused to generate the mock extension: {error}"
        )),
        Err(panic) => Err(anyhow!("progenitor failed on the mock extension: {panic}")),
    }
}

/// Finds the first operation that progenitor cannot generate on its own.
fn blame_operation(spec: &OpenAPI) -> Option<anyhow::Error> {
    spec::operations(spec).find_map(|(path, method, op)| {
        let id = op.operation_id.as_deref()?;
        let single = spec::only_operation(spec, id);
        let failure = match quietly(|| Generator::new(&settings()).generate_tokens(&single)) {
            Ok(Ok(_)) => return None,
            Ok(Err(error)) => error.to_string(),
            Err(panic) => panic,
        };
        Some(anyhow!(
            "operation `{id}` ({} {path}) cannot be generated: {failure}\n\
             hint: progenitor needs all error responses of one operation to share one schema, \
             and all success responses to share one type",
            method.to_uppercase()
        ))
    })
}

/// Runs `f`, turning a panic into its message without printing a backtrace.
fn quietly<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    let previous = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    panic::set_hook(previous);
    result.map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "progenitor panicked".into())
    })
}

/// The `OPERATIONS` table and the `Call` impl of every builder.
fn operations_table(spec: &OpenAPI, client: &syn::File) -> Result<TokenStream> {
    let mut entries = Vec::new();
    let mut calls = Vec::new();
    for (index, (path, method, op)) in spec::operations(spec).enumerate() {
        let id = op.operation_id.as_deref().unwrap_or_default();
        let summary = op.summary.as_deref().unwrap_or_default();
        let method = method.to_uppercase();
        let irreversible = op
            .extensions
            .get(spec::IRREVERSIBLE)
            .and_then(|v| v.as_bool())
            == Some(true);
        let streams = spec::streams_success(spec, op);
        let returns_body = spec::documents_success_body(spec, op) && !streams;
        let form = spec::form_files(op);
        let form_entry = match &form {
            Some(files) => quote!(Some(&[#(#files),*])),
            None => quote!(None),
        };
        let responses = op.responses.responses.iter().map(|(status, response)| {
            let status = match status {
                StatusCode::Code(code) => code.to_string(),
                StatusCode::Range(range) => format!("{range}XX"),
            };
            let description = spec::resolve(spec, response)
                .map(|r| r.description.as_str())
                .unwrap_or_default();
            quote!((#status, #description))
        });
        let docs: Vec<&str> = match op.extensions.get(spec::DOCS) {
            Some(serde_json::Value::String(page)) => vec![page.as_str()],
            Some(serde_json::Value::Array(pages)) => {
                pages.iter().filter_map(|p| p.as_str()).collect()
            }
            _ => Vec::new(),
        };
        let group = op.tags.first().map(String::as_str).unwrap_or("operations");
        let command = op
            .extensions
            .get(spec::COMMAND)
            .and_then(|v| v.as_str())
            .map_or_else(|| id.replace('_', "-"), str::to_owned);
        let builder = format_ident!("{}", pascal_case(id));
        let mut params: Vec<TokenStream> = spec::parameters(spec, path, op)
            .iter()
            .map(|p| {
                let (name, flag, location, required, description) =
                    (&p.name, &p.flag, p.location, p.required, &p.description);
                quote!(Param { name: #name, flag: #flag, location: #location, required: #required, description: #description })
            })
            .collect();
        if calls::setters(client, &builder.to_string())
            .iter()
            .any(|(name, _)| name == "body")
        {
            let required = op
                .request_body
                .as_ref()
                .and_then(|b| b.as_item())
                .is_some_and(|b| b.required);
            let description = if form.is_some() {
                "The form's fields, as JSON: each file field the path of a file to send."
            } else {
                "The request body, as JSON."
            };
            params.push(quote!(Param { name: "body", flag: "body", location: "body", required: #required, description: #description }));
        }
        let (output, error) = send_types(client, &builder.to_string()).with_context(|| {
            format!("operation `{id}`: no builder `{builder}` with a `send` method")
        })?;
        let decoded = if returns_body {
            output.to_token_stream()
        } else {
            quote!(crate::NoBody)
        };
        let output = if streams {
            quote!(crate::Download)
        } else {
            output.to_token_stream()
        };
        entries.push(quote! {
            Operation {
                id: #id,
                method: #method,
                path: #path,
                summary: #summary,
                irreversible: #irreversible,
                returns_body: #returns_body,
                streams: #streams,
                form: #form_entry,
                responses: &[#(#responses),*],
                group: #group,
                command: #command,
                params: &[#(#params),*],
                docs: &[#(#docs),*],
                decode: |status, body| crate::decode_answer::<#decoded, #error>(status, body),
            }
        });

        let decode = if streams {
            quote!(Err(DecodeError::file_answer()))
        } else if returns_body {
            quote!(crate::decode(body))
        } else {
            quote!(Ok(()))
        };
        let stream = streams.then(|| {
            quote! {
                fn stream(answer: reqwest::Response) -> Option<Self::Output> {
                    Some(crate::Download::new(answer))
                }
            }
        });
        let encode = form.as_ref().map(|files| {
            quote! {
                let request = crate::form::encode(&client.client, request, &[#(#files),*])?;
            }
        });
        calls.push(quote! {
            impl Call for builder::#builder<'_> {
                type Output = #output;
                const OPERATION: &'static Operation = &OPERATIONS[#index];
                fn build(self) -> Result<(Extension, reqwest::Request), String> {
                    let (client, request) = builder::#builder::build(self).map_err(|e| e.to_string())?;
                    #encode
                    Ok((client.inner.clone(), request))
                }
                #[allow(unused_variables)]
                fn decode(body: &[u8]) -> Result<Self::Output, DecodeError> {
                    #decode
                }
                #stream
            }
        });
    }
    Ok(quote! {
        use crate::{Call, DecodeError, Extension, Operation, Param, builder, types};

        /// Every operation of the spec, in spec order.
        pub static OPERATIONS: &[Operation] = &[#(#entries),*];

        #(#calls)*
    })
}

/// The `T` and `E` of `send(self) -> Result<ResponseValue<T>, Error<E>>` on `builder`.
fn send_types(client: &syn::File, builder: &str) -> Option<(syn::Type, syn::Type)> {
    let module = client.items.iter().find_map(|item| match item {
        syn::Item::Mod(m) if m.ident == "builder" => m.content.as_ref().map(|(_, items)| items),
        _ => None,
    })?;
    let send = module.iter().find_map(|item| match item {
        syn::Item::Impl(imp) if is_named(&imp.self_ty, builder) => {
            imp.items.iter().find_map(|item| match item {
                syn::ImplItem::Fn(f) if f.sig.ident == "send" => Some(&f.sig.output),
                _ => None,
            })
        }
        _ => None,
    })?;
    let syn::ReturnType::Type(_, result) = send else {
        return None;
    };
    let [value, error] = generic_args(result)?.try_into().ok()?;
    let [output] = generic_args(&value)?.try_into().ok()?;
    let [error] = generic_args(&error)?.try_into().ok()?;
    Some((output, error))
}

fn generic_args(ty: &syn::Type) -> Option<Vec<syn::Type>> {
    let syn::Type::Path(p) = ty else { return None };
    let syn::PathArguments::AngleBracketed(args) = &p.path.segments.last()?.arguments else {
        return None;
    };
    Some(
        args.args
            .iter()
            .filter_map(|a| match a {
                syn::GenericArgument::Type(t) => Some(t.clone()),
                _ => None,
            })
            .collect(),
    )
}

fn pascal_case(id: &str) -> String {
    id.split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

const HEADER: &str = "\
// @generated by `cargo xtask generate` from openapi/tallyfy.yaml.
// Do not edit: change the spec and run `cargo xtask generate` again.
";

fn render(file: &syn::File) -> String {
    format!("{HEADER}\n{}", prettyplease::unparse(file))
}

fn print_diff(path: &str, committed: &str, generated: &str) {
    let diff = similar::TextDiff::from_lines(committed, generated);
    eprintln!(
        "{}",
        diff.unified_diff().context_radius(3).header(
            &format!("{path} (committed)"),
            &format!("{path} (from the spec)")
        )
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(yaml: &str) -> OpenAPI {
        serde_yaml::from_str(yaml).expect("a valid test spec")
    }

    /// What the real spec generates with the paths `added` to it.
    fn outputs_with(added: &str) -> Vec<Output> {
        let mut yaml =
            std::fs::read_to_string(workspace_root().join(SPEC)).expect("the spec reads");
        let at = yaml.find("\ncomponents:").expect("the spec has components");
        yaml.insert_str(at, added);
        outputs(spec(&yaml)).expect("generates")
    }

    /// The code generated for `path`.
    fn output_of(outputs: &[Output], path: &str) -> String {
        outputs
            .iter()
            .find(|o| o.path == path)
            .map(|o| o.code.clone())
            .unwrap_or_else(|| panic!("no {path}"))
    }

    #[test]
    fn an_operation_progenitor_cannot_generate_is_named() {
        let spec = spec(
            r#"
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /fine:
    get:
      operationId: fine_one
      responses:
        "200": {description: ok}
  /broken/{id}:
    delete:
      operationId: broken_one
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
      responses:
        "200": {description: ok}
        "404":
          description: one shape
          content: {application/json: {schema: {type: object, properties: {a: {type: string}}}}}
        "500":
          description: another shape
          content: {application/json: {schema: {type: string}}}
"#,
        );
        let error = generate_client(&spec)
            .expect_err("progenitor cannot generate it")
            .to_string();
        assert!(
            error.contains("operation `broken_one` (DELETE /broken/{id})"),
            "{error}"
        );
        assert!(error.contains("share one schema"), "{error}");
        assert!(!error.contains("fine_one"), "{error}");
    }

    #[test]
    fn objects_keep_the_fields_they_do_not_name_unless_they_refuse_them() {
        let mut spec = spec(
            r#"
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /thing:
    get:
      operationId: get_thing
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: object
                properties:
                  open: {type: object, properties: {a: {type: string}}}
                  closed: {type: object, additionalProperties: false, properties: {b: {type: string}}}
"#,
        );
        spec::keep_unnamed_fields(&mut spec);
        let mut file: syn::File =
            syn::parse2(generate_client(&spec).expect("generates")).expect("parses");
        rewrite::default_with_kept_fields(&mut file);
        let code = render(&file);
        assert!(
            code.contains("PartialEq, Default)]\n    pub struct GetThingResponseOpen {"),
            "an object of optional fields and kept ones has a default: {code}"
        );
        let structs: Vec<&str> = code.split("pub struct ").skip(1).collect();
        let body_of = |name: &str| {
            structs
                .iter()
                .find(|s| s.starts_with(name))
                .and_then(|s| s.split('}').next())
                .unwrap_or_else(|| panic!("no struct {name} in\n{code}"))
        };
        let flattened = "#[serde(flatten)]\n        pub extra: ::serde_json::Map<";
        assert!(body_of("GetThingResponse ").contains(flattened), "{code}");
        assert!(
            body_of("GetThingResponseOpen ").contains(flattened),
            "{code}"
        );
        assert!(
            !body_of("GetThingResponseClosed ").contains("extra"),
            "{code}"
        );
    }

    #[test]
    fn a_user_id_reads_into_the_handwritten_type() {
        let mut spec = spec::load(&workspace_root().join(SPEC)).expect("the spec loads");
        spec::normalise(&mut spec);
        let code =
            render(&syn::parse2(generate_client(&spec).expect("generates")).expect("parses"));
        assert!(
            code.contains("pub owner_id: ::std::option::Option<crate::UserId>"),
            "{code}"
        );
        assert!(
            !code.contains("pub struct UserId"),
            "replaced, not generated"
        );
    }

    /// The promise of the workspace: a spec change and `cargo xtask generate` ship an
    /// operation, with its method, its call by name and its command, and nothing else.
    #[test]
    fn an_operation_added_to_the_spec_gets_a_method_a_call_and_a_command() {
        let added = r##"
  /organizations/{org_id}/folders:
    parameters:
      - $ref: "#/components/parameters/OrgId"
    get:
      operationId: list_folders
      tags: [folders]
      summary: List folders.
      x-tallyfy-docs: code-samples/folders/list-folders.mdx
      parameters:
        - { name: q, in: query, description: Search the titles., schema: { type: string } }
      responses:
        "200":
          description: A page of templates.
          content:
            application/json:
              schema: { type: object, properties: { data: { type: array, items: {} } } }
        "5XX": { $ref: "#/components/responses/ServerError" }
"##;
        let outputs = outputs_with(added);
        let file = |path: &str| output_of(&outputs, path);
        let table = file("crates/tallyfy-api/src/operations.rs");
        assert!(table.contains(r#"id: "list_folders""#), "{table}");
        assert!(table.contains(r#"group: "folders""#));
        assert!(
            table.contains(r#"command: "list-folders""#),
            "the command line's name"
        );
        assert!(table.contains(r#"name: "q""#) && table.contains(r#"location: "query""#));
        assert!(table.contains("impl Call for builder::ListFolders<'_>"));
        let methods = file("crates/tallyfy/src/operations.rs");
        assert!(methods.contains("pub fn list_folders(&self) -> builder::ListFolders<'_>"));
        assert!(methods.contains(r#""list_folders" => {"#), "a call by name");
        assert!(methods.contains(r#"("list_folders", "q")"#), "{methods}");
        let client = file("crates/tallyfy-api/src/generated.rs");
        assert!(!client.contains("fn send("), "builders only build");
        assert!(summary(&outputs).contains("list_folders"));
    }

    #[test]
    fn an_operation_progenitor_refuses_with_an_error_is_named_too() {
        let spec = spec(
            r#"
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /fine:
    get:
      operationId: fine_one
      responses:
        "200": {description: ok}
  /upload:
    post:
      operationId: upload_file
      requestBody:
        content:
          multipart/form-data:
            schema: {type: object, properties: {file: {type: string, format: binary}}}
      responses:
        "200": {description: ok}
"#,
        );
        let error = generate_client(&spec)
            .expect_err("progenitor refuses multipart bodies")
            .to_string();
        assert!(
            error.contains("operation `upload_file` (POST /upload)"),
            "{error}"
        );
    }

    /// progenitor takes no multipart body and no file answer as such; the generator makes
    /// a form a typed body of `LocalFile`s and a file answer a `Download`.
    #[test]
    fn a_form_and_a_file_answer_are_generated_from_the_spec_alone() {
        let added = r##"
  /organizations/{org_id}/imports:
    parameters:
      - $ref: "#/components/parameters/OrgId"
    post:
      operationId: import_sheet
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema:
              type: object
              required: [sheet]
              properties:
                sheet: { type: string, format: binary }
                label: { type: string }
      responses:
        "200": { description: Imported. }
        "5XX": { $ref: "#/components/responses/ServerError" }
    get:
      operationId: export_sheet
      responses:
        "200":
          description: The sheet.
          content:
            text/csv:
              schema: { type: string, format: binary }
        "5XX": { $ref: "#/components/responses/ServerError" }
"##;
        let outputs = outputs_with(added);
        let file = |path: &str| output_of(&outputs, path);
        let table = file("crates/tallyfy-api/src/operations.rs");
        let entry = |id: &str| {
            let start = table.find(&format!(r#"id: "{id}""#)).expect("an entry");
            table[start..start + 900].to_owned()
        };
        assert!(
            entry("import_sheet").contains(r#"form: Some(&["sheet"])"#),
            "{}",
            entry("import_sheet")
        );
        assert!(entry("import_sheet").contains("streams: false"));
        assert!(entry("export_sheet").contains("streams: true"));
        assert!(entry("export_sheet").contains("returns_body: false"));
        assert!(table.contains("crate::form::encode(&client.client, request, &[\"sheet\"])"));
        assert!(table.contains("type Output = crate::Download;"));
        let client = file("crates/tallyfy-api/src/generated.rs");
        assert!(
            client.contains("pub sheet: crate::LocalFile"),
            "the file is a path"
        );
        let methods = file("crates/tallyfy/src/operations.rs");
        assert!(methods.contains(r#""export_sheet" => {"#), "saved by name");
        assert!(
            methods.contains("crate::call::file_answer(call)"),
            "not called as JSON"
        );
    }

    #[test]
    fn the_real_spec_generates_and_every_operation_has_a_builder() {
        let mut spec = spec::load(&workspace_root().join(SPEC)).expect("the spec loads");
        spec::normalise(&mut spec);
        let file: syn::File =
            syn::parse2(generate_client(&spec).expect("generates")).expect("parses");
        let table = operations_table(&spec, &file)
            .expect("every operation has a builder")
            .to_string();
        assert!(table.contains("PermanentlyDeleteProcess"));
    }

    #[test]
    fn no_api_version_header_and_no_empty_header_map_are_generated() {
        let spec = spec(
            r#"
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /plain:
    get:
      operationId: plain
      responses:
        "200": {description: ok}
  /with-header:
    get:
      operationId: with_header
      parameters:
        - {name: X-Trace, in: header, required: true, schema: {type: string}}
      responses:
        "200": {description: ok}
"#,
        );
        let mut file: syn::File =
            syn::parse2(generate_client(&spec).expect("generates")).expect("parses");
        let before = file.to_token_stream().to_string();
        assert!(
            before.contains("\"api-version\""),
            "progenitor still adds it"
        );
        rewrite::omit_api_version(&mut file);
        let code = render(&file);
        assert!(!code.contains("api-version"));
        // The operation with a header parameter keeps its map, the other has none.
        assert_eq!(code.matches("let mut header_map").count(), 1);
        assert_eq!(code.matches(".headers(header_map)").count(), 1);
        assert!(code.contains("\"x-trace\"") || code.contains("\"X-Trace\""));
        syn::parse_file(&code).expect("still parses");
    }

    #[test]
    fn empty_successes_accept_any_2xx_and_bodies_are_left_alone() {
        let mut spec = spec::load(&workspace_root().join(SPEC)).expect("the spec loads");
        spec::widen_empty_successes(&mut spec);
        for (_, _, op) in spec::operations(&spec) {
            let widened = op.responses.responses.contains_key(&StatusCode::Range(2));
            assert_eq!(
                widened,
                !spec::documents_success_body(&spec, op),
                "{:?}",
                op.operation_id
            );
        }
    }
}
