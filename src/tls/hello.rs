//! ClientHello and ServerHello decoding (RFC 8446 §4.1.2-4.1.3, RFC 5246
//! §7.4.1) from one complete handshake message body, and the SSLv2-compatible
//! ClientHello (RFC 6101 appendix E.2, draft-hickman SSLv2 §2.5).
//!
//! In: the body of a handshake message (after its 4-byte header), or a whole
//! SSLv2 record. Out: owned [`ClientHello`] / [`ServerHello`] with raw values
//! (GREASE kept, in wire order), ready for JA3/JA4. Leaves out: key shares,
//! ECH contents, anything a fingerprint or the report does not use.

use super::{ClientHello, ServerHello};
use crate::bytes::be16;

/// Extension type codes used here (IANA "TLS ExtensionType Values").
pub(crate) const EXT_SNI: u16 = 0x0000;
pub(crate) const EXT_GROUPS: u16 = 0x000a;
pub(crate) const EXT_EC_POINT_FORMATS: u16 = 0x000b;
pub(crate) const EXT_SIG_ALGS: u16 = 0x000d;
pub(crate) const EXT_ALPN: u16 = 0x0010;
pub(crate) const EXT_SESSION_TICKET: u16 = 0x0023;
pub(crate) const EXT_PRE_SHARED_KEY: u16 = 0x0029;
pub(crate) const EXT_SUPPORTED_VERSIONS: u16 = 0x002b;
/// encrypted_client_hello (draft-ietf-tls-esni-22 §11.1).
pub(crate) const EXT_ECH: u16 = 0xfe0d;

/// ServerHello.random of a HelloRetryRequest: SHA-256("HelloRetryRequest"),
/// RFC 8446 §4.1.3.
pub(crate) const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// Cap on extensions kept per hello: a real hello has about 20.
const MAX_EXTENSIONS: usize = 512;

/// One raw extension: type and its full TLV bytes (header included).
struct RawExt<'a> {
    ty: u16,
    tlv: &'a [u8],
}

/// Walks the extension block by hand: tls-parser's `parse_tls_extensions`
/// fails the whole list when one known extension is malformed and maps
/// unknown codes into an enum, while JA3/JA4 need every type code, in wire
/// order, GREASE included, even when a later extension is damaged.
/// Returns the extensions and whether the block was truncated or malformed.
fn walk_extensions(mut b: &[u8]) -> (Vec<RawExt<'_>>, bool) {
    let mut out = Vec::new();
    while !b.is_empty() {
        if out.len() >= MAX_EXTENSIONS {
            return (out, true);
        }
        let (Some(ty), Some(len)) = (be16(b, 0), be16(b, 2)) else {
            return (out, true);
        };
        let end = 4usize.saturating_add(usize::from(len));
        let Some(tlv) = b.get(..end) else {
            return (out, true);
        };
        out.push(RawExt { ty, tlv });
        b = b.get(end..).unwrap_or(&[]);
    }
    (out, false)
}

fn ext_data<'a>(e: &RawExt<'a>) -> &'a [u8] {
    e.tlv.get(4..).unwrap_or(&[])
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn parse_alpn(data: &[u8]) -> Vec<String> {
    match tls_parser::parse_tls_extension_alpn_content(data) {
        Ok((_, tls_parser::TlsExtension::ALPN(v))) => v.iter().map(|p| lossy(p)).collect(),
        _ => Vec::new(),
    }
}

fn parse_supported_versions(tlv: &[u8]) -> Vec<u16> {
    match tls_parser::parse_tls_extension_supported_versions(tlv) {
        Ok((_, tls_parser::TlsExtension::SupportedVersions(v))) => v.iter().map(|x| x.0).collect(),
        _ => Vec::new(),
    }
}

/// Decodes a ClientHello body. `None` when its fixed part is malformed; a
/// damaged extension block still yields the extensions before the damage
/// (and sets `truncated_extensions`).
pub(crate) fn parse_client_hello(body: &[u8]) -> Option<ClientHello> {
    let (_, ch) = tls_parser::parse_tls_handshake_client_hello(body).ok()?;
    let mut out = ClientHello {
        legacy_version: ch.version.0,
        random: <[u8; 32]>::try_from(ch.random).unwrap_or([0; 32]),
        ciphers: ch.ciphers.iter().map(|c| c.0).collect(),
        session_id_len: ch
            .session_id
            .map_or(0, |s| u8::try_from(s.len()).unwrap_or(u8::MAX)),
        session_id: ch.session_id.map(<[u8]>::to_vec).unwrap_or_default(),
        compression: ch.comp.iter().map(|c| c.0).collect(),
        ..ClientHello::default()
    };
    let (exts, bad) = walk_extensions(ch.ext.unwrap_or(&[]));
    out.truncated_extensions = bad;
    for e in &exts {
        out.extensions.push(e.ty);
        let data = ext_data(e);
        match e.ty {
            EXT_SNI => {
                if let Ok((_, tls_parser::TlsExtension::SNI(v))) =
                    tls_parser::parse_tls_extension_sni_content(data)
                {
                    out.sni = v
                        .iter()
                        .find(|(t, _)| t.0 == 0)
                        .map(|(_, name)| lossy(name));
                }
                out.has_sni_ext = true;
            }
            EXT_ALPN => out.alpn = parse_alpn(data),
            EXT_GROUPS => {
                if let Ok((_, tls_parser::TlsExtension::EllipticCurves(v))) =
                    tls_parser::parse_tls_extension_elliptic_curves_content(data)
                {
                    out.groups = v.iter().map(|g| g.0).collect();
                }
            }
            EXT_EC_POINT_FORMATS => {
                if let Ok((_, tls_parser::TlsExtension::EcPointFormats(v))) =
                    tls_parser::parse_tls_extension_ec_point_formats_content(data)
                {
                    out.ec_point_formats = v.to_vec();
                }
            }
            EXT_SIG_ALGS => {
                if let Ok((_, tls_parser::TlsExtension::SignatureAlgorithms(v))) =
                    tls_parser::parse_tls_extension_signature_algorithms_content(data)
                {
                    out.sig_algs = v;
                }
            }
            EXT_SUPPORTED_VERSIONS => out.supported_versions = parse_supported_versions(e.tlv),
            EXT_SESSION_TICKET => out.has_session_ticket = true,
            EXT_PRE_SHARED_KEY => out.psk = true,
            EXT_ECH => out.ech = Some(parse_ech(data)),
            _ => {}
        }
    }
    Some(out)
}

/// The clear fields of an ECHClientHello (draft-ietf-tls-esni-22 §5):
/// type, then for an outer hello the HPKE cipher suite and config_id. A
/// truncated extension keeps what was readable.
fn parse_ech(data: &[u8]) -> super::Ech {
    let outer = data.first() == Some(&0);
    super::Ech {
        outer,
        kdf_id: be16(data, 1).filter(|_| outer),
        aead_id: be16(data, 3).filter(|_| outer),
        config_id: data.get(5).copied().filter(|_| outer),
    }
}

/// Decodes a ServerHello (or HelloRetryRequest) body.
///
/// By hand rather than with tls-parser's `parse_tls_handshake_msg_server_hello`:
/// that one rejects any legacy_version other than SSL 3.0-TLS 1.2 and draft 18,
/// while middleboxes and old drafts send others and we still want the cipher.
pub(crate) fn parse_server_hello(body: &[u8]) -> Option<ServerHello> {
    let legacy_version = be16(body, 0)?;
    let random = body.get(2..34)?;
    // Before draft 22, the TLS 1.3 ServerHello had no session id and
    // carried the real version (0x7f0e, or 0x0304 itself) in legacy_version.
    if (0x7f00..=0x7f15).contains(&legacy_version) || legacy_version == 0x0304 {
        return parse_draft_server_hello(body, legacy_version);
    }
    let sid_len = usize::from(*body.get(34)?);
    if sid_len > 32 {
        return None;
    }
    let sid_end = 35usize.checked_add(sid_len)?;
    let session_id = body.get(35..sid_end)?.to_vec();
    let cipher = be16(body, sid_end)?;
    let compression = *body.get(sid_end.checked_add(2)?)?;
    let ext_at = sid_end.checked_add(3)?;
    let mut out = ServerHello {
        legacy_version,
        cipher,
        session_id,
        compression,
        is_hello_retry: random == HRR_RANDOM,
        ..ServerHello::default()
    };
    fill_server_extensions(&mut out, body, ext_at);
    Some(out)
}

/// ServerHello of TLS 1.3 drafts before 22: version, random, cipher,
/// extensions; no session id or compression (draft-ietf-tls-tls13-18 §4.1.3).
fn parse_draft_server_hello(body: &[u8], version: u16) -> Option<ServerHello> {
    let cipher = be16(body, 34)?;
    let mut out = ServerHello {
        legacy_version: version,
        selected_version: Some(version),
        cipher,
        ..ServerHello::default()
    };
    fill_server_extensions(&mut out, body, 36);
    Some(out)
}

fn fill_server_extensions(out: &mut ServerHello, body: &[u8], ext_at: usize) {
    if let Some(ext_len) = be16(body, ext_at) {
        let start = ext_at.saturating_add(2);
        let end = start.saturating_add(usize::from(ext_len));
        let block = match body.get(start..end) {
            Some(b) => b,
            None => {
                out.truncated_extensions = true;
                body.get(start..).unwrap_or(&[])
            }
        };
        let (exts, bad) = walk_extensions(block);
        out.truncated_extensions |= bad;
        for e in &exts {
            out.extensions.push(e.ty);
            match e.ty {
                EXT_SUPPORTED_VERSIONS => {
                    out.selected_version = parse_supported_versions(e.tlv).first().copied();
                }
                EXT_ALPN => out.alpn = parse_alpn(ext_data(e)).into_iter().next(),
                EXT_PRE_SHARED_KEY => out.psk = true,
                _ => {}
            }
        }
    }
}

/// Decodes an SSLv2-compatible ClientHello record (2-byte header with the
/// high bit set). tls-parser has no SSLv2 support, hence by hand.
/// Only cipher specs whose first byte is 0 map onto TLS suites (RFC 5246
/// appendix E.2); the others (SSLv2-only kinds) are kept in `sslv2_ciphers`.
pub(crate) fn parse_sslv2_client_hello(rec: &[u8]) -> Option<ClientHello> {
    let b0 = *rec.first()?;
    if b0 & 0x80 == 0 {
        return None;
    }
    let len = usize::from(u16::from_be_bytes([b0 & 0x7f, *rec.get(1)?]));
    let msg = rec.get(2..2usize.checked_add(len)?)?;
    if *msg.first()? != 1 {
        return None;
    }
    let version = be16(msg, 1)?;
    let cs_len = usize::from(be16(msg, 3)?);
    let sid_len = usize::from(be16(msg, 5)?);
    let ch_len = usize::from(be16(msg, 7)?);
    if cs_len % 3 != 0 {
        return None;
    }
    let specs = msg.get(9..9usize.checked_add(cs_len)?)?;
    let rest = 9usize
        .checked_add(cs_len)?
        .checked_add(sid_len)?
        .checked_add(ch_len)?;
    msg.get(..rest)?;
    let mut out = ClientHello {
        legacy_version: version,
        sslv2: true,
        session_id_len: u8::try_from(sid_len).unwrap_or(u8::MAX),
        ..ClientHello::default()
    };
    for s in specs.chunks_exact(3) {
        if let [k, hi, lo] = *s {
            if k == 0 {
                out.ciphers.push(u16::from_be_bytes([hi, lo]));
            } else {
                out.sslv2_ciphers.push(u32::from_be_bytes([0, k, hi, lo]));
            }
        }
    }
    Some(out)
}

/// Plausible SSLv2 ClientHello header: high bit, type 1, version SSL 2.0-TLS 1.3.
pub(crate) fn looks_like_sslv2_hello(b: &[u8]) -> bool {
    matches!(
        (b.first(), b.get(2), b.get(3), b.get(4)),
        (Some(x), Some(1), Some(0 | 3), Some(_)) if x & 0x80 != 0
    )
}
