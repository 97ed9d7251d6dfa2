//! Trust anchors and chain verdicts at the time of a flow.
//!
//! Input: the certificates a server sent (leaf first, the rest in any order,
//! possibly incomplete), the flow's timestamp, optionally intermediates seen
//! elsewhere. Output: a [`ChainVerdict`]. Path building and signature checks
//! are `rustls-webpki`'s (RFC 5280 §6 as the Web PKI applies it, server-auth
//! EKU); this file adds what a forensic reader needs: a short reason with a
//! stable code, whether the sent order was wrong or an intermediate missing,
//! and which root (or claimed root) the chain names.
//!
//! A chain is judged as a browser would have at the flow's time: against
//! the roots Mozilla trusted then (`history`, from every certifi release),
//! honouring Mozilla's distrust-after days, and with the signatures browsers
//! still took then (SHA-1 before 2017, 1024-bit RSA before 2014, verified
//! with `ring`'s legacy algorithms). All of Mozilla's past roots are anchors;
//! a path that ends at one not trusted at that time is refused in webpki's
//! path callback, so the search goes on to another path (a cross-sign) and
//! the refusal gives the reason. `--trust-store` roots count at all times.
//!
//! Trust anchors are parsed once in [`TrustStore::new`] (Mozilla's history
//! once per process, in [`TrustStore::mozilla`]); a verdict costs one parse
//! of each sent certificate plus webpki's path search. Revocation is not
//! checked.

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Duration;

use rustls_pki_types::{
    alg_id, AlgorithmIdentifier, CertificateDer, InvalidSignature, SignatureVerificationAlgorithm,
    TrustAnchor, UnixTime,
};
use webpki::{EndEntityCert, KeyUsage};
use x509_parser::prelude::FromDer;
use x509_parser::x509::X509Name;

use super::cert::{CertInfo, Facts, RSA_1024_ACCEPTED_UNTIL, SHA1_ACCEPTED_UNTIL};
use super::der::{contents, read_tlv};
use super::history::History;
use super::hostname::name_matches;
use super::name::format_name;
use super::reason::TrustReason;

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
    /// Per anchor: when Mozilla trusted it; `None` for a root given only
    /// with `--trust-store`.
    mozilla: Vec<Option<Window>>,
    /// Per anchor: given with `--trust-store`, so trusted at every time.
    user: Vec<bool>,
    /// Instants (seconds) at which the verdict of a chain may change for a
    /// reason other than its certificates' validity: Mozilla's store
    /// changed, or a signature rule lapsed. Ascending.
    changes: Vec<i64>,
}

/// When Mozilla trusted one anchor (all certificates with its name and key).
#[derive(Debug, Clone)]
struct Window {
    /// `[from, until)` in seconds, open ends as `i64::MIN` / `i64::MAX`.
    intervals: Vec<(i64, i64)>,
    /// Leaves with a notBefore after this instant do not chain to it.
    distrust_after: Option<i64>,
}

impl Window {
    fn trusted_at(&self, at_s: i64) -> bool {
        self.intervals
            .iter()
            .any(|&(from, until)| from <= at_s && at_s < until)
    }

    /// In the newest snapshot.
    fn current(&self) -> bool {
        self.intervals.iter().any(|&(_, until)| until == i64::MAX)
    }

    fn merge(&mut self, other: Window) {
        self.intervals.extend(other.intervals);
        self.intervals.sort_unstable();
        // A leaf is refused only when every certificate of the anchor refuses it.
        self.distrust_after = match (self.distrust_after, other.distrust_after) {
            (Some(a), Some(b)) => Some(a.max(b)),
            _ => None,
        };
    }
}

/// RSA PKCS#1 v1.5 signatures that browsers once accepted and
/// `rustls-webpki` no longer offers: SHA-1, and 1024-bit keys.
#[derive(Debug)]
struct LegacyRsa {
    signature_alg_id: AlgorithmIdentifier,
    verification: &'static dyn ring::signature::VerificationAlgorithm,
}

impl SignatureVerificationAlgorithm for LegacyRsa {
    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::RSA_ENCRYPTION
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        self.signature_alg_id
    }

    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        ring::signature::UnparsedPublicKey::new(self.verification, public_key)
            .verify(message, signature)
            .map_err(|_| InvalidSignature)
    }
}

/// AlgorithmIdentifier contents of sha1WithRSAEncryption (RFC 3279 §2.2.1:
/// OID 1.2.840.113549.1.1.5, NULL parameters).
const RSA_PKCS1_SHA1: AlgorithmIdentifier = AlgorithmIdentifier::from_slice(&[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05, 0x05, 0x00,
]);

static RSA_1024_SHA1: LegacyRsa = LegacyRsa {
    signature_alg_id: RSA_PKCS1_SHA1,
    verification: &ring::signature::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY,
};
static RSA_1024_SHA256: LegacyRsa = LegacyRsa {
    signature_alg_id: alg_id::RSA_PKCS1_SHA256,
    verification: &ring::signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
};
static RSA_1024_SHA512: LegacyRsa = LegacyRsa {
    signature_alg_id: alg_id::RSA_PKCS1_SHA512,
    verification: &ring::signature::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY,
};
static RSA_2048_SHA1: LegacyRsa = LegacyRsa {
    signature_alg_id: RSA_PKCS1_SHA1,
    verification: &ring::signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
};

/// The signature algorithms browsers accepted at `at_s`. webpki returns the
/// result of the first algorithm whose identifier matches, so the legacy
/// ones, which also take the keys the modern ones do, come first.
fn algorithms_at(at_s: i64) -> &'static [&'static dyn SignatureVerificationAlgorithm] {
    static BEFORE_2014: OnceLock<Vec<&'static dyn SignatureVerificationAlgorithm>> =
        OnceLock::new();
    static BEFORE_2017: OnceLock<Vec<&'static dyn SignatureVerificationAlgorithm>> =
        OnceLock::new();
    let with = |legacy: &[&'static dyn SignatureVerificationAlgorithm]| {
        let mut v = legacy.to_vec();
        v.extend_from_slice(webpki::ALL_VERIFICATION_ALGS);
        v
    };
    if at_s < RSA_1024_ACCEPTED_UNTIL {
        BEFORE_2014.get_or_init(|| with(&[&RSA_1024_SHA1, &RSA_1024_SHA256, &RSA_1024_SHA512]))
    } else if at_s < SHA1_ACCEPTED_UNTIL {
        BEFORE_2017.get_or_init(|| with(&[&RSA_2048_SHA1]))
    } else {
        webpki::ALL_VERIFICATION_ALGS
    }
}

/// What a chain was judged to be at one time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChainVerdict {
    /// The chain leads to a trust anchor, every certificate on the path is
    /// valid at the time, signatures and keys are strong enough.
    pub trusted: bool,
    /// `None` when trusted; else why not ([`TrustReason`] says each in a
    /// line; `name_mismatch` comes from [`TrustStore::verify_for_name`] only,
    /// `incomplete_chain` when the leaf's AIA caIssuers URL names the missing
    /// intermediate, another connection sent it, or the leaf is CT-logged).
    /// When several apply, the first of: self_signed (leaf, not an anchor),
    /// root_not_trusted_then or issued_after_distrust, unknown_issuer,
    /// weak_signature, weak_key, expired, not_yet_valid, then the path
    /// builder's own error. The time flags below are set regardless.
    pub reason: Option<TrustReason>,
    /// Subject (RFC 4514) of the trust anchor the chain reached, when a path was found.
    pub root_subject: Option<String>,
    /// That anchor is one of Mozilla's roots (at any time of the history),
    /// not one given only with `--trust-store` (a corporate or inspection root).
    pub root_public: bool,
    /// Trusted through a Mozilla root that was trusted at the time but is
    /// not in Mozilla's newest snapshot (and not given with `--trust-store`).
    pub root_removed: bool,
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
    /// The reason code for tables: [`ChainVerdict::reason`] when untrusted;
    /// for a trusted chain, "root_removed_since" when
    /// [`ChainVerdict::root_removed`], else `None`.
    pub fn reason_code(&self) -> Option<TrustReason> {
        match (self.trusted, self.root_removed) {
            (true, true) => Some(TrustReason::RootRemovedSince),
            (true, false) => None,
            (false, _) => self.reason,
        }
    }

    fn failed(reason: TrustReason) -> ChainVerdict {
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
    /// Builds the store. `default_roots` adds Mozilla's roots as they were
    /// over time (each trusted only in its intervals); `extra` holds (name,
    /// PEM bytes) pairs, each with one or more certificates, trusted at every
    /// time. An entry without a certificate, or with one that cannot be an
    /// anchor, is an error naming the entry.
    pub fn new(default_roots: bool, extra: &[(String, Vec<u8>)]) -> Result<TrustStore, String> {
        TrustStore::build(default_roots.then(History::mozilla), extra)
    }

    /// As [`TrustStore::new`], with `history` standing for Mozilla's.
    fn build(history: Option<&History>, extra: &[(String, Vec<u8>)]) -> Result<TrustStore, String> {
        let mut store = TrustStore::roots(history);
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
                store.push(anchor, None, true);
            }
        }
        Ok(store)
    }

    /// Mozilla's set alone, built on first use and shared: a program that
    /// scans thousands of files (a pipeline, the fuzzer) builds it once.
    pub fn mozilla() -> &'static TrustStore {
        static MOZILLA: OnceLock<TrustStore> = OnceLock::new();
        MOZILLA.get_or_init(|| TrustStore::roots(Some(History::mozilla())))
    }

    /// Mozilla's roots over time, or nothing.
    fn roots(history: Option<&History>) -> TrustStore {
        let mut store = TrustStore {
            anchors: Vec::new(),
            by_subject: HashMap::new(),
            mozilla: Vec::new(),
            user: Vec::new(),
            changes: vec![RSA_1024_ACCEPTED_UNTIL, SHA1_ACCEPTED_UNTIL],
        };
        if let Some(history) = history {
            for root in &history.roots {
                let cert = CertificateDer::from(root.der.as_slice());
                // A root webpki cannot take as an anchor cannot anchor a
                // chain here either; the tests count them.
                let Ok(anchor) = webpki::anchor_from_trusted_cert(&cert) else {
                    continue;
                };
                let window = Window {
                    intervals: root.intervals.clone(),
                    distrust_after: root.distrust_after,
                };
                store.push(anchor.to_owned(), Some(window), false);
            }
            store.changes.extend_from_slice(history.change_instants());
        }
        store.changes.sort_unstable();
        store.changes.dedup();
        store
    }

    /// Adds an anchor, or merges what is known of it when its name and key
    /// are already there (a root re-signed, or also given by the user).
    fn push(&mut self, anchor: TrustAnchor<'static>, window: Option<Window>, user: bool) {
        if let Some(i) = self.anchor_index(&anchor.subject, &anchor.subject_public_key_info) {
            if let Some(u) = self.user.get_mut(i) {
                *u |= user;
            }
            if let (Some(slot), Some(w)) = (self.mozilla.get_mut(i), window) {
                match slot {
                    Some(old) => old.merge(w),
                    None => *slot = Some(w),
                }
            }
            return;
        }
        self.by_subject
            .entry(anchor.subject.to_vec())
            .or_default()
            .push((anchor.subject_public_key_info.to_vec(), self.anchors.len()));
        self.anchors.push(anchor);
        self.mozilla.push(window);
        self.user.push(user);
    }

    /// Instants (seconds since the epoch) at which a chain's verdict may
    /// change although none of its certificates starts or ends its
    /// validity: Mozilla's store changed, or a signature rule lapsed.
    pub fn change_instants(&self) -> &[i64] {
        &self.changes
    }

    /// Whether anchor `i` may anchor a chain at `at_s` for a leaf whose
    /// notBefore is `leaf_not_before`; else the reason code.
    fn anchor_allows(&self, i: usize, at_s: i64, leaf_not_before: i64) -> Result<(), TrustReason> {
        if self.user.get(i).copied().unwrap_or(false) {
            return Ok(());
        }
        match self.mozilla.get(i) {
            Some(Some(w)) if !w.trusted_at(at_s) => Err(TrustReason::RootNotTrustedThen),
            Some(Some(w)) if w.distrust_after.is_some_and(|d| leaf_not_before > d) => {
                Err(TrustReason::IssuedAfterDistrust)
            }
            _ => Ok(()),
        }
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
            return ChainVerdict::failed(TrustReason::EmptyChain);
        };
        let sent = parse_each(chain);
        let Some(leaf) = sent.first().and_then(Option::as_ref) else {
            return ChainVerdict::failed(TrustReason::Unparsable);
        };
        let at_s = at_us.div_euclid(1_000_000);
        let pool = parse_each(known_intermediates);
        let mut verdict = ChainVerdict::default();
        let shape = self.shape(&sent, &pool, leaf, at_s, &mut verdict);
        // Paths to a root not trusted at the time are refused while webpki
        // builds them, so that it goes on to other paths; the last refusal
        // names the reason.
        let refused: Cell<Option<TrustReason>> = Cell::new(None);
        match self.webpki_path(leaf_der, chain, known_intermediates, leaf, at_s, &refused) {
            Ok(found) => {
                verdict.root_public = found.root.as_ref().is_some_and(|r| r.1);
                verdict.root_removed = found.root.as_ref().is_some_and(|r| r.2);
                verdict.root_subject = found.root.map(|r| r.0);
                verdict.missing_intermediate = found.used_pool;
                verdict.expired = false;
                verdict.not_yet_valid = false;
                // webpki checks the keys that sign, not the leaf's own key.
                if leaf.weak_key_at(at_s) || found.weak_key {
                    verdict.reason = Some(TrustReason::WeakKey);
                } else {
                    verdict.trusted = true;
                }
            }
            Err(err) => {
                verdict.detail = Some(format!("{err:?}"));
                let why = self.refusal(&err, leaf, &shape, &verdict, refused.get());
                verdict.reason = Some(why);
            }
        }
        verdict
    }

    /// What the sent certificates show before any signature is checked:
    /// their order, the top of their path, whether an intermediate is
    /// missing, validity at `at_s` (all set in `verdict`), and what the
    /// reason for a refusal weighs.
    fn shape(
        &self,
        sent: &[Option<Facts<'_>>],
        pool: &[Option<Facts<'_>>],
        leaf: &Facts<'_>,
        at_s: i64,
        verdict: &mut ChainVerdict,
    ) -> Shape {
        // The path the sent certificates form by issuer links, from the leaf.
        let path = sent_path(sent);
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
        Shape {
            structurally_unknown: !reaches_store
                && (top_self_issued || !pool.iter().flatten().any(|p| p.subject == top.issuer)),
            issuer_is_intermediate,
            weak_signature: path_facts
                .iter()
                .any(|f| f.weak_signature_at(at_s) && !f.self_signed),
            weak_key: path_facts.iter().any(|f| f.weak_key_at(at_s)),
        }
    }

    /// Path building and signatures, by rustls-webpki, at `at_s`: the path
    /// found, or webpki's error. A path to an anchor not trusted at the time
    /// is refused, its reason left in `refused`.
    fn webpki_path(
        &self,
        leaf_der: &[u8],
        chain: &[&[u8]],
        known_intermediates: &[&[u8]],
        leaf: &Facts<'_>,
        at_s: i64,
        refused: &Cell<Option<TrustReason>>,
    ) -> Result<FoundPath, webpki::Error> {
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
        let trusted_then = |path: &webpki::VerifiedPath<'_>| -> Result<(), webpki::Error> {
            let anchor = path.anchor();
            let Some(i) = self.anchor_index(&anchor.subject, &anchor.subject_public_key_info)
            else {
                return Ok(());
            };
            self.anchor_allows(i, at_s, leaf.not_before).map_err(|why| {
                refused.set(Some(why));
                webpki::Error::UnknownIssuer
            })
        };
        let ee = EndEntityCert::try_from(&leaf_cert)?;
        let path = ee.verify_for_usage(
            algorithms_at(at_s),
            &self.anchors,
            &intermediates,
            time,
            KeyUsage::server_auth(),
            None,
            Some(&trusted_then),
        )?;
        let anchor = path.anchor();
        // Named only here, for the chains that reach an anchor.
        let root = self
            .anchor_index(&anchor.subject, &anchor.subject_public_key_info)
            .map(|i| {
                let window = self.mozilla.get(i).and_then(Option::as_ref);
                let user = self.user.get(i).copied().unwrap_or(false);
                (
                    name_text_from_contents(&anchor.subject),
                    window.is_some(),
                    !user && window.is_some_and(|w| !w.current()),
                )
            });
        Ok(FoundPath {
            root,
            used_pool: path
                .intermediate_certificates()
                .any(|c| !chain.iter().skip(1).any(|s| *s == c.der().as_ref())),
            weak_key: path
                .intermediate_certificates()
                .any(|c| Facts::parse(c.der().as_ref()).is_some_and(|f| f.weak_key_at(at_s))),
        })
    }

    /// Why a chain webpki refused with `err` is not trusted: the first
    /// that holds of self-signed, a root not trusted then (`refused`), an
    /// incomplete chain, an unknown issuer, a weak signature or key,
    /// validity, and webpki's own error.
    fn refusal(
        &self,
        err: &webpki::Error,
        leaf: &Facts<'_>,
        shape: &Shape,
        verdict: &ChainVerdict,
        refused: Option<TrustReason>,
    ) -> TrustReason {
        let leaf_in_store = self.anchor_index(leaf.subject, leaf.spki).is_some();
        let unknown = shape.structurally_unknown || matches!(err, webpki::Error::UnknownIssuer);
        if leaf.self_signed && !leaf_in_store {
            TrustReason::SelfSigned
        } else if let Some(why) = refused {
            why
        } else if unknown
            && verdict.missing_intermediate
            && (leaf.public_hint || shape.issuer_is_intermediate)
        {
            // The server left out the intermediate, and the leaf says where
            // a browser fetches it (or carries CT timestamps, so a public CA
            // made it), or another connection sent it: a misconfiguration
            // that clients repair, not an unknown issuer.
            TrustReason::IncompleteChain
        } else if unknown {
            TrustReason::UnknownIssuer
        } else if shape.weak_signature {
            TrustReason::WeakSignature
        } else if shape.weak_key {
            TrustReason::WeakKey
        } else if verdict.expired {
            TrustReason::Expired
        } else if verdict.not_yet_valid {
            TrustReason::NotYetValid
        } else {
            map_error(err)
        }
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
                    verdict.reason = Some(TrustReason::NameMismatch);
                }
            }
        }
        verdict
    }
}

/// What the sent certificates say about a refusal, before webpki speaks.
struct Shape {
    /// The path stops short of the store, at a self-issued certificate or
    /// at an issuer no connection sent.
    structurally_unknown: bool,
    /// Another connection sent the top's issuer, as an intermediate.
    issuer_is_intermediate: bool,
    /// A certificate of the path (not a self-signed one) is signed with a
    /// hash refused at the time.
    weak_signature: bool,
    /// A key of the path is below what was accepted at the time.
    weak_key: bool,
}

/// A path webpki verified.
struct FoundPath {
    /// Its anchor, when it is one of the store's: name, whether Mozilla's,
    /// whether removed from Mozilla's store since (and not a user root).
    root: Option<(String, bool, bool)>,
    /// It took an intermediate another connection sent.
    used_pool: bool,
    /// One of its intermediates has a key below what was accepted then.
    weak_key: bool,
}

/// Each certificate's trust facts (`None` where one does not parse), at
/// most [`MAX_CHAIN_CERTS`].
fn parse_each<'a>(ders: &[&'a [u8]]) -> Vec<Option<Facts<'a>>> {
    ders.iter()
        .take(MAX_CHAIN_CERTS)
        .map(|d| Facts::parse(d))
        .collect()
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
fn map_error(err: &webpki::Error) -> TrustReason {
    use webpki::Error as E;
    match err {
        E::UnknownIssuer => TrustReason::UnknownIssuer,
        E::CertExpired { .. } => TrustReason::Expired,
        E::CertNotValidYet { .. } => TrustReason::NotYetValid,
        E::InvalidSignatureForPublicKey | E::SignatureAlgorithmMismatch => {
            TrustReason::BadSignature
        }
        E::UnsupportedSignatureAlgorithm
        | E::UnsupportedSignatureAlgorithmContext(_)
        | E::UnsupportedSignatureAlgorithmForPublicKey
        | E::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => TrustReason::WeakSignature,
        E::EndEntityUsedAsCa | E::PathLenConstraintViolated => TrustReason::NotACa,
        E::BadDer | E::BadDerTime | E::TrailingData(_) => TrustReason::Unparsable,
        _ => TrustReason::Other,
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
        assert_eq!(v.reason, Some(TrustReason::UnknownIssuer));
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
            Some(TrustReason::UnknownIssuer)
        );
    }

    #[test]
    fn validation_time_inside_and_outside_validity() {
        let chain = pem_certs(fixtures::S01_WWW_BANK_CHAIN);
        let store = corpus_store();
        // Leaf: Sep 29 13:14:19 2026 .. Sep 24 13:14:19 2027 GMT.
        assert!(store.verify(&refs(&chain), us(1_790_687_659)).trusted);
        let before = store.verify(&refs(&chain), us(1_790_687_658));
        assert_eq!(before.reason, Some(TrustReason::NotYetValid));
        assert!(before.not_yet_valid && !before.expired);
        let after = store.verify(&refs(&chain), us(1_821_791_660));
        assert_eq!(after.reason, Some(TrustReason::Expired));
        assert!(after.expired && !after.not_yet_valid);
        // Before 1970: clamped, never a panic.
        assert_eq!(
            store.verify(&refs(&chain), i64::MIN).reason,
            Some(TrustReason::NotYetValid)
        );
        assert_eq!(
            store.verify(&refs(&chain), i64::MAX).reason,
            Some(TrustReason::Expired)
        );
    }

    #[test]
    fn expired_leaf_as_served_in_the_corpus() {
        let chain = pem_certs(fixtures::S01_LEGACY_EXPIRED_CHAIN);
        let v = corpus_store().verify(&refs(&chain), 1_795_871_676_449_117);
        assert!(!v.trusted);
        assert_eq!(v.reason, Some(TrustReason::Expired));
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
        assert_eq!(v.reason, Some(TrustReason::UnknownIssuer));
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
        assert_eq!(v.reason, Some(TrustReason::NameMismatch));
        assert!(v.name_mismatch && !v.trusted);
    }

    #[test]
    fn self_signed_leaves() {
        let store = corpus_store();
        for pem in [fixtures::LOCALHOST_SELF, fixtures::PRINTER_SELF] {
            let leaf = pem_certs(pem);
            let v = store.verify(&[leaf[0].as_slice()], S01_AT);
            assert_eq!(v.reason, Some(TrustReason::SelfSigned), "{v:?}");
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
        assert_eq!(v.reason, Some(TrustReason::UnknownIssuer));
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
        assert_eq!(v.reason, Some(TrustReason::UnknownIssuer));
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
        assert_eq!(v.reason, Some(TrustReason::BadSignature), "{v:?}");
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
        assert_eq!(v.reason, Some(TrustReason::Expired));

        // Flow 0 of the same capture: leaf only.
        let lonely = pem_certs(fixtures::ZEEK_MISSING_INTERMEDIATE_LEAF);
        let at = 1_417_039_703_220_765;
        let v = mozilla.verify(&refs(&lonely), at);
        // The leaf names its issuer's URL (AIA caIssuers): a browser fetches
        // the intermediate, so the chain is incomplete, not of an unknown CA.
        assert_eq!(v.reason, Some(TrustReason::IncompleteChain));
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

        assert!(!v.root_removed && v.reason_code().is_none());

        // chrome-34-google.pcap (2014-04-24): a SHA-1 chain through GeoTrust
        // Global CA (also sent cross-signed by Equifax), trusted by Mozilla
        // then and removed since: trusted, flagged root_removed_since.
        let google = pem_certs(fixtures::ZEEK_CHROME34_GOOGLE);
        let at = 1_398_362_902_697_485;
        let v = mozilla.verify(&refs(&google), at);
        assert!(v.trusted && v.root_public && v.root_removed, "{v:?}");
        assert_eq!(v.reason, None);
        assert_eq!(v.reason_code(), Some(TrustReason::RootRemovedSince));
        assert_eq!(
            v.root_subject.as_deref(),
            Some("CN=GeoTrust Global CA,O=GeoTrust Inc.,C=US")
        );
        // Without the cross-signed root too.
        let v = mozilla.verify(&[google[0].as_slice(), google[1].as_slice()], at);
        assert!(v.trusted, "{v:?}");
        // Judged today (--roots-at now): not trusted.
        let v = mozilla.verify(&refs(&google), us(1_796_601_600));
        assert!(!v.trusted);
        assert_eq!(v.reason, Some(TrustReason::WeakSignature));
        // The leaf alive, but Mozilla's store of 2021 (GeoTrust removed
        // 2020-12-05) and SHA-1 refused: judged with a user root instead,
        // only the signature stands in the way.
        let geotrust = TrustStore::new(false, &[("g.der".to_owned(), google[2].clone())]).unwrap();
        assert!(geotrust.verify(&refs(&google), at).trusted);
    }

    #[test]
    fn weak_keys_and_signatures() {
        let root = fixtures::WEAK_ROOT.as_bytes().to_vec();
        let store = TrustStore::new(false, &[("weak-root.pem".to_owned(), root)]).unwrap();
        let at = us(1_893_456_000); // 2030-01-01
                                    // webpki checks signing keys only; the leaf's own RSA-1024 key is ours to refuse.
        let small = pem_certs(fixtures::WEAK_RSA1024_LEAF);
        let v = store.verify(&refs(&small), at);
        assert_eq!(v.reason, Some(TrustReason::WeakKey), "{v:?}");
        assert!(!v.trusted);
        assert!(v.root_subject.is_some());
        let info = CertInfo::parse(&small[0]);
        assert_eq!((info.key_bits, info.has_weak_key()), (Some(1024), true));
        let sha1 = pem_certs(fixtures::WEAK_SHA1_LEAF);
        let v = store.verify(&refs(&sha1), at);
        assert_eq!(v.reason, Some(TrustReason::WeakSignature), "{v:?}");
        // Public SHA-1 chain, its root made an anchor: accepted in 2014,
        // refused for SHA-1 from 2017 on (the leaf has expired by then too,
        // and the signature comes first).
        let google = pem_certs(fixtures::ZEEK_CHROME34_GOOGLE);
        let geotrust =
            TrustStore::new(false, &[("geotrust.der".to_owned(), google[2].clone())]).unwrap();
        let v = geotrust.verify(&refs(&google), 1_398_362_902_697_485);
        assert!(v.trusted && !v.missing_intermediate, "{v:?}");
        let v = geotrust.verify(&refs(&google), us(1_483_228_800));
        assert_eq!(v.reason, Some(TrustReason::WeakSignature), "{v:?}");
    }

    #[test]
    fn empty_unparsable_and_hostile_input() {
        let store = corpus_store();
        assert_eq!(
            store.verify(&[], S01_AT).reason,
            Some(TrustReason::EmptyChain)
        );
        assert_eq!(
            store.verify(&[b"junk".as_slice()], S01_AT).reason,
            Some(TrustReason::Unparsable)
        );
        let chain = pem_certs(fixtures::S01_WWW_BANK_CHAIN);
        for n in 0..chain[0].len() {
            let v = store.verify(&[&chain[0][..n], chain[1].as_slice()], S01_AT);
            assert!(!v.trusted);
        }
        // Truncated intermediate: the leaf is still judged.
        let v = store.verify(&[chain[0].as_slice(), &chain[1][..100]], S01_AT);
        assert_eq!(v.reason, Some(TrustReason::UnknownIssuer));
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

    /// Midnight UTC of a day, in µs.
    fn day(text: &str) -> i64 {
        us(crate::x509::history::parse_day(text).unwrap())
    }

    /// A history in which the history-test root was added on 2012-01-01
    /// (the snapshot before says 2011-01-01), removed on 2019-01-01, and
    /// distrusted for leaves issued after 2016-10-21.
    fn history_store(extra: &[(String, Vec<u8>)]) -> TrustStore {
        let root = pem_certs(fixtures::HISTORY_ROOT).remove(0);
        let tsv = format!(
            "# snapshots: 2011-01-01 2012-01-01 2019-01-01\n\
             ab\t2012-01-01\t2019-01-01\t2016-10-21\tCN=x\t{}\n",
            super::super::der::base64(&root)
        );
        let history = History::parse(&tsv).unwrap();
        TrustStore::build(Some(&history), extra).unwrap()
    }

    #[test]
    fn sha1_and_rsa1024_accepted_while_browsers_did() {
        let root = fixtures::HISTORY_ROOT.as_bytes().to_vec();
        let store = TrustStore::new(false, &[("root.pem".to_owned(), root)]).unwrap();
        let sha1 = pem_certs(fixtures::HISTORY_SHA1_LEAF);
        for at in ["2013-06-01", "2016-12-31"] {
            assert!(store.verify(&refs(&sha1), day(at)).trusted, "{at}");
        }
        let v = store.verify(&refs(&sha1), day("2017-01-01"));
        assert_eq!(v.reason, Some(TrustReason::WeakSignature), "{v:?}");
        assert_eq!(
            store.verify(&refs(&sha1), day("2020-01-01")).reason,
            Some(TrustReason::WeakSignature)
        );

        // A 1024-bit leaf key, and a 1024-bit intermediate signing with SHA-1.
        let small = pem_certs(fixtures::HISTORY_RSA1024_LEAF);
        let under = pem_certs(fixtures::HISTORY_RSA1024_CA_CHAIN);
        for chain in [&small, &under] {
            let v = store.verify(&refs(chain), day("2013-12-31"));
            assert!(v.trusted, "{v:?}");
            let v = store.verify(&refs(chain), day("2014-01-01"));
            assert_eq!(v.reason, Some(TrustReason::WeakKey), "{v:?}");
        }
    }

    #[test]
    fn mozilla_roots_count_only_while_mozilla_trusted_them() {
        let store = history_store(&[]);
        let sha1 = pem_certs(fixtures::HISTORY_SHA1_LEAF);
        // Before the last snapshot without the root: not yet trusted.
        let v = store.verify(&refs(&sha1), day("2010-09-01"));
        assert!(!v.trusted);
        assert_eq!(v.reason, Some(TrustReason::RootNotTrustedThen));
        assert_eq!(v.reason_code(), Some(TrustReason::RootNotTrustedThen));
        // Between that snapshot and the first with it: given the benefit.
        let v = store.verify(&refs(&sha1), day("2011-06-01"));
        assert!(v.trusted && v.root_public && v.root_removed, "{v:?}");
        assert_eq!(v.reason_code(), Some(TrustReason::RootRemovedSince));
        assert_eq!(
            v.root_subject.as_deref(),
            Some("CN=certsift history-test root,O=certsift test")
        );
        // A leaf issued after the distrust-after day, while the root is in.
        let late = pem_certs(fixtures::HISTORY_LATE_LEAF);
        let v = store.verify(&refs(&late), day("2017-06-01"));
        assert_eq!(v.reason, Some(TrustReason::IssuedAfterDistrust), "{v:?}");
        // After the removal: no longer trusted.
        let v = store.verify(&refs(&late), day("2019-06-01"));
        assert_eq!(v.reason, Some(TrustReason::RootNotTrustedThen), "{v:?}");
        let v = store.verify(&refs(&sha1), day("2018-06-01"));
        assert_eq!(v.reason, Some(TrustReason::WeakSignature), "{v:?}");

        // The same root given with --trust-store counts at every time.
        let root = fixtures::HISTORY_ROOT.as_bytes().to_vec();
        let store = history_store(&[("root.pem".to_owned(), root)]);
        assert_eq!(store.len(), 1);
        let v = store.verify(&refs(&late), day("2019-06-01"));
        assert!(v.trusted && v.root_public && !v.root_removed, "{v:?}");
        assert_eq!(v.reason_code(), None);
        let instants = store.change_instants();
        for d in ["2011-01-01", "2019-01-01", "2014-01-01", "2017-01-01"] {
            assert!(instants.contains(&(day(d) / 1_000_000)), "{d}");
        }
    }

    #[test]
    fn newest_snapshot_holds_todays_webpki_roots() {
        let store = TrustStore::mozilla();
        let mut missing = Vec::new();
        for anchor in webpki_roots::TLS_SERVER_ROOTS {
            let window = store
                .anchor_index(&anchor.subject, &anchor.subject_public_key_info)
                .and_then(|i| store.mozilla.get(i).cloned().flatten());
            if !window.is_some_and(|w| w.current()) {
                missing.push(name_text_from_contents(&anchor.subject));
            }
        }
        // webpki-roots 1.0.10 still has eMudhra's three emSign roots, which
        // certifi's newest snapshot (2026-10-19) no longer holds: Mozilla
        // changed its store after that webpki-roots release was cut.
        println!("in webpki-roots, not current in the history: {missing:#?}");
        assert!(
            missing.iter().all(|n| n.contains("emSign")) && missing.len() <= 3,
            "{missing:#?}"
        );
        // Every root of the history but a few old ones is a usable anchor.
        let history = History::mozilla();
        let anchors = store.len();
        println!("{} history roots, {anchors} anchors", history.roots.len());
        assert!(anchors + 20 >= history.roots.len(), "{anchors}");
    }

    #[test]
    fn mozilla_distrust_after_days_are_in_the_data() {
        use sha2::{Digest, Sha256};
        let history = History::mozilla();
        let by_sha = |sha: &str| {
            history
                .roots
                .iter()
                .find(|r| hex::encode(Sha256::digest(&r.der)) == sha)
                .unwrap()
        };
        // StartCom Certification Authority: distrusted after 2016-10-21, since removed.
        let startcom = by_sha("c766a9bef2d4071c863a31aa4920e813b2d198608cb7b7cfe21143b836df09ea");
        assert_eq!(
            startcom.distrust_after,
            Some(day("2016-10-22") / 1_000_000 - 1)
        );
        assert!(!startcom.current());
        assert!(startcom.trusted_at(day("2013-01-01") / 1_000_000));
        // Entrust Root Certification Authority - G2: distrusted after 2024-11-30.
        let entrust = by_sha("43df5774b03e7fef5fe40d931a7bedf1bb2e6b42738c4e6d3841103d3aa7f339");
        assert_eq!(
            entrust.distrust_after,
            Some(day("2024-12-01") / 1_000_000 - 1)
        );
    }
}
