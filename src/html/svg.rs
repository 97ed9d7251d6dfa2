//! The per-name timeline, drawn as inline SVG: x is time (UTC), one row per
//! client (or per server), one mark per connection, coloured by the leaf
//! certificate's issuer and shaped by trust. Marks that would land on the same
//! pixel of the same row with the same issuer and trust are drawn once, with
//! the count in their tooltip, so the drawing stays bounded whatever the number
//! of connections. The legend is HTML, written by the caller.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::text::{axis_label, datetime, esc_into};

/// How a connection's certificate chain was judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Trust {
    /// No certificate visible (TLS 1.3 without keys, resumption, absent).
    Hidden,
    /// The chain led to a trusted root at the time of the connection.
    Trusted,
    /// A certificate was seen but trust was not evaluated.
    Unknown,
    /// The chain did not lead to a trusted root.
    Untrusted,
}

impl Trust {
    /// Word used in tables and tooltips.
    pub fn label(self) -> &'static str {
        match self {
            Trust::Hidden => "not visible",
            Trust::Trusted => "trusted",
            Trust::Unknown => "not evaluated",
            Trust::Untrusted => "untrusted",
        }
    }
}

/// One colour on the timeline: a leaf issuer.
#[derive(Debug, Clone)]
pub struct Series {
    /// Short issuer name for tooltips.
    pub label: String,
    /// CSS colour.
    pub color: &'static str,
}

/// The time axis of one timeline: the connections' first and last start,
/// widened to a second at least and padded 3% each side.
#[derive(Debug, Clone, Copy, Default)]
pub struct Scale {
    t0: i64,
    t1: i64,
}

impl Scale {
    /// The axis for connections starting from `first` to `last` (µs).
    pub fn new(first: i64, last: i64) -> Scale {
        let (mut t0, mut t1) = (first, last);
        if t1 - t0 < 1_000_000 {
            let mid = t0 / 2 + t1 / 2;
            t0 = mid - 500_000;
            t1 = mid + 500_000;
        }
        // Pad 3% each side so the first and last marks are not cut.
        let pad = (t1 - t0) / 33;
        Scale {
            t0: t0 - pad,
            t1: t1 + pad,
        }
    }

    fn span(self) -> i64 {
        self.t1 - self.t0
    }

    /// The pixel column of time `ts`.
    pub fn x(self, ts: i64) -> i64 {
        let num = i128::from(ts - self.t0) * i128::from(PLOT_W);
        let off = i64::try_from(num / i128::from(self.span().max(1))).unwrap_or(0);
        LABEL_W + off.clamp(0, PLOT_W)
    }
}

/// Connections that land on the same pixel of the same row with the same
/// issuer and trust: the first and last start and how many.
#[derive(Debug, Clone, Copy)]
struct Cell {
    first: i64,
    last: i64,
    count: usize,
}

/// The marks of one timeline, merged per pixel as they are added: bounded
/// by rows × pixels × issuers × trusts, whatever the number of connections.
#[derive(Debug, Clone, Default)]
pub struct Bins {
    scale: Scale,
    /// Keyed (trust, row, x, series): untrusted sorts last, drawn on top.
    cells: BTreeMap<(Trust, usize, i64, Option<usize>), Cell>,
}

impl Bins {
    /// No marks yet, on `scale`.
    pub fn new(scale: Scale) -> Bins {
        Bins {
            scale,
            cells: BTreeMap::new(),
        }
    }

    /// One connection starting at `ts` in `row`, of issuer `series` (an
    /// index into [`Timeline::series`]; `None` when no certificate was seen).
    pub fn add(&mut self, row: usize, ts: i64, series: Option<usize>, trust: Trust) {
        let x = self.scale.x(ts);
        let cell = self.cells.entry((trust, row, x, series)).or_insert(Cell {
            first: ts,
            last: ts,
            count: 0,
        });
        cell.first = cell.first.min(ts);
        cell.last = cell.last.max(ts);
        cell.count += 1;
    }
}

/// Everything needed to draw one timeline.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    /// Row labels, top to bottom.
    pub rows: Vec<String>,
    /// Issuers.
    pub series: Vec<Series>,
    /// Connections, merged per pixel.
    pub bins: Bins,
    /// Time of the first connection that received an interceptor's
    /// certificate, drawn as a labelled vertical line.
    pub onset: Option<i64>,
    /// Accessible description.
    pub caption: String,
}

/// Colour of connections whose certificate was not visible.
pub const HIDDEN_COLOR: &str = "#9aa0a6";

const WIDTH: i64 = 1280;
const LABEL_W: i64 = 190;
const RIGHT_PAD: i64 = 24;
const TOP: i64 = 22;
const ROW_H: i64 = 22;
const AXIS_H: i64 = 26;
const MAX_LABEL_CHARS: usize = 26;
const PLOT_W: i64 = WIDTH - LABEL_W - RIGHT_PAD;

/// Nice tick steps, µs.
const STEPS: [i64; 20] = [
    1_000,
    10_000,
    100_000,
    1_000_000,
    2_000_000,
    5_000_000,
    10_000_000,
    15_000_000,
    30_000_000,
    60_000_000,
    120_000_000,
    300_000_000,
    600_000_000,
    900_000_000,
    1_800_000_000,
    3_600_000_000,
    10_800_000_000,
    21_600_000_000,
    43_200_000_000,
    86_400_000_000,
];

/// Appends the drawing of one symbol (the mark shape for `trust`) centred at
/// (`x`, `y`) to `out`; also used by the legend.
pub fn symbol(out: &mut String, x: i64, y: i64, trust: Trust, color: &str) {
    let _ = match trust {
        Trust::Trusted => write!(out, r#"<circle cx="{x}" cy="{y}" r="5" fill="{color}"/>"#),
        Trust::Untrusted => write!(
            out,
            r##"<path d="M{x} {a}L{b} {y}L{x} {c}L{d} {y}Z" fill="{color}" stroke="#111" stroke-width="1.2"/>"##,
            a = y - 7,
            b = x + 7,
            c = y + 7,
            d = x - 7
        ),
        Trust::Unknown => write!(
            out,
            r#"<rect x="{}" y="{}" width="9" height="9" fill="{color}"/>"#,
            x - 4,
            y - 4
        ),
        Trust::Hidden => write!(
            out,
            r#"<circle cx="{x}" cy="{y}" r="4" fill="none" stroke="{color}" stroke-width="1.5"/>"#
        ),
    };
}

/// A small standalone SVG of one legend symbol.
pub fn legend_symbol(trust: Trust, color: &str) -> String {
    let mut out = String::from(
        r#"<svg class="sym" width="16" height="16" viewBox="0 0 16 16" aria-hidden="true">"#,
    );
    symbol(&mut out, 8, 8, trust, color);
    out.push_str("</svg>");
    out
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// Picks a tick step giving at most about eight ticks over `span` µs.
fn tick_step(span: i64) -> i64 {
    STEPS
        .iter()
        .copied()
        .find(|s| span / s <= 8)
        .unwrap_or_else(|| (span / 8 / 86_400_000_000 + 1) * 86_400_000_000)
}

impl Timeline {
    /// The SVG element. Empty string when there is nothing to draw.
    pub fn render(&self) -> String {
        if self.bins.cells.is_empty() || self.rows.is_empty() {
            return String::new();
        }
        let n_rows = i64::try_from(self.rows.len()).unwrap_or(i64::MAX / 2);
        let plot_bottom = TOP + n_rows * ROW_H;
        let height = plot_bottom + AXIS_H;
        let mut out = String::with_capacity(4096 + self.bins.cells.len().min(4096) * 160);
        let _ = write!(
            out,
            r#"<svg class="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" aria-label=""#
        );
        esc_into(&mut out, &self.caption);
        out.push_str("\">");
        out.push_str("<title>");
        esc_into(&mut out, &self.caption);
        out.push_str("</title>");
        self.row_stripes(&mut out);
        self.axis(&mut out, plot_bottom);
        self.onset_line(&mut out, plot_bottom);
        self.marks(&mut out);
        out.push_str("</svg>");
        out
    }

    /// Rows: stripes and labels.
    fn row_stripes(&self, out: &mut String) {
        for (i, label) in self.rows.iter().enumerate() {
            let y = TOP + i64::try_from(i).unwrap_or(0) * ROW_H;
            if i % 2 == 0 {
                let _ = write!(
                    out,
                    r##"<rect x="{LABEL_W}" y="{y}" width="{PLOT_W}" height="{ROW_H}" fill="#f3f5f8"/>"##
                );
            }
            let _ = write!(
                out,
                r#"<text x="{}" y="{}" class="rl" text-anchor="end">"#,
                LABEL_W - 8,
                y + ROW_H / 2 + 4
            );
            esc_into(out, &truncate(label, MAX_LABEL_CHARS));
            if label.chars().count() > MAX_LABEL_CHARS {
                out.push_str("<title>");
                esc_into(out, label);
                out.push_str("</title>");
            }
            out.push_str("</text>");
        }
    }

    /// The time axis and its grid lines.
    fn axis(&self, out: &mut String, plot_bottom: i64) {
        let scale = self.bins.scale;
        let (t0, t1, span) = (scale.t0, scale.t1, scale.span());
        let step = tick_step(span);
        let with_date = span >= 86_400_000_000
            || (t0.div_euclid(86_400_000_000) != t1.div_euclid(86_400_000_000));
        let with_seconds = step < 60_000_000;
        let _ = write!(
            out,
            r##"<line x1="{LABEL_W}" y1="{plot_bottom}" x2="{}" y2="{plot_bottom}" stroke="#555"/>"##,
            LABEL_W + PLOT_W
        );
        let mut tick = (t0.div_euclid(step) + 1) * step;
        while tick < t1 {
            let x = scale.x(tick);
            let _ = write!(
                out,
                r##"<line x1="{x}" y1="{TOP}" x2="{x}" y2="{}" stroke="#d5d9e0" stroke-width="1"/><text x="{x}" y="{}" class="tl" text-anchor="middle">{}</text>"##,
                plot_bottom + 4,
                plot_bottom + 17,
                axis_label(tick, with_date, with_seconds)
            );
            tick += step;
        }
    }

    /// The dashed line at the onset of interception.
    fn onset_line(&self, out: &mut String, plot_bottom: i64) {
        let Some(onset) = self.onset else {
            return;
        };
        let x = self.bins.scale.x(onset);
        let anchor = if x > LABEL_W + PLOT_W * 3 / 4 {
            "end"
        } else {
            "start"
        };
        let tx = if anchor == "end" { x - 4 } else { x + 4 };
        let _ = write!(
            out,
            r##"<line x1="{x}" y1="{}" x2="{x}" y2="{plot_bottom}" stroke="#c62828" stroke-width="1.5" stroke-dasharray="4 3"/><text x="{tx}" y="{}" class="onset" text-anchor="{anchor}">first interceptor certificate {}</text>"##,
            TOP - 14,
            TOP - 6,
            datetime(onset)
        );
    }

    /// One symbol per cell, with its tooltip.
    fn marks(&self, out: &mut String) {
        for (&(trust, row, x, series), cell) in &self.bins.cells {
            let y = TOP + i64::try_from(row).unwrap_or(0) * ROW_H + ROW_H / 2;
            let (color, who) = match series.and_then(|s| self.series.get(s)) {
                Some(s) => (s.color, s.label.as_str()),
                None => (HIDDEN_COLOR, "no certificate seen"),
            };
            out.push_str("<g>");
            symbol(out, x, y, trust, color);
            out.push_str("<title>");
            let row_label = self.rows.get(row).map(String::as_str).unwrap_or("");
            let mut tip = format!(
                "{} · {row_label} · {who} · {}",
                datetime(cell.first),
                trust.label()
            );
            if cell.count > 1 {
                let _ = write!(
                    tip,
                    " · {} connections until {}",
                    cell.count,
                    datetime(cell.last)
                );
            }
            esc_into(out, &tip);
            out.push_str("</title></g>");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_bins(n: usize) -> Bins {
        let t0 = 1_795_871_671_000_000;
        let last = t0 + i64::try_from(n.saturating_sub(1)).unwrap_or(0) * 1_000;
        let mut bins = Bins::new(Scale::new(t0, last));
        for i in 0..n {
            let hidden = i % 5 == 4;
            let trust = if hidden {
                Trust::Hidden
            } else if i % 2 == 0 {
                Trust::Trusted
            } else {
                Trust::Untrusted
            };
            let series = if hidden { None } else { Some(i % 2) };
            bins.add(
                i % 2,
                t0 + i64::try_from(i).unwrap_or(0) * 1_000,
                series,
                trust,
            );
        }
        bins
    }

    fn sample(n: usize) -> Timeline {
        Timeline {
            rows: vec!["192.0.2.10".into(), "<b>\"evil\"</b> & co".into()],
            series: vec![
                Series {
                    label: "Example CA".into(),
                    color: "#1f77b4",
                },
                Series {
                    label: "mitm<script>".into(),
                    color: "#d62728",
                },
            ],
            bins: sample_bins(n),
            onset: Some(1_795_871_671_001_000),
            caption: "timeline of a&b".into(),
        }
    }

    #[test]
    fn draws_well_formed_svg_with_escaped_text() {
        let svg = sample(10).render();
        assert!(svg.starts_with("<svg "), "{svg}");
        assert!(svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<svg").count(), svg.matches("</svg>").count());
        assert!(!svg.contains("<script"));
        assert!(!svg.contains("<b>"));
        assert!(svg.contains("&lt;b&gt;&quot;evil&quot;&lt;/b&gt; &amp; co"));
        assert!(svg.contains("timeline of a&amp;b"));
        assert!(svg.contains("first interceptor certificate"));
        assert_eq!(svg.matches("<g>").count(), svg.matches("</g>").count());
        assert_eq!(
            svg.matches("<title>").count(),
            svg.matches("</title>").count()
        );
        // Each shape is present.
        assert!(svg.contains("<circle"));
        assert!(svg.contains("<path"));
        assert!(svg.contains(r#"fill="none""#));
    }

    #[test]
    fn bounded_for_many_connections() {
        let svg = sample(200_000).render();
        // 2 rows × ~1066 px × a few styles at most.
        assert!(svg.matches("<g>").count() < 2 * 1100 * 4, "{}", svg.len());
        assert!(svg.contains("connections until"));
    }

    #[test]
    fn empty_and_single_instant() {
        assert_eq!(Timeline::default().render(), "");
        let mut t = sample(1);
        t.onset = None;
        let svg = t.render();
        assert!(svg.contains("<circle"));
        assert!(!svg.contains("first interceptor"));
    }

    #[test]
    fn tick_steps_are_bounded() {
        for span in [
            1,
            999,
            1_000_000,
            129_000_000,
            86_400_000_000,
            400 * 86_400_000_000,
        ] {
            let s = tick_step(span);
            assert!(s > 0 && span / s <= 8, "{span} {s}");
        }
    }
}
