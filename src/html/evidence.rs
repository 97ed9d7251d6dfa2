//! A finding's evidence (its connections grouped by leaf issuer and trust,
//! the rows shown, its certificates) and the findings that span names.

use std::fmt::Write as _;

use crate::rows::{FindingRow, HandshakeRow};
use crate::words::count;

use super::model::{EvidenceView, Model};
use super::svg::Trust;
use super::text::{anchor, bytes, datetime, datetime_ms, esc_into, short_dn};
use super::{more, MAX_NAME_CERTS, MAX_VERDICT_ROWS};

impl Model<'_> {
    /// One finding's evidence, collapsed unless `open`.
    pub(super) fn finding_evidence(&self, out: &mut String, fi: usize, f: &FindingRow, open: bool) {
        let listed = f
            .flow_ids
            .len()
            .max(self.evidence.get(fi).map_or(0, |e| e.listed));
        let s = f.severity.as_str();
        let _ = write!(
            out,
            r#"<details class="finding" id="{}" data-finding=""#,
            anchor("f", &f.finding_id)
        );
        esc_into(out, &f.finding_id);
        let _ = write!(
            out,
            r#"" data-connections="{}" data-clients="{}" data-certificates="{}"{}><summary><span class="sev sev-{s}">{s}</span> <span class="kind">"#,
            listed,
            f.clients.len(),
            f.cert_sha256.len(),
            if open { r#" open="open""# } else { "" }
        );
        esc_into(out, f.kind.as_str());
        let _ = write!(
            out,
            "</span> evidence: {}, {}, {}, {} to {} <span class=\"muted\">(finding ",
            count(listed, "connection", "connections"),
            count(f.clients.len(), "client", "clients"),
            count(f.cert_sha256.len(), "certificate", "certificates"),
            datetime(f.first_seen),
            datetime(f.last_seen)
        );
        esc_into(out, &f.finding_id);
        out.push_str(")</span></summary>");
        out.push_str("<p class=\"summary\">");
        esc_into(out, &f.summary);
        out.push_str("</p>");
        if let Some(e) = self.evidence.get(fi) {
            self.evidence_groups(out, e);
            self.evidence_rows(out, e, listed);
        }
        self.evidence_certs(out, f);
        out.push_str("</details>");
    }

    /// The finding's connections by leaf issuer and trust.
    fn evidence_groups(&self, out: &mut String, e: &EvidenceView) {
        out.push_str("<table class=\"groups\"><thead><tr><th>Leaf issuer</th><th>Trust</th><th>Connections</th><th>Clients</th><th>First</th><th>Last</th></tr></thead><tbody>");
        for g in &e.groups {
            out.push_str("<tr><td>");
            match g.issuer {
                Some(ix) => self.issuer_short(out, ix),
                None => {
                    self.swatch(out, None);
                    out.push_str("no certificate visible");
                }
            }
            let _ = write!(
                out,
                "</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
                g.trust.label(),
                g.conns,
                g.clients,
                datetime(g.first),
                datetime(g.last)
            );
        }
        out.push_str("</tbody></table>");
    }

    /// The rows shown (one per issuer, trust and client first, then the
    /// earliest others), and what was left out.
    fn evidence_rows(&self, out: &mut String, e: &EvidenceView, listed: usize) {
        out.push_str("<div class=\"scroll\"><table class=\"conns\"><thead><tr><th>Time (UTC)</th><th>Client → server</th><th>SNI</th><th>Leaf certificate</th><th>Trust</th><th>TLS</th><th title=\"application data bytes after the handshake, client to server / server to client\">App data ↑/↓</th><th>JA3 / JA4</th><th>Flow</th></tr></thead><tbody>");
        for id in &e.picked {
            if let Some(h) = self.rows.get(id) {
                self.conn_row(out, h);
            }
        }
        out.push_str("</tbody></table></div>");
        if e.found > e.picked.len() {
            let _ = write!(
                out,
                "<p class=\"more\">and {} more connections (one row per issuer, trust and client shown first; all in handshakes.parquet, flow ids in findings.parquet)</p>",
                e.found - e.picked.len()
            );
        }
        let missing = listed.saturating_sub(e.found);
        if missing > 0 {
            let _ = write!(
                out,
                "<p class=\"more\">{} evidence flow ids are not in the handshakes table</p>",
                count(missing, "of the", "of the")
            );
        }
    }

    /// The certificates the finding names.
    fn evidence_certs(&self, out: &mut String, f: &FindingRow) {
        if f.cert_sha256.is_empty() {
            return;
        }
        out.push_str("<p class=\"evcerts\">Certificates: ");
        for (k, sha) in f.cert_sha256.iter().take(MAX_NAME_CERTS * 2).enumerate() {
            if k > 0 {
                out.push_str(" · ");
            }
            let c = self.cert_row(sha);
            self.swatch(out, c.and_then(|c| self.issuer_of_cert(c)));
            let _ = write!(out, r##"<a href="#{}">"##, anchor("c", sha));
            match c {
                Some(c) => {
                    esc_into(out, c.subject_cn.as_deref().unwrap_or(&c.subject));
                    out.push_str("</a> <span class=\"muted\">by ");
                    esc_into(out, short_dn(&c.issuer));
                    out.push_str("</span>");
                }
                None => {
                    esc_into(out, sha.get(..16).unwrap_or(sha));
                    out.push_str("</a>");
                }
            }
        }
        if f.cert_sha256.len() > MAX_NAME_CERTS * 2 {
            let _ = write!(
                out,
                " and {} more",
                f.cert_sha256.len() - MAX_NAME_CERTS * 2
            );
        }
        out.push_str("</p>");
    }

    /// One connection of an evidence table.
    fn conn_row(&self, out: &mut String, h: &HandshakeRow) {
        let ix = self.issuer_of(h);
        let trust = match (ix, h.chain_trusted) {
            (None, _) => Trust::Hidden,
            (Some(_), Some(true)) => Trust::Trusted,
            (Some(_), Some(false)) => Trust::Untrusted,
            (Some(_), None) => Trust::Unknown,
        };
        let cls = if self.intercepted(h) {
            " class=\"hit\""
        } else {
            ""
        };
        let stamp = datetime_ms(h.ts_start);
        let (day, time) = stamp.split_once(' ').unwrap_or(("", stamp.as_str()));
        let _ = write!(out, "<tr{cls}><td>{day}<br/>{time}</td><td>");
        esc_into(out, &h.client_ip);
        let _ = write!(out, ":{}<br/>→ ", h.client_port);
        esc_into(out, &h.server_ip);
        let _ = write!(out, ":{}</td><td>", h.server_port);
        match &h.sni {
            Some(s) => esc_into(out, s),
            None => out.push_str("<span class=\"muted\">none</span>"),
        }
        out.push_str("</td><td>");
        match self.leaf(h) {
            Some(c) => {
                self.swatch(out, ix);
                let _ = write!(out, r##"<a href="#{}">"##, anchor("c", &c.sha256));
                esc_into(out, c.subject_cn.as_deref().unwrap_or(&c.subject));
                out.push_str("</a><br/><span class=\"muted\">by ");
                esc_into(out, short_dn(&c.issuer));
                out.push_str("</span>");
            }
            None => {
                self.swatch(out, None);
                out.push_str("<span class=\"muted\">");
                esc_into(out, &h.cert_visibility);
                out.push_str("</span>");
            }
        }
        let tcls = match trust {
            Trust::Untrusted => "bad-t",
            Trust::Trusted => "good-t",
            _ => "muted",
        };
        let _ = write!(out, "</td><td class=\"{tcls}\">{}", trust.label());
        if let Some(r) = &h.trust_reason {
            out.push_str(": ");
            esc_into(out, r.as_str());
        }
        out.push_str("</td><td>");
        esc_into(out, h.tls_version.as_deref().unwrap_or(""));
        let _ = write!(
            out,
            "</td><td class=\"num\">{} / {}</td><td><code>",
            bytes(h.app_bytes_client),
            bytes(h.app_bytes_server)
        );
        esc_into(out, h.fingerprints.ja3.as_deref().unwrap_or(""));
        out.push_str("</code><br/><code>");
        esc_into(out, h.fingerprints.ja4.as_deref().unwrap_or(""));
        out.push_str("</code></td><td><code>");
        esc_into(out, &h.flow_id);
        out.push_str("</code></td></tr>");
    }

    /// Findings without a single server name are shown under each of their
    /// names already; this lists them once more with all their names.
    pub(super) fn cross_name_findings(&self, out: &mut String) {
        let cross: Vec<&FindingRow> = self
            .finding_order
            .iter()
            .filter_map(|&fi| self.findings.get(fi))
            .filter(|f| f.sni.is_none())
            .collect();
        if cross.is_empty() {
            return;
        }
        out.push_str("<section id=\"cross\"><h2>Findings across names</h2><table><thead><tr><th>Severity</th><th>Kind</th><th>Names</th><th>Summary</th><th>Issuers</th></tr></thead><tbody>");
        for f in cross.iter().take(MAX_VERDICT_ROWS) {
            let s = f.severity.as_str();
            let _ = write!(
                out,
                r#"<tr><td><span class="sev sev-{s}">{s}</span></td><td>"#
            );
            esc_into(out, f.kind.as_str());
            out.push_str("</td><td>");
            for (k, n) in f.names.iter().take(12).enumerate() {
                if k > 0 {
                    out.push_str(", ");
                }
                let _ = write!(out, r##"<a href="#{}">"##, anchor("n", n));
                esc_into(out, n);
                out.push_str("</a>");
            }
            if f.names.len() > 12 {
                let _ = write!(out, " and {} more", f.names.len() - 12);
            }
            out.push_str("</td><td>");
            esc_into(out, &f.summary);
            out.push_str("</td><td>");
            for (k, dn) in f.issuers.iter().enumerate() {
                if k > 0 {
                    out.push_str("<br/>");
                }
                match self.issuer_ix.get(dn.as_str()) {
                    Some(&ix) => self.issuer_short(out, ix),
                    None => esc_into(out, dn),
                }
            }
            out.push_str("</td></tr>");
        }
        out.push_str("</tbody></table>");
        more(
            out,
            cross.len(),
            MAX_VERDICT_ROWS,
            "findings",
            "findings.parquet",
        );
        out.push_str("</section>\n");
    }
}
