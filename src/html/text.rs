//! Text helpers for the HTML report: escaping of table strings (which come from
//! attacker-controlled certificates and ClientHellos) and UTC time formatting of
//! µs timestamps. No locale, no time zone other than UTC, no allocation beyond
//! the output string.

use std::fmt::Write as _;

/// Appends `s` to `out`, escaped for HTML text and double-quoted attribute
/// values. Control characters other than tab and newline become U+FFFD so the
/// output stays well-formed XML as well as HTML.
pub fn esc_into(out: &mut String, s: &str) {
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let rep = match c {
            '&' => "&amp;",
            '<' => "&lt;",
            '>' => "&gt;",
            '"' => "&quot;",
            '\'' => "&#39;",
            '\t' | '\n' => continue,
            c if c.is_control() => "\u{FFFD}",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        out.push_str(rep);
        start = i + c.len_utf8();
    }
    out.push_str(&s[start..]);
}

/// `s` escaped for HTML text and attribute values.
#[cfg(test)]
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    esc_into(&mut out, s);
    out
}

/// Characters of an identifier safe to put in an `id` attribute or fragment:
/// ASCII alphanumerics, `-`, `_` and `.`; anything else becomes `_` followed by
/// its code point in hex, so distinct names keep distinct anchors.
pub fn anchor(prefix: &str, s: &str) -> String {
    let mut out = String::with_capacity(prefix.len() + s.len() + 1);
    out.push_str(prefix);
    out.push('-');
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
            out.push(c);
        } else {
            let _ = write!(out, "_{:x}", u32::from(c));
        }
    }
    out
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (H. Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

/// Broken-down UTC time of a µs timestamp.
struct Civil {
    y: i64,
    mo: u32,
    d: u32,
    h: i64,
    mi: i64,
    s: i64,
    us: i64,
}

fn civil(us: i64) -> Civil {
    let secs = us.div_euclid(1_000_000);
    let frac = us.rem_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, mo, d) = civil_from_days(days);
    Civil {
        y,
        mo,
        d,
        h: sod / 3600,
        mi: sod % 3600 / 60,
        s: sod % 60,
        us: frac,
    }
}

/// `2026-11-28 13:14:31 UTC`.
pub fn datetime(us: i64) -> String {
    let c = civil(us);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        c.y, c.mo, c.d, c.h, c.mi, c.s
    )
}

/// `2026-11-28 13:14:31.644` (milliseconds, for connection rows).
pub fn datetime_ms(us: i64) -> String {
    let c = civil(us);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}",
        c.y,
        c.mo,
        c.d,
        c.h,
        c.mi,
        c.s,
        c.us / 1000
    )
}

/// `2026-11-28` (dates of certificate validity).
pub fn date(us: i64) -> String {
    let c = civil(us);
    format!("{:04}-{:02}-{:02}", c.y, c.mo, c.d)
}

/// Axis label: `13:14:31` when `with_seconds`, `13:14` otherwise; with the
/// date in front (`11-28 13:14`) when `with_date`.
pub fn axis_label(us: i64, with_date: bool, with_seconds: bool) -> String {
    let c = civil(us);
    let mut out = String::with_capacity(14);
    if with_date {
        let _ = write!(out, "{:02}-{:02} ", c.mo, c.d);
    }
    let _ = write!(out, "{:02}:{:02}", c.h, c.mi);
    if with_seconds {
        let _ = write!(out, ":{:02}", c.s);
    }
    out
}

/// A duration in words: `2 min 9 s`, `3 h 5 min`, `12 days`.
pub fn duration(us: i64) -> String {
    let s = us.max(0) / 1_000_000;
    if s < 1 {
        format!("{} ms", us.max(0) / 1000)
    } else if s < 60 {
        format!("{s} s")
    } else if s < 3600 {
        format!("{} min {} s", s / 60, s % 60)
    } else if s < 86_400 {
        format!("{} h {} min", s / 3600, s % 3600 / 60)
    } else {
        format!("{} days {} h", s / 86_400, s % 86_400 / 3600)
    }
}

/// Appends `lead` and "from A to B (D)" for a span of µs timestamps
/// (first, last), the two times in bold when `bold`; nothing when the span
/// is empty (first after last, as a fold over no rows leaves it).
pub fn span_into(out: &mut String, lead: &str, span: (i64, i64), bold: bool) {
    if span.0 > span.1 {
        return;
    }
    let (open, close) = if bold { ("<b>", "</b>") } else { ("", "") };
    let _ = write!(
        out,
        "{lead}from {open}{}{close} to {open}{}{close} ({})",
        datetime(span.0),
        datetime(span.1),
        duration(span.1 - span.0)
    );
}

/// A byte count for people: `0 B`, `912 B`, `4.2 kB`, `17.0 MB`.
pub fn bytes(n: i64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if n.abs() < 1000 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1000.0;
    let mut unit = "kB";
    for u in UNITS.iter().skip(1) {
        if v.abs() < 1000.0 {
            break;
        }
        v /= 1000.0;
        unit = u;
    }
    format!("{v:.1} {unit}")
}

/// The value of `key` in an RFC 4514 distinguished name string
/// (`CN=x,O=y`), first occurrence; escaped commas are not split.
pub fn dn_attr<'a>(dn: &'a str, key: &str) -> Option<&'a str> {
    let mut start = 0;
    let bytes = dn.as_bytes();
    let mut i = 0;
    let mut parts: Vec<&str> = Vec::new();
    while i < bytes.len() {
        match bytes.get(i) {
            Some(b'\\') => i += 2,
            Some(b',') => {
                parts.push(dn.get(start..i).unwrap_or(""));
                start = i + 1;
                i += 1;
            }
            _ => i += 1,
        }
    }
    parts.push(dn.get(start..).unwrap_or(""));
    parts.into_iter().find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.trim().eq_ignore_ascii_case(key).then_some(v.trim())
    })
}

/// A short display name for an issuer DN: its CN, else its O, else the DN.
pub fn short_dn(dn: &str) -> &str {
    dn_attr(dn, "CN")
        .or_else(|| dn_attr(dn, "O"))
        .filter(|s| !s.is_empty())
        .unwrap_or(dn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_quotes_and_controls() {
        assert_eq!(
            esc("<script>alert(\"x\" & 'y')</script>"),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;"
        );
        assert_eq!(esc("bänk.例え.test"), "bänk.例え.test");
        assert_eq!(esc("a\u{0}b\u{1b}c"), "a\u{FFFD}b\u{FFFD}c");
        assert_eq!(esc(""), "");
    }

    #[test]
    fn anchors_are_safe_and_distinct() {
        assert_eq!(anchor("n", "www.a-b.test"), "n-www.a-b.test");
        let a = anchor("n", "a\"><script>");
        assert!(a
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)));
        assert_ne!(anchor("n", "a_b"), anchor("n", "a b"));
    }

    #[test]
    fn formats_utc_times() {
        // 2026-11-28T13:14:31.644814Z
        let t = 1_795_871_671_644_814;
        assert_eq!(datetime(t), "2026-11-28 13:14:31 UTC");
        assert_eq!(datetime_ms(t), "2026-11-28 13:14:31.644");
        assert_eq!(date(t), "2026-11-28");
        assert_eq!(axis_label(t, true, true), "11-28 13:14:31");
        assert_eq!(datetime(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(datetime(-1), "1969-12-31 23:59:59 UTC");
        assert_eq!(date(951_782_400_000_000), "2000-02-29");
    }

    #[test]
    fn durations_and_dns() {
        assert_eq!(duration(129_000_000), "2 min 9 s");
        assert_eq!(duration(500), "0 ms");
        let mut s = String::new();
        span_into(&mut s, ", ", (0, 129_000_000), true);
        assert_eq!(
            s,
            ", from <b>1970-01-01 00:00:00 UTC</b> to <b>1970-01-01 00:02:09 UTC</b> (2 min 9 s)"
        );
        let before = s.clone();
        span_into(&mut s, ", ", (i64::MAX, i64::MIN), true);
        assert_eq!(s, before, "an empty span adds nothing");
        assert_eq!(bytes(912), "912 B");
        assert_eq!(bytes(4_200), "4.2 kB");
        assert_eq!(bytes(17_000_000), "17.0 MB");
        assert_eq!(
            dn_attr("CN=Contoso\\, Inc CA,O=Contoso", "cn"),
            Some("Contoso\\, Inc CA")
        );
        assert_eq!(short_dn("O=mitmproxy,CN=mitmproxy"), "mitmproxy");
        assert_eq!(short_dn("O=Only Org"), "Only Org");
        assert_eq!(short_dn("weird"), "weird");
    }
}
