//! Distinguished names to strings: RFC 4514 order and escaping, OpenSSL's
//! `-nameopt RFC2253` attribute names.
//!
//! Input: an `x509_parser::x509::X509Name`. Output: `CN=leaf,O=Org,C=US`
//! (last RDN first, `,` between RDNs, `+` inside a multi-valued RDN). This is
//! the form the corpus manifests and `openssl x509 -nameopt RFC2253` print,
//! so names compare as strings across tools. UTF-8 is kept as is (RFC 4514
//! §2.4 allows it); control characters are escaped as `\XX`. Values that are
//! not a known string type are written `#` + hex of their DER (§2.4).

use x509_parser::x509::{AttributeTypeAndValue, X509Name};

/// The short name OpenSSL prints for an attribute type, or `None` for dotted form.
fn attribute_short_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.4" => "SN",
        "2.5.4.5" => "serialNumber",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "street",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.12" => "title",
        "2.5.4.13" => "description",
        "2.5.4.15" => "businessCategory",
        "2.5.4.17" => "postalCode",
        "2.5.4.41" => "name",
        "2.5.4.42" => "GN",
        "2.5.4.43" => "initials",
        "2.5.4.44" => "generationQualifier",
        "2.5.4.46" => "dnQualifier",
        "2.5.4.65" => "pseudonym",
        "2.5.4.97" => "organizationIdentifier",
        "0.9.2342.19200300.100.1.1" => "UID",
        "0.9.2342.19200300.100.1.25" => "DC",
        "1.2.840.113549.1.9.1" => "emailAddress",
        "1.3.6.1.4.1.311.60.2.1.1" => "jurisdictionL",
        "1.3.6.1.4.1.311.60.2.1.2" => "jurisdictionST",
        "1.3.6.1.4.1.311.60.2.1.3" => "jurisdictionC",
        _ => return None,
    })
}

/// Decodes a directory string value (X.520 string types), `None` if it is
/// not a string type or its bytes do not decode.
pub(crate) fn decode_string(tag: u32, data: &[u8]) -> Option<String> {
    match tag {
        // UTF8String, NumericString, PrintableString, IA5String, VisibleString.
        12 | 18 | 19 | 22 | 26 => std::str::from_utf8(data).ok().map(str::to_owned),
        // TeletexString: in practice Latin-1.
        20 => Some(data.iter().map(|&b| char::from(b)).collect()),
        // BMPString: UTF-16BE.
        30 => {
            if data.len() % 2 != 0 {
                return None;
            }
            let units = data
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]));
            char::decode_utf16(units)
                .collect::<Result<String, _>>()
                .ok()
        }
        // UniversalString: UTF-32BE.
        28 => {
            if data.len() % 4 != 0 {
                return None;
            }
            data.chunks_exact(4)
                .map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
                .collect()
        }
        _ => None,
    }
}

/// The decoded string of an attribute value, if it is a string.
pub(crate) fn attribute_string(attr: &AttributeTypeAndValue<'_>) -> Option<String> {
    let value = attr.attr_value();
    decode_string(value.header.tag().0, value.data)
}

/// RFC 4514 §2.4 escaping of one attribute value.
fn escape_value(value: &str, out: &mut String) {
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        match c {
            ',' | '+' | '"' | '\\' | '<' | '>' | ';' => {
                out.push('\\');
                out.push(c);
            }
            '#' if i == 0 => out.push_str("\\#"),
            ' ' if i == 0 || i == last => out.push_str("\\ "),
            c if u32::from(c) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\{:02X}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
}

/// `#` + hex of the value's DER encoding (RFC 4514 §2.4), for non-strings.
fn hex_value(attr: &AttributeTypeAndValue<'_>, out: &mut String) {
    let value = attr.attr_value();
    let header = &value.header;
    let class_bits: u8 = match header.class() {
        x509_parser::asn1_rs::Class::Universal => 0x00,
        x509_parser::asn1_rs::Class::Application => 0x40,
        x509_parser::asn1_rs::Class::ContextSpecific => 0x80,
        x509_parser::asn1_rs::Class::Private => 0xc0,
    };
    let constructed: u8 = if header.constructed() { 0x20 } else { 0 };
    out.push('#');
    if let Ok(tag) = u8::try_from(header.tag().0) {
        if tag < 31 {
            let mut encoded = vec![class_bits | constructed | tag];
            let len = value.data.len();
            if len < 0x80 {
                encoded.push(u8::try_from(len).unwrap_or(0));
            } else {
                let be = len.to_be_bytes();
                let skip = be.iter().take_while(|&&b| b == 0).count();
                let len_bytes = be.get(skip..).unwrap_or(&[]);
                encoded.push(0x80 | u8::try_from(len_bytes.len()).unwrap_or(0));
                encoded.extend_from_slice(len_bytes);
            }
            encoded.extend_from_slice(value.data);
            out.push_str(&hex::encode(encoded));
            return;
        }
    }
    out.push_str(&hex::encode(value.data));
}

/// Formats a name as RFC 4514 (last RDN first).
pub(crate) fn format_name(name: &X509Name<'_>) -> String {
    let mut out = String::new();
    let rdns: Vec<_> = name.iter_rdn().collect();
    for (i, rdn) in rdns.iter().rev().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, attr) in rdn.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            let oid = attr.attr_type().to_id_string();
            let short = attribute_short_name(&oid);
            out.push_str(short.unwrap_or(&oid));
            out.push('=');
            match (short, attribute_string(attr)) {
                (Some(_), Some(s)) => escape_value(&s, &mut out),
                _ => hex_value(attr, &mut out),
            }
        }
    }
    out
}

/// The most specific (last in DER order) common name, decoded.
pub(crate) fn common_name(name: &X509Name<'_>) -> Option<String> {
    name.iter_common_name().filter_map(attribute_string).last()
}

#[cfg(test)]
mod tests {
    use super::*;
    use x509_parser::prelude::FromDer;

    /// One attribute: OID content bytes, string tag, value.
    type Atv<'a> = (&'a [u8], u8, &'a [u8]);

    /// DER Name from RDNs of attributes.
    fn name_der(rdns: &[&[Atv<'_>]]) -> Vec<u8> {
        fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
            let mut v = vec![tag, u8::try_from(content.len()).unwrap()];
            v.extend_from_slice(content);
            v
        }
        let mut seq = Vec::new();
        for rdn in rdns {
            let mut set = Vec::new();
            for (oid, tag, value) in rdn.iter() {
                let mut atv = tlv(0x06, oid);
                atv.extend(tlv(*tag, value));
                set.extend(tlv(0x30, &atv));
            }
            seq.extend(tlv(0x31, &set));
        }
        tlv(0x30, &seq)
    }

    const CN: &[u8] = &[0x55, 0x04, 0x03];
    const O: &[u8] = &[0x55, 0x04, 0x0a];
    const C: &[u8] = &[0x55, 0x04, 0x06];
    const OU: &[u8] = &[0x55, 0x04, 0x0b];

    #[test]
    fn rfc4514_order_escaping_and_multivalue() {
        let der = name_der(&[
            &[(C, 19, b"US")],
            &[(O, 12, b"Acme, Inc.")],
            &[(OU, 12, b"a"), (OU, 12, b"b")],
            &[(CN, 12, b" #lead+trail ")],
        ]);
        let (_, name) = X509Name::from_der(&der).unwrap();
        assert_eq!(
            format_name(&name),
            "CN=\\ #lead\\+trail\\ ,OU=a+OU=b,O=Acme\\, Inc.,C=US"
        );
        assert_eq!(common_name(&name).as_deref(), Some(" #lead+trail "));
        let der = name_der(&[&[(O, 12, b"#1;<a>\"q\"\\")]]);
        let (_, name) = X509Name::from_der(&der).unwrap();
        assert_eq!(format_name(&name), "O=\\#1\\;\\<a\\>\\\"q\\\"\\\\");
    }

    #[test]
    fn string_types_and_unknown_attributes() {
        let bmp = [0x00, 0x41, 0x00, 0xe9];
        let der = name_der(&[
            &[(CN, 30, &bmp)],
            &[(&[0x2a, 0x03], 12, b"x")],
            &[(O, 4, b"\x01\x02")],
            &[(CN, 12, b"ctl\x01")],
        ]);
        let (_, name) = X509Name::from_der(&der).unwrap();
        assert_eq!(
            format_name(&name),
            "CN=ctl\\01,O=#04020102,1.2.3=#0c0178,CN=A\u{e9}"
        );
        assert_eq!(common_name(&name).as_deref(), Some("ctl\u{1}"));
        assert_eq!(decode_string(28, &[0, 0, 0, 0x41]).as_deref(), Some("A"));
        assert_eq!(decode_string(30, &[0xd8, 0x00]), None);
        assert_eq!(decode_string(20, &[0xe9]).as_deref(), Some("\u{e9}"));
    }
}
