//! The certificate cards: every certificate linked from the sections above,
//! then the certificates of their chains.

use std::collections::HashSet;
use std::fmt::Write as _;

use crate::rows::CertRow;
use crate::words::count;

use super::model::{shown, Model, Role};
use super::text::{anchor, datetime, esc_into, short_dn};
use super::{cert_trust, dt, sans, validity, MAX_NAME_CERTS};

impl Model<'_> {
    /// Certificates linked from the sections above, in order of first
    /// mention, then their chains.
    fn cards_listed(&self) -> Vec<&str> {
        let mut list: Vec<&str> = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        for n in shown(&self.names) {
            for l in n.leaves.iter().take(MAX_NAME_CERTS) {
                let l = l.sha.as_str();
                if seen.insert(l) {
                    list.push(l);
                }
            }
            for &fi in &n.findings {
                if let Some(f) = self.findings.get(fi) {
                    for c in f.cert_sha256.iter().take(MAX_NAME_CERTS * 2) {
                        if seen.insert(c.as_str()) {
                            list.push(c.as_str());
                        }
                    }
                }
            }
        }
        let mut k = 0;
        while let Some(&sha) = list.get(k) {
            k += 1;
            if let Some(chain) = self.chain(sha) {
                for c in chain.iter() {
                    if seen.insert(c.as_str()) {
                        list.push(c.as_str());
                    }
                }
            }
        }
        list
    }

    /// The certificate cards section.
    pub(super) fn cert_cards(&self, out: &mut String) {
        let list = self.cards_listed();
        out.push_str("<section id=\"certificates\"><h2>Certificates in evidence</h2>");
        if list.is_empty() {
            out.push_str("<p>None.</p>");
        }
        let mut opened: HashSet<&str> = HashSet::new();
        for sha in list {
            match self.cert_row(sha) {
                Some(c) => {
                    // The first certificate of each interceptor is open, so
                    // the page shows one forged certificate in full.
                    let open = self
                        .issuer_ix
                        .get(c.issuer.as_str())
                        .and_then(|&i| self.issuers.get(i))
                        .is_some_and(|is| is.role == Role::Interceptor)
                        && opened.insert(c.issuer.as_str());
                    self.cert_card(out, c, open);
                }
                None => {
                    let _ = write!(
                        out,
                        r#"<div class="cert missing" id="{}">Certificate <code>"#,
                        anchor("c", sha)
                    );
                    esc_into(out, sha);
                    out.push_str("</code> is not in the certificates table.</div>");
                }
            }
        }
        out.push_str("</section>\n");
    }

    /// One certificate's card, collapsed unless `open`.
    fn cert_card(&self, out: &mut String, c: &CertRow, open: bool) {
        let ix = self.issuer_of_cert(c);
        let _ = write!(
            out,
            r#"<details class="cert" id="{}"{}><summary>"#,
            anchor("c", &c.sha256),
            if open { r#" open="open""# } else { "" }
        );
        self.swatch(out, ix);
        out.push_str("<b>");
        esc_into(out, c.subject_cn.as_deref().unwrap_or(&c.subject));
        out.push_str("</b> issued by ");
        esc_into(out, short_dn(&c.issuer));
        out.push_str(" · ");
        if c.is_ca {
            out.push_str("CA · ");
        }
        cert_trust(out, c);
        out.push_str(" · <code>");
        esc_into(out, c.sha256.get(..16).unwrap_or(&c.sha256));
        out.push_str("…</code></summary><dl>");
        self.cert_fields(out, c);
        self.cert_chain(out, c);
        out.push_str("</dl></details>");
    }

    /// The card's fields, subject to parse error.
    fn cert_fields(&self, out: &mut String, c: &CertRow) {
        dt(out, "Subject", &c.subject);
        dt(out, "Issuer", &c.issuer);
        out.push_str("<dt>Validity</dt><dd>");
        validity(out, c, None);
        out.push_str("</dd><dt>SANs</dt><dd>");
        sans(out, c, usize::MAX);
        out.push_str("</dd>");
        out.push_str("<dt>SPKI pin</dt><dd>");
        esc_into(out, &c.spki_pin);
        let shared = self.key_shared(c);
        if shared > 1 {
            let _ = write!(
                out,
                " <span class=\"bad-t\">same key in {} certificates</span>",
                shared
            );
        }
        out.push_str("</dd>");
        dt(out, "SPKI sha256", &c.spki_sha256);
        dt(out, "SHA-256", &c.sha256);
        dt(out, "SHA-1", &c.sha1);
        dt(out, "Serial", &c.serial);
        let key = match (c.key_bits, &c.curve) {
            (_, Some(curve)) => format!("{} {curve}", c.key_algorithm),
            (Some(b), None) => format!("{} {b} bits", c.key_algorithm),
            (None, None) => c.key_algorithm.clone(),
        };
        dt(out, "Key", &key);
        dt(out, "Signature", &c.signature_algorithm);
        let mut flags: Vec<&str> = Vec::new();
        if c.is_ca {
            flags.push("CA");
        }
        if c.self_signed {
            flags.push("self-signed");
        }
        if c.has_sct {
            flags.push("SCTs");
        }
        if c.has_ocsp {
            flags.push("OCSP");
        }
        if c.has_crl {
            flags.push("CRL");
        }
        if !flags.is_empty() {
            dt(out, "Flags", &flags.join(", "));
        }
        if !c.ext_key_usage.is_empty() {
            dt(out, "Extended key usage", &c.ext_key_usage.join(", "));
        }
        let seen = format!(
            "{} from {} to {}",
            count(
                usize::try_from(c.flow_count).unwrap_or(0),
                "connection",
                "connections"
            ),
            datetime(c.first_seen),
            datetime(c.last_seen)
        );
        dt(out, "Seen", &seen);
        if let Some(e) = &c.parse_error {
            dt(out, "Parse error", e);
        }
    }

    /// The chain sent with the certificate as its leaf.
    fn cert_chain(&self, out: &mut String, c: &CertRow) {
        if let Some(chain) = self.chain(c.sha256.as_str()) {
            out.push_str("<dt>Chain as sent</dt><dd><ol class=\"chain\">");
            for sha in chain.iter() {
                out.push_str("<li>");
                match self.cert_row(sha) {
                    Some(k) => {
                        let kix = self.issuer_of_cert(k);
                        self.swatch(out, kix);
                        let _ = write!(out, r##"<a href="#{}">"##, anchor("c", sha));
                        esc_into(out, &k.subject);
                        out.push_str("</a> <span class=\"muted\">issued by ");
                        esc_into(out, &k.issuer);
                        out.push_str("</span>");
                    }
                    None => {
                        out.push_str("<code>");
                        esc_into(out, sha);
                        out.push_str("</code>");
                    }
                }
                out.push_str("</li>");
            }
            out.push_str("</ol></dd>");
        }
    }
}
