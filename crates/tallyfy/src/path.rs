//! Path parameters: every one must stay one non-empty segment of the template.
//!
//! The generated client percent-encodes each parameter (`/`, `?`, `#`, `%`), but a URL
//! parser still resolves `.` and `..` and reads `\` as `/`. Rather than guess every
//! trick, the request's final path is compared with the operation's template: same
//! literal segments, and each parameter one segment that is not blank.

use std::borrow::Cow;

use percent_encoding::percent_decode;

/// Checks `path` (the request URL's path) against `template`, below `base_path`.
pub(crate) fn check(path: &str, base_path: &str, template: &str) -> Result<(), String> {
    let changed =
        || Err("a path parameter would change the request path (`.`, `..` or `\\`)".to_string());
    let Some(below_base) = path.strip_prefix(base_path) else {
        return changed();
    };
    let mut actual = segments(below_base);
    for pattern in segments(template) {
        let Some(value) = actual.next() else {
            return changed();
        };
        match pattern
            .strip_prefix(b"{")
            .and_then(|p| p.strip_suffix(b"}"))
        {
            Some(name) => {
                let value = decode(value);
                if value.trim().is_empty() {
                    return Err(format!("`{}` is empty", String::from_utf8_lossy(name)));
                }
                if value == "." || value == ".." {
                    return changed();
                }
            }
            None if value != pattern => return changed(),
            None => {}
        }
    }
    match actual.next() {
        Some(_) => changed(),
        None => Ok(()),
    }
}

/// The `/`-separated segments of a path.
fn segments(path: &str) -> impl Iterator<Item = &[u8]> {
    path.as_bytes().split(|&byte| byte == b'/')
}

/// A parameter as the server reads it: percent-decoded, if anything was encoded.
fn decode(segment: &[u8]) -> Cow<'_, str> {
    if segment.contains(&b'%') {
        percent_decode(segment).decode_utf8_lossy()
    } else {
        String::from_utf8_lossy(segment)
    }
}

#[cfg(test)]
mod tests {
    use super::check;

    const TEMPLATE: &str = "/organizations/{org_id}/runs/{run_id}/delete";

    #[test]
    fn a_matching_path_passes() {
        assert_eq!(
            check("/api/organizations/o1/runs/a%2Fb/delete", "/api", TEMPLATE),
            Ok(())
        );
        assert_eq!(
            check("/organizations/o1/runs/r%3F%23/delete", "", TEMPLATE),
            Ok(())
        );
    }

    #[test]
    fn blank_parameters_are_named() {
        let err = check("/api/organizations/o1/runs/%20%20/delete", "/api", TEMPLATE).unwrap_err();
        assert_eq!(err, "`run_id` is empty");
        let err = check("/organizations//runs/r/delete", "", TEMPLATE).unwrap_err();
        assert_eq!(err, "`org_id` is empty");
    }

    #[test]
    fn a_changed_path_is_refused() {
        for path in [
            "/api/organizations/o1/delete",          // run_id `..` resolved away
            "/api/organizations/o1/runs/delete",     // run_id `.` resolved away
            "/api/organizations/o1/runs/a/b/delete", // `a\b` read as two segments
            "/organizations/o1/runs/r/delete",       // outside the base path
        ] {
            assert!(check(path, "/api", TEMPLATE).is_err(), "{path}");
        }
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn check_never_panics(path in ".{0,80}", base in "(/[a-z]{0,4}){0,2}") {
            let _ = super::check(&path, &base, "/organizations/{org_id}/runs/{run_id}/delete");
        }
    }
}
