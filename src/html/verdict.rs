//! The verdict section: the headline, the incidents table, the names with
//! findings and the clients that received an interceptor's certificate.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::rows::{IncidentRow, Severity};
use crate::words::count;

use super::model::{ClientView, Model, NameView};
use super::text::{anchor, bytes, datetime, esc_into, short_dn, span_into};
use super::{more, trust_counts, MAX_VERDICT_ROWS};

impl Model<'_> {
    /// The verdict section: the headline, the incidents, the names with
    /// findings and the clients an interceptor answered.
    pub(super) fn verdict(&self, out: &mut String, serious: &[&NameView]) {
        let clients = &self.clients;
        self.verdict_headline(out, serious, clients);
        if !self.incidents.is_empty() {
            self.incidents_table(out);
        }
        if !self.names.is_empty() {
            self.names_table(out);
        }
        if !clients.is_empty() {
            self.clients_table(out, clients);
        }
        out.push_str("</section>\n");
    }

    /// The verdict's opening: its class, the headline sentence and the
    /// count of names with only low or info findings.
    fn verdict_headline(&self, out: &mut String, serious: &[&NameView], clients: &[ClientView]) {
        let mut by_sev: BTreeMap<Severity, usize> = BTreeMap::new();
        for n in &self.names {
            *by_sev.entry(n.sev).or_default() += 1;
        }
        let names_at = |s: Severity| by_sev.get(&s).copied().unwrap_or(0);
        let span = self
            .incidents
            .iter()
            .fold((i64::MAX, i64::MIN), |(a, b), i| {
                (a.min(i.first_seen), b.max(i.last_seen))
            });
        let cls = if !self.incidents.is_empty() {
            "bad"
        } else if !self.names.is_empty() {
            "note"
        } else {
            "good"
        };
        let _ = write!(
            out,
            r#"<section id="verdict" class="verdict {cls}" data-incidents="{}"><h2>Verdict</h2>"#,
            self.incidents.len()
        );
        if self.incidents.is_empty() {
            let _ = write!(
                out,
                r#"<p class="headline">No interception evidence: no incident, no finding of medium or high severity among {} and {}.</p>"#,
                count(self.totals.names, "server name", "server names"),
                count(self.totals.connections, "connection", "connections")
            );
        } else {
            let by_verdict = |v: &str| self.incidents.iter().filter(|i| i.verdict == v).count();
            let _ = write!(
                out,
                r#"<p class="headline"><b>{}</b>: {} intercepted, {} attempted and refused, {} suspected; interception evidence on <b>{}</b> ({} high, {} medium)"#,
                count(
                    self.incidents.len(),
                    "interception incident",
                    "interception incidents"
                ),
                by_verdict(crate::analysis::INTERCEPTED),
                by_verdict(crate::analysis::REFUSED),
                by_verdict(crate::analysis::SUSPECTED),
                count(serious.len(), "server name", "server names"),
                names_at(Severity::High),
                names_at(Severity::Medium)
            );
            if !clients.is_empty() {
                let _ = write!(
                    out,
                    "; <b>{}</b> received an interceptor's certificate on <b>{}</b>",
                    count(clients.len(), "client", "clients"),
                    count(
                        clients.iter().map(|c| c.conns).sum::<usize>(),
                        "connection",
                        "connections"
                    )
                );
            }
            span_into(out, ", ", span, true);
            out.push_str(".</p>");
        }
        let low = names_at(Severity::Low) + names_at(Severity::Info);
        if low > 0 {
            let _ = write!(
                out,
                "<p>{} only low or info findings: variety a legitimate deployment explains (renewal, several leaves from one CA).</p>",
                count(low, "name has", "names have")
            );
        }
    }

    /// The incidents table, rendered.
    fn incidents_table(&self, out: &mut String) {
        out.push_str("<h3>Incidents (suspected interceptors)</h3><table class=\"issuers incidents\"><thead><tr><th>Severity</th><th>Verdict</th><th>Interceptor</th><th>Known inspection product</th><th>Names</th><th>Clients</th><th>Connections (accepted / refused)</th><th>Bytes to server / back</th><th>First seen</th><th>Last seen</th></tr></thead><tbody>");
        for inc in self.incidents {
            self.incident_row(out, inc);
        }
        out.push_str("</tbody></table>");
    }

    /// One incident's rows.
    fn incident_row(&self, out: &mut String, inc: &IncidentRow) {
        let sev = inc.severity.as_str();
        out.push_str(r#"<tr data-incident=""#);
        esc_into(out, &inc.incident_id);
        out.push_str(r#""><td><span class="sev sev-"#);
        esc_into(out, sev);
        out.push_str("\">");
        esc_into(out, sev);
        out.push_str("</span></td><td><b>");
        esc_into(out, &inc.verdict.replace('_', " "));
        out.push_str("</b></td><td>");
        match &inc.interceptor_issuer {
            Some(dn) => {
                let ix = self.issuer_ix.get(dn.as_str()).copied();
                self.swatch(out, ix);
                out.push_str("<b>");
                esc_into(out, short_dn(dn));
                out.push_str("</b><br/><code>");
                esc_into(out, dn);
                out.push_str("</code>");
                if let Some(is) = ix.and_then(|i| self.issuers.get(i)) {
                    out.push_str("<br/>chains: ");
                    esc_into(out, &trust_counts(is));
                }
            }
            None => out.push_str("<span class=\"muted\">certificates not visible</span>"),
        }
        if let Some(k) = &inc.interceptor_key_sha256 {
            out.push_str("<br/>CA key <code>");
            esc_into(out, k.get(..16).unwrap_or(k));
            out.push_str("…</code>");
        }
        for p in &inc.interceptor_path {
            out.push_str("<br/>");
            esc_into(out, p);
        }
        out.push_str("</td><td>");
        match &inc.interceptor_product {
            Some(p) => {
                out.push_str("<b>");
                esc_into(out, p);
                out.push_str("</b> (authorised inspection? check with its owner)");
            }
            None if self.opts.products.is_empty() => {
                out.push_str("<span class=\"muted\">none matched</span>")
            }
            None => {
                let _ = write!(
                    out,
                    "none of {} known products: <b>unknown interceptor</b>",
                    self.opts.products.len()
                );
            }
        }
        out.push_str("</td><td>");
        for (k, n) in inc.names.iter().take(8).enumerate() {
            if k > 0 {
                out.push_str(", ");
            }
            esc_into(out, n);
        }
        if inc.names.len() > 8 {
            let _ = write!(out, " and {} more", inc.names.len() - 8);
        }
        out.push_str("</td><td>");
        for (k, c) in inc.clients.iter().take(8).enumerate() {
            if k > 0 {
                out.push_str(", ");
            }
            esc_into(out, c);
        }
        if inc.clients.len() > 8 {
            let _ = write!(out, " and {} more", inc.clients.len() - 8);
        }
        let _ = write!(
            out,
            "</td><td class=\"num\">{} ({} / {})</td><td class=\"num\">{} / {}</td><td>{}</td><td>{}</td></tr>",
            inc.connections,
            inc.accepted_connections,
            inc.refused_connections,
            bytes(inc.bytes_to_server),
            bytes(inc.bytes_to_client),
            datetime(inc.first_seen),
            datetime(inc.last_seen)
        );
        out.push_str("<tr class=\"incident-summary\"><td></td><td colspan=\"9\">");
        esc_into(out, &inc.summary);
        out.push_str("</td></tr>");
    }

    /// The names with findings, most severe first.
    fn names_table(&self, out: &mut String) {
        out.push_str("<h3>Names with findings</h3><table class=\"names\"><thead><tr><th>Severity</th><th>Server name</th><th>Findings</th><th>Interceptor issuer</th><th>Intercepted / all connections</th><th>Clients touched</th><th>First interceptor certificate</th></tr></thead><tbody>");
        for n in self.names.iter().take(MAX_VERDICT_ROWS) {
            let sev = n.sev.as_str();
            let _ = write!(
                out,
                r##"<tr><td><span class="sev sev-{sev}">{sev}</span></td><td><a href="#{}">"##,
                anchor("n", n.name)
            );
            esc_into(out, n.name);
            out.push_str("</a></td><td>");
            let kinds: BTreeSet<&str> = n
                .findings
                .iter()
                .filter_map(|&fi| self.findings.get(fi))
                .map(|f| f.kind.as_str())
                .collect();
            for (k, kind) in kinds.iter().enumerate() {
                if k > 0 {
                    out.push_str(", ");
                }
                esc_into(out, kind);
            }
            out.push_str("</td><td>");
            if n.interceptors.is_empty() {
                out.push_str("<span class=\"muted\">–</span>");
            }
            for (k, &ix) in n.interceptors.iter().enumerate() {
                if k > 0 {
                    out.push_str("<br/>");
                }
                self.issuer_short(out, ix);
            }
            let _ = write!(
                out,
                "</td><td class=\"num\">{} / {}</td><td class=\"num\">{}</td><td>{}</td></tr>",
                n.intercepted,
                n.conns,
                n.touched,
                n.onset.map(datetime).unwrap_or_else(|| "–".into())
            );
        }
        out.push_str("</tbody></table>");
        more(
            out,
            self.names.len(),
            MAX_VERDICT_ROWS,
            "names",
            "findings.parquet",
        );
    }

    /// The clients an interceptor answered.
    fn clients_table(&self, out: &mut String, clients: &[ClientView]) {
        let _ = write!(
            out,
            "<details class=\"clients\"{}><summary>{} that received an interceptor's certificate</summary><table><thead><tr><th>Client</th><th>Intercepted connections</th><th>Names</th><th>First</th><th>Last</th></tr></thead><tbody>",
            if clients.len() <= 20 { " open=\"open\"" } else { "" },
            count(clients.len(), "client", "clients"),
        );
        for c in clients.iter().take(MAX_VERDICT_ROWS) {
            out.push_str("<tr><td>");
            esc_into(out, &c.ip);
            let _ = write!(out, "</td><td class=\"num\">{}</td><td>", c.conns);
            for (k, n) in c.names.iter().take(8).enumerate() {
                if k > 0 {
                    out.push_str(", ");
                }
                esc_into(out, n);
            }
            if c.names.len() > 8 {
                let _ = write!(out, " and {} more", c.names.len() - 8);
            }
            let _ = write!(
                out,
                "</td><td>{}</td><td>{}</td></tr>",
                datetime(c.first),
                datetime(c.last)
            );
        }
        out.push_str("</tbody></table>");
        more(
            out,
            clients.len(),
            MAX_VERDICT_ROWS,
            "clients",
            "handshakes.parquet",
        );
        out.push_str("</details>");
    }
}
