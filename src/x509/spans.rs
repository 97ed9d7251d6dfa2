//! Chains judged once per span of time, not once per connection.
//!
//! A chain's verdict changes only when a certificate it may use starts or
//! ends its validity, or when Mozilla's store or the signature rules change.
//! Between two such instants every connection that sent the chain gets the
//! same verdict, so each (chain, span) is verified once, at the time of the
//! first connection asked about in it: as exact as judging each connection
//! (a certificate minted a second before its first use, as forging proxies
//! do, is valid), as cheap as judging each chain once when nothing starts or
//! ends during the capture.
//!
//! In: the run's distinct certificates ([`CertSet`]), then batches of
//! (chain, time) questions in any order. Out: a verdict per question.
//! Memory: one entry per distinct chain and span, none per connection.

use std::collections::HashMap;

use rayon::prelude::*;

use super::{CertInfo, ChainVerdict, TrustStore};

/// CA certificates from other connections offered to chain building.
const MAX_KNOWN_INTERMEDIATES: usize = 64;

/// Every distinct certificate of a run, by the hex SHA-256 of its DER.
pub struct CertSet {
    der: HashMap<String, Vec<u8>>,
    infos: HashMap<String, CertInfo>,
    /// CA certificates by first sight, offered to complete chains whose
    /// server left an intermediate out.
    known: Vec<String>,
}

impl CertSet {
    /// Parses each certificate once, on every core. `order` is the run's
    /// order of first sight (hashes of `der`), which decides the CA
    /// certificates offered to chain building.
    pub fn new(der: HashMap<String, Vec<u8>>, order: &[String]) -> CertSet {
        let infos: HashMap<String, CertInfo> = der
            .par_iter()
            .map(|(sha, d)| (sha.clone(), CertInfo::parse(d)))
            .collect();
        let known = order
            .iter()
            .filter(|sha| infos.get(sha.as_str()).is_some_and(|i| i.is_ca))
            .take(MAX_KNOWN_INTERMEDIATES)
            .cloned()
            .collect();
        CertSet { der, infos, known }
    }

    /// The parsed certificate.
    pub fn info(&self, sha: &str) -> Option<&CertInfo> {
        self.infos.get(sha)
    }

    /// The certificate's DER.
    pub fn der(&self, sha: &str) -> Option<&[u8]> {
        self.der.get(sha).map(Vec::as_slice)
    }

    /// The instants, in whole seconds, at which one of these certificates
    /// becomes valid or stops being valid (the second after its notAfter).
    fn validity_bounds<S: AsRef<str>>(&self, shas: &[S]) -> Vec<i64> {
        let sec = |us: i64| us.div_euclid(1_000_000);
        let mut b: Vec<i64> = shas
            .iter()
            .filter_map(|sha| self.infos.get(sha.as_ref()))
            .flat_map(|i| {
                [
                    i.not_before.map(sec),
                    i.not_after.map(|us| sec(us).saturating_add(1)),
                ]
            })
            .flatten()
            .collect();
        b.sort_unstable();
        b
    }
}

/// A chain (by its id) and the span of time it was judged for: how many of
/// its own and of the known intermediates' and store's instants had passed.
type SpanKey = (u32, (usize, usize));

/// Verdicts of chains, cached per span.
pub struct ChainJudge<'c> {
    certs: &'c CertSet,
    trust: &'c TrustStore,
    /// Instants of the known intermediates and of the store, sorted.
    shared_bounds: Vec<i64>,
    /// Each distinct chain: its id and its own sorted instants.
    chains: HashMap<Vec<String>, (u32, Vec<i64>)>,
    verdicts: HashMap<SpanKey, ChainVerdict>,
}

impl<'c> ChainJudge<'c> {
    /// A judge over the run's certificates and the trust store.
    pub fn new(certs: &'c CertSet, trust: &'c TrustStore) -> Self {
        let mut shared_bounds = certs.validity_bounds(&certs.known);
        shared_bounds.extend_from_slice(trust.change_instants());
        shared_bounds.sort_unstable();
        ChainJudge {
            certs,
            trust,
            shared_bounds,
            chains: HashMap::new(),
            verdicts: HashMap::new(),
        }
    }

    fn span_of(&mut self, chain: &[String], at_us: i64) -> SpanKey {
        let next = u32::try_from(self.chains.len()).unwrap_or(u32::MAX);
        if !self.chains.contains_key(chain) {
            let own = self.certs.validity_bounds(chain);
            self.chains.insert(chain.to_vec(), (next, own));
        }
        let at_s = at_us.div_euclid(1_000_000);
        let passed = |b: &[i64]| b.partition_point(|&x| x <= at_s);
        let (id, own) = self
            .chains
            .get(chain)
            .map_or((u32::MAX, 0), |(id, own)| (*id, passed(own)));
        (id, (own, passed(&self.shared_bounds)))
    }

    /// The verdict of each (chain, time) question; `None` for an empty
    /// chain. Chains not yet judged in their span are verified on every core.
    pub fn judge(&mut self, questions: &[(&[String], i64)]) -> Vec<Option<&ChainVerdict>> {
        let keys: Vec<Option<SpanKey>> = questions
            .iter()
            .map(|(chain, at)| (!chain.is_empty()).then(|| self.span_of(chain, *at)))
            .collect();
        // the earliest question of each new span, and its chain
        let mut new: HashMap<SpanKey, (i64, &[String])> = HashMap::new();
        for ((chain, at), key) in questions.iter().zip(&keys) {
            let Some(key) = key else { continue };
            if self.verdicts.contains_key(key) {
                continue;
            }
            let e = new.entry(*key).or_insert((*at, chain));
            if *at < e.0 {
                *e = (*at, chain);
            }
        }
        let certs = self.certs;
        let trust = self.trust;
        let known: Vec<&[u8]> = certs.known.iter().filter_map(|s| certs.der(s)).collect();
        let judged: Vec<(SpanKey, ChainVerdict)> = new
            .into_par_iter()
            .map(|(key, (at, chain))| {
                let ders: Vec<&[u8]> = chain.iter().filter_map(|s| certs.der(s)).collect();
                // Intermediates from other connections only when the chain
                // as sent does not verify: path building over them costs ~10x.
                let first = trust.verify(&ders, at);
                let verdict = if first.trusted || known.is_empty() {
                    first
                } else {
                    trust.verify_with(&ders, &known, at)
                };
                (key, verdict)
            })
            .collect();
        self.verdicts.extend(judged);
        keys.iter()
            .map(|k| k.as_ref().and_then(|k| self.verdicts.get(k)))
            .collect()
    }
}
