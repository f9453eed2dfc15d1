//! Calling an operation by name, with its arguments as JSON: [`Client::call`](crate::Client::call).
//!
//! The dispatch itself is generated (`operations.rs`) from the builders; this module
//! holds what it uses.

use std::collections::BTreeMap;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tallyfy_api::{Call, Operation};

use crate::{Answered, Error, Execute};

/// The arguments of a call by name: each parameter (path, query, or `body`) by its name
/// in the spec, as JSON. A string stands for any scalar it spells (`"2"` for a page
/// number), so that text from a command line or a config file can be passed as it is.
///
/// ```
/// use tallyfy::Args;
///
/// let args = Args::new().with("org_id", "org").with("per_page", 100);
/// assert_eq!(args.names().collect::<Vec<_>>(), ["org_id", "per_page"]);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Args(BTreeMap<String, Value>);

impl Args {
    /// No arguments.
    pub fn new() -> Self {
        Self::default()
    }

    /// With `name` set to `value`.
    pub fn with(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.insert(name, value);
        self
    }

    /// Sets `name` to `value`.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<Value>) {
        self.0.insert(name.into(), value.into());
    }

    /// Takes the argument `name` out, if it is set.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        self.0.remove(name)
    }

    /// The names of the arguments set.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// The argument `name` of operation `id` as a `T`, if it is set.
    #[doc(hidden)]
    pub fn get<T: DeserializeOwned>(&self, id: &str, name: &str) -> Result<Option<T>, Error> {
        let Some(value) = self.0.get(name) else {
            return Ok(None);
        };
        let read = serde_json::from_value::<T>(value.clone()).or_else(|first| match value {
            Value::String(text) => serde_json::from_str::<T>(text).map_err(|_| first),
            _ => Err(first),
        });
        read.map(Some).map_err(|e| {
            Error::invalid_input(
                Operation::find(id),
                format!("the argument `{name}` does not fit: {e}"),
            )
        })
    }
}

/// Sends a call built by name and turns its output into JSON.
pub(crate) async fn send<C>(call: C) -> Result<Answered<Value>, Error>
where
    C: Call + Send,
    C::Output: Serialize,
{
    let answer = call.execute_with_answer().await?;
    Ok(answer.map(|value| serde_json::to_value(value).unwrap_or(Value::Null)))
}

/// The answer of an operation that answers with a file is no JSON value: the builder is
/// checked (so a missing argument is named), then refused with what to use instead.
pub(crate) fn file_answer<C: Call>(call: C) -> Result<Answered<Value>, Error> {
    let op = C::OPERATION;
    call.build()
        .map_err(|reason| Error::invalid_input(Some(op), reason))?;
    Err(Error::invalid_input(
        Some(op),
        format!(
            "`{}` answers with a file, not JSON: save it with `client.save(\"{}\", ...)` \
             (`tallyfy {} {}` in the command line)",
            op.id, op.id, op.group, op.command
        ),
    ))
}

/// The error for saving an operation that answers with no file.
pub(crate) fn not_a_file(id: &str) -> Error {
    match Operation::find(id) {
        Some(op) => Error::invalid_input(
            Some(op),
            format!("`{id}` answers with no file: call it with `client.call`"),
        ),
        None => unknown(id),
    }
}

/// The error for a name no operation has.
pub(crate) fn unknown(id: &str) -> Error {
    Error::invalid_input(None, format!("no operation is named `{id}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_stand_for_the_scalars_they_spell() {
        let args = Args::new()
            .with("page", "2")
            .with("per_page", 5)
            .with("q", "12")
            .with("starred", "true");
        let page: Option<std::num::NonZeroU32> = args.get("list_processes", "page").unwrap();
        assert_eq!(page.map(|p| p.get()), Some(2));
        let per_page: Option<u32> = args.get("list_processes", "per_page").unwrap();
        assert_eq!(per_page, Some(5));
        let q: Option<String> = args.get("list_processes", "q").unwrap();
        assert_eq!(q.as_deref(), Some("12"));
        let starred: Option<bool> = args.get("list_processes", "starred").unwrap();
        assert_eq!(starred, Some(true));
        let missing: Option<String> = args.get("list_processes", "sort").unwrap();
        assert_eq!(missing, None);
    }

    #[test]
    fn an_argument_that_does_not_fit_is_invalid_input_naming_it() {
        let args = Args::new().with("page", "zero");
        let error = args
            .get::<std::num::NonZeroU32>("list_processes", "page")
            .unwrap_err();
        assert!(error.is_invalid_input());
        assert_eq!(error.operation(), Some("list_processes"));
        assert!(error.explanation().contains("`page`"), "{error:?}");
    }
}
