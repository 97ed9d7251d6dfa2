//! Why a chain was not trusted at a connection's time (or, on a trusted
//! chain, that its root has left Mozilla's store since): the codes of
//! `handshakes.trust_reason` and `certificates.validation_reason`, written by
//! [`super::TrustStore`] and read by the detectors.

crate::codes::codes! {
    /// A chain's trust reason (see [`super::ChainVerdict::reason`]).
    pub enum TrustReason {
        UnknownIssuer = "unknown_issuer", "the chain leads to no root trusted that day (Mozilla's store of the day and --trust-store)";
        BadSignature = "bad_signature", "a signature on the path does not verify with its issuer's key";
        Expired = "expired", "a certificate on the path had expired at the connection's time";
        NotYetValid = "not_yet_valid", "a certificate on the path was not yet valid at the connection's time";
        SelfSigned = "self_signed", "the leaf signs itself and is no trust anchor";
        WeakKey = "weak_key", "a key on the path is smaller than browsers accept";
        WeakSignature = "weak_signature", "a signature algorithm on the path that browsers no longer accept";
        NotACa = "not_a_ca", "a certificate on the path issued another without being allowed to (not a CA, or past its path length)";
        EmptyChain = "empty_chain", "the server sent no certificate";
        Unparsable = "unparsable", "a certificate of the chain could not be parsed";
        RootNotTrustedThen = "root_not_trusted_then", "the path ends at a Mozilla root not trusted at the connection's time (not yet or no longer)";
        IssuedAfterDistrust = "issued_after_distrust", "the leaf became valid after its root's distrust-after day";
        IncompleteChain = "incomplete_chain", "the issuer is unknown only because the server left out an intermediate that clients fetch or preload";
        NameMismatch = "name_mismatch", "the leaf does not cover the server name";
        Other = "other", "another error of the path builder (also any reason this build does not know, read from a table)";
        RootRemovedSince = "root_removed_since", "on a trusted chain: its root was trusted then but has left Mozilla's store since";
    }
}

impl TrustReason {
    /// The rule the detectors share for "no known party issued this chain":
    /// the reason of an untrusted chain is an unknown issuer, a signature
    /// that does not verify, or was not recorded. Expiry, weak keys, a
    /// missing intermediate and the like are a known issuer's faults.
    pub fn issuer_unknown(reason: Option<TrustReason>) -> bool {
        matches!(
            reason,
            None | Some(TrustReason::UnknownIssuer | TrustReason::BadSignature)
        )
    }

    /// The reason a table spells `s`; a code this build does not know reads
    /// as [`TrustReason::Other`].
    pub fn parse_lenient(s: &str) -> TrustReason {
        TrustReason::parse(s).unwrap_or(TrustReason::Other)
    }
}
