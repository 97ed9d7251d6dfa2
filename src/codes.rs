//! Short codes that cross stages and end in table columns: a connection's
//! anomalies ([`crate::error::Anomaly`]), a chain's trust reason
//! ([`crate::x509::TrustReason`]), a finding's kind
//! ([`crate::analysis::Kind`]) and severity ([`crate::rows::Severity`]).
//!
//! Each is an enum declared with [`codes!`]: one line per variant giving its
//! spelling in tables and a sentence saying what it means. Code passes the
//! variants around; the spelling is read or written only at the table edge
//! (a row becoming an Arrow column, an Arrow column becoming a row) and by
//! `certsift schema`, which lists every code with its sentence. A renamed
//! variant is a compile error, not a detector silently switched off.

/// One code as `certsift schema` lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeLine {
    /// Its spelling in tables.
    pub code: &'static str,
    /// What it means, in one line.
    pub description: &'static str,
}

/// Declares a `Copy` enum of table codes: `Variant = "code", "what it means";`
/// per line. Generates `ALL`, `as_str`, `describe`, `parse`, `lines` and
/// `Display` (the code).
macro_rules! codes {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $variant:ident = $code:literal, $desc:literal; )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $( #[doc = $desc] $variant, )+
        }

        impl $name {
            /// Every variant, in the order declared.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The spelling in tables.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $code,)+
                }
            }

            /// What it means, in one line.
            pub const fn describe(self) -> &'static str {
                match self {
                    $($name::$variant => $desc,)+
                }
            }

            /// The variant a table spells `s`, if this build knows it.
            pub fn parse(s: &str) -> Option<$name> {
                match s {
                    $($code => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// Every code with its line, for `certsift schema`.
            pub fn lines() -> Vec<$crate::codes::CodeLine> {
                Self::ALL
                    .iter()
                    .map(|v| $crate::codes::CodeLine {
                        code: v.as_str(),
                        description: v.describe(),
                    })
                    .collect()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use codes;

/// Orders a [`codes!`] enum by its spelling, so that sorting the variants
/// sorts the table column as sorting the strings did.
macro_rules! ordered_by_code {
    ($name:ident) => {
        impl Ord for $name {
            fn cmp(&self, other: &Self) -> std::cmp::Ordering {
                self.as_str().cmp(other.as_str())
            }
        }

        impl PartialOrd for $name {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }
    };
}
pub(crate) use ordered_by_code;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::Kind;
    use crate::error::Anomaly;
    use crate::rows::Severity;
    use crate::x509::TrustReason;

    fn check(lines: &[CodeLine], parse: impl Fn(&str) -> bool) {
        let mut seen = std::collections::BTreeSet::new();
        for l in lines {
            assert!(seen.insert(l.code), "{} twice", l.code);
            assert!(parse(l.code), "{} does not parse back", l.code);
            assert!(
                !l.code.is_empty()
                    && l.code
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{} is not snake_case",
                l.code
            );
            assert!(
                !l.description.is_empty() && !l.description.contains('\n'),
                "{}: one line of description",
                l.code
            );
        }
    }

    #[test]
    fn every_code_is_unique_snake_case_and_parses_back() {
        check(&Anomaly::lines(), |s| Anomaly::parse(s).is_some());
        check(&TrustReason::lines(), |s| TrustReason::parse(s).is_some());
        check(&Kind::lines(), |s| Kind::parse(s).is_some());
        check(&Severity::lines(), |s| Severity::parse(s).is_some());
        assert!(Anomaly::parse("no_such_code").is_none());
    }

    #[test]
    fn sorting_variants_sorts_their_codes() {
        let mut v: Vec<Anomaly> = Anomaly::ALL.to_vec();
        v.sort();
        let codes: Vec<&str> = v.iter().map(|a| a.as_str()).collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        assert_eq!(codes, sorted);
        let mut k: Vec<Kind> = Kind::ALL.to_vec();
        k.sort();
        assert!(k.windows(2).all(|w| w[0].as_str() < w[1].as_str()));
    }

    /// Every column [`column_codes`] names exists, so `certsift schema`
    /// lists every code.
    #[test]
    fn every_code_column_is_in_the_schema() {
        let mut with_codes = 0;
        for (table, schema) in crate::output::schemas() {
            for f in schema.fields() {
                if crate::output::column_codes(table, f.name()).is_some() {
                    with_codes += 1;
                }
            }
        }
        assert_eq!(with_codes, 6);
    }

    /// The non-test code of every file under `src/`, comments left out.
    fn sources() -> Vec<(String, String)> {
        fn walk(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
            let mut entries: Vec<_> = std::fs::read_dir(dir)
                .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
                .unwrap_or_default();
            entries.sort();
            for p in entries {
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|e| e == "rs")
                    && !p.to_string_lossy().ends_with("tests.rs")
                {
                    let text = std::fs::read_to_string(&p).unwrap_or_default();
                    let code = text.split("#[cfg(test)]").next().unwrap_or_default();
                    let code: Vec<&str> = code
                        .lines()
                        .filter(|l| !l.trim_start().starts_with("//"))
                        .collect();
                    out.push((p.to_string_lossy().into_owned(), code.join("\n")));
                }
            }
        }
        let mut out = Vec::new();
        walk(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut out,
        );
        out
    }

    /// No anomaly code or trust reason is spelled outside its enum: code
    /// that records or matches one names the variant.
    #[test]
    fn codes_are_spelled_only_in_their_enum() {
        let files = sources();
        assert!(files.len() > 50);
        for (lines, home) in [
            (Anomaly::lines(), "error.rs"),
            (TrustReason::lines(), "reason.rs"),
        ] {
            for l in lines {
                let quoted = format!("\"{}\"", l.code);
                for (path, code) in &files {
                    // A finding kind may share a trust reason's name.
                    if path.ends_with(home) || path.ends_with("kinds.rs") {
                        continue;
                    }
                    // A column may share a code's name (certificates.self_signed).
                    let spelled = code.lines().any(|line| {
                        line.contains(&quoted)
                            && !line.contains(".column(")
                            && !line.trim_start().starts_with(".flag(")
                            && !line.trim_start().starts_with("col!(")
                    });
                    assert!(!spelled, "{path} spells {quoted}");
                }
            }
        }
    }

    #[test]
    fn schema_lists_the_code_columns() {
        assert_eq!(
            crate::output::column_codes("handshakes", "anomalies").map(|l| l.len()),
            Some(Anomaly::ALL.len())
        );
        assert!(crate::output::column_codes("certificates", "validation_reason").is_some());
        assert!(crate::output::column_codes("findings", "summary").is_none());
    }
}
