#!/usr/bin/env python3
"""Writes x509 fuzz seeds that the test certificates lack, so libFuzzer does
not have to find them byte by byte: every key and signature algorithm the
parsers know (DSA, RSA with SHA-256/384/512 and PSS, ECDSA on P-256, P-384,
P-521 and secp256k1 with SHA-256/384/512, Ed25519, Ed448; SHA-1 signatures
are in the test certificates, `cryptography` will not make them), issuers
of one algorithm signing subjects of another, and the extensions that steer
path building (name
constraints, policies, policy constraints, inhibitAnyPolicy, path length,
key usage, EKU, SAN of every general-name kind, AIA, CRL distribution points,
an unknown critical extension). Each chain is written once joined by the x509
target's separator and each certificate alone.

Needs python3 with `cryptography` (>= 41). Keys are generated and thrown
away, so every run writes different bytes; the committed seeds are one run.

    python3 fuzz/make_x509_seeds.py
"""

import datetime
import hashlib
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "x509")
SEP = b"\xff\x00CHAIN"
# The x509 target validates at 2023-11-14; most seeds are valid then.
NB = datetime.datetime(2023, 1, 1, tzinfo=datetime.timezone.utc)
NA = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


def put(data):
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "s-" + hashlib.sha1(data).hexdigest()[:14]), "wb") as f:
        f.write(data)


def key(kind):
    return {
        "rsa2048": lambda: rsa.generate_private_key(65537, 2048),
        "rsa1024": lambda: rsa.generate_private_key(65537, 1024),
        "rsa3072e3": lambda: rsa.generate_private_key(3, 3072),
        "dsa2048": lambda: dsa.generate_private_key(2048),
        "dsa1024": lambda: dsa.generate_private_key(1024),
        "p256": lambda: ec.generate_private_key(ec.SECP256R1()),
        "p384": lambda: ec.generate_private_key(ec.SECP384R1()),
        "p521": lambda: ec.generate_private_key(ec.SECP521R1()),
        "k256": lambda: ec.generate_private_key(ec.SECP256K1()),
        "ed25519": ed25519.Ed25519PrivateKey.generate,
        "ed448": ed448.Ed448PrivateKey.generate,
    }[kind]()


def sign_args(k, how):
    """(algorithm, padding) for CertificateBuilder.sign."""
    if isinstance(k, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)):
        return None, None
    h = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(),
         "sha512": hashes.SHA512()}[how.split("-")[0]]
    if how.endswith("-pss") and isinstance(k, rsa.RSAPrivateKey):
        return h, padding.PSS(padding.MGF1(h), padding.PSS.DIGEST_LENGTH)
    return h, None


def name(cn, org=True):
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if org:
        attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "ZZ"),
                 x509.NameAttribute(NameOID.ORGANIZATION_NAME, "certsift fuzz seeds"),
                 x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "x509")] + attrs
    return x509.Name(attrs)


def cert(subject, subject_key, issuer, issuer_key, how, ca, exts=(), nb=NB, na=NA):
    """`ca`: None leaves basic constraints out, True/False is the cA flag, an
    int is a CA with that path length."""
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
         .public_key(subject_key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(nb).not_valid_after(na)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(subject_key.public_key()), False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), False))
    if isinstance(ca, bool):
        b = b.add_extension(x509.BasicConstraints(ca=ca, path_length=None), True)
    elif ca is not None:
        b = b.add_extension(x509.BasicConstraints(ca=True, path_length=ca), True)
    for ext, critical in exts:
        b = b.add_extension(ext, critical)
    alg, pad = sign_args(issuer_key, how)
    if pad is not None:
        return b.sign(issuer_key, alg, rsa_padding=pad)
    return b.sign(issuer_key, alg)


def der(c):
    return c.public_bytes(Encoding.DER)


CA_USAGE = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
LEAF_USAGE = x509.KeyUsage(True, False, True, False, False, False, False, False, False)
SERVER = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH])


def leaf_exts(names):
    gns = [x509.DNSName(n) for n in names]
    return [(LEAF_USAGE, True), (SERVER, False), (x509.SubjectAlternativeName(gns), False)]


def rich_san():
    return x509.SubjectAlternativeName([
        x509.DNSName("example.com"), x509.DNSName("*.example.com"),
        x509.IPAddress(ipaddress.ip_address("192.0.2.7")),
        x509.IPAddress(ipaddress.ip_address("2001:db8::7")),
        x509.RFC822Name("ops@example.com"),
        x509.UniformResourceIdentifier("https://example.com/"),
        x509.DirectoryName(name("dir", org=False)),
        x509.RegisteredID(ObjectIdentifier("1.3.6.1.4.1.55555.1")),
        x509.OtherName(ObjectIdentifier("1.3.6.1.4.1.311.20.2.3"), b"\x0c\x03a@b"),
    ])


def constraints():
    return x509.NameConstraints(
        permitted_subtrees=[x509.DNSName("example.com"),
                            x509.IPAddress(ipaddress.ip_network("192.0.2.0/24")),
                            x509.RFC822Name("example.com"),
                            x509.DirectoryName(name("permitted", org=False))],
        excluded_subtrees=[x509.DNSName("bad.example.com"),
                           x509.IPAddress(ipaddress.ip_network("2001:db8::/32"))])


def policies():
    return x509.CertificatePolicies([
        x509.PolicyInformation(ObjectIdentifier("2.23.140.1.2.1"), None),
        x509.PolicyInformation(ObjectIdentifier("2.5.29.32.0"),
                               ["https://example.com/cps",
                                x509.UserNotice(x509.NoticeReference("org", [1, 2]), "text")]),
    ])


def ca_extras():
    return [
        (CA_USAGE, True),
        (constraints(), True),
        (policies(), False),
        (x509.PolicyConstraints(require_explicit_policy=0, inhibit_policy_mapping=1), True),
        (x509.InhibitAnyPolicy(0), True),
        (x509.AuthorityInformationAccess([
            x509.AccessDescription(x509.oid.AuthorityInformationAccessOID.OCSP,
                                   x509.UniformResourceIdentifier("http://ocsp.example.com")),
            x509.AccessDescription(x509.oid.AuthorityInformationAccessOID.CA_ISSUERS,
                                   x509.UniformResourceIdentifier("http://ca.example.com/ca.der"))]), False),
        (x509.CRLDistributionPoints([x509.DistributionPoint(
            [x509.UniformResourceIdentifier("http://crl.example.com/ca.crl")], None, None, None)]), False),
    ]


def chain(root_kind, mid_kind, leaf_kind, how, extras=False, leaf_names=("example.com",),
          leaf_extra=()):
    rk, mk, lk = key(root_kind), key(mid_kind), key(leaf_kind)
    rn, mn = name(f"seed root {root_kind}"), name(f"seed issuing {mid_kind}")
    root = cert(rn, rk, rn, rk, how, True, [(CA_USAGE, True)])
    mid = cert(mn, mk, rn, rk, how, 0, ca_extras() if extras else [(CA_USAGE, True)])
    leaf = cert(name(leaf_names[0], org=False), lk, mn, mk, how, False,
                leaf_exts(leaf_names) + list(leaf_extra))
    ders = [der(leaf), der(mid), der(root)]
    for d in ders:
        put(d)
    put(SEP.join(ders))
    put(SEP.join(ders[:2]))


def main():
    # Algorithms: one chain per signing scheme, issuers crossing key types.
    for root_kind, mid_kind, leaf_kind, how in [
        ("rsa2048", "p256", "p384", "sha256"),
        ("rsa2048", "rsa2048", "rsa2048", "sha384"),
        ("rsa2048", "rsa2048", "rsa2048", "sha512"),
        ("rsa2048", "rsa2048", "p256", "sha256-pss"),
        ("rsa2048", "rsa2048", "rsa2048", "sha384-pss"),
        ("rsa2048", "rsa2048", "rsa2048", "sha512-pss"),
        ("p384", "p256", "rsa2048", "sha384"),
        ("p521", "p521", "p256", "sha512"),
        ("p256", "k256", "p256", "sha256"),
        ("ed25519", "ed25519", "p256", "sha256"),
        ("ed448", "ed25519", "rsa2048", "sha256"),
        ("rsa1024", "rsa3072e3", "rsa2048", "sha256"),
        ("rsa2048", "dsa2048", "dsa1024", "sha256"),
    ]:
        chain(root_kind, mid_kind, leaf_kind, how)
    # Extensions: name constraints and policies on the issuing CA, leaves
    # inside and outside them, every SAN kind, an unknown critical extension.
    chain("p256", "p256", "p256", "sha256", extras=True)
    chain("rsa2048", "rsa2048", "p256", "sha256", extras=True,
          leaf_names=("bad.example.com", "other.test"))
    chain("p256", "p256", "p256", "sha256", extras=True, leaf_names=("www.example.com",),
          leaf_extra=[(x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.55555.2"), b"\x05\x00"), True)])
    # Self-signed leaves: rich SAN, no basic constraints, expired.
    for kind in ("p256", "rsa2048", "ed25519"):
        k = key(kind)
        n = name("example.com", org=False)
        put(der(cert(n, k, n, k, "sha256", None, [(rich_san(), False), (policies(), False)])))
        put(der(cert(n, k, n, k, "sha256", False, leaf_exts(["example.com"]),
                     nb=datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc),
                     na=datetime.datetime(2021, 1, 1, tzinfo=datetime.timezone.utc))))


if __name__ == "__main__":
    main()
