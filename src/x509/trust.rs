//! Trust anchors and chain verdicts at the time of a flow.
//!
//! Input: the certificates a server sent (leaf first, the rest in any order,
//! possibly incomplete), the flow's timestamp, optionally intermediates seen
//! elsewhere. Output: a [`ChainVerdict`]. Path building and signature checks
//! are `rustls-webpki`'s (RFC 5280 §6 as the Web PKI applies it, server-auth
//! EKU, RSA >= 2048, no SHA-1); this file adds what a forensic reader needs:
//! a short reason with a stable code, whether the sent order was wrong or an
//! intermediate missing, and which root (or claimed root) the chain names.
//!
//! Trust anchors (Mozilla's set from `webpki-roots`, user PEM files) are
//! parsed once in [`TrustStore::new`] (Mozilla's set once per process, in
//! [`TrustStore::mozilla`]); a verdict costs one parse of each sent
//! certificate plus webpki's path search. Revocation is not checked.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Duration;

use rustls_pki_types::{CertificateDer, TrustAnchor, UnixTime};
use webpki::{EndEntityCert, KeyUsage};
use x509_parser::prelude::FromDer;
use x509_parser::x509::X509Name;

use super::cert::{CertInfo, Facts};
use super::der::{contents, read_tlv};
use super::hostname::name_matches;
use super::name::format_name;

/// Cap on certificates considered per chain: a hostile peer may send hundreds.
const MAX_CHAIN_CERTS: usize = 32;

/// Trust anchors, parsed once.
#[derive(Debug, Clone)]
pub struct TrustStore {
    anchors: Vec<TrustAnchor<'static>>,
    /// Anchors by their Name contents: each SubjectPublicKeyInfo under that
    /// name with the anchor's index. One probe finds an anchor, drops a
    /// duplicate, or tells "issuer unknown" from "issuer known, path broken"
    /// (the linear scans were most of a small scan under the fuzzer).
    by_subject: HashMap<Vec<u8>, Vec<(Vec<u8>, usize)>>,
    /// The first `public` anchors are Mozilla's (`webpki-roots`); the rest
    /// came only from `--trust-store`.
    public: usize,
}

/// What a chain was judged to be at one time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChainVerdict {
    /// The chain leads to a trust anchor, every certificate on the path is
    /// valid at the time, signatures and keys are strong enough.
    pub trusted: bool,
    /// `None` when trusted; else one of "unknown_issuer", "expired",
    /// "not_yet_valid", "bad_signature", "self_signed", "weak_key",
    /// "weak_signature", "not_a_ca", "empty_chain", "unparsable",
    /// "name_mismatch" (from [`TrustStore::verify_for_name`] only), "other".
    /// When several apply, the first of: self_signed (leaf, not an anchor),
    /// unknown_issuer, weak_signature, weak_key, expired, not_yet_valid, then
    /// the path builder's own error. The time flags below are set regardless.
    pub reason: Option<&'static str>,
    /// Subject (RFC 4514) of the trust anchor the chain reached, when a path was found.
    pub root_subject: Option<String>,
    /// That anchor is one of Mozilla's roots, not one given only with
    /// `--trust-store` (a corporate or inspection root).
    pub root_public: bool,
    /// The sent certificates are not in issuer order (RFC 8446 §4.4.2 allows
    /// it from TLS 1.3 on; RFC 5246 §7.4.2 required it).
    pub unordered: bool,
    /// An intermediate is missing: the sent chain stops short of the store
    /// and of a self-issued root, and either the leaf came alone or the
    /// missing issuer is an intermediate another connection sent (or that
    /// closed the path). A sent intermediate whose issuer nobody sent is
    /// taken to be under a root the store lacks, not missing one.
    pub missing_intermediate: bool,
    /// A certificate on the sent path had expired at the time.
    pub expired: bool,
    /// A certificate on the sent path was not yet valid at the time.
    pub not_yet_valid: bool,
    /// Set by [`TrustStore::verify_for_name`]: the leaf does not cover the name.
    pub name_mismatch: bool,
    /// Issuer (RFC 4514) of the last certificate of the sent path: the root
    /// the chain claims, trusted or not (an interceptor's CA name shows here).
    pub top_issuer: Option<String>,
    /// The path builder's own error, for humans (`rustls-webpki` Debug text).
    pub detail: Option<String>,
}

impl ChainVerdict {
    fn failed(reason: &'static str) -> ChainVerdict {
        ChainVerdict {
            reason: Some(reason),
            ..ChainVerdict::default()
        }
    }
}

/// RFC 4514 text of a Name given by its contents (as `TrustAnchor` stores it).
fn name_text_from_contents(contents: &[u8]) -> String {
    let mut der = vec![0x30];
    let len = contents.len();
    if len < 0x80 {
        der.push(u8::try_from(len).unwrap_or(0));
    } else {
        let be = len.to_be_bytes();
        let skip = be.iter().take_while(|&&b| b == 0).count();
        let len_bytes = be.get(skip..).unwrap_or(&[]);
        der.push(0x80 | u8::try_from(len_bytes.len()).unwrap_or(0));
        der.extend_from_slice(len_bytes);
    }
    der.extend_from_slice(contents);
    match X509Name::from_der(&der) {
        Ok((_, name)) => format_name(&name),
        Err(_) => String::from("<unparsable name>"),
    }
}

/// The DER certificates in a PEM text (labels CERTIFICATE, X509 CERTIFICATE,
/// TRUSTED CERTIFICATE); raw DER input is taken as one certificate.
fn certificates_in(source: &str, bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    if contents(bytes).is_some() {
        return Ok(vec![bytes.to_vec()]);
    }
    let mut out = Vec::new();
    for (i, pem) in x509_parser::pem::Pem::iter_from_buffer(bytes).enumerate() {
        let pem = pem.map_err(|e| format!("{source}: PEM block {}: {e}", i + 1))?;
        match pem.label.as_str() {
            "CERTIFICATE" | "X509 CERTIFICATE" => out.push(pem.contents),
            // OpenSSL's trusted form: the certificate, then its trust settings.
            "TRUSTED CERTIFICATE" => {
                let len = read_tlv(&pem.contents).map_or(pem.contents.len(), |t| {
                    pem.contents.len().saturating_sub(t.rest.len())
                });
                out.push(pem.contents.get(..len).unwrap_or_default().to_vec());
            }
            _ => {}
        }
    }
    if out.is_empty() {
        return Err(format!("{source}: no certificate found"));
    }
    Ok(out)
}

impl TrustStore {
    /// Builds the store. `default_roots` adds Mozilla's set (`webpki-roots`);
    /// `extra` holds (name, PEM bytes) pairs, each with one or more
    /// certificates. An entry without a certificate, or with one that cannot
    /// be an anchor, is an error naming the entry.
    pub fn new(default_roots: bool, extra: &[(String, Vec<u8>)]) -> Result<TrustStore, String> {
        let mut store = TrustStore::roots(default_roots);
        for (source, bytes) in extra {
            for (i, der) in certificates_in(source, bytes)?.into_iter().enumerate() {
                let cert = CertificateDer::from(der);
                let anchor = webpki::anchor_from_trusted_cert(&cert)
                    .map_err(|e| {
                        format!(
                            "{source}: certificate {}: not usable as a trust anchor: {e}",
                            i + 1
                        )
                    })?
                    .to_owned();
                store.push(anchor);
            }
        }
        Ok(store)
    }

    /// Mozilla's set alone, built on first use and shared: a program that
    /// scans thousands of files (a pipeline, the fuzzer) builds it once.
    pub fn mozilla() -> &'static TrustStore {
        static MOZILLA: OnceLock<TrustStore> = OnceLock::new();
        MOZILLA.get_or_init(|| TrustStore::roots(true))
    }

    /// Mozilla's set, or nothing.
    fn roots(default_roots: bool) -> TrustStore {
        let mut store = TrustStore {
            anchors: Vec::new(),
            by_subject: HashMap::new(),
            public: 0,
        };
        if default_roots {
            for anchor in webpki_roots::TLS_SERVER_ROOTS {
                store.push(anchor.clone());
            }
            store.public = store.anchors.len();
        }
        store
    }

    fn push(&mut self, anchor: TrustAnchor<'static>) {
        if self
            .anchor_index(&anchor.subject, &anchor.subject_public_key_info)
            .is_some()
        {
            return;
        }
        self.by_subject
            .entry(anchor.subject.to_vec())
            .or_default()
            .push((anchor.subject_public_key_info.to_vec(), self.anchors.len()));
        self.anchors.push(anchor);
    }

    /// Number of distinct trust anchors.
    pub fn len(&self) -> usize {
        self.anchors.len()
    }

    /// No trust anchor at all: every chain will be "unknown_issuer".
    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }

    /// Whether this DER certificate is itself a trust anchor (same subject and key).
    pub fn is_anchor(&self, der: &[u8]) -> bool {
        Facts::parse(der).is_some_and(|f| self.anchor_index(f.subject, f.spki).is_some())
    }

    fn anchor_index(&self, subject: &[u8], spki: &[u8]) -> Option<usize> {
        self.by_subject
            .get(subject)?
            .iter()
            .find(|(key, _)| key.as_slice() == spki)
            .map(|&(_, i)| i)
    }

    /// Judges a chain as the server sent it (leaf first, the rest in any
    /// order, possibly incomplete) at `at_us` µs since the epoch: the time of
    /// the connection, not now.
    pub fn verify(&self, chain: &[&[u8]], at_us: i64) -> ChainVerdict {
        self.verify_with(chain, &[], at_us)
    }

    /// As [`TrustStore::verify`], and also lets the path use `known_intermediates`
    /// (e.g. seen in other flows of the capture), as browsers do with cached
    /// intermediates. A chain that needs them is trusted and flagged
    /// `missing_intermediate`.
    pub fn verify_with(
        &self,
        chain: &[&[u8]],
        known_intermediates: &[&[u8]],
        at_us: i64,
    ) -> ChainVerdict {
        let Some((&leaf_der, _)) = chain.split_first() else {
            return ChainVerdict::failed("empty_chain");
        };
        let sent: Vec<Option<Facts<'_>>> = chain
            .iter()
            .take(MAX_CHAIN_CERTS)
            .map(|d| Facts::parse(d))
            .collect();
        let Some(leaf) = sent.first().and_then(Option::as_ref) else {
            return ChainVerdict::failed("unparsable");
        };
        let at_s = at_us.div_euclid(1_000_000);
        let pool: Vec<Option<Facts<'_>>> = known_intermediates
            .iter()
            .take(MAX_CHAIN_CERTS)
            .map(|d| Facts::parse(d))
            .collect();

        let mut verdict = ChainVerdict::default();
        // The path the sent certificates form by issuer links, from the leaf.
        let path = sent_path(&sent);
        verdict.unordered = path.iter().enumerate().any(|(pos, &i)| pos != i);
        let path_facts: Vec<&Facts<'_>> = path
            .iter()
            .filter_map(|&i| sent.get(i).and_then(Option::as_ref))
            .collect();
        let top = path_facts.last().copied().unwrap_or(leaf);
        verdict.top_issuer = Some(top.issuer_text.clone());
        let top_self_issued = top.subject == top.issuer;
        // The sent path reaches the store: one of its certificates is an
        // anchor, or is issued by a name the store holds.
        let reaches_store = path_facts.iter().any(|f| {
            self.anchor_index(f.subject, f.spki).is_some() || self.by_subject.contains_key(f.issuer)
        });
        let issuer_in_pool = pool.iter().flatten().any(|p| p.subject == top.issuer);
        // Something is missing when the chain stops short of the store and of
        // a self-issued root. It is an intermediate when the leaf came alone,
        // or when another connection sent the top's issuer as an
        // intermediate; a CA certificate whose issuer nobody sent is, far
        // more often, under a root the store lacks (a private PKI), as
        // servers rightly leave their root out.
        let top_is_leaf = path_facts.len() <= 1;
        let issuer_is_intermediate = pool
            .iter()
            .flatten()
            .any(|p| p.subject == top.issuer && p.subject != p.issuer);
        verdict.missing_intermediate =
            !top_self_issued && !reaches_store && (top_is_leaf || issuer_is_intermediate);
        verdict.expired = path_facts.iter().any(|f| f.not_after < at_s);
        verdict.not_yet_valid = path_facts.iter().any(|f| f.not_before > at_s);
        let weak_signature = path_facts
            .iter()
            .any(|f| f.weak_signature && !f.self_signed);
        let weak_key = path_facts.iter().any(|f| f.weak_key);

        // Path building and signatures: rustls-webpki.
        let leaf_cert = CertificateDer::from(leaf_der);
        let intermediates: Vec<CertificateDer<'_>> = chain
            .iter()
            .skip(1)
            .take(MAX_CHAIN_CERTS)
            .chain(known_intermediates.iter().take(MAX_CHAIN_CERTS))
            .map(|d| CertificateDer::from(*d))
            .collect();
        let time =
            UnixTime::since_unix_epoch(Duration::from_secs(u64::try_from(at_s).unwrap_or(0)));
        let webpki_result = EndEntityCert::try_from(&leaf_cert).and_then(|ee| {
            ee.verify_for_usage(
                webpki::ALL_VERIFICATION_ALGS,
                &self.anchors,
                &intermediates,
                time,
                KeyUsage::server_auth(),
                None,
                None,
            )
            .map(|path| {
                let anchor = path.anchor();
                // Named only here, for the chains that reach an anchor.
                let root = self
                    .anchor_index(&anchor.subject, &anchor.subject_public_key_info)
                    .map(|i| (name_text_from_contents(&anchor.subject), i < self.public));
                let used_pool = path
                    .intermediate_certificates()
                    .any(|c| !chain.iter().skip(1).any(|s| *s == c.der().as_ref()));
                let path_weak_key = path
                    .intermediate_certificates()
                    .any(|c| Facts::parse(c.der().as_ref()).is_some_and(|f| f.weak_key));
                (root, used_pool, path_weak_key)
            })
        });

        match webpki_result {
            Ok((root, used_pool, path_weak_key)) => {
                verdict.root_public = root.as_ref().is_some_and(|r| r.1);
                verdict.root_subject = root.map(|r| r.0);
                verdict.missing_intermediate = used_pool;
                verdict.expired = false;
                verdict.not_yet_valid = false;
                // webpki checks the keys that sign, not the leaf's own key.
                if leaf.weak_key || path_weak_key {
                    verdict.reason = Some("weak_key");
                } else {
                    verdict.trusted = true;
                }
            }
            Err(err) => {
                verdict.detail = Some(format!("{err:?}"));
                let leaf_in_store = self.anchor_index(leaf.subject, leaf.spki).is_some();
                let structurally_unknown = !reaches_store && (top_self_issued || !issuer_in_pool);
                verdict.reason = Some(if leaf.self_signed && !leaf_in_store {
                    "self_signed"
                } else if structurally_unknown || matches!(err, webpki::Error::UnknownIssuer) {
                    "unknown_issuer"
                } else if weak_signature {
                    "weak_signature"
                } else if weak_key {
                    "weak_key"
                } else if verdict.expired {
                    "expired"
                } else if verdict.not_yet_valid {
                    "not_yet_valid"
                } else {
                    map_error(&err)
                });
            }
        }
        verdict
    }

    /// As [`TrustStore::verify`], then checks that the leaf covers `name`
    /// ([`name_matches`]). A chain otherwise trusted becomes untrusted with
    /// reason "name_mismatch"; an untrusted one keeps its reason and gets
    /// `name_mismatch` set.
    pub fn verify_for_name(&self, chain: &[&[u8]], at_us: i64, name: &str) -> ChainVerdict {
        let mut verdict = self.verify(chain, at_us);
        if let Some(&leaf) = chain.first() {
            let info = CertInfo::parse(leaf);
            if info.parse_error.is_none() && !name_matches(&info, name) {
                verdict.name_mismatch = true;
                if verdict.trusted {
                    verdict.trusted = false;
                    verdict.reason = Some("name_mismatch");
                }
            }
        }
        verdict
    }
}

/// Indices into `sent` of the path from the leaf (index 0) following issuer
/// names (and key identifiers where both sides have them), each certificate
/// used once, stopping at a self-issued certificate.
fn sent_path(sent: &[Option<Facts<'_>>]) -> Vec<usize> {
    let mut path = vec![0usize];
    let mut current = match sent.first().and_then(Option::as_ref) {
        Some(f) => f,
        None => return path,
    };
    while current.subject != current.issuer {
        let next = sent.iter().enumerate().find(|(i, f)| {
            !path.contains(i)
                && f.as_ref().is_some_and(|f| {
                    f.subject == current.issuer
                        && match (current.aki, f.ski) {
                            (Some(a), Some(s)) => a == s,
                            _ => true,
                        }
                })
        });
        match next {
            Some((i, Some(f))) => {
                path.push(i);
                current = f;
            }
            _ => break,
        }
    }
    path
}

/// Reason code for a `rustls-webpki` error.
#[allow(deprecated)] // the unit variants may still come from older paths
fn map_error(err: &webpki::Error) -> &'static str {
    use webpki::Error as E;
    match err {
        E::UnknownIssuer => "unknown_issuer",
        E::CertExpired { .. } => "expired",
        E::CertNotValidYet { .. } => "not_yet_valid",
        E::InvalidSignatureForPublicKey | E::SignatureAlgorithmMismatch => "bad_signature",
        E::UnsupportedSignatureAlgorithm
        | E::UnsupportedSignatureAlgorithmContext(_)
        | E::UnsupportedSignatureAlgorithmForPublicKey
        | E::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => "weak_signature",
        E::EndEntityUsedAsCa | E::PathLenConstraintViolated => "not_a_ca",
        E::BadDer | E::BadDerTime | E::TrailingData(_) => "unparsable",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::x509::fixtures::{self, pem_certs, us};

    fn corpus_store() -> TrustStore {
        TrustStore::new(
            false,
            &[(
                "trust-anchors.pem".to_owned(),
                fixtures::TRUST_ANCHORS.as_bytes().to_vec(),
            )],
        )
        .unwrap()
    }

    fn refs(ders: &[Vec<u8>]) -> Vec<&[u8]> {
        ders.iter().map(Vec::as_slice).collect()
    }

    const S01_AT: i64 = 1_795_871_663_957_046;

    #[test]
    fn corpus_chain_trusted_with_its_root_only() {
        let chain = pem_certs(fixtures::S01_WWW_BANK_CHAIN);
        let store = corpus_store();
        assert_eq!(store.len(), 1);
        let v = store.verify(&refs(&chain), S01_AT);
        assert!(v.trusted, "{v:?}");
        assert_eq!(v.reason, None);
        assert_eq!(
            v.root_subject.as_deref(),
            Some("CN=Example Public Root CA R1,O=Example Trust Services,C=US")
        );
        // Trusted through --trust-store only: not a public root.
        assert!(!v.root_public);
        assert!(!v.unordered && !v.missing_intermediate && !v.expired);

        let mozilla = TrustStore::mozilla();
        assert!(mozilla.len() > 100);
        let v = mozilla.verify(&refs(&chain), S01_AT);
        assert!(!v.trusted);
        assert_eq!(v.reason, Some("unknown_issuer"));
        assert_eq!(
            v.top_issuer.as_deref(),
            Some("CN=Example Public Root CA R1,O=Example Trust Services,C=US")
        );
        // Leaf and intermediate sent, root unknown: a root the store lacks,
        // not a missing intermediate; the leaf alone is missing one.
        assert!(!v.missing_intermediate);
        assert!(
            mozilla
                .verify(&refs(&chain[..1]), S01_AT)
                .missing_intermediate
        );

        let empty = TrustStore::new(false, &[]).unwrap();
        assert!(empty.is_empty());
        assert_eq!(
            empty.verify(&refs(&chain), S01_AT).reason,
            Some("unknown_issuer")
        );
    }

    #[test]
    fn validation_time_inside_and_outside_validity() {
        let chain = pem_certs(fixtures::S01_WWW_BANK_CHAIN);
        let store = corpus_store();
        // Leaf: Sep 29 13:14:19 2026 .. Sep 24 13:14:19 2027 GMT.
        assert!(store.verify(&refs(&chain), us(1_790_687_659)).trusted);
        let before = store.verify(&refs(&chain), us(1_790_687_658));
        assert_eq!(before.reason, Some("not_yet_valid"));
        assert!(before.not_yet_valid && !before.expired);
        let after = store.verify(&refs(&chain), us(1_821_791_660));
        assert_eq!(after.reason, Some("expired"));
        assert!(after.expired && !after.not_yet_valid);
        // Before 1970: clamped, never a panic.
        assert_eq!(
            store.verify(&refs(&chain), i64::MIN).reason,
            Some("not_yet_valid")
        );
        assert_eq!(
            store.verify(&refs(&chain), i64::MAX).reason,
            Some("expired")
        );
    }

    #[test]
    fn expired_leaf_as_served_in_the_corpus() {
        let chain = pem_certs(fixtures::S01_LEGACY_EXPIRED_CHAIN);
        let v = corpus_store().verify(&refs(&chain), 1_795_871_676_449_117);
        assert!(!v.trusted);
        assert_eq!(v.reason, Some("expired"));
        assert!(v.expired);
        let leaf = CertInfo::parse(&chain[0]);
        assert_eq!(
            leaf.sha256,
            "da4dc6ce6584fb882a5bf938fed625cc2351cf2bdc8c2633711e2b16870d0af3"
        );
        // The same chain was fine a month before its notAfter (Oct 29 2026).
        let earlier = corpus_store().verify(&refs(&chain), us(1_790_000_000));
        assert!(earlier.trusted, "{earlier:?}");
    }

    #[test]
    fn reversed_order_and_missing_intermediate() {
        let chain = pem_certs(fixtures::S01_WWW_BANK_CHAIN);
        let root = pem_certs(fixtures::TRUST_ANCHORS);
        let store = corpus_store();
        // Leaf first, then root and intermediate in reverse.
        let reversed = [chain[0].as_slice(), root[0].as_slice(), chain[1].as_slice()];
        let v = store.verify(&reversed, S01_AT);
        assert!(v.trusted, "{v:?}");
        assert!(v.unordered);
        let in_order = [chain[0].as_slice(), chain[1].as_slice(), root[0].as_slice()];
        assert!(!store.verify(&in_order, S01_AT).unordered);

        let leaf_only = [chain[0].as_slice()];
        let v = store.verify(&leaf_only, S01_AT);
        assert!(!v.trusted);
        assert_eq!(v.reason, Some("unknown_issuer"));
        assert!(v.missing_intermediate && !v.unordered);
        assert_eq!(
            v.top_issuer.as_deref(),
            Some("CN=Example TLS Issuing CA R3,O=Example Trust Services,C=US")
        );
        // With the intermediate known from another flow.
        let v = store.verify_with(&leaf_only, &[chain[1].as_slice()], S01_AT);
        assert!(v.trusted, "{v:?}");
        assert!(v.missing_intermediate);
    }

    #[test]
    fn dual_rsa_and_ecdsa_and_wildcard_leaves_chain() {
        let store = corpus_store();
        let issuing = pem_certs(fixtures::ISSUING_CA);
        for pem in [
            fixtures::API_SHOP_RSA,
            fixtures::API_SHOP_ECDSA,
            fixtures::MEDIA_WILDCARD,
            fixtures::MAIL_CORP,
            fixtures::STATUS_RENEWED,
            fixtures::WWW_SHOP_LB_A,
            fixtures::WWW_SHOP_LB_B,
        ] {
            let leaf = pem_certs(pem);
            let v = store.verify(&[leaf[0].as_slice(), issuing[0].as_slice()], S01_AT);
            assert!(v.trusted, "{pem}: {v:?}");
        }
        let wildcard = pem_certs(fixtures::MEDIA_WILDCARD);
        let chain = [wildcard[0].as_slice(), issuing[0].as_slice()];
        assert!(
            store
                .verify_for_name(&chain, S01_AT, "cdn.media.test")
                .trusted
        );
        let v = store.verify_for_name(&chain, S01_AT, "www.example-bank.test");
        assert_eq!(v.reason, Some("name_mismatch"));
        assert!(v.name_mismatch && !v.trusted);
    }

    #[test]
    fn self_signed_leaves() {
        let store = corpus_store();
        for pem in [fixtures::LOCALHOST_SELF, fixtures::PRINTER_SELF] {
            let leaf = pem_certs(pem);
            let v = store.verify(&[leaf[0].as_slice()], S01_AT);
            assert_eq!(v.reason, Some("self_signed"), "{v:?}");
            assert!(!v.missing_intermediate);
        }
        // Pinned by the user: the printer's own certificate as an anchor.
        let printer = fixtures::PRINTER_SELF.as_bytes().to_vec();
        let pinned = TrustStore::new(false, &[("printer.pem".to_owned(), printer)]).unwrap();
        let leaf = pem_certs(fixtures::PRINTER_SELF);
        assert!(pinned.is_anchor(&leaf[0]));
        let v = pinned.verify(&[leaf[0].as_slice()], S01_AT);
        assert!(v.trusted, "{v:?}");
    }

    #[test]
    fn interceptor_chains() {
        let store = corpus_store();
        // mitmproxy sends its forged leaf alone.
        let forged = pem_certs(fixtures::S02_MITMPROXY_LEAF);
        let at = 1_795_871_693_064_718;
        let v = store.verify(&refs(&forged), at);
        assert_eq!(v.reason, Some("unknown_issuer"));
        assert_eq!(v.top_issuer.as_deref(), Some("O=mitmproxy,CN=mitmproxy"));
        // Trusted once the user adds mitmproxy's CA (an authorised proxy).
        let with_mitm = TrustStore::new(
            false,
            &[
                (
                    "corp.pem".to_owned(),
                    fixtures::TRUST_ANCHORS.as_bytes().to_vec(),
                ),
                (
                    "mitm.pem".to_owned(),
                    fixtures::MITMPROXY_CA.as_bytes().to_vec(),
                ),
            ],
        )
        .unwrap();
        assert_eq!(with_mitm.len(), 2);
        let v = with_mitm.verify(&refs(&forged), at);
        assert!(v.trusted, "{v:?}");
        assert_eq!(v.root_subject.as_deref(), Some("O=mitmproxy,CN=mitmproxy"));

        // SSLsplit sends its CA along: the CA is self-signed but not trusted.
        let split = pem_certs(fixtures::S03_SSLSPLIT_CHAIN);
        let v = store.verify(&refs(&split), 1_795_871_705_875_852);
        assert_eq!(v.reason, Some("unknown_issuer"));
        assert!(!v.missing_intermediate && !v.unordered);
        assert_eq!(
            v.top_issuer.as_deref(),
            Some("CN=SSLsplit Root CA,O=SSLsplit Root CA")
        );
    }

    #[test]
    fn corrupted_signature_under_a_trusted_issuer_name() {
        // The issuer name is a trusted anchor's, the signature does not verify:
        // what a forgery that copies a CA's name looks like.
        let forged = pem_certs(fixtures::S02_MITMPROXY_LEAF);
        let mut bad = forged[0].clone();
        let last = bad.len() - 1;
        bad[last] ^= 0x01;
        let trusting_mitm = TrustStore::new(
            false,
            &[(
                "mitm.pem".to_owned(),
                fixtures::MITMPROXY_CA.as_bytes().to_vec(),
            )],
        )
        .unwrap();
        let v = trusting_mitm.verify(&[bad.as_slice()], 1_795_871_693_064_718);
        assert_eq!(v.reason, Some("bad_signature"), "{v:?}");
        assert!(!v.missing_intermediate);
    }

    #[test]
    fn public_chains_against_mozilla_roots_at_capture_time() {
        let mozilla = TrustStore::new(true, &[]).unwrap();
        // zeek missing-intermediate.pcap flow 1: full chain, 2014-11-26.
        let starfield = pem_certs(fixtures::ZEEK_STARFIELD_CHAIN);
        let v = mozilla.verify(&refs(&starfield), 1_417_039_705_793_747);
        assert!(v.trusted && v.root_public, "{v:?}");
        assert_eq!(
            v.root_subject.as_deref(),
            Some("CN=Starfield Root Certificate Authority - G2,O=Starfield Technologies\\, Inc.,L=Scottsdale,ST=Arizona,C=US")
        );
        // Years later the leaf has expired.
        let v = mozilla.verify(&refs(&starfield), us(1_700_000_000));
        assert_eq!(v.reason, Some("expired"));

        // Flow 0 of the same capture: leaf only.
        let lonely = pem_certs(fixtures::ZEEK_MISSING_INTERMEDIATE_LEAF);
        let at = 1_417_039_703_220_765;
        let v = mozilla.verify(&refs(&lonely), at);
        assert_eq!(v.reason, Some("unknown_issuer"));
        assert!(v.missing_intermediate);
        // The intermediate seen in flow 1 closes the path.
        let v = mozilla.verify_with(&refs(&lonely), &[starfield[1].as_slice()], at);
        assert!(v.trusted, "{v:?}");
        assert!(v.missing_intermediate);

        // zeek ecdsa-cert.pcap: P-384 leaf, COMODO ECC root (not sent).
        let ecdsa = pem_certs(fixtures::ZEEK_ECDSA_CERT);
        let v = mozilla.verify(&refs(&ecdsa), 1_416_942_644_428_968);
        assert!(v.trusted, "{v:?}");
        assert!(!v.missing_intermediate);
        assert!(
            mozilla
                .verify_for_name(&refs(&ecdsa), 1_416_942_644_428_968, "www.pantz.org")
                .trusted
        );

        // chrome-34-google.pcap: SHA-1 chain to Equifax, which Mozilla no longer trusts.
        let google = pem_certs(fixtures::ZEEK_CHROME34_GOOGLE);
        let v = mozilla.verify(&refs(&google), 1_398_362_902_697_485);
        assert!(!v.trusted);
        assert_eq!(v.reason, Some("unknown_issuer"));
        // Had Equifax been trusted, SHA-1 would still be refused.
        let v = mozilla.verify(
            &[google[0].as_slice(), google[1].as_slice()],
            1_398_362_902_697_485,
        );
        assert!(!v.trusted);
    }

    #[test]
    fn weak_keys_and_signatures() {
        let root = fixtures::WEAK_ROOT.as_bytes().to_vec();
        let store = TrustStore::new(false, &[("weak-root.pem".to_owned(), root)]).unwrap();
        let at = us(1_893_456_000); // 2030-01-01
                                    // webpki checks signing keys only; the leaf's own RSA-1024 key is ours to refuse.
        let small = pem_certs(fixtures::WEAK_RSA1024_LEAF);
        let v = store.verify(&refs(&small), at);
        assert_eq!(v.reason, Some("weak_key"), "{v:?}");
        assert!(!v.trusted);
        assert!(v.root_subject.is_some());
        let info = CertInfo::parse(&small[0]);
        assert_eq!((info.key_bits, info.has_weak_key()), (Some(1024), true));
        let sha1 = pem_certs(fixtures::WEAK_SHA1_LEAF);
        let v = store.verify(&refs(&sha1), at);
        assert_eq!(v.reason, Some("weak_signature"), "{v:?}");
        // Public SHA-1 chain, its root made an anchor: still refused for SHA-1.
        let google = pem_certs(fixtures::ZEEK_CHROME34_GOOGLE);
        let geotrust =
            TrustStore::new(false, &[("geotrust.der".to_owned(), google[2].clone())]).unwrap();
        let v = geotrust.verify(&refs(&google), 1_398_362_902_697_485);
        assert_eq!(v.reason, Some("weak_signature"), "{v:?}");
        assert!(!v.missing_intermediate);
    }

    #[test]
    fn empty_unparsable_and_hostile_input() {
        let store = corpus_store();
        assert_eq!(store.verify(&[], S01_AT).reason, Some("empty_chain"));
        assert_eq!(
            store.verify(&[b"junk".as_slice()], S01_AT).reason,
            Some("unparsable")
        );
        let chain = pem_certs(fixtures::S01_WWW_BANK_CHAIN);
        for n in 0..chain[0].len() {
            let v = store.verify(&[&chain[0][..n], chain[1].as_slice()], S01_AT);
            assert!(!v.trusted);
        }
        // Truncated intermediate: the leaf is still judged.
        let v = store.verify(&[chain[0].as_slice(), &chain[1][..100]], S01_AT);
        assert_eq!(v.reason, Some("unknown_issuer"));
        // A long chain of duplicates is capped, not explored.
        let many: Vec<&[u8]> = std::iter::repeat_n(chain[1].as_slice(), 500).collect();
        let mut long = vec![chain[0].as_slice()];
        long.extend(many);
        assert!(store.verify(&long, S01_AT).trusted);
    }

    #[test]
    fn store_errors_name_the_source() {
        let err =
            TrustStore::new(false, &[("empty.pem".to_owned(), b"hello".to_vec())]).unwrap_err();
        assert_eq!(err, "empty.pem: no certificate found");
        let key = b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".to_vec();
        let err = TrustStore::new(false, &[("key.pem".to_owned(), key)]).unwrap_err();
        assert!(err.starts_with("key.pem:"), "{err}");
        let bad = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".to_vec();
        let err = TrustStore::new(false, &[("bad.pem".to_owned(), bad)]).unwrap_err();
        assert!(err.starts_with("bad.pem: certificate 1"), "{err}");
        // Several certificates in one file, duplicates counted once; DER accepted.
        let mut two = fixtures::TRUST_ANCHORS.as_bytes().to_vec();
        two.extend_from_slice(fixtures::SSLSPLIT_CA.as_bytes());
        two.extend_from_slice(fixtures::TRUST_ANCHORS.as_bytes());
        let der = pem_certs(fixtures::MITMPROXY_CA).remove(0);
        let store = TrustStore::new(
            false,
            &[("two.pem".to_owned(), two), ("mitm.der".to_owned(), der)],
        )
        .unwrap();
        assert_eq!(store.len(), 3);
        // OpenSSL's TRUSTED CERTIFICATE form (`x509 -addtrust serverAuth -trustout`).
        let trusted_form = fixtures::TRUSTED_FORM_ROOT.as_bytes().to_vec();
        let store = TrustStore::new(false, &[("t.pem".to_owned(), trusted_form)]).unwrap();
        let chain = pem_certs(fixtures::S01_WWW_BANK_CHAIN);
        assert!(store.verify(&refs(&chain), S01_AT).trusted);
    }
}
