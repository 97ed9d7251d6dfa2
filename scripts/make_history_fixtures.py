#!/usr/bin/env python3
"""Writes testdata/x509/synthetic/history-*.pem: a small PKI with past
validity dates, for the tests of trust at the time of the flow.

- history-root.pem: CN=certsift history-test root, RSA 2048, 2010..2040.
- history-sha1-leaf.pem: SHA-1 signed by the root, from 2010-06-01.
- history-rsa1024-leaf.pem: a 1024-bit RSA leaf key, SHA-256, from 2010-06-01.
- history-rsa1024-ca-chain.pem: a leaf SHA-1 signed by a 1024-bit RSA
  intermediate (itself SHA-256 signed by the root), from 2010-06-01.
- history-late-leaf.pem: SHA-256, notBefore 2016-11-01 (after a
  2016-10-21 distrust-after day).

cryptography refuses to sign with SHA-1, so SHA-1 certificates are built
with SHA-256, their two signature AlgorithmIdentifiers swapped for
sha1WithRSAEncryption (same length) and the TBS signed again with SHA-1.
Keys are thrown away. Needs python3 with `cryptography`.

Usage: python3 scripts/make_history_fixtures.py
"""

import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

OUT = Path(__file__).resolve().parent.parent / "testdata" / "x509" / "synthetic"
SHA256_RSA = bytes.fromhex("06092a864886f70d01010b0500")
SHA1_RSA = bytes.fromhex("06092a864886f70d0101050500")


def day(y, m, d):
    return datetime.datetime(y, m, d, tzinfo=datetime.timezone.utc)


def name(cn):
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "certsift test"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def der_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def tlv(tag, body):
    return bytes([tag]) + der_len(len(body)) + body


def resign_sha1(cert, key):
    """The same certificate, signed with sha1WithRSAEncryption."""
    tbs = cert.tbs_certificate_bytes
    assert tbs.count(SHA256_RSA) == 1
    tbs = tbs.replace(SHA256_RSA, SHA1_RSA)
    sig = key.sign(tbs, padding.PKCS1v15(), hashes.SHA1())
    der = tlv(0x30, tbs + tlv(0x30, SHA1_RSA) + tlv(0x03, b"\x00" + sig))
    return x509.load_der_x509_certificate(der)


def build(subject, issuer, issuer_key, key, serial, nb, na, ca, san=None):
    b = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(nb)
        .not_valid_after(na)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )
    if ca:
        b = b.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
    else:
        b = b.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        ).add_extension(x509.SubjectAlternativeName([x509.DNSName(san)]), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def pem(*certs):
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in certs)


def main():
    new = lambda bits: rsa.generate_private_key(public_exponent=65537, key_size=bits)
    root_key = new(2048)
    root_name = name("certsift history-test root")
    root = build(root_name, root_name, root_key, root_key, 1, day(2010, 1, 1), day(2040, 1, 1), True)
    end = day(2030, 1, 1)

    def leaf(cn, issuer, issuer_key, serial, nb, bits=2048):
        return build(name(cn), issuer, issuer_key, new(bits), serial, nb, end, False, cn)

    sha1 = resign_sha1(leaf("sha1.history.test", root_name, root_key, 2, day(2010, 6, 1)), root_key)
    small = leaf("rsa1024.history.test", root_name, root_key, 3, day(2010, 6, 1), 1024)
    ca_key = new(1024)
    ca_name = name("certsift history-test RSA-1024 CA")
    ca = build(ca_name, root_name, root_key, ca_key, 4, day(2010, 1, 1), end, True)
    under = resign_sha1(leaf("under1024.history.test", ca_name, ca_key, 5, day(2010, 6, 1)), ca_key)
    late = leaf("late.history.test", root_name, root_key, 6, day(2016, 11, 1))

    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "history-root.pem").write_text(pem(root))
    (OUT / "history-sha1-leaf.pem").write_text(pem(sha1))
    (OUT / "history-rsa1024-leaf.pem").write_text(pem(small))
    (OUT / "history-rsa1024-ca-chain.pem").write_text(pem(under, ca))
    (OUT / "history-late-leaf.pem").write_text(pem(late))


if __name__ == "__main__":
    main()
