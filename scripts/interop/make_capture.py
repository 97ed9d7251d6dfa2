#!/usr/bin/env python3
"""A capture from TLS stacks and interceptors the corpus does not have.

Go's crypto/tls (scripts/interop/tlspeer.go) as client and server, and an
explicit proxy that intercepts: Squid 5 with ssl-bump (peek, stare, bump: the
forged certificate mimics the real one's subject, names and validity, signed
by the proxy's own CA), or Privoxy 3.0 with its https-inspection action
(mbedTLS on both sides: it forges a certificate from the name alone, signed by
its own CA), or e2guardian 5.3's SSL MITM (OpenSSL: one key pair for every
forged certificate, made from the name alone) as a transparent interceptor,
with Botan's TLS server for one name, or mitmproxy 8 as a SOCKS5 proxy
(OpenSSL: the forged certificate copies the real one's names, on the CA's own
key); or, benign, nothing intercepted: Squid as a plain CONNECT proxy and
mitmproxy as a SOCKS5 proxy, both only tunnelling. Some connections go to
the server directly, some through the proxy with HTTP CONNECT or SOCKS5 (by
name or by address; or, transparent, are redirected to it); TLS 1.2
(certificates in clear) and 1.3 (certificates encrypted; the client's key log
decrypts them).

    sudo scripts/interop/make_capture.py OUTDIR [go|clients|privoxy|e2guardian|mitmproxy|benign]

"go" (the default) has Go clients; "clients" has Java's JSSE and headless
Chromium (BoringSSL) as clients instead (interop_squid_jdk_chromium.*; also
needs openjdk-17-jre and chromium), with the same server and proxy;
"privoxy" has Go and curl (OpenSSL) clients and Privoxy as the proxy
(interop_privoxy_go.*; needs privoxy and curl); "e2guardian" has Go and
curl clients, Botan 2's tls_server beside the Go server, and e2guardian taking
the client's :443 (interop_e2guardian_botan.*; needs e2guardian, botan,
iptables and curl; stop Debian's e2guardian service after installing it);
"mitmproxy" has Go and curl clients and mitmdump as a SOCKS5 proxy
(interop_mitmproxy_socks5.*; needs mitmproxy and curl); "benign" has Go and
curl clients, Squid and mitmproxy only tunnelling (HTTP CONNECT and SOCKS5),
www.shop.test with RSA and ECDSA certificates side by side, and a change of
CA for api.shop.test mid-capture: the server restarted with a leaf from a
second trusted root (interop_benign_tunnel.*; needs squid-openssl, mitmproxy
and curl).
writes OUTDIR/CAPTURE.pcap, .keylog, .json (ground truth in the corpus
manifest's shape, from what the clients themselves saw) and pki/
(certificates only, trust-anchors.pem what the client trusted; keys stay in
OUTDIR/work). Needs root, iproute2, tcpdump, openssl, go and squid-openssl
or privoxy (Debian 12: `apt-get install squid-openssl privoxy golang-go`;
never start Debian's privoxy or e2guardian service, the script runs its own
in the router's namespace).

All traffic stays in three network namespaces made here (cs-icli, cs-irtr,
cs-isrv, joined by veth pairs, no route out, documentation addresses); the
router's names come from its own hosts file (/etc/netns/cs-irtr, removed at
the end); every process is stopped by its PID and the namespaces are deleted
at the end.
"""

import base64
import hashlib
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
NS = {"cli": "cs-icli", "rtr": "cs-irtr", "srv": "cs-isrv"}
CLIENT, GW_CLI, GW_SRV, SERVER = "192.0.2.10", "192.0.2.1", "203.0.113.1", "203.0.113.10"
PROXY, SOCKS = f"{GW_CLI}:3128", f"{GW_CLI}:1080"
# A transparent interceptor takes :443 from CLIENT only; CLIENT_EXEMPT is a
# machine the gateway lets through. Botan's server answers on BOTAN.
CLIENT_EXEMPT, BOTAN = "192.0.2.11", "203.0.113.11"
TPORT, BOTAN_PORT = 8443, 4433
NAMES = ["www.shop.test", "api.shop.test", "cdn.shop.test", "static.shop.test"]
# curl's TLS 1.2 suites for a client that cannot take an ECDSA certificate.
RSA_ONLY = "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384"
# Per scenario: capture name, interceptor (a key of INTERCEPTORS, or a tuple),
# connections in order (client, name, through the interceptor, highest TLS
# version offered; Chromium always offers 1.3; optionally a fifth element,
# curl's --ciphers), description, and the names Botan's server answers (the
# Go server answers the others). Through a SOCKS proxy, "addr" asks for the
# server's IPv4 address instead of the name, and "nosni" does too and sends
# no SNI (the Go server then answers with its first certificate,
# api.shop.test's). With two proxies (a tuple of interceptors), True goes
# through the first and "socks5" through the SOCKS5 one, by name. A
# ("restart",) step restarts the Go server with the certificates after the
# scenario's change of CA (CA_CHANGE).
SCENARIOS = {
    "go": ("interop_squid_go_bump", "squid", [
        ("go", "www.shop.test", False, "1.2"),
        ("go", "api.shop.test", False, "1.3"),
        ("go", "www.shop.test", True, "1.2"),
        ("go", "api.shop.test", True, "1.2"),
        ("go", "www.shop.test", True, "1.3"),
        ("go", "cdn.shop.test", False, "1.2"),
        ("go", "static.shop.test", True, "1.2"),
        ("go", "www.shop.test", False, "1.3"),
        ("go", "cdn.shop.test", False, "1.3"),
        ("go", "api.shop.test", True, "1.3"),
        ("go", "api.shop.test", False, "1.2"),
    ], "Go crypto/tls client and server; Squid 5 ssl-bump (peek, stare, bump) as an explicit "
       "proxy forging with its own CA; TLS 1.2 and 1.3", ()),
    "clients": ("interop_squid_jdk_chromium", "squid", [
        ("java", "www.shop.test", False, "1.2"),
        ("java", "www.shop.test", True, "1.2"),
        ("java", "cdn.shop.test", False, "1.3"),
        ("java", "api.shop.test", True, "1.3"),
        ("java", "static.shop.test", True, "1.2"),
        ("chromium", "www.shop.test", False, "1.3"),
        ("chromium", "api.shop.test", True, "1.3"),
        ("chromium", "cdn.shop.test", False, "1.3"),
    ], "Java 17 JSSE and headless Chromium (BoringSSL) clients, Go crypto/tls server; Squid 5 "
       "ssl-bump as an explicit proxy forging with its own CA; TLS 1.2 and 1.3", ()),
    # Privoxy's mbedTLS 2.28 has no TLS 1.3: clients offering it get 1.2
    # through the proxy. cdn.shop.test is only ever reached directly (clean).
    "privoxy": ("interop_privoxy_go", "privoxy", [
        ("go", "www.shop.test", False, "1.2"),
        ("go", "api.shop.test", False, "1.3"),
        ("go", "www.shop.test", True, "1.2"),
        ("go", "api.shop.test", True, "1.3"),
        ("go", "cdn.shop.test", False, "1.3"),
        ("go", "static.shop.test", True, "1.2"),
        ("go", "www.shop.test", True, "1.3"),
        ("go", "cdn.shop.test", False, "1.2"),
        ("go", "api.shop.test", False, "1.2"),
        ("curl", "www.shop.test", False, "1.3"),
        ("curl", "api.shop.test", True, "1.3"),
        ("curl", "cdn.shop.test", False, "1.3"),
        ("curl", "static.shop.test", True, "1.2"),
    ], "Go crypto/tls and curl (OpenSSL) clients, Go crypto/tls server; Privoxy 3.0 "
       "https-inspection (mbedTLS) as an explicit proxy forging with its own CA; TLS 1.2 and 1.3 "
       "direct, 1.2 through the proxy", ()),
    # e2guardian intercepts transparently: "through" means from CLIENT, the
    # others come from CLIENT_EXEMPT. static.shop.test is Botan's (TLS 1.2
    # only: a client offering 1.3 gets 1.2 direct, 1.3 from the proxy);
    # cdn.shop.test is only ever reached directly (clean).
    "e2guardian": ("interop_e2guardian_botan", "e2guardian", [
        ("go", "www.shop.test", False, "1.2"),
        ("go", "api.shop.test", False, "1.3"),
        ("go", "static.shop.test", False, "1.3"),
        ("go", "www.shop.test", True, "1.2"),
        ("go", "api.shop.test", True, "1.3"),
        ("go", "static.shop.test", True, "1.2"),
        ("go", "cdn.shop.test", False, "1.3"),
        ("go", "static.shop.test", True, "1.3"),
        ("go", "www.shop.test", True, "1.3"),
        ("go", "static.shop.test", False, "1.2"),
        ("curl", "www.shop.test", False, "1.3"),
        ("curl", "api.shop.test", True, "1.3"),
        ("curl", "cdn.shop.test", False, "1.2"),
        ("curl", "www.shop.test", True, "1.2"),
    ], "Go crypto/tls and curl (OpenSSL) clients, Go crypto/tls and Botan 2.19 servers; "
       "e2guardian 5.3 SSL MITM (OpenSSL) as a transparent interceptor (iptables REDIRECT) "
       "forging with its own CA; TLS 1.2 and 1.3", ("static.shop.test",)),
    # static.shop.test is only ever reached through the proxy, cdn.shop.test
    # only directly (clean).
    "mitmproxy": ("interop_mitmproxy_socks5", "mitmproxy", [
        ("go", "www.shop.test", False, "1.2"),
        ("go", "api.shop.test", False, "1.3"),
        ("go", "www.shop.test", True, "1.2"),
        ("go", "api.shop.test", True, "1.3"),
        ("go", "www.shop.test", "addr", "1.3"),
        ("go", "api.shop.test", "nosni", "1.2"),
        ("go", "cdn.shop.test", False, "1.3"),
        ("go", "static.shop.test", True, "1.2"),
        ("go", "api.shop.test", False, "1.2"),
        ("curl", "www.shop.test", False, "1.3"),
        ("curl", "api.shop.test", True, "1.3"),
        ("curl", "static.shop.test", "addr", "1.2"),
        ("curl", "cdn.shop.test", False, "1.2"),
        ("curl", "www.shop.test", True, "1.2"),
    ], "Go crypto/tls and curl (OpenSSL) clients, Go crypto/tls server; mitmproxy 8 as a SOCKS5 "
       "proxy (by name and by IPv4 address, one connection without SNI) forging with its own "
       "CA; TLS 1.2 and 1.3", ()),
    # Nothing intercepted. www.shop.test has an RSA and an ECDSA leaf (curl
    # offering only RSA suites in TLS 1.2 gets the RSA one, every other
    # client the ECDSA one); api.shop.test moves to another CA at the
    # restart; each name direct, through Squid's tunnel and through
    # mitmproxy's, before and after.
    "benign": ("interop_benign_tunnel", ("squid-tunnel", "mitmproxy-tunnel"), [
        ("go", "www.shop.test", False, "1.2"),
        ("go", "www.shop.test", True, "1.2"),
        ("go", "www.shop.test", False, "1.3"),
        ("go", "www.shop.test", True, "1.3"),
        ("go", "www.shop.test", "socks5", "1.3"),
        ("go", "api.shop.test", False, "1.2"),
        ("go", "api.shop.test", True, "1.2"),
        ("go", "api.shop.test", False, "1.3"),
        ("go", "api.shop.test", True, "1.3"),
        ("go", "api.shop.test", "socks5", "1.3"),
        ("go", "cdn.shop.test", False, "1.3"),
        ("go", "cdn.shop.test", "socks5", "1.3"),
        ("curl", "www.shop.test", False, "1.2", RSA_ONLY),
        ("curl", "www.shop.test", True, "1.2", RSA_ONLY),
        ("curl", "www.shop.test", False, "1.3"),
        ("curl", "www.shop.test", True, "1.3"),
        ("curl", "api.shop.test", False, "1.3"),
        ("curl", "api.shop.test", "socks5", "1.3"),
        ("restart",),
        ("go", "api.shop.test", False, "1.2"),
        ("go", "api.shop.test", True, "1.2"),
        ("go", "api.shop.test", False, "1.3"),
        ("go", "api.shop.test", True, "1.3"),
        ("go", "api.shop.test", "socks5", "1.3"),
        ("go", "www.shop.test", "socks5", "1.2"),
        ("go", "www.shop.test", False, "1.3"),
        ("curl", "api.shop.test", False, "1.2"),
        ("curl", "api.shop.test", True, "1.2"),
        ("curl", "api.shop.test", False, "1.3"),
        ("curl", "api.shop.test", "socks5", "1.3"),
    ], "Go crypto/tls and curl (OpenSSL) clients, Go crypto/tls server; nothing intercepted: "
       "Squid 5 as a plain HTTP CONNECT proxy and mitmproxy 8 as a SOCKS5 proxy, both only "
       "tunnelling; www.shop.test with RSA and ECDSA certificates side by side; api.shop.test "
       "moving to a second trusted CA mid-capture (server restarted); TLS 1.2 and 1.3", ()),
}
# Per scenario, the names whose server also has an ECDSA leaf, and the name
# whose leaf comes from a second trusted root after the ("restart",) step.
ECDSA = {"benign": ("www.shop.test",)}
CA_CHANGE = {"benign": "api.shop.test"}


def run(argv, ns=None, **kw):
    if ns:
        argv = ["ip", "netns", "exec", NS[ns]] + argv
    kw.setdefault("text", True)
    return subprocess.run(argv, check=True, capture_output=True, timeout=120, **kw)


def openssl(*args):
    run(["openssl", *args])


def make_pki(work, pki, proxy_rsa, ecdsa=(), ca_change=None):
    """Root -> issuing CA -> one leaf per name (the real servers), and the
    proxy's own self-signed CA (which the proxy signs its forgeries with;
    RSA when PROXY_RSA, else P-256). Dates as in a real deployment: CAs made
    years ago, leaves a month ago. The names in ECDSA get a P-256 leaf too
    (WORK/certs/NAME.ecdsa.pem); CA_CHANGE, a name, gets a second leaf
    from a second root's issuing CA, days old (WORK/certs-ca2: the
    server's certificates after the change)."""
    now = time.time()
    day = 86400

    def key(path, rsa=False):
        alg = ["RSA", "-pkeyopt", "rsa_keygen_bits:2048"] if rsa else \
            ["EC", "-pkeyopt", "ec_paramgen_curve:P-256"]
        openssl("genpkey", "-algorithm", *alg, "-out", path)

    def sign(name, subj, ext, signer, start, end, rsa=False):
        """Certificate pki/NAME.pem for key work/NAME.key, signed by SIGNER
        (itself when None), valid from START to END (Unix seconds)."""
        k, csr = f"{work}/{name}.key", f"{work}/{name}.csr"
        key(k, rsa)
        openssl("req", "-new", "-key", k, "-subj", subj, "-out", csr, "-config", cnf(work))
        extfile = f"{work}/{name}.ext"
        with open(extfile, "w") as f:
            f.write(ext)
        when = lambda t: time.strftime("%Y%m%d%H%M%SZ", time.gmtime(t))
        args = ["ca", "-batch", "-notext", "-preserveDN", "-config", cnf(work), "-in", csr,
                "-out", f"{pki}/{name}.pem", "-extfile", extfile,
                "-startdate", when(start), "-enddate", when(end)]
        if signer is None:
            args += ["-selfsign", "-keyfile", k]
        else:
            args += ["-cert", f"{pki}/{signer}.pem", "-keyfile", f"{work}/{signer}.key"]
        openssl(*args)

    ca_ext = "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n" \
             "subjectKeyIdentifier=hash\n"
    sign("root", "/C=US/O=Interop Test Trust/CN=Interop Root CA", ca_ext, None,
         now - 900 * day, now + 3000 * day)
    sign("issuing", "/C=US/O=Interop Test Trust/CN=Interop Issuing CA 1",
         ca_ext + "authorityKeyIdentifier=keyid\n", "root", now - 800 * day, now + 1000 * day)
    sign("proxy-ca", "/C=US/O=Example Org/OU=IT/CN=Example Org Web Gateway CA", ca_ext, None,
         now - 200 * day, now + 1600 * day, rsa=proxy_rsa)
    certs = f"{work}/certs"
    os.makedirs(certs, exist_ok=True)
    for n, name in enumerate(NAMES):
        ext = ("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
               f"extendedKeyUsage=serverAuth\nsubjectAltName=DNS:{name}\n"
               "authorityKeyIdentifier=keyid\n")
        start = now - (20 + 7 * n) * day
        sign(name, f"/CN={name}", ext, "issuing", start, start + 90 * day, rsa=True)
        shutil.copy(f"{work}/{name}.key", f"{certs}/{name}.key")
        # The server sends leaf + issuing CA.
        with open(f"{certs}/{name}.pem", "w") as f:
            f.write(open(f"{pki}/{name}.pem").read() + open(f"{pki}/issuing.pem").read())
        if name in ecdsa:
            # Issued with the RSA one, a moment later.
            sign(f"{name}.ecdsa", f"/CN={name}", ext.replace(",keyEncipherment", ""), "issuing",
                 start + 97, start + 97 + 90 * day)
            shutil.copy(f"{work}/{name}.ecdsa.key", f"{certs}/{name}.ecdsa.key")
            with open(f"{certs}/{name}.ecdsa.pem", "w") as f:
                f.write(open(f"{pki}/{name}.ecdsa.pem").read() +
                        open(f"{pki}/issuing.pem").read())
    if ca_change:
        sign("root2", "/C=US/O=Second Trust Services/CN=Second Trust Root R1", ca_ext, None,
             now - 2400 * day, now + 4000 * day, rsa=True)
        sign("issuing2", "/C=US/O=Second Trust Services/CN=Second Trust TLS CA 2",
             ca_ext + "authorityKeyIdentifier=keyid\n", "root2", now - 700 * day,
             now + 1200 * day, rsa=True)
        name, start = ca_change, now - 3 * day - 4213
        ext = ("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
               f"extendedKeyUsage=serverAuth\nsubjectAltName=DNS:{name}\n"
               "authorityKeyIdentifier=keyid\n")
        sign(f"{name}.ca2", f"/CN={name}", ext, "issuing2", start, start + 90 * day, rsa=True)
        shutil.copytree(certs, f"{work}/certs-ca2")
        shutil.copy(f"{work}/{name}.ca2.key", f"{work}/certs-ca2/{name}.key")
        with open(f"{work}/certs-ca2/{name}.pem", "w") as f:
            f.write(open(f"{pki}/{name}.ca2.pem").read() + open(f"{pki}/issuing2.pem").read())


def cnf(work):
    path = f"{work}/openssl.cnf"
    if not os.path.exists(path):
        os.makedirs(f"{work}/newcerts", exist_ok=True)
        open(f"{work}/index.txt", "w").close()
        with open(f"{work}/serial", "w") as f:
            f.write("%032x\n" % int.from_bytes(os.urandom(15), "big"))
        with open(path, "w") as f:
            f.write(f"""[req]
distinguished_name = dn
[dn]
[ca]
default_ca = ca_default
[ca_default]
database = {work}/index.txt
new_certs_dir = {work}/newcerts
serial = {work}/serial
default_md = sha256
policy = any
unique_subject = no
[any]
countryName = optional
organizationName = optional
organizationalUnitName = optional
commonName = supplied
""")
    return path


def der_sha256(pem_path):
    der = run(["openssl", "x509", "-in", pem_path, "-outform", "DER"], text=False).stdout
    return hashlib.sha256(der).hexdigest()


def hosts_lines(servers):
    """Hosts-file lines giving each name its server's address."""
    addrs = {}
    for name, addr in servers.items():
        addrs.setdefault(addr, []).append(name)
    return "".join(f"{a} {' '.join(n)}\n" for a, n in addrs.items())


def netns_up(servers, transparent):
    """The namespaces and their links; with TRANSPARENT the router sends
    CLIENT's :443 to the interceptor's port (iptables REDIRECT)."""
    for key, ns in NS.items():
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        run(["ip", "netns", "add", ns])
        run(["ip", "link", "set", "lo", "up"], ns=key)
    # veth pairs made inside the namespaces, never in the host's.
    run(["ip", "link", "add", "eth0", "type", "veth", "peer", "name", "cli0",
         "netns", NS["rtr"]], ns="cli")
    run(["ip", "link", "add", "eth0", "type", "veth", "peer", "name", "srv0",
         "netns", NS["rtr"]], ns="srv")
    for ns, dev, addr, gw in [("cli", "eth0", CLIENT, GW_CLI), ("srv", "eth0", SERVER, GW_SRV)]:
        run(["ip", "addr", "add", f"{addr}/24", "dev", dev], ns=ns)
        run(["ip", "link", "set", dev, "up"], ns=ns)
        run(["ip", "route", "add", "default", "via", gw], ns=ns)
    run(["ip", "addr", "add", f"{CLIENT_EXEMPT}/24", "dev", "eth0"], ns="cli")
    run(["ip", "addr", "add", f"{BOTAN}/24", "dev", "eth0"], ns="srv")
    if BOTAN in servers.values():
        # Botan's server listens on every address of its own port; BOTAN:443
        # is sent there, leaving SERVER:443 to the Go server.
        run(["iptables", "-t", "nat", "-A", "PREROUTING", "-d", BOTAN, "-p", "tcp", "--dport",
             "443", "-j", "REDIRECT", "--to-ports", str(BOTAN_PORT)], ns="srv")
    if transparent:
        run(["iptables", "-t", "nat", "-A", "PREROUTING", "-i", "cli0", "-s", CLIENT, "-p", "tcp",
             "--dport", "443", "-j", "REDIRECT", "--to-ports", str(TPORT)], ns="rtr")
    for dev, addr in [("cli0", GW_CLI), ("srv0", GW_SRV)]:
        run(["ip", "addr", "add", f"{addr}/24", "dev", dev], ns="rtr")
        run(["ip", "link", "set", dev, "up"], ns="rtr")
        # Segmentation offload off, so the capture holds wire-sized frames.
        subprocess.run(["ip", "netns", "exec", NS["rtr"], "ethtool", "-K", dev, "tso", "off",
                        "gso", "off", "gro", "off"], capture_output=True)
    run(["sysctl", "-w", "net.ipv4.ip_forward=1"], ns="rtr")
    # A proxy that resolves with the C library gets the names from the
    # router's own hosts file ("ip netns exec" mounts it over /etc/hosts),
    # and never asks the host's resolver.
    etc = f"/etc/netns/{NS['rtr']}"
    os.makedirs(etc, exist_ok=True)
    with open(f"{etc}/hosts", "w") as f:
        f.write("127.0.0.1 localhost\n" + hosts_lines(servers))
    with open(f"{etc}/resolv.conf", "w") as f:
        f.write("nameserver 127.0.0.1\n")


def netns_down():
    for ns in NS.values():
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    shutil.rmtree(f"/etc/netns/{NS['rtr']}", ignore_errors=True)
    try:
        os.rmdir("/etc/netns")
    except OSError:
        pass  # not empty: someone else's namespaces


def chown_tree(path, user):
    """Gives PATH and everything under it to USER (a proxy that drops root
    reads and writes there); USER's passwd entry."""
    who = pwd.getpwnam(user)
    for root, _, files in os.walk(path):
        for p in [root] + [os.path.join(root, x) for x in files]:
            os.chown(p, who.pw_uid, who.pw_gid)
    return who


def squid_conf(work, pki, servers, bump=True):
    """Squid's config (ssl-bump everything; without BUMP a plain CONNECT
    proxy that only tunnels); the command that runs it."""
    bumping = ""
    if bump:
        db = f"{work}/ssldb"
        shutil.rmtree(db, ignore_errors=True)
        run(["/usr/lib/squid/security_file_certgen", "-c", "-s", db, "-M", "4MB"])
        # The forging CA as squid wants it: certificate and key in one file.
        with open(f"{work}/proxy-ca-bundle.pem", "w") as f:
            f.write(open(f"{pki}/proxy-ca.pem").read() + open(f"{work}/proxy-ca.key").read())
        with open(f"{work}/trusted-by-proxy.pem", "w") as f:
            f.write(open(f"{pki}/root.pem").read())
        bumping = f""" ssl-bump generate-host-certificates=on \
dynamic_cert_mem_cache_size=4MB tls-cert={work}/proxy-ca-bundle.pem
sslcrtd_program /usr/lib/squid/security_file_certgen -s {db} -M 4MB
sslcrtd_children 2 startup=1 idle=1
acl step1 at_step SslBump1
acl step2 at_step SslBump2
ssl_bump peek step1
ssl_bump stare step2
ssl_bump bump all
tls_outgoing_options cafile={work}/trusted-by-proxy.pem"""
    proxy = chown_tree(work, "proxy")
    with open(f"{work}/hosts", "w") as f:
        f.write(hosts_lines(servers))
    conf = f"{work}/squid.conf"
    with open(conf, "w") as f:
        f.write(f"""http_port {PROXY}{bumping}
http_access allow all
cache deny all
hosts_file {work}/hosts
dns_nameservers 127.0.0.1
pid_filename {work}/squid.pid
cache_log {work}/cache.log
access_log {work}/access.log
coredump_dir {work}
cache_effective_user proxy
shutdown_lifetime 1 seconds
""")
    with open(f"{work}/cache.log", "w"):
        pass
    os.chown(f"{work}/cache.log", proxy.pw_uid, proxy.pw_gid)
    return ["squid", "-N", "-f", conf]


def privoxy_conf(work, pki, servers):
    """Privoxy's config: https-inspection for every site, forging with the
    proxy's CA and checking servers against the real root; the command that
    runs it (in the foreground, as root: it stays in the namespace)."""
    ca = f"{work}/privoxy-ca"
    os.makedirs(f"{ca}/certs")
    shutil.copy(f"{pki}/proxy-ca.pem", f"{ca}/cacert.crt")
    shutil.copy(f"{work}/proxy-ca.key", f"{ca}/cakey.pem")
    shutil.copy(f"{pki}/root.pem", f"{ca}/trustedCAs.pem")
    with open(f"{work}/inspect.action", "w") as f:
        f.write("{+https-inspection}\n/\n")
    conf = f"{work}/privoxy.conf"
    with open(conf, "w") as f:
        f.write(f"""confdir {work}
logdir {work}
logfile privoxy.log
actionsfile inspect.action
listen-address {PROXY}
toggle 1
enable-remote-toggle 0
enable-edit-actions 0
accept-intercepted-requests 0
ca-directory {ca}
ca-cert-file cacert.crt
ca-key-file cakey.pem
trusted-cas-file trustedCAs.pem
certificate-directory {ca}/certs
debug 1
debug 2
debug 4096
debug 8192
""")
    return ["privoxy", "--no-daemon", "--pidfile", f"{work}/privoxy.pid", conf]


def e2guardian_conf(work, pki, servers):
    """e2guardian's config: Debian's shipped e2guardian.conf and filter group
    1 with SSL MITM on (the default story then forges for every site),
    transparent HTTPS on TPORT, checking servers against the real root; its
    own files in WORK/e2g; the command that runs it in the foreground."""
    e2g = f"{work}/e2g"
    os.makedirs(f"{e2g}/generatedcerts")
    os.makedirs(f"{e2g}/upstream-ca")
    shutil.copy(f"{pki}/root.pem", f"{e2g}/upstream-ca/root.pem")
    run(["openssl", "rehash", f"{e2g}/upstream-ca"])
    shutil.copy(f"{pki}/proxy-ca.pem", f"{e2g}/ca.pem")
    shutil.copy(f"{work}/proxy-ca.key", f"{e2g}/ca.key")
    # The one key pair of every forged certificate.
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
            "-out", f"{e2g}/cert.key")
    set_options("/etc/e2guardian/e2guardian.conf", f"{e2g}/e2guardian.conf", {
        "filterip": f"'{GW_CLI}'", "filterports": PROXY.split(":")[1],
        "transparenthttpsport": TPORT, "nodaemon": "on", "loglocation": f"'{e2g}/access.log'",
        "pidfilename": f"'{e2g}/e2guardian.pid'", "httpworkers": 20, "enablessl": "on",
        "sslcertificatepath": f"'{e2g}/upstream-ca/'", "cacertificatepath": f"'{e2g}/ca.pem'",
        "caprivatekeypath": f"'{e2g}/ca.key'", "certprivatekeypath": f"'{e2g}/cert.key'",
        "generatedcertpath": f"'{e2g}/generatedcerts/'",
        # Its default validity, 2014-12-06 to 2024-12-05, has run out: an
        # admin sets a start (here 2025-01-01; the end stays 10 years on).
        "generatedcertstart": 1735689600})
    set_options("/etc/e2guardian/e2guardianf1.conf", f"{e2g}/e2guardianf1.conf",
                {"sslmitm": "on", "mitmcheckcert": "on"})
    chown_tree(e2g, "e2guardian")
    return ["e2guardian", "-N", "-c", f"{e2g}/e2guardian.conf"]


def mitmproxy_conf(work, pki, servers, tunnel=False):
    """mitmproxy's confdir with the proxy's CA as mitmproxy 8 reads it (key,
    then certificate, in mitmproxy-ca.pem; no chain file, so it sends the
    forged leaf alone), checking servers against the real root; the command
    that runs mitmdump as a SOCKS5 proxy (in the foreground, as root, with
    no key log of its own). With TUNNEL every host is ignored: TLS passes
    through untouched."""
    conf = f"{work}/mitmproxy"
    os.makedirs(conf)
    with open(f"{conf}/mitmproxy-ca.pem", "w") as f:
        f.write(open(f"{work}/proxy-ca.key").read() + open(f"{pki}/proxy-ca.pem").read())
    host, port = SOCKS.split(":")
    return ["env", "-u", "SSLKEYLOGFILE", "-u", "MITMPROXY_SSLKEYLOGFILE", f"HOME={work}",
            "mitmdump", "--mode", "socks5", "--listen-host", host, "--listen-port", port,
            "--set", f"confdir={conf}", "--set", f"ssl_verify_upstream_trusted_ca={pki}/root.pem"
            ] + (["--ignore-hosts", ".*"] if tunnel else [])


def set_options(src, dst, options):
    """Copies config SRC to DST with each "key = value" of OPTIONS set (the
    first line naming the key, commented out or not, else a new line)."""
    text = open(src).read()
    for key, value in options.items():
        line = f"{key} = {value}"
        text, n = re.subn(rf"^#?\s*{key}\s*=.*$", lambda _: line, text, count=1, flags=re.M)
        if not n:
            text += line + "\n"
    with open(dst, "w") as f:
        f.write(text)


def wait_port(ns, port, secs=20):
    for _ in range(secs * 10):
        out = run(["ss", "-ltn"], ns=ns).stdout
        if f":{port} " in out:
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port} in {NS[ns]}")


class Route:
    """Where a scenario's connections go: each name's server address, and
    whether its interceptor is transparent (then a step through it comes
    from CLIENT, the others from CLIENT_EXEMPT) or explicit proxies:
    PROXIES, (interceptor, kind "http" or "socks5", where it listens) each,
    the first the one a step with True takes."""

    def __init__(self, servers, transparent, proxies):
        self.servers, self.transparent, self.proxies = servers, transparent, proxies

    def via(self, through):
        """The proxy a step's THROUGH takes, None when direct."""
        if not through:
            return None
        if through == "socks5":
            return next(p for p in self.proxies if p[1] == "socks5")
        return self.proxies[0]

    def kind_of(self, step):
        """STEP's proxy's kind ("" when direct)."""
        via = self.via(step[2])
        return via[1] if via else ""

    @staticmethod
    def by_name(step):
        """Whether STEP asks its proxy for the name (else the address)."""
        return step[2] in (True, "socks5")

    def of(self, step):
        """STEP's client address, explicit proxy ("" for none), server address."""
        name, through = step[1], step[2]
        if self.transparent:
            return CLIENT if through else CLIENT_EXEMPT, "", self.servers[name]
        via = self.via(through)
        return CLIENT, via[2] if via else "", self.servers[name]

    def target(self, step):
        """The host:port STEP asks its explicit proxy for (None without one):
        the name, or the server's address for "addr" and "nosni" steps."""
        name, through = step[1], step[2]
        if self.transparent or not through:
            return None
        return f"{name if self.by_name(step) else self.servers[name]}:443"


def run_go(peer, work, steps, keylog, first_port, route):
    """The Go client, one connection per step; what it saw, per connection."""
    plan = f"{work}/plan-go.jsonl"
    write_plan(plan, steps, first_port, route)
    out = run(["ip", "netns", "exec", NS["cli"], peer, "get", plan, keylog,
               f"{work}/roots.pem"]).stdout
    return [dict(json.loads(l), tool="tlspeer (Go crypto/tls)", name=st[1], through=st[2])
            for l, st in zip(out.splitlines(), steps)]


def run_java(work, steps, first_port, route):
    """Java's JSSE (scripts/interop/TlsGet.java); JSSE writes no key log, so
    its TLS 1.3 certificates stay encrypted."""
    plan = f"{work}/plan-java.jsonl"
    write_plan(plan, steps, first_port, route)
    out = run(["ip", "netns", "exec", NS["cli"], "java", "-Xshare:off", f"{HERE}/TlsGet.java",
               plan, f"{work}/roots.pem"]).stdout
    return [dict(json.loads(l), tool="TlsGet (Java JSSE " + java_version() + ")", through=st[2])
            for l, st in zip(out.splitlines(), steps)]


def run_chromium(work, step, keylog, n, route):
    """Headless Chromium (BoringSSL) loads https://NAME/; its NetLog says
    which sockets it opened (it may open two) and what each was sent. It is
    told to accept any certificate, so it records no verdict of its own."""
    name, proxied, _ = step[1:4]
    _, proxy, addr = route.of(step)
    netlog = f"{work}/netlog-{n}.json"
    argv = ["ip", "netns", "exec", NS["cli"], "chromium", "--headless", "--no-sandbox",
            "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-extensions",
            f"--user-data-dir={work}/chromium-{n}", f"--host-resolver-rules=MAP {name} {addr}",
            "--ignore-certificate-errors", f"--log-net-log={netlog}",
            "--net-log-capture-mode=Everything", "--dump-dom", f"https://{name}/"]
    if proxy:
        argv.insert(5, f"--proxy-server=http://{proxy}")
    run(argv, env={**os.environ, "SSLKEYLOGFILE": keylog})
    return netlog_connections(netlog, name, proxied)


def netlog_connections(path, name, proxied):
    d = json.load(open(path))
    types = {v: k for k, v in d["constants"]["logEventTypes"].items()}
    socks = {}
    for e in d["events"]:
        t, p = types.get(e["type"]), e.get("params", {})
        s = socks.setdefault(e["source"]["id"], {})
        if t == "TCP_CONNECT" and "local_address" in p:
            s["client"], s["server"] = p["local_address"], p["remote_address"]
        elif t == "SSL_CERTIFICATES_RECEIVED":
            s["chain"] = [hashlib.sha256(pem_der(c)).hexdigest() for c in p["certificates"]]
        elif t == "SSL_CONNECT" and "version" in p:
            s["version"], s["resumed"] = p["version"], p.get("is_resumed", False)
    seen = []
    for s in socks.values():
        if "chain" in s and "client" in s:
            seen.append({"sni": name, "client": s["client"], "server": s["server"],
                         "proxy": PROXY if proxied else "", "tls_version": s.get("version"),
                         "resumed": s.get("resumed", False), "chain_sha256": s["chain"],
                         "error": "", "tool": f"Chromium {chromium_version()} (BoringSSL)",
                         "through": proxied})
    if not seen:
        raise RuntimeError(f"{path}: Chromium saw no certificate for {name}")
    return sorted(seen, key=lambda x: x["client"])


def run_curl(work, step, keylog, port, route):
    """curl (OpenSSL) fetches https://NAME/ verifying against the client's
    roots (so a finished transfer is a verified chain); its --write-out says
    which chain it was sent and its -v which version it negotiated and what
    it asked the proxy for. Through SOCKS5 it sends the name
    (--socks5-hostname), or for an "addr" step the address it resolved;
    a fifth element of STEP is its --ciphers (TLS 1.2 suites)."""
    name, through, ver = step[1:4]
    local, proxy, addr = route.of(step)
    argv = ["curl", "-sS", "-v", "-o", "/dev/null", "--max-time", "10", "--noproxy", "",
            "--cacert", f"{work}/roots.pem", "--interface", local, "--local-port", str(port),
            "--http1.1", "--tlsv1.2", "--tls-max", ver,
            "-w", "%{local_ip}:%{local_port}\n%{remote_ip}:%{remote_port}\n%{certs}"]
    if len(step) > 4:
        argv += ["--ciphers", step[4]]
    if proxy and route.kind_of(step) == "socks5":
        argv += ["--socks5-hostname" if route.by_name(step) else "--socks5", proxy]
    elif proxy:
        argv += ["--proxy", f"http://{proxy}"]
    if not proxy or not route.by_name(step):
        argv += ["--resolve", f"{name}:443:{addr}"]
    done = run(argv + [f"https://{name}/"], ns="cli", env={**os.environ, "SSLKEYLOGFILE": keylog})
    client, server, certs = done.stdout.split("\n", 2)
    chain = [hashlib.sha256(pem_der(b)).hexdigest()
             for b in re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----",
                                 certs, re.S)]
    version = re.search(r"SSL connection using TLSv(1\.[0-3])", done.stderr).group(1)
    asked = re.search(r"^(?:\* SOCKS5 connect to (?:IPv4 )?|> CONNECT )(\S+)", done.stderr, re.M)
    return [{"sni": name, "client": client, "server": server, "proxy": proxy,
             "connect_target": asked.group(1) if asked else None,
             "tls_version": f"TLS {version}", "resumed": False, "chain_sha256": chain,
             "verified": True, "verify_error": "", "error": "", "tool": curl_version(),
             "through": through}]


def pem_der(pem):
    body = "".join(l for l in pem.strip().splitlines() if not l.startswith("-----"))
    return base64.b64decode(body)


def write_plan(plan, steps, first_port, route):
    with open(plan, "w") as f:
        for i, step in enumerate(steps):
            local, proxy, addr = route.of(step)
            line = {"sni": "" if step[2] == "nosni" else step[1], "addr": f"{addr}:443",
                    "proxy": proxy, "proxy_kind": route.kind_of(step), "target": route.target(step),
                    "tls": step[3], "local": f"{local}:{first_port + i}"}
            if addr == BOTAN:
                # Botan's tls_server answers any ALPN offer with a protocol
                # of its own, which a client must refuse: offer none.
                line["alpn"] = []
            f.write(json.dumps(line) + "\n")


# Per interceptor: its name in the manifest, the function that writes its
# config and gives the command that runs it, its product name, whether its
# CA key must be RSA (Privoxy's mbedTLS code signs with RSA only: "Issuer
# key doesn't match issuer certificate" for a P-256 CA; e2guardian's
# documentation makes an RSA CA), whether it is transparent, and the kind of
# proxy it is and where it listens (a transparent one: where it filters).
INTERCEPTORS = {
    "squid": ("squid-bump", squid_conf, lambda: "Squid " + squid_version(), False, False,
              ("http", PROXY)),
    "privoxy": ("privoxy-https-inspection", privoxy_conf,
                lambda: "Privoxy " + privoxy_version(), True, False, ("http", PROXY)),
    "e2guardian": ("e2guardian-mitm", e2guardian_conf,
                   lambda: "e2guardian " + e2guardian_version(), True, True, ("http", PROXY)),
    "mitmproxy": ("mitmproxy-socks5", mitmproxy_conf, lambda: "mitmproxy " + mitmproxy_version(),
                  False, False, ("socks5", SOCKS)),
    # Proxies that only tunnel (TUNNELS): nothing forged.
    "squid-tunnel": ("squid-tunnel", lambda w, p, s: squid_conf(w, p, s, bump=False),
                     lambda: "Squid " + squid_version(), False, False, ("http", PROXY)),
    "mitmproxy-tunnel": ("mitmproxy-socks5-passthrough",
                         lambda w, p, s: mitmproxy_conf(w, p, s, tunnel=True),
                         lambda: "mitmproxy " + mitmproxy_version(), False, False,
                         ("socks5", SOCKS)),
}
TUNNELS = {"squid-tunnel", "mitmproxy-tunnel"}


def main():
    if len(sys.argv) not in (2, 3) or (len(sys.argv) == 3 and sys.argv[2] not in SCENARIOS):
        sys.exit(__doc__)
    scenario = sys.argv[2] if len(sys.argv) == 3 else "go"
    capture, interceptors, plan, _, botan = SCENARIOS[scenario]
    interceptors = proxies_of(scenario)
    transparent = INTERCEPTORS[interceptors[0]][4]
    route = Route({n: BOTAN if n in botan else SERVER for n in NAMES}, transparent,
                  [(k, *INTERCEPTORS[k][5]) for k in interceptors])
    out = os.path.abspath(sys.argv[1])
    work, pki = f"{out}/work", f"{out}/pki"
    for d in (work, pki):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    os.chmod(work, 0o755)
    peer = f"{work}/tlspeer"
    run(["go", "build", "-o", peer, f"{HERE}/tlspeer.go"],
        env={**os.environ, "GO111MODULE": "off", "GOCACHE": f"{work}/gocache"})
    change = CA_CHANGE.get(scenario)
    make_pki(work, pki, INTERCEPTORS[interceptors[0]][3], ECDSA.get(scenario, ()), change)
    # Every leaf the real server has for each name.
    genuine = {n: {der_sha256(f"{pki}/{n}.pem")} for n in NAMES}
    for n in ECDSA.get(scenario, ()):
        genuine[n].add(der_sha256(f"{pki}/{n}.ecdsa.pem"))
    if change:
        genuine[change].add(der_sha256(f"{pki}/{change}.ca2.pem"))
    with open(f"{work}/roots.pem", "w") as f:
        # The client trusts the real root (and the second one, of the CA a
        # name moves to) and, as a managed machine would, the proxy's CA
        # when one intercepts.
        f.write(open(f"{pki}/root.pem").read())
        if change:
            f.write(open(f"{pki}/root2.pem").read())
        if not set(interceptors) <= TUNNELS:
            f.write(open(f"{pki}/proxy-ca.pem").read())
    shutil.copy(f"{work}/roots.pem", f"{pki}/trust-anchors.pem")
    keylog = f"{out}/{capture}.keylog"
    if os.path.exists(keylog):
        os.remove(keylog)
    procs = []
    netns_up(route.servers, transparent)

    def serve(certs):
        server = subprocess.Popen(["ip", "netns", "exec", NS["srv"], peer, "serve",
                                   f"{SERVER}:443", certs],
                                  stdout=subprocess.DEVNULL, stderr=open(f"{work}/server.log", "a"))
        procs.append(server)
        return server

    try:
        server = serve(f"{work}/certs")
        for name in botan:
            # Botan 2's tls_server (TLS 1.2 only) answers one name on every
            # address; it echoes each line it is sent.
            procs.append(subprocess.Popen(
                ["ip", "netns", "exec", NS["srv"], "botan", "tls_server",
                 f"{work}/certs/{name}.pem", f"{work}/certs/{name}.key", f"--port={BOTAN_PORT}"],
                stdout=open(f"{work}/botan.log", "w"), stderr=subprocess.STDOUT))
            wait_port("srv", BOTAN_PORT)
        for interceptor in interceptors:
            proxy_argv = INTERCEPTORS[interceptor][1](work, pki, route.servers)
            procs.append(subprocess.Popen(["ip", "netns", "exec", NS["rtr"], *proxy_argv],
                                          stdout=subprocess.DEVNULL,
                                          stderr=open(f"{work}/{interceptor}.err", "w")))
        wait_port("srv", 443)
        for _, _, listen in route.proxies:
            wait_port("rtr", TPORT if transparent else listen.split(":")[1])
        dump = subprocess.Popen(["ip", "netns", "exec", NS["rtr"], "tcpdump", "-i", "cli0",
                                 "-s", "0", "-U", "-w", f"{out}/{capture}.pcap", "tcp"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(dump)
        time.sleep(1.5)
        seen, port, restarted = [], 41001, False
        # Consecutive steps of one client run as one batch, in plan order.
        i = 0
        while i < len(plan):
            if plan[i][0] == "restart":
                # The same server, address and port, with CHANGE's new
                # certificate.
                stop(server)
                wait_port_closed("srv", 443)
                server = serve(f"{work}/certs-ca2")
                wait_port("srv", 443)
                restarted, i = True, i + 1
                time.sleep(0.5)
                continue
            first = len(seen)
            j = i
            while j < len(plan) and plan[j][0] == plan[i][0]:
                j += 1
            batch = plan[i:j]
            if batch[0][0] == "go":
                seen += run_go(peer, work, batch, keylog, port, route)
            elif batch[0][0] == "java":
                seen += run_java(work, batch, port, route)
            elif batch[0][0] == "curl":
                for n, step in enumerate(batch):
                    seen += run_curl(work, step, keylog, port + n, route)
            else:
                for n, step in enumerate(batch):
                    seen += run_chromium(work, step, keylog, i + n, route)
            port += len(batch)
            i = j
            if change:
                for s in seen[first:]:
                    s["after_ca_change"] = restarted
        time.sleep(1.5)
        dump.send_signal(signal.SIGINT)
        dump.wait(timeout=10)
    finally:
        for p in reversed(procs):
            stop(p)
        netns_down()
    for n, s in enumerate(seen):
        s["flow_index"] = n + 1
    manifest(out, scenario, seen, genuine, route)


def proxies_of(scenario):
    """The scenario's interceptors (or tunnelling proxies), as a tuple."""
    names = SCENARIOS[scenario][1]
    return (names,) if isinstance(names, str) else names


def stop(p):
    """Stops process P (one of ours, by its PID), bounded."""
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def wait_port_closed(ns, port, secs=20):
    for _ in range(secs * 10):
        if f":{port} " not in run(["ss", "-ltn"], ns=ns).stdout:
            return
        time.sleep(0.1)
    raise RuntimeError(f"{port} still listening in {NS[ns]}")


def manifest(out, scenario, seen, genuine, route):
    capture, _, _, description, _ = SCENARIOS[scenario]
    interceptors = proxies_of(scenario)
    transparent = INTERCEPTORS[interceptors[0]][4]
    change = CA_CHANGE.get(scenario)
    flows, verdicts = [], {}
    for s in seen:
        if s.get("error"):
            raise RuntimeError(f"connection {s['flow_index']} failed: {s['error']}")
        # NAME is the server's (without SNI the Go server answers with
        # NAME's certificate).
        name, proxied = s.get("name", s["sni"]), bool(s["proxy"])
        leaf = s["chain_sha256"][0]
        forged = leaf not in genuine[name]
        via = route.via(s["through"])
        who, kind = (INTERCEPTORS[via[0]][0], via[1]) if via else (None, None)
        # The ground truth is what the client saw: a connection through the
        # interceptor with the real leaf would not be an interception (nor
        # one through a tunnel with another).
        assert forged == bool(via and via[0] not in TUNNELS), s
        # What the client asked its proxy for, as it says (Java and Chromium
        # do not: the name).
        target = s.get("connect_target", f"{name}:443") if proxied else None
        cip, cport = s["client"].rsplit(":", 1)
        sip, sport = s["server"].rsplit(":", 1)
        flow = {
            "flow_index": s["flow_index"], "tool": s["tool"],
            "server_tool": f"Botan {botan_version()} tls_server"
                           if route.servers[name] == BOTAN else "tlspeer (Go crypto/tls)",
            "client_ip": cip, "client_port": int(cport),
            "server_ip": sip, "server_port": int(sport),
            "via_explicit_proxy": proxied,
            "proxy_protocol": kind if proxied else None,
            "connect_target": target or None,
            "sni": s["sni"] or None, "tls_version": s["tls_version"], "resumed": s["resumed"],
            "leaf_sha256": leaf, "chain_sha256": s["chain_sha256"],
            # A resumed handshake sends no certificate (the client still
            # knows the one of its session).
            "cert_visibility": "resumed" if s["resumed"] else
                               "plain" if s["tls_version"] == "TLS 1.2" else "encrypted",
            "intercepted": forged, "interceptor": who if forged else None,
        }
        if set(interceptors) & TUNNELS:
            flow["proxy"] = who if proxied else None
        if change:
            flow["after_ca_change"] = s["after_ca_change"]
        if s["tls_version"] == "TLS 1.3":
            # JSSE writes no key log: its TLS 1.3 certificates stay encrypted.
            flow["in_keylog"] = "JSSE" not in s["tool"]
        if "verified" in s:
            flow["client_verify"] = {"ok": s["verified"], "error": s["verify_error"]}
        flows.append(flow)
        # A connection without SNI is judged as certsift names it.
        v = verdicts.setdefault(name if s["sni"] else f"(no-sni)@{target or s['server']}", {"flows": [], "intercepted_flows": [],
                                       "genuine_leaf_sha256": [], "forged_leaf_sha256": []})
        v["flows"].append(s["flow_index"])
        if forged:
            v["intercepted_flows"].append(s["flow_index"])
            v["forged_leaf_sha256"] = sorted(set(v["forged_leaf_sha256"]) | {leaf})
        else:
            v["genuine_leaf_sha256"] = sorted(set(v["genuine_leaf_sha256"]) | {leaf})
    for sni, v in verdicts.items():
        # Several genuine leaves, nothing forged: a legitimate deployment.
        v["verdict"] = "intercepted" if v["intercepted_flows"] else \
            "benign-multi-cert" if len(v["genuine_leaf_sha256"]) > 1 else "clean"
        v["genuine_baseline_present"] = bool(v["genuine_leaf_sha256"])
        if v["verdict"] == "benign-multi-cert":
            v["reason"] = "RSA and ECDSA certificates side by side, same issuing CA" \
                if sni in ECDSA.get(scenario, ()) else \
                "a change of CA: the server restarted with a leaf from a second trusted root"
    described = {}
    for k in interceptors:
        who, _, product, _, _, (kind, _) = INTERCEPTORS[k]
        described[who] = {"product": product(),
                          "mode": "transparent" if transparent else
                                  "explicit proxy" + (" (SOCKS5)" if kind == "socks5" else "") +
                                  (", tunnel only (no interception)" if k in TUNNELS else "")}
        if k not in TUNNELS:
            described[who]["ca_subject"] = "C=US, O=Example Org, OU=IT, " \
                                           "CN=Example Org Web Gateway CA"
    doc = {
        "schema": "certsift-interop-1",
        "capture": f"{capture}.pcap",
        "description": description,
        "interceptors": described,
        "trust_store": "pki/trust-anchors.pem (the real root and the second CA's root, as the "
                       "clients had)" if set(interceptors) <= TUNNELS else
                       "pki/trust-anchors.pem (real root and the proxy's CA, as the clients had)",
        "truth_source": "each client's own view: tlspeer's and TlsGet's connection state, "
                        "curl's --write-out certs, Chromium's NetLog",
        "flow_count": len(flows), "flows": flows, "sni_verdicts": verdicts,
    }
    with open(f"{out}/{capture}.json", "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write("\n")
    print(json.dumps({k: v["verdict"] for k, v in sorted(verdicts.items())}))


def java_version():
    err = run(["java", "-version"]).stderr
    return err.split('"')[1] if '"' in err else "?"


def chromium_version():
    return run(["chromium", "--version"]).stdout.split()[1]


def squid_version():
    return run(["squid", "-v"]).stdout.split("Version ")[1].split()[0]


def privoxy_version():
    return run(["privoxy", "--version"]).stdout.split("version ")[1].split()[0]


def e2guardian_version():
    return run(["e2guardian", "-v"]).stdout.split()[1]


def mitmproxy_version():
    return re.search(r"Mitmproxy: (\S+)", run(["mitmdump", "--version"]).stdout).group(1)


def botan_version():
    return run(["botan", "version"]).stdout.strip()


def curl_version():
    words = run(["curl", "--version"]).stdout.split()
    tls = next(w for w in words if w.startswith("OpenSSL/")).replace("/", " ")
    return f"curl {words[1]} ({tls})"


if __name__ == "__main__":
    main()
