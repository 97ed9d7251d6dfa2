//! One DER certificate (RFC 5280 §4.1) to an owned [`CertInfo`].
//!
//! Input: the bytes of one certificate as a TLS Certificate message carries
//! it. Output: hashes over exactly those bytes, names (RFC 4514 strings),
//! validity in µs, SANs, key type/size/curve, signature algorithm (OpenSSL's
//! long names), basic constraints, key usages, key identifiers, and whether
//! OCSP, CRL and embedded SCTs are announced. Parsing never fails: bytes that
//! do not decode keep their hashes and carry `parse_error`.
//!
//! Left out: certificate policies, name constraints, SCT contents. RSA-PSS
//! keys and signatures are named but their hash parameters are not read.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use sha1::Digest as _;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{ExtendedKeyUsage, GeneralName, KeyUsage, ParsedExtension};
use x509_parser::oid_registry::{Oid, OID_PKCS1_RSASSAPSS};
use x509_parser::prelude::FromDer;
use x509_parser::public_key::RSAPublicKey;
use x509_parser::signature_algorithm::RsaSsaPssParams;
use x509_parser::x509::{AlgorithmIdentifier, SubjectPublicKeyInfo};

use super::der::{base64, contents, hex_lower, read_tlv, uint_bits};
use super::name::{common_name, format_name};

/// Summary of one certificate, owned, keyed by the SHA-256 of its DER.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertInfo {
    /// SHA-256 of the DER bytes, lowercase hex (the certificate's identity).
    pub sha256: String,
    /// SHA-1 of the DER bytes, lowercase hex (what older tools print).
    pub sha1: String,
    /// SHA-256 of the DER SubjectPublicKeyInfo, lowercase hex: the key's identity.
    pub spki_sha256: String,
    /// The same digest in base64, as an HPKP pin (RFC 7469 §2.4).
    pub spki_pin: String,
    /// Subject, RFC 4514 (`CN=host,O=Org,C=US`).
    pub subject: String,
    /// Issuer, RFC 4514.
    pub issuer: String,
    /// The subject's most specific common name.
    pub subject_cn: Option<String>,
    /// The issuer's most specific common name.
    pub issuer_cn: Option<String>,
    /// Serial number, lowercase hex, without leading zero octets.
    pub serial: String,
    /// Start of validity, µs since the Unix epoch (saturating).
    pub not_before: Option<i64>,
    /// End of validity, µs since the Unix epoch (saturating).
    pub not_after: Option<i64>,
    /// SAN dNSName entries, as encoded (not lowercased).
    pub san_dns: Vec<String>,
    /// SAN iPAddress entries, in `std::net` text form.
    pub san_ip: Vec<String>,
    /// Key type: "RSA", "RSA-PSS", "EC", "Ed25519", "Ed448", "DSA", ... or a dotted OID.
    pub key_algorithm: String,
    /// Key size in bits (RSA modulus, DSA p, EC field size).
    pub key_bits: Option<u32>,
    /// Named curve for EC keys: "P-256", "P-384", "P-521", ... or a dotted OID.
    pub curve: Option<String>,
    /// Signature algorithm, OpenSSL long name ("sha256WithRSAEncryption", "ecdsa-with-SHA256").
    pub signature_algorithm: String,
    /// Signed over MD2, MD4, MD5 or SHA-1, including RSASSA-PSS whose
    /// parameters name SHA-1 (or leave it as their default).
    pub weak_signature: bool,
    /// Basic constraints cA flag.
    pub is_ca: bool,
    /// Basic constraints pathLenConstraint.
    pub path_len: Option<u32>,
    /// Subject equals issuer and the signature verifies with the certificate's own key.
    pub self_signed: bool,
    /// Key usage bits by RFC 5280 name ("digitalSignature", "keyCertSign", ...).
    pub key_usage: Vec<String>,
    /// Extended key usages ("serverAuth", "clientAuth", ... or dotted OIDs).
    pub ext_key_usage: Vec<String>,
    /// Authority key identifier, lowercase hex.
    pub authority_key_id: Option<String>,
    /// Subject key identifier, lowercase hex.
    pub subject_key_id: Option<String>,
    /// Authority information access names an OCSP responder.
    pub has_ocsp: bool,
    /// CRL distribution points present.
    pub has_crl: bool,
    /// Embedded signed certificate timestamps (RFC 6962 §3.3) present.
    pub has_sct: bool,
    /// X.509 version: 1, 2 or 3 (0 when unparsable).
    pub version: u8,
    /// Why the DER did not parse (other fields then stay empty), or trailing bytes.
    pub parse_error: Option<String>,
}

/// What trust decisions need from one certificate, borrowed from its DER.
#[derive(Debug, Clone)]
pub(crate) struct Facts<'a> {
    /// Subject Name contents (without the SEQUENCE header), as webpki compares.
    pub subject: &'a [u8],
    /// Issuer Name contents.
    pub issuer: &'a [u8],
    /// SubjectPublicKeyInfo contents.
    pub spki: &'a [u8],
    /// Issuer, RFC 4514.
    pub issuer_text: String,
    /// Validity bounds, seconds since the epoch.
    pub not_before: i64,
    /// Validity end, seconds since the epoch.
    pub not_after: i64,
    /// Self-signed per [`CertInfo::self_signed`].
    pub self_signed: bool,
    /// Key type, as [`CertInfo::key_algorithm`].
    pub key_algorithm: String,
    /// Key size in bits, as [`CertInfo::key_bits`].
    pub key_bits: Option<u32>,
    /// The hash its signature was made over, by strength.
    pub sig_hash: SigHash,
    /// Authority key identifier bytes.
    pub aki: Option<&'a [u8]>,
    /// Subject key identifier bytes.
    pub ski: Option<&'a [u8]>,
    /// It says where its issuer's certificate can be fetched (Authority
    /// Information Access caIssuers, RFC 5280 §4.2.2.1), as browsers do when
    /// a server leaves the intermediate out, or it carries Certificate
    /// Transparency timestamps (RFC 6962 §3.3), which logs give only to
    /// chains under the public roots they accept.
    pub public_hint: bool,
}

impl<'a> Facts<'a> {
    /// Extracts the facts, `None` when the DER does not parse.
    pub(crate) fn parse(der: &'a [u8]) -> Option<Facts<'a>> {
        let (_, cert) = X509Certificate::from_der(der).ok()?;
        let tbs = &cert.tbs_certificate;
        let subject = contents(tbs.subject.as_raw())?;
        let issuer = contents(tbs.issuer.as_raw())?;
        let spki = contents(tbs.subject_pki.raw)?;
        let key = key_facts(cert.public_key());
        let sig = signature_name(&cert.signature_algorithm);
        let mut aki = None;
        let mut ski = None;
        let mut public_hint = false;
        for ext in cert.extensions() {
            match ext.parsed_extension() {
                ParsedExtension::AuthorityKeyIdentifier(a) => {
                    aki = a.key_identifier.as_ref().map(|k| k.0);
                }
                ParsedExtension::SubjectKeyIdentifier(k) => ski = Some(k.0),
                ParsedExtension::AuthorityInfoAccess(aia) => {
                    public_hint |= aia
                        .accessdescs
                        .iter()
                        .any(|d| d.access_method.to_id_string() == "1.3.6.1.5.5.7.48.2");
                }
                _ => {}
            }
            if ext.oid.to_id_string() == "1.3.6.1.4.1.11129.2.4.2" {
                public_hint = true;
            }
        }
        Some(Facts {
            subject,
            issuer,
            spki,
            issuer_text: format_name(cert.issuer()),
            not_before: cert.validity().not_before.timestamp(),
            not_after: cert.validity().not_after.timestamp(),
            self_signed: is_self_signed(&cert, aki, ski),
            sig_hash: signature_hash(&cert.signature_algorithm, &sig),
            key_algorithm: key.algorithm,
            key_bits: key.bits,
            aki,
            ski,
            public_hint,
        })
    }
}

impl Facts<'_> {
    /// The key is below what browsers accepted at `at_s` (seconds since the
    /// epoch): RSA and DSA of 1024 bits until [`RSA_1024_ACCEPTED_UNTIL`].
    pub(crate) fn weak_key_at(&self, at_s: i64) -> bool {
        match (self.key_algorithm.as_str(), self.key_bits) {
            ("RSA" | "RSA-PSS" | "DSA", Some(b)) if at_s < RSA_1024_ACCEPTED_UNTIL => b < 1024,
            _ => is_weak_key(&self.key_algorithm, self.key_bits),
        }
    }

    /// The signature's hash was refused by browsers at `at_s`: MD2/MD4/MD5
    /// always, SHA-1 from [`SHA1_ACCEPTED_UNTIL`] on.
    pub(crate) fn weak_signature_at(&self, at_s: i64) -> bool {
        match self.sig_hash {
            SigHash::Strong => false,
            SigHash::Sha1 => at_s >= SHA1_ACCEPTED_UNTIL,
            SigHash::Broken => true,
        }
    }
}

/// 2017-01-01T00:00:00Z: Firefox 51 and Chrome 56 (January 2017) stopped
/// accepting SHA-1 signatures on chains to public roots, as Mozilla's
/// security blog announced (2014-09-23, 2015-10-20, 2016-10-18).
pub(crate) const SHA1_ACCEPTED_UNTIL: i64 = 1_483_228_800;

/// 2014-01-01T00:00:00Z: the CA/Browser Forum Baseline Requirements made
/// 2048-bit RSA the minimum for certificates valid past 2013, and Mozilla
/// then removed its 1024-bit roots (Firefox 32 and 36, security blog
/// 2014-09-08). Before it, 1024-bit RSA keys were accepted.
pub(crate) const RSA_1024_ACCEPTED_UNTIL: i64 = 1_388_534_400;

/// A signature's hash by how long browsers accepted it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SigHash {
    /// SHA-2 or better, or a hash not known here.
    Strong,
    /// SHA-1: accepted until [`SHA1_ACCEPTED_UNTIL`].
    Sha1,
    /// MD2, MD4, MD5: collisions are practical.
    Broken,
}

/// Key algorithm, size and curve of a SubjectPublicKeyInfo.
struct KeyFacts {
    algorithm: String,
    bits: Option<u32>,
    curve: Option<String>,
}

fn key_facts(spki: &SubjectPublicKeyInfo<'_>) -> KeyFacts {
    let oid = spki.algorithm.algorithm.to_id_string();
    let key_data: &[u8] = &spki.subject_public_key.data;
    let params = spki.algorithm.parameters.as_ref();
    let (algorithm, bits, curve) = match oid.as_str() {
        "1.2.840.113549.1.1.1" | "1.2.840.113549.1.1.10" => {
            let bits = RSAPublicKey::from_der(key_data)
                .ok()
                .map(|(_, k)| uint_bits(k.modulus));
            let name = if oid.ends_with(".10") {
                "RSA-PSS"
            } else {
                "RSA"
            };
            (name.to_owned(), bits, None)
        }
        "1.2.840.10045.2.1" => {
            let curve_oid = params
                .filter(|p| p.header.tag().0 == 6)
                .map(|p| x509_parser::asn1_rs::Oid::new(p.data.into()).to_id_string());
            let (curve, bits) = match curve_oid.as_deref() {
                Some(c) => curve_name(c),
                None => (Some("explicit".to_owned()), None),
            };
            // Field size from the point when the curve is not known by name.
            let bits = bits.or_else(|| match key_data {
                [4, rest @ ..] if !rest.is_empty() => {
                    u32::try_from(rest.len().saturating_mul(4)).ok()
                }
                [2 | 3, rest @ ..] if !rest.is_empty() => {
                    u32::try_from(rest.len().saturating_mul(8)).ok()
                }
                _ => None,
            });
            ("EC".to_owned(), bits, curve)
        }
        "1.3.101.112" => ("Ed25519".to_owned(), Some(256), None),
        "1.3.101.113" => ("Ed448".to_owned(), Some(456), None),
        "1.3.101.110" => ("X25519".to_owned(), Some(256), None),
        "1.3.101.111" => ("X448".to_owned(), Some(448), None),
        "1.2.840.10040.4.1" => {
            // Dss-Parms ::= SEQUENCE { p, q, g } (RFC 3279 §2.3.2): size is that of p.
            let p_bits = params
                .and_then(|p| read_tlv(p.data))
                .filter(|p| p.tag == 0x02)
                .map(|p| uint_bits(p.content));
            let bits = p_bits.or_else(|| {
                read_tlv(key_data)
                    .filter(|y| y.tag == 0x02)
                    .map(|y| uint_bits(y.content))
            });
            ("DSA".to_owned(), bits, None)
        }
        "1.2.840.10046.2.1" => ("DH".to_owned(), None, None),
        "1.2.643.2.2.19" => ("GOST2001".to_owned(), Some(256), None),
        "1.2.643.7.1.1.1.1" => ("GOST2012-256".to_owned(), Some(256), None),
        "1.2.643.7.1.1.1.2" => ("GOST2012-512".to_owned(), Some(512), None),
        "2.16.840.1.101.3.4.3.17" => ("ML-DSA-44".to_owned(), None, None),
        "2.16.840.1.101.3.4.3.18" => ("ML-DSA-65".to_owned(), None, None),
        "2.16.840.1.101.3.4.3.19" => ("ML-DSA-87".to_owned(), None, None),
        _ => (oid.clone(), None, None),
    };
    KeyFacts {
        algorithm,
        bits,
        curve,
    }
}

/// Curve name and field size in bits for a named-curve OID (RFC 5480 §2.1.1.1).
fn curve_name(oid: &str) -> (Option<String>, Option<u32>) {
    let (name, bits) = match oid {
        "1.2.840.10045.3.1.1" => ("P-192", 192),
        "1.3.132.0.33" => ("P-224", 224),
        "1.2.840.10045.3.1.7" => ("P-256", 256),
        "1.3.132.0.34" => ("P-384", 384),
        "1.3.132.0.35" => ("P-521", 521),
        "1.3.132.0.10" => ("secp256k1", 256),
        "1.3.36.3.3.2.8.1.1.7" => ("brainpoolP256r1", 256),
        "1.3.36.3.3.2.8.1.1.11" => ("brainpoolP384r1", 384),
        "1.3.36.3.3.2.8.1.1.13" => ("brainpoolP512r1", 512),
        "1.2.156.10197.1.301" => ("SM2", 256),
        other => return (Some(other.to_owned()), None),
    };
    (Some(name.to_owned()), Some(bits))
}

/// OpenSSL's long name for a signature algorithm, or its dotted OID.
fn signature_name(alg: &AlgorithmIdentifier<'_>) -> String {
    let oid = alg.algorithm.to_id_string();
    let name = match oid.as_str() {
        "1.2.840.113549.1.1.2" => "md2WithRSAEncryption",
        "1.2.840.113549.1.1.3" => "md4WithRSAEncryption",
        "1.2.840.113549.1.1.4" => "md5WithRSAEncryption",
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption",
        "1.2.840.113549.1.1.10" => "rsassaPss",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption",
        "1.2.840.113549.1.1.14" => "sha224WithRSAEncryption",
        "1.3.14.3.2.3" => "md5WithRSA",
        "1.3.14.3.2.29" => "sha1WithRSA",
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1",
        "1.2.840.10045.4.3.1" => "ecdsa-with-SHA224",
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512",
        "1.2.840.10040.4.3" => "dsaWithSHA1",
        "2.16.840.1.101.3.4.3.1" => "dsa_with_SHA224",
        "2.16.840.1.101.3.4.3.2" => "dsa_with_SHA256",
        "1.3.101.112" => "ED25519",
        "1.3.101.113" => "ED448",
        "2.16.840.1.101.3.4.3.17" => "ML-DSA-44",
        "2.16.840.1.101.3.4.3.18" => "ML-DSA-65",
        "2.16.840.1.101.3.4.3.19" => "ML-DSA-87",
        "1.2.156.10197.1.501" => "SM2-with-SM3",
        _ => return oid,
    };
    name.to_owned()
}

/// `name` (from [`signature_name`]) is a weak signature by today's rules.
fn signature_is_weak(alg: &AlgorithmIdentifier<'_>, name: &str) -> bool {
    signature_hash(alg, name) != SigHash::Strong
}

/// The hash of a signature algorithm (`name` from [`signature_name`]).
/// RSASSA-PSS carries its hash in the parameters (RFC 4055 §3.1): absent
/// parameters, or a SEQUENCE that omits the hash, mean SHA-1. Parameters
/// that do not parse, or name a hash not known here, count as strong.
fn signature_hash(alg: &AlgorithmIdentifier<'_>, name: &str) -> SigHash {
    if alg.algorithm != OID_PKCS1_RSASSAPSS {
        return hash_strength(name);
    }
    let Some(params) = alg.parameters.as_ref() else {
        return SigHash::Sha1;
    };
    RsaSsaPssParams::try_from(params)
        .ok()
        .and_then(|p| hash_name(p.hash_algorithm_oid()))
        .map_or(SigHash::Strong, hash_strength)
}

/// The name of a hash algorithm OID, for [`hash_strength`].
fn hash_name(oid: &Oid<'_>) -> Option<&'static str> {
    Some(match oid.to_id_string().as_str() {
        "1.2.840.113549.2.2" => "md2",
        "1.2.840.113549.2.4" => "md4",
        "1.2.840.113549.2.5" => "md5",
        "1.3.14.3.2.26" => "sha1",
        "2.16.840.1.101.3.4.2.4" => "sha224",
        "2.16.840.1.101.3.4.2.1" => "sha256",
        "2.16.840.1.101.3.4.2.2" => "sha384",
        "2.16.840.1.101.3.4.2.3" => "sha512",
        _ => return None,
    })
}

/// The hash a signature or hash name (OpenSSL's long names) stands for.
fn hash_strength(name: &str) -> SigHash {
    let lower = name.to_ascii_lowercase();
    let names = |h: &&str| lower.starts_with(h) || lower.ends_with(h);
    if ["md2", "md4", "md5"].iter().any(names) {
        SigHash::Broken
    } else if names(&"sha1") || lower.ends_with("with-sha1") {
        SigHash::Sha1
    } else {
        SigHash::Strong
    }
}

/// RSA and DSA below 2048 bits, EC below 224 bits.
fn is_weak_key(algorithm: &str, bits: Option<u32>) -> bool {
    match (algorithm, bits) {
        ("RSA" | "RSA-PSS" | "DSA", Some(b)) => b < 2048,
        ("EC", Some(b)) => b < 224,
        _ => false,
    }
}

/// Subject equals issuer and the certificate's own key verifies its
/// signature. When the algorithm cannot be checked here (MD5, small RSA,
/// P-521), matching key identifiers (or none) stand in for the signature.
fn is_self_signed(cert: &X509Certificate<'_>, aki: Option<&[u8]>, ski: Option<&[u8]>) -> bool {
    if cert.subject().as_raw() != cert.issuer().as_raw() {
        return false;
    }
    match cert.verify_signature(None) {
        Ok(()) => true,
        Err(x509_parser::error::X509Error::SignatureVerificationError) => false,
        Err(_) => match (aki, ski) {
            (Some(a), Some(s)) => a == s,
            (Some(_), None) => false,
            (None, _) => true,
        },
    }
}

/// The key usage bits set, by RFC 5280 §4.2.1.3 name.
fn key_usage_names(ku: &KeyUsage) -> Vec<String> {
    let names = [
        (ku.digital_signature(), "digitalSignature"),
        (ku.non_repudiation(), "nonRepudiation"),
        (ku.key_encipherment(), "keyEncipherment"),
        (ku.data_encipherment(), "dataEncipherment"),
        (ku.key_agreement(), "keyAgreement"),
        (ku.key_cert_sign(), "keyCertSign"),
        (ku.crl_sign(), "cRLSign"),
        (ku.encipher_only(), "encipherOnly"),
        (ku.decipher_only(), "decipherOnly"),
    ];
    set_names(&names)
}

/// The extended key usages, by RFC 5280 §4.2.1.12 name, then any other
/// purpose as a dotted OID.
fn ext_key_usage_names(eku: &ExtendedKeyUsage<'_>) -> Vec<String> {
    let names = [
        (eku.server_auth, "serverAuth"),
        (eku.client_auth, "clientAuth"),
        (eku.code_signing, "codeSigning"),
        (eku.email_protection, "emailProtection"),
        (eku.time_stamping, "timeStamping"),
        (eku.ocsp_signing, "OCSPSigning"),
        (eku.any, "anyExtendedKeyUsage"),
    ];
    let mut out = set_names(&names);
    out.extend(eku.other.iter().map(|o| o.to_id_string()));
    out
}

/// The names whose flag is set, in order.
fn set_names(flags: &[(bool, &str)]) -> Vec<String> {
    flags
        .iter()
        .filter(|(set, _)| *set)
        .map(|(_, n)| (*n).to_owned())
        .collect()
}

fn to_us(seconds: i64) -> i64 {
    seconds.saturating_mul(1_000_000)
}

fn ip_text(bytes: &[u8]) -> Option<String> {
    if let Ok(v4) = <[u8; 4]>::try_from(bytes) {
        return Some(IpAddr::V4(Ipv4Addr::from(v4)).to_string());
    }
    if let Ok(v6) = <[u8; 16]>::try_from(bytes) {
        return Some(IpAddr::V6(Ipv6Addr::from(v6)).to_string());
    }
    None
}

impl CertInfo {
    /// Parses one DER certificate. Never fails: unparsable input keeps
    /// `sha256`/`sha1` and sets `parse_error`; bytes after a certificate that
    /// parsed fill every field and set `parse_error` too.
    pub fn parse(der: &[u8]) -> CertInfo {
        let mut info = CertInfo {
            sha256: hex_lower(&sha2::Sha256::digest(der)),
            sha1: hex_lower(&sha1::Sha1::digest(der)),
            ..CertInfo::default()
        };
        let (rest, cert) = match X509Certificate::from_der(der) {
            Ok(ok) => ok,
            Err(e) => {
                info.parse_error = Some(format!("certificate does not parse: {e}"));
                return info;
            }
        };
        if !rest.is_empty() {
            info.parse_error = Some(format!("{} bytes after the certificate", rest.len()));
        }
        info.fill(&cert);
        info
    }

    /// Fills every field but the DER's hashes from a parsed certificate.
    fn fill(&mut self, cert: &X509Certificate<'_>) {
        self.fill_identity(cert);
        let key = key_facts(cert.public_key());
        self.key_algorithm = key.algorithm;
        self.key_bits = key.bits;
        self.curve = key.curve;
        self.signature_algorithm = signature_name(&cert.signature_algorithm);
        self.weak_signature =
            signature_is_weak(&cert.signature_algorithm, &self.signature_algorithm);
        self.version = u8::try_from(cert.version().0.saturating_add(1)).unwrap_or(u8::MAX);
        let (aki, ski) = self.fill_extensions(cert);
        self.authority_key_id = aki.map(hex_lower);
        self.subject_key_id = ski.map(hex_lower);
        self.self_signed = is_self_signed(cert, aki, ski);
    }

    /// Key hashes, names, serial and validity.
    fn fill_identity(&mut self, cert: &X509Certificate<'_>) {
        let spki_digest = sha2::Sha256::digest(cert.public_key().raw);
        self.spki_sha256 = hex_lower(&spki_digest);
        self.spki_pin = base64(&spki_digest);
        self.subject = format_name(cert.subject());
        self.issuer = format_name(cert.issuer());
        self.subject_cn = common_name(cert.subject());
        self.issuer_cn = common_name(cert.issuer());
        let serial = cert.raw_serial();
        let skip = serial
            .iter()
            .take_while(|&&b| b == 0)
            .count()
            .min(serial.len().saturating_sub(1));
        self.serial = hex_lower(serial.get(skip..).unwrap_or(serial));
        self.not_before = Some(to_us(cert.validity().not_before.timestamp()));
        self.not_after = Some(to_us(cert.validity().not_after.timestamp()));
    }

    /// The extensions' fields (RFC 5280 §4.2); returns the authority and
    /// subject key identifiers, which self-signature needs too.
    fn fill_extensions<'a>(
        &mut self,
        cert: &'a X509Certificate<'_>,
    ) -> (Option<&'a [u8]>, Option<&'a [u8]>) {
        let mut aki = None;
        let mut ski = None;
        for ext in cert.extensions() {
            match ext.parsed_extension() {
                ParsedExtension::SubjectAlternativeName(san) => {
                    for gn in &san.general_names {
                        self.add_san(gn);
                    }
                }
                ParsedExtension::BasicConstraints(bc) => {
                    self.is_ca = bc.ca;
                    self.path_len = bc.path_len_constraint;
                }
                ParsedExtension::KeyUsage(ku) => self.key_usage = key_usage_names(ku),
                ParsedExtension::ExtendedKeyUsage(eku) => {
                    self.ext_key_usage = ext_key_usage_names(eku);
                }
                ParsedExtension::AuthorityKeyIdentifier(a) => {
                    aki = a.key_identifier.as_ref().map(|k| k.0);
                }
                ParsedExtension::SubjectKeyIdentifier(k) => ski = Some(k.0),
                ParsedExtension::AuthorityInfoAccess(aia) => {
                    self.has_ocsp = aia
                        .accessdescs
                        .iter()
                        .any(|d| d.access_method.to_id_string() == "1.3.6.1.5.5.7.48.1");
                }
                ParsedExtension::CRLDistributionPoints(points) => {
                    self.has_crl = !points.points.is_empty();
                }
                _ => {}
            }
            // Embedded SCT list (RFC 6962 §3.3), whether or not it parsed.
            if ext.oid.to_id_string() == "1.3.6.1.4.1.11129.2.4.2" {
                self.has_sct = true;
            }
        }
        (aki, ski)
    }

    /// One subjectAltName entry: DNS names and IP addresses are kept.
    fn add_san(&mut self, gn: &GeneralName<'_>) {
        match gn {
            GeneralName::DNSName(d) => self.san_dns.push((*d).to_owned()),
            GeneralName::IPAddress(ip) => {
                // A SAN iPAddress is 4 or 16 octets (RFC 5280 §4.2.1.6);
                // other lengths are kept visible as hex.
                let text = ip_text(ip).unwrap_or_else(|| format!("#{}", hex_lower(ip)));
                self.san_ip.push(text);
            }
            _ => {}
        }
    }

    /// The key is below the accepted size: RSA/DSA < 2048 bits, EC < 224 bits.
    pub fn has_weak_key(&self) -> bool {
        is_weak_key(&self.key_algorithm, self.key_bits)
    }

    /// Signed with MD2, MD4, MD5 or SHA-1.
    pub fn has_weak_signature(&self) -> bool {
        self.weak_signature
    }

    /// `at_us` (µs since the epoch) is inside the validity period (both ends included).
    pub fn is_valid_at(&self, at_us: i64) -> bool {
        matches!((self.not_before, self.not_after), (Some(b), Some(a)) if b <= at_us && at_us <= a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::x509::fixtures::{self, pem_certs};

    /// Values printed by `openssl x509 -text -noout -nameopt RFC2253` (OpenSSL 3.0).
    #[test]
    fn corpus_leaf_fields_match_openssl() {
        let ecdsa = CertInfo::parse(&pem_certs(fixtures::API_SHOP_ECDSA)[0]);
        assert_eq!(ecdsa.parse_error, None);
        assert_eq!(
            ecdsa.sha256,
            "a2a94d1c85acd12ecb89fc36f8f58986d3c2aa09ee3490b25bfd463606df58fa"
        );
        assert_eq!(
            ecdsa.spki_sha256,
            "3643bb612e1c85c36ef286412db06327304be8df422666de441d28c50dca612b"
        );
        assert_eq!(ecdsa.subject, "CN=api.shop.test");
        assert_eq!(
            ecdsa.issuer,
            "CN=Example TLS Issuing CA R3,O=Example Trust Services,C=US"
        );
        assert_eq!(ecdsa.subject_cn.as_deref(), Some("api.shop.test"));
        assert_eq!(
            ecdsa.issuer_cn.as_deref(),
            Some("Example TLS Issuing CA R3")
        );
        assert_eq!(ecdsa.serial, "4fbd29935b2f28369d3135df1b3f6cc3a9580db2");
        assert_eq!(ecdsa.key_algorithm, "EC");
        assert_eq!(ecdsa.key_bits, Some(256));
        assert_eq!(ecdsa.curve.as_deref(), Some("P-256"));
        assert_eq!(ecdsa.signature_algorithm, "sha256WithRSAEncryption");
        assert_eq!(ecdsa.san_dns, ["api.shop.test"]);
        assert_eq!(ecdsa.key_usage, ["digitalSignature"]);
        assert_eq!(ecdsa.ext_key_usage, ["serverAuth"]);
        assert!(!ecdsa.is_ca && !ecdsa.self_signed);
        assert_eq!(ecdsa.version, 3);
        // notBefore=Oct 14 13:14:19 2026 GMT, notAfter=Oct 14 13:14:19 2027 GMT
        assert_eq!(ecdsa.not_before, Some(1_791_983_659_000_000));
        assert_eq!(ecdsa.not_after, Some(1_823_519_659_000_000));

        let rsa = CertInfo::parse(&pem_certs(fixtures::API_SHOP_RSA)[0]);
        assert_eq!(
            (rsa.key_algorithm.as_str(), rsa.key_bits),
            ("RSA", Some(2048))
        );
        assert_eq!(rsa.curve, None);
        assert_eq!(rsa.key_usage, ["digitalSignature", "keyEncipherment"]);
        // Dual certificates: same names, different keys.
        assert_eq!(rsa.subject, ecdsa.subject);
        assert_ne!(rsa.spki_sha256, ecdsa.spki_sha256);

        let wildcard = CertInfo::parse(&pem_certs(fixtures::MEDIA_WILDCARD)[0]);
        assert_eq!(wildcard.key_bits, Some(3072));
        assert_eq!(wildcard.san_dns, ["*.media.test", "media.test"]);

        let root = CertInfo::parse(&pem_certs(fixtures::TRUST_ANCHORS)[0]);
        assert_eq!(root.key_bits, Some(4096));
        assert!(root.is_ca && root.self_signed);
        assert_eq!(root.path_len, None);
        assert_eq!(root.key_usage, ["keyCertSign", "cRLSign"]);
        let issuing = CertInfo::parse(&pem_certs(fixtures::ISSUING_CA)[0]);
        assert!(issuing.is_ca && !issuing.self_signed);
        assert_eq!(issuing.path_len, Some(0));
        assert_eq!(issuing.ext_key_usage, ["serverAuth", "clientAuth"]);
        assert_eq!(issuing.subject_key_id, ecdsa.authority_key_id);

        let mitm = CertInfo::parse(&pem_certs(fixtures::MITMPROXY_CA)[0]);
        assert_eq!(mitm.subject, "O=mitmproxy,CN=mitmproxy");
        assert_eq!(
            mitm.sha256,
            "ad6772925e5cbf0750339dcc6ba84c48fa9305481b6ce5e60d5abf33e0f65b73"
        );
        assert_eq!(
            mitm.spki_sha256,
            "b5c0829b182b2a3c7154e5381cc54dc16e65881770bbd648e47db7c9d1759a5c"
        );
        let contoso = CertInfo::parse(&pem_certs(fixtures::CORP_PROXY_CA)[0]);
        assert_eq!(
            contoso.subject,
            "CN=Contoso Corp TLS Inspection CA,OU=IT Security,O=Contoso Ltd,C=US"
        );

        let localhost = CertInfo::parse(&pem_certs(fixtures::LOCALHOST_SELF)[0]);
        assert!(localhost.self_signed && !localhost.is_ca);
        assert_eq!(localhost.signature_algorithm, "ecdsa-with-SHA256");
        let printer = CertInfo::parse(&pem_certs(fixtures::PRINTER_SELF)[0]);
        assert!(printer.self_signed);

        // notBefore inclusive, notAfter inclusive (RFC 5280 §4.1.2.5).
        assert!(ecdsa.is_valid_at(1_791_983_659_000_000));
        assert!(ecdsa.is_valid_at(1_823_519_659_000_000));
        assert!(!ecdsa.is_valid_at(1_791_983_658_999_999));
        assert!(!ecdsa.is_valid_at(1_823_519_659_000_001));
        assert!(!CertInfo::default().is_valid_at(0));
    }

    #[test]
    fn key_and_signature_of_every_fixture_match_openssl() {
        // Generated from `openssl x509 -noout -text` (OpenSSL 3.0) over every
        // certificate in testdata/x509: (sha256, key algorithm, bits, curve, signature).
        type KeyRow = (
            &'static str,
            &'static str,
            Option<u32>,
            Option<&'static str>,
            &'static str,
        );
        const OPENSSL_KEYS: &[KeyRow] = &[
            (
                "da4dc6ce6584fb882a5bf938fed625cc2351cf2bdc8c2633711e2b16870d0af3",
                "RSA",
                Some(2048),
                None,
                "sha256WithRSAEncryption",
            ), // corpus/s01-legacy-expired-chain.pem
            (
                "932f4c490e94fd2e25bc3c1f572ee5a92d946b5eb2cc8e6770ec7a29a7f0ecab",
                "RSA",
                Some(2048),
                None,
                "sha256WithRSAEncryption",
            ), // corpus/s01-legacy-expired-chain.pem
            (
                "19e6e2edc7ba7e6db4d2f4730b44b88618a971545e87a4fb0ca20e38a930279a",
                "RSA",
                Some(2048),
                None,
                "sha256WithRSAEncryption",
            ), // corpus/s01-www-bank-chain.pem
            (
                "e7d7901537cef2e8da4af58ee5b25a1a41561fb42cf71d1af7eb5fb3551f518e",
                "RSA",
                Some(2048),
                None,
                "sha256WithRSAEncryption",
            ), // corpus/s02-mitmproxy-forged-leaf.pem
            (
                "aec90006d5b42f81326aa7c2e6b3852648ee6e9904eae5496b621f719d554fec",
                "RSA",
                Some(2048),
                None,
                "sha256WithRSAEncryption",
            ), // corpus/s03-sslsplit-forged-chain.pem
            (
                "3d2011f7e671c4dfb892a85e920650a22b1e395ad75ab7f986376fc5bc700e01",
                "RSA",
                Some(2048),
                None,
                "sha256WithRSAEncryption",
            ), // corpus/s03-sslsplit-forged-chain.pem
            (
                "aa48b21009c69a81d6a67260835c9825980ecc60e25ff5c3c2f81cf87966a525",
                "RSA",
                Some(2048),
                None,
                "sha256WithRSAEncryption",
            ), // pki/interceptors/corp-proxy-ca.pem
            (
                "ad6772925e5cbf0750339dcc6ba84c48fa9305481b6ce5e60d5abf33e0f65b73",
                "RSA",
                Some(2048),
                None,
                "sha256WithRSAEncryption",
            ), // pki/interceptors/mitmproxy-ca.pem
            (
                "a2a94d1c85acd12ecb89fc36f8f58986d3c2aa09ee3490b25bfd463606df58fa",
                "EC",
                Some(256),
                Some("P-256"),
                "sha256WithRSAEncryption",
            ), // pki/leaf/api-shop-ecdsa.pem
            (
                "95cc4279fb9fb237b5042b345b3c4b19e07dca1e6f86123b5750a7dbd40cf07a",
                "RSA",
                Some(2048),
                None,
                "sha256WithRSAEncryption",
            ), // pki/leaf/api-shop-rsa.pem
            (
                "1c63945ea7c124f5086930017d23132e804fa4af6fdc99fd684e95c2340d20cf",
                "EC",
                Some(256),
                Some("P-256"),
                "ecdsa-with-SHA256",
            ), // pki/leaf/localhost-self.pem
            (
                "302a67303defef75853edd06241f65d059c1ec6a38a7551f2674e0bde54f0c54",
                "RSA",
                Some(2048),
                None,
                "sha256WithRSAEncryption",
            ), // pki/leaf/mail-corp.pem
            (
                "9c82fee2fe78b57f193e722aedff3e0a838f35254a328fd9ad11834996ee7386",
                "RSA",
                Some(3072),
                None,
                "sha256WithRSAEncryption",
            ), // pki/leaf/media-wildcard.pem
            (
                "74320c8bad928131c76f208bacd2f80295b37be66f4fddb3cfde51c5ad829469",
                "RSA",
                Some(2048),
                None,
                "sha256WithRSAEncryption",
            ), // pki/leaf/printer-self.pem
            (
                "d6b014336bfc4e59493a048e48c096f332ce0fdd0aecd8eb3f446a26a844bdea",
                "RSA",
                Some(2048),
                None,
                "sha256WithRSAEncryption",
            ), // pki/leaf/status-old.pem
            (
                "ed20b6e5490500ff5a0c3e3f4d5a956881cd2d05526612c4f842e5d523956f8c",
                "RSA",
                Some(2048),
                None,
                "sha256WithRSAEncryption",
            ), // pki/leaf/status-renewed.pem
            (
                "52c37ebd9bbf91c8bba4af4808f67f16fb2bbf97fb330d482345988473c36fac",
                "RSA",
                Some(2048),
                None,
                "sha256WithRSAEncryption",
            ), // pki/leaf/www-shop-lb-a.pem
            (
                "eb6504e22ef4dc1f25a4c404d9e6cb3ff0ca376dfae636c81ad7c6dd4a65bb9a",
                "RSA",
                Some(2048),
                None,
                "sha256WithRSAEncryption",
            ), // pki/leaf/www-shop-lb-b.pem
            (
                "91abdb84da004bd58c5b001d5da2ed24da5288be2e30361880f775dd31ad9ca4",
                "RSA",
                Some(4096),
                None,
                "sha256WithRSAEncryption",
            ), // pki/trust-anchors.pem
            (
                "ee623e2c2700fe20dd9fb1ac6ed5203ac7573490b531c8b8e9b6b48d3ddf5b8b",
                "RSA",
                Some(2048),
                None,
                "sha1WithRSAEncryption",
            ), // public/zeek-chrome-34-google.pem
            (
                "a047a37fa2d2e118a4f5095fe074d6cfe0e352425a7632bf8659c03919a6c81d",
                "RSA",
                Some(2048),
                None,
                "sha1WithRSAEncryption",
            ), // public/zeek-chrome-34-google.pem
            (
                "3c35cc963eb004451323d3275d05b353235053490d9cd83729a2faf5e7ca1cc0",
                "RSA",
                Some(2048),
                None,
                "sha1WithRSAEncryption",
            ), // public/zeek-chrome-34-google.pem
            (
                "11db6d4f6e4df14cec874b9d4a306c64c282dacbd479788ee0510b2c99382dc4",
                "EC",
                Some(384),
                Some("P-384"),
                "ecdsa-with-SHA256",
            ), // public/zeek-ecdsa-cert.pem
            (
                "7e32368e24a2cc48d3d29e883b260e40ceda22af97189c78fc5b928484e9a010",
                "EC",
                Some(256),
                Some("P-256"),
                "ecdsa-with-SHA384",
            ), // public/zeek-ecdsa-cert.pem
            (
                "611101252cfd5bd2a7d2a1ffa2751106edeb29a98d1991d41986d39ae1742da9",
                "RSA",
                Some(2048),
                None,
                "sha256WithRSAEncryption",
            ), // public/zeek-missing-intermediate-flow0.pem
            (
                "b2e802a12cf20c0c3ad57e74c489c2cbb569de829c18257795a47fdcefc97ba3",
                "RSA",
                Some(2048),
                None,
                "sha256WithRSAEncryption",
            ), // public/zeek-missing-intermediate-flow1.pem
            (
                "93a07898d89b2cca166ba6f1f8a14138ce43828e491b831926bc8247d391cc72",
                "RSA",
                Some(2048),
                None,
                "sha256WithRSAEncryption",
            ), // public/zeek-missing-intermediate-flow1.pem
            (
                "2ce1cb0bf9d2f9e102993fbe215152c3b2dd0cabde1c68e5319b839154dbb7f5",
                "RSA",
                Some(2048),
                None,
                "sha256WithRSAEncryption",
            ), // public/zeek-missing-intermediate-flow1.pem
            (
                "fd95785a038018dccb84cd816602920a1e010d8acd9ce63407aa68440f595758",
                "ML-DSA-44",
                None,
                None,
                "ML-DSA-44",
            ), // OpenSSL 3.0 prints the OID; // public/zeek-ml-dsa-44-cert.pem
            (
                "0f64bf515588056e441dcafde861fdcebef52a707595167ac8a1d005288a9949",
                "RSA",
                Some(2048),
                None,
                "sha256WithRSAEncryption",
            ), // synthetic/weak-root.pem
            (
                "5aac92f56fa57628d2df9088c3c4c11d0a921d62c16a0daefda4a75fc2bca544",
                "RSA",
                Some(1024),
                None,
                "sha256WithRSAEncryption",
            ), // synthetic/weak-rsa1024-leaf.pem
            (
                "f3c4ea45018d38b98c07d5e7063c1d95ea035ad50ddf13fa4918078737f934a6",
                "RSA",
                Some(2048),
                None,
                "sha1WithRSAEncryption",
            ), // synthetic/weak-sha1-leaf.pem
            (
                "f32b4121c46280eece6909f86eb9624469838102a0af5d40bac311e7ec127287",
                "RSA",
                Some(2048),
                None,
                "rsassaPss",
            ), // synthetic/weak-pss-sha1-self.pem
            (
                "2048d467cd2100de363040d8c75a3d0ea733a8b6e208ffda52c9f64cf2f195ec",
                "RSA",
                Some(2048),
                None,
                "rsassaPss",
            ), // synthetic/pss-sha256-self.pem
        ];
        let mut seen = 0;
        for pem in fixtures::ALL {
            for der in pem_certs(pem) {
                let info = CertInfo::parse(&der);
                let Some(row) = OPENSSL_KEYS.iter().find(|r| r.0 == info.sha256) else {
                    panic!("no openssl row for {}", info.sha256);
                };
                let got = (
                    info.key_algorithm.as_str(),
                    info.key_bits,
                    info.curve.as_deref(),
                    info.signature_algorithm.as_str(),
                );
                assert_eq!(got, (row.1, row.2, row.3, row.4), "{}", info.sha256);
                seen += 1;
            }
        }
        assert!(seen >= OPENSSL_KEYS.len());
    }

    #[test]
    fn names_and_serial_of_every_fixture_match_openssl() {
        // Generated from `openssl x509 -noout -subject -issuer -serial -nameopt RFC2253`
        // (OpenSSL 3.0) over every certificate in testdata/x509: (sha256, subject, issuer, serial).
        const OPENSSL_NAMES: &[(&str, &str, &str, &str)] = &[
        ("da4dc6ce6584fb882a5bf938fed625cc2351cf2bdc8c2633711e2b16870d0af3", "CN=legacy.corp.test", "CN=Example TLS Issuing CA R3,O=Example Trust Services,C=US", "62a8182df4923162077f75fc1008aedde6fc4f4b"),
        ("932f4c490e94fd2e25bc3c1f572ee5a92d946b5eb2cc8e6770ec7a29a7f0ecab", "CN=Example TLS Issuing CA R3,O=Example Trust Services,C=US", "CN=Example Public Root CA R1,O=Example Trust Services,C=US", "40d84234a9fb3f1d4b3e96ef914accf077d312dc"),
        ("19e6e2edc7ba7e6db4d2f4730b44b88618a971545e87a4fb0ca20e38a930279a", "CN=www.example-bank.test", "CN=Example TLS Issuing CA R3,O=Example Trust Services,C=US", "3b0c2251eaba9133f03aab5ca799279aa0b2cadc"),
        ("e7d7901537cef2e8da4af58ee5b25a1a41561fb42cf71d1af7eb5fb3551f518e", "CN=www.example-bank.test", "O=mitmproxy,CN=mitmproxy", "07da4c659b1db35e77536ae44234128ec09eea6b"),
        ("aec90006d5b42f81326aa7c2e6b3852648ee6e9904eae5496b621f719d554fec", "CN=www.example-bank.test", "CN=SSLsplit Root CA,O=SSLsplit Root CA", "3b0c2251eaba9133f03aab5ca799279ab82ee9c4"),
        ("3d2011f7e671c4dfb892a85e920650a22b1e395ad75ab7f986376fc5bc700e01", "CN=SSLsplit Root CA,O=SSLsplit Root CA", "CN=SSLsplit Root CA,O=SSLsplit Root CA", "5ae18330f54de5d554e65a98d6d60c089453bd48"),
        ("aa48b21009c69a81d6a67260835c9825980ecc60e25ff5c3c2f81cf87966a525", "CN=Contoso Corp TLS Inspection CA,OU=IT Security,O=Contoso Ltd,C=US", "CN=Contoso Corp TLS Inspection CA,OU=IT Security,O=Contoso Ltd,C=US", "1f5015b2fa670f28c6548e4302c69f53a70d3c5a"),
        ("ad6772925e5cbf0750339dcc6ba84c48fa9305481b6ce5e60d5abf33e0f65b73", "O=mitmproxy,CN=mitmproxy", "O=mitmproxy,CN=mitmproxy", "3911610f1cbd73d477845d642c96e95f659389b2"),
        ("a2a94d1c85acd12ecb89fc36f8f58986d3c2aa09ee3490b25bfd463606df58fa", "CN=api.shop.test", "CN=Example TLS Issuing CA R3,O=Example Trust Services,C=US", "4fbd29935b2f28369d3135df1b3f6cc3a9580db2"),
        ("95cc4279fb9fb237b5042b345b3c4b19e07dca1e6f86123b5750a7dbd40cf07a", "CN=api.shop.test", "CN=Example TLS Issuing CA R3,O=Example Trust Services,C=US", "5a6a698bce3f6e1b66bd541fa6b3025555faf6fd"),
        ("1c63945ea7c124f5086930017d23132e804fa4af6fdc99fd684e95c2340d20cf", "CN=localhost", "CN=localhost", "521694a407eda9de479e7702bf2b2f6a429ec9d3"),
        ("302a67303defef75853edd06241f65d059c1ec6a38a7551f2674e0bde54f0c54", "CN=mail.corp.test", "CN=Example TLS Issuing CA R3,O=Example Trust Services,C=US", "698008cfdc3cbbfe2b91b60d4baa226815403ac3"),
        ("9c82fee2fe78b57f193e722aedff3e0a838f35254a328fd9ad11834996ee7386", "CN=*.media.test", "CN=Example TLS Issuing CA R3,O=Example Trust Services,C=US", "5a846c67065da711566db8883c1047964de48d47"),
        ("74320c8bad928131c76f208bacd2f80295b37be66f4fddb3cfde51c5ad829469", "CN=printer.lan.test", "CN=printer.lan.test", "697ef99ff6ff75ec84b2d636949325466b1c4778"),
        ("d6b014336bfc4e59493a048e48c096f332ce0fdd0aecd8eb3f446a26a844bdea", "CN=status.shop.test", "CN=Example TLS Issuing CA R3,O=Example Trust Services,C=US", "6f8d8e1750362ae28c2649f32aba73d508002e1f"),
        ("ed20b6e5490500ff5a0c3e3f4d5a956881cd2d05526612c4f842e5d523956f8c", "CN=status.shop.test", "CN=Example TLS Issuing CA R3,O=Example Trust Services,C=US", "179ee25ef8feac4e657328b62f07cebec8b828d4"),
        ("52c37ebd9bbf91c8bba4af4808f67f16fb2bbf97fb330d482345988473c36fac", "CN=www.shop.test", "CN=Example TLS Issuing CA R3,O=Example Trust Services,C=US", "158863334fbdcae96fb82ff58a7c4fa8d4aac5ff"),
        ("eb6504e22ef4dc1f25a4c404d9e6cb3ff0ca376dfae636c81ad7c6dd4a65bb9a", "CN=www.shop.test", "CN=Example TLS Issuing CA R3,O=Example Trust Services,C=US", "72e1f463ae54c22064413ac87ec60f215676c966"),
        ("91abdb84da004bd58c5b001d5da2ed24da5288be2e30361880f775dd31ad9ca4", "CN=Example Public Root CA R1,O=Example Trust Services,C=US", "CN=Example Public Root CA R1,O=Example Trust Services,C=US", "2ee3ca440b46a8996479887665ae76e80e50b1a5"),
        ("ee623e2c2700fe20dd9fb1ac6ed5203ac7573490b531c8b8e9b6b48d3ddf5b8b", "CN=*.google.de,O=Google Inc,L=Mountain View,ST=California,C=US", "CN=Google Internet Authority G2,O=Google Inc,C=US", "5f16e91e8e863f49"),
        ("a047a37fa2d2e118a4f5095fe074d6cfe0e352425a7632bf8659c03919a6c81d", "CN=Google Internet Authority G2,O=Google Inc,C=US", "CN=GeoTrust Global CA,O=GeoTrust Inc.,C=US", "023a69"),
        ("3c35cc963eb004451323d3275d05b353235053490d9cd83729a2faf5e7ca1cc0", "CN=GeoTrust Global CA,O=GeoTrust Inc.,C=US", "OU=Equifax Secure Certificate Authority,O=Equifax,C=US", "12bbe6"),
        ("11db6d4f6e4df14cec874b9d4a306c64c282dacbd479788ee0510b2c99382dc4", "CN=pantz.org,OU=PositiveSSL,OU=Domain Control Validated", "CN=COMODO ECC Domain Validation Secure Server CA,O=COMODO CA Limited,L=Salford,ST=Greater Manchester,C=GB", "f0afbbf558bf4d1b71fed9cb33793ee4"),
        ("7e32368e24a2cc48d3d29e883b260e40ceda22af97189c78fc5b928484e9a010", "CN=COMODO ECC Domain Validation Secure Server CA,O=COMODO CA Limited,L=Salford,ST=Greater Manchester,C=GB", "CN=COMODO ECC Certification Authority,O=COMODO CA Limited,L=Salford,ST=Greater Manchester,C=GB", "510601e63b50673c55ee4e19da304ca8"),
        ("611101252cfd5bd2a7d2a1ffa2751106edeb29a98d1991d41986d39ae1742da9", "CN=www.cviis.org,OU=Domain Control Validated", "CN=Starfield Secure Certificate Authority - G2,OU=http://certs.starfieldtech.com/repository/,O=Starfield Technologies\\, Inc.,L=Scottsdale,ST=Arizona,C=US", "2b24aae3f69783"),
        ("b2e802a12cf20c0c3ad57e74c489c2cbb569de829c18257795a47fdcefc97ba3", "CN=valid.sfig2.catest.starfieldtech.com,O=Starfield Technologies\\, LLC,L=Scottsdale,ST=Arizona,C=US,serialNumber=R-1724741-6,businessCategory=Private Organization,jurisdictionST=Arizona,jurisdictionC=US", "CN=Starfield Secure Certificate Authority - G2,OU=http://certs.starfieldtech.com/repository/,O=Starfield Technologies\\, Inc.,L=Scottsdale,ST=Arizona,C=US", "195736"),
        ("93a07898d89b2cca166ba6f1f8a14138ce43828e491b831926bc8247d391cc72", "CN=Starfield Secure Certificate Authority - G2,OU=http://certs.starfieldtech.com/repository/,O=Starfield Technologies\\, Inc.,L=Scottsdale,ST=Arizona,C=US", "CN=Starfield Root Certificate Authority - G2,O=Starfield Technologies\\, Inc.,L=Scottsdale,ST=Arizona,C=US", "07"),
        ("2ce1cb0bf9d2f9e102993fbe215152c3b2dd0cabde1c68e5319b839154dbb7f5", "CN=Starfield Root Certificate Authority - G2,O=Starfield Technologies\\, Inc.,L=Scottsdale,ST=Arizona,C=US", "CN=Starfield Root Certificate Authority - G2,O=Starfield Technologies\\, Inc.,L=Scottsdale,ST=Arizona,C=US", "00"),
        ("fd95785a038018dccb84cd816602920a1e010d8acd9ce63407aa68440f595758", "CN=ml-dsa.example.com,O=PQC-Test,C=US", "CN=ml-dsa.example.com,O=PQC-Test,C=US", "6cc93d07602ec79cfd5201b425d1a93c7023197f"),
        ("0f64bf515588056e441dcafde861fdcebef52a707595167ac8a1d005288a9949", "CN=certsift weak-test root,O=certsift test", "CN=certsift weak-test root,O=certsift test", "01"),
        ("5aac92f56fa57628d2df9088c3c4c11d0a921d62c16a0daefda4a75fc2bca544", "CN=rsa1024.weak.test", "CN=certsift weak-test root,O=certsift test", "02"),
        ("f3c4ea45018d38b98c07d5e7063c1d95ea035ad50ddf13fa4918078737f934a6", "CN=sha1.weak.test", "CN=certsift weak-test root,O=certsift test", "03"),
        ("f32b4121c46280eece6909f86eb9624469838102a0af5d40bac311e7ec127287", "CN=pss-sha1.weak.test,O=certsift test", "CN=pss-sha1.weak.test,O=certsift test", "1b6dc876e3367583266d5c906ba7628f839f0d75"),
        ("2048d467cd2100de363040d8c75a3d0ea733a8b6e208ffda52c9f64cf2f195ec", "CN=pss-sha256.test,O=certsift test", "CN=pss-sha256.test,O=certsift test", "2196031b780d7d2aad09322d975747096c25f063"),
    ];
        for pem in fixtures::ALL {
            for der in pem_certs(pem) {
                let info = CertInfo::parse(&der);
                let Some(row) = OPENSSL_NAMES.iter().find(|r| r.0 == info.sha256) else {
                    panic!("no openssl row for {}", info.sha256);
                };
                let got = (
                    info.subject.as_str(),
                    info.issuer.as_str(),
                    info.serial.as_str(),
                );
                assert_eq!(got, (row.1, row.2, row.3), "{}", info.sha256);
            }
        }
    }

    #[test]
    fn every_index_hash_matches() {
        for (pem, sha) in fixtures::GENUINE {
            assert_eq!(CertInfo::parse(&pem_certs(pem)[0]).sha256, *sha);
        }
    }

    /// Public certificates from zeek's test traces, against `openssl x509 -text`.
    #[test]
    fn public_certificates_match_openssl() {
        let chain = pem_certs(fixtures::ZEEK_ECDSA_CERT);
        let leaf = CertInfo::parse(&chain[0]);
        assert_eq!(leaf.subject_cn.as_deref(), Some("pantz.org"));
        assert_eq!(
            leaf.subject,
            "CN=pantz.org,OU=PositiveSSL,OU=Domain Control Validated"
        );
        assert_eq!(
            (leaf.key_bits, leaf.curve.as_deref()),
            (Some(384), Some("P-384"))
        );
        assert_eq!(leaf.signature_algorithm, "ecdsa-with-SHA256");
        assert!(leaf.has_ocsp && leaf.has_crl);
        let ca = CertInfo::parse(&chain[1]);
        assert_eq!(
            (ca.key_bits, ca.curve.as_deref()),
            (Some(256), Some("P-256"))
        );
        assert_eq!(ca.signature_algorithm, "ecdsa-with-SHA384");

        let google = pem_certs(fixtures::ZEEK_CHROME34_GOOGLE);
        let leaf = CertInfo::parse(&google[0]);
        assert_eq!(leaf.signature_algorithm, "sha1WithRSAEncryption");
        assert!(leaf.has_weak_signature());
        assert!(leaf.san_dns.iter().any(|d| d == "*.google.de"));
        assert_eq!(leaf.key_bits, Some(2048));

        let pq = CertInfo::parse(&pem_certs(fixtures::ZEEK_ML_DSA)[0]);
        assert_eq!(pq.parse_error, None);
        assert_eq!(pq.key_algorithm, "ML-DSA-44");
        assert_eq!(pq.signature_algorithm, "ML-DSA-44");
    }

    #[test]
    fn truncations_and_garbage_set_parse_error() {
        let der = &pem_certs(fixtures::WWW_BANK)[0];
        for n in 0..der.len() {
            let info = CertInfo::parse(&der[..n]);
            assert!(info.parse_error.is_some(), "truncated at {n}");
            assert_eq!(info.sha256.len(), 64);
            assert_eq!(info.sha1.len(), 40);
        }
        let mut with_tail = der.clone();
        with_tail.extend_from_slice(b"xx");
        let info = CertInfo::parse(&with_tail);
        assert_eq!(
            info.parse_error.as_deref(),
            Some("2 bytes after the certificate")
        );
        assert_eq!(info.subject, "CN=www.example-bank.test");
        // Deterministic pseudo-random bytes, and single-byte corruptions.
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for len in [0usize, 1, 2, 3, 10, 100, 1000, 5000] {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state.to_le_bytes()[0]
                })
                .collect();
            let _ = CertInfo::parse(&bytes);
        }
        for i in 0..der.len() {
            let mut bad = der.clone();
            bad[i] ^= 0xff;
            let _ = CertInfo::parse(&bad);
        }
    }

    /// RSASSA-PSS names its hash in the parameters: SHA-1 when they leave it
    /// to the default, as `openssl req -sha1 -sigopt rsa_padding_mode:pss` does.
    #[test]
    fn pss_signature_weak_by_its_parameters() {
        for (pem, weak) in [
            (fixtures::WEAK_PSS_SHA1_SELF, true),
            (fixtures::PSS_SHA256_SELF, false),
        ] {
            let der = &pem_certs(pem)[0];
            let info = CertInfo::parse(der);
            assert_eq!(info.parse_error, None);
            assert_eq!(info.signature_algorithm, "rsassaPss");
            assert_eq!(info.key_algorithm, "RSA");
            assert_eq!(info.has_weak_signature(), weak, "{}", info.subject);
            let today = 1_700_000_000;
            assert_eq!(
                Facts::parse(der).map(|f| f.weak_signature_at(today)),
                Some(weak)
            );
        }
    }

    #[test]
    fn weak_key_and_signature_rules() {
        assert!(is_weak_key("RSA", Some(1024)));
        assert!(!is_weak_key("RSA", Some(2048)));
        assert!(is_weak_key("EC", Some(192)));
        assert!(!is_weak_key("Ed25519", Some(256)));
        for weak in [
            "md5WithRSAEncryption",
            "sha1WithRSAEncryption",
            "sha1WithRSA",
            "ecdsa-with-SHA1",
            "dsaWithSHA1",
            "md2WithRSAEncryption",
        ] {
            assert_ne!(hash_strength(weak), SigHash::Strong, "{weak}");
        }
        for strong in ["sha256WithRSAEncryption", "ecdsa-with-SHA384", "ED25519"] {
            assert_eq!(hash_strength(strong), SigHash::Strong, "{strong}");
        }
        assert_eq!(hash_strength("md5WithRSAEncryption"), SigHash::Broken);
        assert_eq!(hash_strength("ecdsa-with-SHA1"), SigHash::Sha1);
    }

    /// SHA-1 was weak from 2017 on, RSA-1024 from 2014 on, MD5 always.
    #[test]
    fn weakness_at_the_time_of_the_flow() {
        let sha1 = pem_certs(fixtures::HISTORY_SHA1_LEAF);
        let f = Facts::parse(&sha1[0]).unwrap();
        assert!(!f.weak_signature_at(SHA1_ACCEPTED_UNTIL - 1));
        assert!(f.weak_signature_at(SHA1_ACCEPTED_UNTIL));
        assert!(!f.weak_key_at(0));
        let small = pem_certs(fixtures::HISTORY_RSA1024_LEAF);
        let f = Facts::parse(&small[0]).unwrap();
        assert!(!f.weak_key_at(RSA_1024_ACCEPTED_UNTIL - 1));
        assert!(f.weak_key_at(RSA_1024_ACCEPTED_UNTIL));
        assert!(!f.weak_signature_at(i64::MAX));
        // The cutoffs are the days they name.
        assert_eq!(
            crate::x509::parse_day("2017-01-01"),
            Some(SHA1_ACCEPTED_UNTIL)
        );
        assert_eq!(
            crate::x509::parse_day("2014-01-01"),
            Some(RSA_1024_ACCEPTED_UNTIL)
        );
    }
}
