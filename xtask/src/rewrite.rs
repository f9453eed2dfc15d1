//! Rewrites of progenitor's output, each a small syn pass: what the generated client
//! should not do, and what it should do differently.

use quote::{ToTokens, quote};
use syn::visit_mut::{self, VisitMut};

/// Turns every builder's `send` into `build`: the request, checked and ready, and the
/// client it was built with, without sending it. Sending, retrying and decoding belong to
/// the handwritten crate's `.execute()`; a builder offers no way around it.
///
/// progenitor's `send` builds the request, runs the hooks, sends and decodes; `build`
/// keeps the statements before the hooks (`let info = OperationInfo { .. }`).
pub fn split_send(file: &mut syn::File) {
    struct Split;
    impl VisitMut for Split {
        fn visit_impl_item_fn_mut(&mut self, item: &mut syn::ImplItemFn) {
            if item.sig.ident != "send" {
                return;
            }
            let stmts = &item.block.stmts;
            let Some(hooks) = stmts
                .iter()
                .position(|stmt| mentions(stmt, "let info = OperationInfo"))
            else {
                return;
            };
            let kept = &stmts[..hooks];
            *item = syn::parse_quote! {
                /// The request, checked and ready to send, and the client it belongs to.
                pub(crate) fn build(
                    self,
                ) -> Result<(&'a super::Client, reqwest::Request), Error> {
                    #(#kept)*
                    Ok((client, request))
                }
            };
        }
    }
    Split.visit_file_mut(file);
}

/// The examples in the client's docs finish with `.execute()`, the one way to send.
pub fn examples_execute(code: &str) -> String {
    code.replace(".send()\n", ".execute()\n")
}

/// progenitor adds an `api-version` header to every request. Tallyfy documents no such
/// header, so the generated client leaves it out, and with it a header map left empty.
pub fn omit_api_version(file: &mut syn::File) {
    #[derive(Default)]
    struct Omit {
        /// Inside a block whose empty header map was dropped.
        map_dropped: bool,
    }
    impl VisitMut for Omit {
        fn visit_block_mut(&mut self, block: &mut syn::Block) {
            block
                .stmts
                .retain(|stmt| !mentions(stmt, "HeaderName :: from_static (\"api-version\")"));
            let before = block.stmts.len();
            if !block
                .stmts
                .iter()
                .any(|stmt| mentions(stmt, "header_map . append"))
            {
                block
                    .stmts
                    .retain(|stmt| !mentions(stmt, "let mut header_map"));
            }
            let outer = self.map_dropped;
            self.map_dropped |= block.stmts.len() < before;
            visit_mut::visit_block_mut(self, block);
            self.map_dropped = outer;
        }

        fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
            // `builder.headers(header_map)` once the map is gone: `builder`.
            if let syn::Expr::MethodCall(call) = expr
                && self.map_dropped
                && call.method == "headers"
                && call.args.to_token_stream().to_string() == "header_map"
            {
                *expr = (*call.receiver).clone();
            }
            visit_mut::visit_expr_mut(self, expr);
        }
    }
    Omit::default().visit_file_mut(file);
}

/// typify derives `Default` for a struct whose fields all have defaults, but not once it
/// carries the flattened map of unnamed fields ([`crate::spec::keep_unnamed_fields`]), although
/// an empty map is a fine default. This derives it again, so that `..Default::default()`
/// builds bodies as before.
pub fn default_with_kept_fields(file: &mut syn::File) {
    struct Derive;
    impl VisitMut for Derive {
        fn visit_item_struct_mut(&mut self, item: &mut syn::ItemStruct) {
            let syn::Fields::Named(fields) = &item.fields else {
                return;
            };
            let kept = fields.named.iter().any(is_kept_fields);
            let all_default = fields.named.iter().all(|f| {
                is_kept_fields(f)
                    || f.ty
                        .to_token_stream()
                        .to_string()
                        .starts_with(":: std :: option :: Option")
                    || f.attrs
                        .iter()
                        .any(|a| a.path().is_ident("serde") && mentions_tokens(a, "default"))
            });
            if !(kept && all_default) {
                return;
            }
            for attr in &mut item.attrs {
                if attr.path().is_ident("derive")
                    && !mentions_tokens(attr, "Default")
                    && let syn::Meta::List(list) = &mut attr.meta
                {
                    list.tokens.extend(quote!(, Default));
                }
            }
        }
    }
    Derive.visit_file_mut(file);
}

/// Whether `field` is the flattened map of unnamed fields.
fn is_kept_fields(field: &syn::Field) -> bool {
    field.ident.as_ref().is_some_and(|i| i == "extra")
        && field
            .attrs
            .iter()
            .any(|a| a.path().is_ident("serde") && mentions_tokens(a, "flatten"))
}

/// Whether an attribute's tokens, as text, contain `word`.
fn mentions_tokens(attr: &syn::Attribute, word: &str) -> bool {
    attr.to_token_stream().to_string().contains(word)
}

/// The builders typify makes for the types start the map of unnamed fields unset, so
/// that building a body with `body_map(|b| ...)` fails ("no value supplied for extra");
/// an empty map is the right start.
pub fn builders_start_with_no_unnamed_fields(file: &mut syn::File) {
    struct Start;
    impl VisitMut for Start {
        fn visit_field_value_mut(&mut self, field: &mut syn::FieldValue) {
            let is_extra = matches!(&field.member, syn::Member::Named(name) if name == "extra");
            if is_extra
                && field
                    .expr
                    .to_token_stream()
                    .to_string()
                    .starts_with("Err (")
            {
                field.expr = syn::parse_quote!(Ok(Default::default()));
            }
            visit_mut::visit_field_value_mut(self, field);
        }
    }
    Start.visit_file_mut(file);
}

/// Whether `stmt`'s tokens, as text, contain `tokens`.
fn mentions(stmt: &syn::Stmt, tokens: &str) -> bool {
    stmt.to_token_stream().to_string().contains(tokens)
}
