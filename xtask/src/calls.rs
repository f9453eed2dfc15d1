//! What the handwritten crate gets per operation, read off the generated builders: a
//! method of its `Client` for each operation, and one `Client::call` that calls any
//! operation by name with its arguments as JSON (for the command line and the tests, so
//! that a new operation needs no handwritten code in either).

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote};

/// The builder's setters that take a value: each name and the type it converts into
/// (`fn org_id<V>(self, value: V) where V: TryInto<String>`), in their order.
pub fn setters(client: &syn::File, builder: &str) -> Vec<(syn::Ident, syn::Type)> {
    let Some(items) = builder_module(client) else {
        return Vec::new();
    };
    let methods = items.iter().filter_map(|item| match item {
        syn::Item::Impl(imp) if is_named(&imp.self_ty, builder) => Some(imp.items.iter()),
        _ => None,
    });
    methods
        .flatten()
        .filter_map(|item| {
            let syn::ImplItem::Fn(f) = item else {
                return None;
            };
            let predicate = f.sig.generics.where_clause.as_ref()?.predicates.first()?;
            let syn::WherePredicate::Type(bound) = predicate else {
                return None;
            };
            let syn::TypeParamBound::Trait(tr) = bound.bounds.first()? else {
                return None;
            };
            let last = tr.path.segments.last()?;
            if last.ident != "TryInto" {
                return None;
            }
            let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
                return None;
            };
            match args.args.first()? {
                syn::GenericArgument::Type(ty) => Some((f.sig.ident.clone(), ty.clone())),
                _ => None,
            }
        })
        .collect()
}

fn builder_module(client: &syn::File) -> Option<&Vec<syn::Item>> {
    client.items.iter().find_map(|item| match item {
        syn::Item::Mod(m) if m.ident == "builder" => m.content.as_ref().map(|(_, items)| items),
        _ => None,
    })
}

pub fn is_named(ty: &syn::Type, name: &str) -> bool {
    matches!(ty, syn::Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == name))
}

/// The operations as methods of the `tallyfy` crate's `Client`, each handing out the
/// generated builder with the generated method's docs (that client has no `Deref` to
/// the generated one, so that nothing but `.execute()` sends), and `Client::call`.
///
/// An operation that answers with a file (`files`) cannot be called by name: its answer
/// is no JSON value; the call says so and what to use instead.
pub fn client_methods(
    client: &syn::File,
    operations: &[(String, String)],
    files: &[String],
) -> TokenStream {
    let methods = client.items.iter().filter_map(|item| match item {
        syn::Item::Impl(imp) if imp.trait_.is_none() && is_named(&imp.self_ty, "Client") => {
            Some(imp.items.iter())
        }
        _ => None,
    });
    let forwarders = methods.flatten().filter_map(|item| {
        let syn::ImplItem::Fn(f) = item else {
            return None;
        };
        let returns_builder = matches!(&f.sig.output, syn::ReturnType::Type(_, ty)
            if ty.to_token_stream().to_string().starts_with("builder ::"));
        if !returns_builder {
            return None;
        }
        let (attrs, sig, name) = (&f.attrs, &f.sig, &f.sig.ident);
        Some(quote! {
            #(#attrs)*
            pub #sig {
                self.api().#name()
            }
        })
    });
    let build = |id: &String, builder: &String| {
        let method = format_ident!("{id}");
        let sets = setters(client, builder).into_iter().map(|(name, ty)| {
            let key = name.to_string();
            quote! {
                let call = match args.get::<#ty>(#id, #key)? {
                    Some(value) => call.#name(value),
                    None => call,
                };
            }
        });
        quote! {
            let call = self.#method();
            #(#sets)*
        }
    };
    let saves = operations
        .iter()
        .filter(|(id, _)| files.contains(id))
        .map(|(id, builder)| {
            let build = build(id, builder);
            quote! {
                #id => {
                    #build
                    Ok(call.save())
                }
            }
        });
    let arms = operations.iter().map(|(id, builder)| {
        let build = build(id, builder);
        let send = if files.contains(id) {
            quote!(crate::call::file_answer(call))
        } else {
            quote!(crate::call::send(call).await)
        };
        quote! {
            #id => {
                #build
                #send
            }
        }
    });
    quote! {
        #[allow(unused_imports)]
        use tallyfy_api::{builder, types};

        use crate::call::Args;
        use crate::files::Saving;
        use crate::{Answered, Client, Error, Save};

        impl Client {
            #(#forwarders)*

            /// Calls the operation named `id` (its `operationId`) with `args`, its
            /// parameters by name, and returns its answer, the decoded body as JSON. For
            /// tools that reach every operation alike, such as the command line; code that
            /// knows its operation calls its method instead.
            ///
            /// ```no_run
            /// # async fn demo(client: tallyfy::Client) -> Result<(), tallyfy::Error> {
            /// use tallyfy::Args;
            ///
            /// let args = Args::new().with("org_id", "org").with("run_id", "run");
            /// let answer = client.call("get_process", &args).await?;
            /// println!("{}", answer.value()["data"]["name"]);
            /// # Ok(()) }
            /// ```
            pub async fn call(&self, id: &str, args: &Args) -> Result<Answered<serde_json::Value>, Error> {
                match id {
                    #(#arms)*
                    _ => Err(crate::call::unknown(id)),
                }
            }

            /// Saves the file the operation named `id` answers with (`download_file`,
            /// `get_file`), called with `args` as [`call`](Client::call) is: finish it
            /// with [`Saving::to_file`] or [`Saving::to_writer`]. Any other operation
            /// fails there with `invalid_input`.
            ///
            /// ```no_run
            /// # async fn demo(client: tallyfy::Client) -> Result<(), tallyfy::SaveError> {
            /// use tallyfy::Args;
            ///
            /// let args = Args::new().with("org_id", "org").with("file_id", "asset");
            /// let saved = client.save("download_file", &args).to_file("report.pdf").await?;
            /// println!("{} bytes", saved.bytes());
            /// # Ok(()) }
            /// ```
            pub fn save(&self, id: &str, args: &Args) -> Saving<'_> {
                self.saving(id, args).unwrap_or_else(Saving::failed)
            }

            fn saving(&self, id: &str, args: &Args) -> Result<Saving<'_>, Error> {
                match id {
                    #(#saves)*
                    _ => Err(crate::call::not_a_file(id)),
                }
            }
        }
    }
}
