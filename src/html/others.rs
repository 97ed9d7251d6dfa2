//! The names without findings, busiest first, in a collapsed table.

use std::fmt::Write as _;

use crate::words::count;

use super::model::Model;
use super::text::{datetime, esc_into};
use super::{more, MAX_OTHER_NAMES};

impl Model<'_> {
    // ---------------------------------------------------------- other names

    /// Names without findings, busiest first, in a collapsed table.
    pub(super) fn other_names(&self, out: &mut String) {
        let rest = &self.others;
        let _ = write!(
            out,
            "<section id=\"other-names\"><h2>Names without findings</h2><details><summary>{} without findings ({} connections), busiest first</summary>",
            count(rest.len(), "server name", "server names"),
            rest.iter().map(|r| r.conns).sum::<usize>()
        );
        out.push_str("<table class=\"others\"><thead><tr><th>Server name</th><th>Connections</th><th>Clients</th><th>Servers</th><th>Leaf issuers</th><th>Trusted / untrusted / not evaluated / not visible</th><th>First</th><th>Last</th></tr></thead><tbody>");
        for n in rest.iter().take(MAX_OTHER_NAMES) {
            out.push_str("<tr><td>");
            esc_into(out, &n.name);
            let _ = write!(
                out,
                "</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>",
                n.conns, n.clients, n.servers
            );
            for (k, &ix) in n.issuers.iter().enumerate() {
                if k > 0 {
                    out.push_str("<br/>");
                }
                self.issuer_short(out, ix);
            }
            let [trusted, untrusted, unknown, hidden] = n.trust;
            let _ = write!(
                out,
                "</td><td>{trusted} / {untrusted} / {unknown} / {hidden}</td><td>{}</td><td>{}</td></tr>",
                datetime(n.first),
                datetime(n.last)
            );
        }
        out.push_str("</tbody></table>");
        more(
            out,
            rest.len(),
            MAX_OTHER_NAMES,
            "names",
            "handshakes.parquet",
        );
        out.push_str("</details></section>\n");
    }
}
