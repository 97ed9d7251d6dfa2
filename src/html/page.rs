//! The page frame: head, style, the header with the scan's counts, the
//! navigation, the sections in order, and the closing "how to read" notes.

use std::fmt::Write as _;

use crate::rows::Severity;
use crate::words::count;

use super::model::{Model, NameView};
use super::svg::{legend_symbol, Trust, HIDDEN_COLOR};
use super::text::{datetime, esc_into, span_into};
use super::STYLE;

impl Model<'_> {
    /// The whole page.
    pub(super) fn page(&self, out: &mut String) {
        let serious: Vec<&NameView> = self
            .names
            .iter()
            .filter(|n| n.sev >= Severity::Medium)
            .collect();
        out.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>");
        out.push_str(r#"<meta name="viewport" content="width=device-width, initial-scale=1"/>"#);
        out.push_str(r#"<meta name="generator" content="certsift"/><title>"#);
        esc_into(out, &self.opts.title);
        out.push_str("</title><style>");
        out.push_str(STYLE);
        out.push_str("</style></head>\n");
        self.header(out, serious.len());
        self.verdict(out, &serious);
        self.name_sections(out);
        self.cross_name_findings(out);
        self.cert_cards(out);
        self.other_names(out);
        self.reading(out);
        out.push_str("</main></body></html>\n");
    }

    /// The opening counts and the navigation.
    fn header(&self, out: &mut String, serious: usize) {
        let t = &self.totals;
        let _ = write!(
            out,
            r#"<body><main data-connections="{}" data-names="{}" data-certificates="{}" data-findings="{}" data-intercepted-names="{}">"#,
            t.connections,
            t.names,
            self.certs.len(),
            self.findings.len(),
            serious
        );
        out.push_str("<header><h1>");
        esc_into(out, &self.opts.title);
        out.push_str("</h1><p class=\"facts\">");
        let span = t.span;
        let _ = write!(
            out,
            "{} · {} · {} · {} · {} · {}",
            count(t.files, "capture file", "capture files"),
            count(t.connections, "TLS connection", "TLS connections"),
            count(t.names, "server name", "server names"),
            count(t.clients, "client", "clients"),
            count(self.certs.len(), "certificate", "certificates"),
            count(self.findings.len(), "finding", "findings"),
        );
        span_into(out, "<br/>Traffic ", span, false);
        if self.opts.generated_at != 0 {
            let _ = write!(
                out,
                "<br/>Report generated {} by certsift",
                datetime(self.opts.generated_at)
            );
        }
        out.push_str("</p></header>\n");
        out.push_str(r##"<nav><a href="#verdict">Verdict</a> <a href="#names">Names with findings</a> <a href="#certificates">Certificates</a> <a href="#other-names">Other names</a> <a href="#reading">How to read</a></nav>"##);
    }

    /// How to read the page.
    fn reading(&self, out: &mut String) {
        out.push_str("<section id=\"reading\"><h2>How to read this report</h2><ul>");
        out.push_str("<li><b>Interceptor</b>: a leaf certificate issuer that appears in a medium or high finding and whose chains were never trusted, or whose name matches a known TLS-inspection product. An authorised corporate proxy is still an interceptor: check with its owner.</li>");
        out.push_str("<li><b>Timeline</b>: time runs left to right (UTC); one row per client (per server address when a single client is involved); each mark is a connection, coloured by the issuer of the certificate it received. ");
        for t in [
            Trust::Trusted,
            Trust::Untrusted,
            Trust::Unknown,
            Trust::Hidden,
        ] {
            let color = if t == Trust::Hidden {
                HIDDEN_COLOR
            } else {
                "#555"
            };
            out.push_str(&legend_symbol(t, color));
            let _ = write!(out, " {} ", t.label());
        }
        out.push_str("(TLS 1.3 hides the certificate unless keys were given). The dashed red line marks the first connection that received an interceptor's certificate. Marks on the same pixel are merged; hover for counts.</li>");
        out.push_str("<li><b>Severity</b>: high and medium are interception evidence; low and info are variety a legitimate deployment explains.</li>");
        out.push_str("<li>Everything here comes from the scan's tables (handshakes, certificates, findings); long lists are cut, the tables hold every row. Strings come from certificates and ClientHellos, which an attacker controls.</li>");
        out.push_str("</ul></section>\n");
    }
}
