//! Known TLS-inspection products: `testdata/inspection-products.tsv` (issuer
//! name patterns of corporate proxies, antivirus HTTPS scanning and
//! interception tools, each with where it was found), embedded at build time.
//! In: an issuer or subject DN. Out: the product it names, and the
//! Kind::InspectionProduct finding per issuer that names one. A match tells an
//! authorised inspection proxy from an unknown interceptor; it does not prove
//! either.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use super::Kind;
use super::{finding, Evidence};
use crate::rows::{FindingRow, Severity};
use crate::words::plural_s;

const TABLE: &str = include_str!("../../testdata/inspection-products.tsv");

/// One row of the product table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    /// Words matched, case-insensitively and on word boundaries, in a DN.
    pub pattern: String,
    /// Product name.
    pub product: String,
    /// "corporate-proxy", "antivirus", "tool", "parental-filter", "adware" or
    /// "generic".
    pub category: String,
    /// Where the name was found.
    pub source: String,
    /// "documented" or "best-guess".
    pub confidence: String,
    /// Registrable domains of the vendor's own services: its CA on those is
    /// its PKI, not its inspection product.
    pub vendor_domains: Vec<String>,
}

/// Every product of the table, longest pattern first (most specific wins).
pub fn products() -> &'static [Product] {
    static P: OnceLock<Vec<Product>> = OnceLock::new();
    P.get_or_init(|| {
        let mut v: Vec<Product> = TABLE
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .skip(1) // header
            .filter_map(|l| {
                let mut f = l.split('\t');
                Some(Product {
                    pattern: f.next()?.trim().to_ascii_lowercase(),
                    product: f.next()?.trim().to_string(),
                    category: f.next()?.trim().to_string(),
                    source: f.next()?.trim().to_string(),
                    confidence: f.next()?.trim().to_string(),
                    vendor_domains: f
                        .next()
                        .unwrap_or_default()
                        .split(',')
                        .map(|d| d.trim().to_ascii_lowercase())
                        .filter(|d| !d.is_empty())
                        .collect(),
                })
            })
            .filter(|p| !p.pattern.is_empty())
            .collect();
        v.sort_by(|a, b| {
            b.pattern
                .len()
                .cmp(&a.pattern.len())
                .then_with(|| a.pattern.cmp(&b.pattern))
        });
        v
    })
}

/// The product whose pattern occurs in `dn` as whole words, if any.
pub fn match_product(dn: &str) -> Option<&'static Product> {
    let hay = dn.to_ascii_lowercase();
    products().iter().find(|p| word_match(&hay, &p.pattern))
}

/// Whether `pat` occurs in `hay` as whole words: not preceded or followed by
/// a letter, digit or `_` (so `fortinet_ca_ssl` does not match inside
/// `fortinet_ca_sslproxy`). Both must already be ASCII-lowercased. The one
/// matcher of product patterns, for the findings and the report alike.
pub fn word_match(hay: &str, pat: &str) -> bool {
    if pat.is_empty() {
        return false;
    }
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    // Every start position, overlapping ones included: in "xa a a" the
    // pattern "a a" fails at 1 but holds at 3.
    let mut from = 0;
    while let Some(pos) = hay.get(from..).and_then(|h| h.find(pat)) {
        let start = from + pos;
        let before = hay.get(..start).and_then(|h| h.chars().next_back());
        let after = hay.get(start + pat.len()..).and_then(|h| h.chars().next());
        if !word(before) && !word(after) {
            return true;
        }
        from = start + 1;
        while !hay.is_char_boundary(from) {
            from += 1;
        }
    }
    false
}

/// One finding per issuer whose name (or chain) matches a known inspection
/// product: "medium" for proxies and antivirus (likely authorised, still
/// interception), "high" for interception tools and adware.
pub fn inspection_product(ev: &Evidence<'_>) -> Vec<FindingRow> {
    let mut by_issuer: BTreeMap<String, (&'static Product, BTreeSet<&str>)> = BTreeMap::new();
    let mut leaves: Vec<&&str> = ev.leaf_flows.keys().collect();
    leaves.sort();
    for leaf in leaves {
        let Some(p) = ev.product_of_leaf(leaf) else {
            continue;
        };
        by_issuer
            .entry(ev.issuer_of(leaf))
            .or_insert((p, BTreeSet::new()))
            .1
            .insert(leaf);
    }
    let mut out = Vec::new();
    for (issuer, (p, leaves)) in by_issuer {
        let (flows, names) = ev.flows_and_names(&leaves);
        let severity = match p.category.as_str() {
            "tool" | "adware" => Severity::High,
            _ => Severity::Medium,
        };
        let summary = format!(
            "{} certificate{} for {} name{} ({}) {} issued by {issuer}, which matches the \
             TLS-inspection product {} ({}, {} name); {}",
            leaves.len(),
            plural_s(leaves.len()),
            names.len(),
            plural_s(names.len()),
            names.iter().take(5).cloned().collect::<Vec<_>>().join(", "),
            if leaves.len() == 1 { "was" } else { "were" },
            p.product,
            p.category,
            p.confidence,
            ev.outcome(&flows).sentence()
        );
        let sni = (names.len() == 1)
            .then(|| names.iter().next().cloned())
            .flatten();
        out.push(finding(
            Kind::InspectionProduct,
            severity,
            sni.as_deref(),
            &flows,
            leaves.iter().map(|s| s.to_string()).collect(),
            BTreeSet::from([issuer]),
            summary,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::testutil::{cert, hs_untrusted};
    use crate::analysis::{analyze, Thresholds};

    #[test]
    fn word_match_finds_whole_words_at_any_position() {
        assert!(word_match("cn=mitmproxy,o=mitmproxy", "mitmproxy"));
        assert!(word_match("xa a a", "a a"), "overlapping later match");
        assert!(!word_match("cn=fortinet_ca_sslproxy", "fortinet_ca_ssl"));
        assert!(
            !word_match("cn=fortinet_ca", "ca"),
            "underscore joins words"
        );
        assert!(word_match("cn=contoso tls inspection ca", "tls inspection"));
        assert!(!word_match("cn=notls inspectionx", "tls inspection"));
        assert!(!word_match("anything", ""));
        assert!(word_match("o=é, cn=zscaler root", "zscaler"));
    }

    #[test]
    fn table_parses_and_has_many_products() {
        let names: BTreeSet<&str> = products().iter().map(|p| p.product.as_str()).collect();
        assert!(names.len() >= 30, "{}", names.len());
        assert!(products()
            .iter()
            .all(|p| p.confidence == "documented" || p.confidence == "best-guess"));
    }

    #[test]
    fn matches_whole_words_only() {
        assert_eq!(
            match_product("O=mitmproxy,CN=mitmproxy").map(|p| p.product.as_str()),
            Some("mitmproxy")
        );
        assert_eq!(
            match_product("CN=DO_NOT_TRUST_FiddlerRoot, O=DO_NOT_TRUST")
                .map(|p| p.category.as_str()),
            Some("tool")
        );
        assert!(match_product("CN=Contoso Corp TLS Inspection CA,OU=IT").is_some());
        assert!(
            match_product("CN=Example TLS Issuing CA R3,O=Example Trust Services,C=US").is_none()
        );
        assert!(match_product("CN=Nortonville Hospital CA").is_none());
        assert!(match_product("CN=R3,O=Let's Encrypt,C=US").is_none());
        assert!(match_product("CN=DigiCert Global G2 TLS RSA SHA256 2020 CA1").is_none());
    }

    #[test]
    fn tool_issuer_is_high_and_named() {
        let h = vec![hs_untrusted("1", "a.test", "x", "10.0.0.1", 5)];
        let c = vec![cert("x", "O=mitmproxy,CN=mitmproxy", "k", &["a.test"])];
        let f = analyze(&h, &c, &Thresholds::default());
        let p = f
            .iter()
            .find(|f| f.kind == Kind::InspectionProduct)
            .unwrap();
        assert_eq!(p.severity, Severity::High);
        assert!(p.summary.contains("mitmproxy"));
        assert!(p.summary.contains("accepted by 1 of 1 client"));
    }
}
