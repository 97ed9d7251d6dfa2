//! The sections of the names with findings: what was seen, the timeline,
//! the certificates served, and each finding's evidence.

use std::fmt::Write as _;

use crate::rows::Severity;
use crate::words::count;

use super::model::{Model, NameView, Role};
use super::svg::{legend_symbol, Timeline, HIDDEN_COLOR};
use super::text::{anchor, datetime, esc_into, short_dn};
use super::{cert_trust, more, sans, validity, MAX_NAME_CERTS, MAX_NAME_SECTIONS};

impl Model<'_> {
    /// The section of each name with findings, up to the cap.
    pub(super) fn name_sections(&self, out: &mut String) {
        out.push_str("<section id=\"names\"><h2>Names with findings</h2>");
        if self.names.is_empty() {
            out.push_str("<p>No finding in this scan.</p>");
        }
        let open = self.findings.len() <= 20;
        for n in self.names.iter().take(MAX_NAME_SECTIONS) {
            self.name_section(out, n, open);
        }
        more(
            out,
            self.names.len(),
            MAX_NAME_SECTIONS,
            "names with findings (listed in the verdict)",
            "findings.parquet",
        );
        out.push_str("</section>\n");
    }

    /// One name: what was seen, the findings' sentences, the timeline, the
    /// certificates served and each finding's evidence.
    fn name_section(&self, out: &mut String, n: &NameView, open: bool) {
        let sev = n.sev.as_str();
        let _ = write!(
            out,
            r#"<section class="name sev-border-{sev}" id="{}" data-name=""#,
            anchor("n", n.name)
        );
        esc_into(out, n.name);
        let _ = write!(
            out,
            r#"" data-connections="{}"><h3><span class="sev sev-{sev}">{sev}</span> "#,
            n.conns
        );
        esc_into(out, n.name);
        out.push_str("</h3>");
        out.push_str("<p class=\"meta\">");
        let _ = write!(
            out,
            "{} from {} to {}",
            count(n.conns, "connection", "connections"),
            count(n.clients, "client", "clients"),
            count(n.servers, "server address", "server addresses")
        );
        if n.conns > 0 {
            let _ = write!(out, ", {} to {}", datetime(n.first), datetime(n.last));
        }
        if n.intercepted > 0 {
            let _ = write!(
                out,
                "; <b>{} with an interceptor's certificate, to {}</b>",
                n.intercepted,
                count(n.touched, "client", "clients")
            );
        }
        out.push_str(".</p>");
        for &fi in &n.findings {
            if let Some(f) = self.findings.get(fi) {
                let s = f.severity.as_str();
                out.push_str("<p class=\"summary\">");
                let _ = write!(
                    out,
                    r#"<span class="sev sev-{s}">{s}</span> <span class="kind">"#
                );
                esc_into(out, f.kind.as_str());
                out.push_str("</span> ");
                esc_into(out, &f.summary);
                out.push_str("</p>");
            }
        }
        self.timeline(out, n);
        self.name_certs(out, n);
        for &fi in &n.findings {
            if let Some(f) = self.findings.get(fi) {
                self.finding_evidence(out, fi, f, open && f.severity >= Severity::Medium);
            }
        }
        out.push_str("</section>\n");
    }

    /// The timeline figure and its legend.
    fn timeline(&self, out: &mut String, n: &NameView) {
        let Some(tl) = &n.timeline else {
            return;
        };
        let drawing = Timeline {
            rows: tl.rows.clone(),
            series: tl.series.clone(),
            bins: tl.bins.clone(),
            onset: n.onset,
            caption: format!(
                "Timeline of {} connections for {}: one row per {}, one mark per connection, coloured by the leaf certificate's issuer",
                n.conns,
                n.name,
                if tl.by_server { "server" } else { "client" }
            ),
        };
        out.push_str("<figure class=\"tl\">");
        out.push_str(&drawing.render());
        out.push_str("<figcaption class=\"legend\">");
        for (ix, trust) in &tl.used {
            out.push_str("<span class=\"lg\">");
            let is = ix.and_then(|i| self.issuers.get(i));
            out.push_str(&legend_symbol(
                *trust,
                is.map_or(HIDDEN_COLOR, |is| is.color),
            ));
            match is {
                Some(is) => {
                    out.push_str("<span title=\"");
                    esc_into(out, is.dn);
                    out.push_str("\">");
                    esc_into(out, short_dn(is.dn));
                    out.push_str("</span>");
                    if is.role == Role::Interceptor {
                        out.push_str(" <b class=\"bad-t\">interceptor</b>");
                    }
                }
                None => out.push_str("no certificate visible (TLS 1.3 or resumed)"),
            }
            if ix.is_some() {
                let _ = write!(out, " · {}", trust.label());
            }
            out.push_str("</span>");
        }
        out.push_str("</figcaption></figure>");
    }

    /// The leaves served for the name, by first use.
    fn name_certs(&self, out: &mut String, n: &NameView) {
        let leaves = &n.leaves;
        if leaves.is_empty() {
            out.push_str("<p class=\"muted\">No certificate was visible for this name.</p>");
            return;
        }
        let _ = write!(
            out,
            "<h4>Certificates served for this name ({})</h4><table class=\"certs\"><thead><tr><th>Subject</th><th>Issuer</th><th>Valid</th><th>SANs</th><th>SPKI pin (sha256)</th><th>Trust</th><th>Conns</th><th>First use</th></tr></thead><tbody>",
            leaves.len()
        );
        for leaf in leaves.iter().take(MAX_NAME_CERTS) {
            let (sha, count, first) = (leaf.sha.as_str(), leaf.conns, leaf.first);
            let c = self.cert_row(sha);
            out.push_str("<tr><td>");
            let ix = c.and_then(|c| self.issuer_of_cert(c));
            self.swatch(out, ix);
            let _ = write!(out, r##"<a href="#{}">"##, anchor("c", sha));
            match c {
                Some(c) => esc_into(out, c.subject_cn.as_deref().unwrap_or(&c.subject)),
                None => esc_into(out, sha.get(..16).unwrap_or(sha)),
            }
            out.push_str("</a></td><td>");
            if let Some(c) = c {
                esc_into(out, short_dn(&c.issuer));
                out.push_str("</td><td>");
                validity(out, c, Some(first));
                out.push_str("</td><td>");
                sans(out, c, 3);
                out.push_str("</td><td><code>");
                esc_into(out, &c.spki_pin);
                out.push_str("</code>");
                let shared = self.key_shared(c);
                if shared > 1 {
                    let _ = write!(
                        out,
                        "<br/><span class=\"bad-t\">key in {shared} certificates</span>"
                    );
                }
                out.push_str("</td><td>");
                cert_trust(out, c);
            } else {
                out.push_str("</td><td></td><td></td><td></td><td>");
            }
            let _ = write!(
                out,
                "</td><td class=\"num\">{count}</td><td>{}</td></tr>",
                datetime(first)
            );
        }
        out.push_str("</tbody></table>");
        more(
            out,
            leaves.len(),
            MAX_NAME_CERTS,
            "certificates",
            "certificates.parquet",
        );
    }
}
