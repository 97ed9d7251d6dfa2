// tlspeer: a Go crypto/tls server and client for scripts/interop/make_capture.py,
// a TLS stack the corpus does not have (the corpus has OpenSSL, GnuTLS and
// nginx). Standard library only; build with `go build tlspeer.go`.
//
//	tlspeer serve ADDR CERTDIR
//	    HTTPS on ADDR; the certificate is CERTDIR/<sni>.pem + .key, chosen by
//	    the client's server name (the first file when there is none), or
//	    CERTDIR/<sni>.ecdsa.pem + .key beside it, preferred when the client
//	    supports it (a site with RSA and ECDSA certificates); for
//	    names starting "cdn." only P-256 key exchange (a HelloRetryRequest
//	    for clients that offered an X25519 share alone).
//	tlspeer get PLAN KEYLOG ROOTS
//	    one connection per line of PLAN (JSON lines: sni, no SNI when empty;
//	    addr; proxy, with proxy_kind "socks5" for a SOCKS5 proxy, else an
//	    HTTP one; target, the host:port asked of the proxy, sni:port when
//	    absent; tls; local; and alpn: the protocols offered, http/1.1 when
//	    absent), each verifying against ROOTS; one JSON line per connection
//	    on stdout with what the client itself saw (ground truth).
package main

import (
	"bufio"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 4 {
		fmt.Fprintln(os.Stderr, "usage: tlspeer serve ADDR CERTDIR | get PLAN KEYLOG ROOTS")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "serve":
		serve(os.Args[2], os.Args[3])
	case "get":
		if len(os.Args) < 5 {
			fmt.Fprintln(os.Stderr, "get needs PLAN KEYLOG ROOTS")
			os.Exit(2)
		}
		get(os.Args[2], os.Args[3], os.Args[4])
	default:
		fmt.Fprintln(os.Stderr, "unknown command", os.Args[1])
		os.Exit(2)
	}
}

func serve(addr, dir string) {
	// Per name its certificates, ECDSA first.
	certs := map[string][]*tls.Certificate{}
	var first *tls.Certificate
	pems, _ := filepath.Glob(filepath.Join(dir, "*.pem"))
	for _, p := range pems {
		c, err := tls.LoadX509KeyPair(p, strings.TrimSuffix(p, ".pem")+".key")
		if err != nil {
			fmt.Fprintln(os.Stderr, p, err)
			os.Exit(1)
		}
		name := strings.TrimSuffix(filepath.Base(p), ".pem")
		if n := strings.TrimSuffix(name, ".ecdsa"); n != name {
			certs[n] = append([]*tls.Certificate{&c}, certs[n]...)
			continue
		}
		certs[name] = append(certs[name], &c)
		if first == nil {
			first = &c
		}
	}
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
			list, ok := certs[h.ServerName]
			if !ok {
				return first, nil
			}
			for _, c := range list {
				if h.SupportsCertificate(c) == nil {
					return c, nil
				}
			}
			return list[len(list)-1], nil
		},
	}
	// cdn.* prefers P-256 only: clients that send an X25519 key share alone
	// (Go, Chromium) get a HelloRetryRequest in TLS 1.3.
	retry := cfg.Clone()
	retry.CurvePreferences = []tls.CurveID{tls.CurveP256}
	cfg.GetConfigForClient = func(h *tls.ClientHelloInfo) (*tls.Config, error) {
		if strings.HasPrefix(h.ServerName, "cdn.") {
			return retry, nil
		}
		return nil, nil
	}
	ln, err := tls.Listen("tcp", addr, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	srv := &http.Server{
		ReadHeaderTimeout: 5 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "hello from %s\n", r.Host)
		}),
	}
	fmt.Fprintln(os.Stderr, srv.Serve(ln))
}

type step struct {
	SNI   string `json:"sni"`
	Addr  string `json:"addr"`
	Proxy string `json:"proxy"`
	// "socks5", else the proxy speaks HTTP CONNECT.
	ProxyKind string `json:"proxy_kind"`
	Target    string `json:"target"`
	TLS       string `json:"tls"`
	Local     string `json:"local"`
	// Nil offers http/1.1; empty offers no ALPN.
	ALPN *[]string `json:"alpn"`
}

type seen struct {
	Index       int      `json:"flow_index"`
	SNI         string   `json:"sni"`
	Client      string   `json:"client"`
	Server      string   `json:"server"`
	Proxy       string   `json:"proxy"`
	Target      string   `json:"connect_target"`
	Version     string   `json:"tls_version"`
	Resumed     bool     `json:"resumed"`
	Verified    bool     `json:"verified"`
	VerifyError string   `json:"verify_error"`
	Chain       []string `json:"chain_sha256"`
	Issuer      string   `json:"leaf_issuer"`
	NotBefore   string   `json:"leaf_not_before"`
	Error       string   `json:"error"`
}

func get(planFile, keylog, rootsFile string) {
	plan, err := os.Open(planFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	kl, err := os.OpenFile(keylog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	pem, err := os.ReadFile(rootsFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	out := json.NewEncoder(os.Stdout)
	sc := bufio.NewScanner(plan)
	for i := 1; sc.Scan(); i++ {
		var s step
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			fmt.Fprintln(os.Stderr, "plan line", i, err)
			os.Exit(1)
		}
		out.Encode(connect(i, s, kl, roots))
		time.Sleep(150 * time.Millisecond)
	}
}

func connect(i int, s step, kl io.Writer, roots *x509.CertPool) seen {
	r := seen{Index: i, SNI: s.SNI, Proxy: s.Proxy}
	local, _ := net.ResolveTCPAddr("tcp", s.Local)
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: local}
	target := s.Addr
	if s.Proxy != "" {
		target = s.Proxy
	}
	raw, err := d.Dial("tcp", target)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(10 * time.Second))
	r.Client, r.Server = raw.LocalAddr().String(), raw.RemoteAddr().String()
	host := s.SNI
	if s.Proxy != "" {
		r.Target = s.Target
		if r.Target == "" {
			r.Target = s.SNI + s.Addr[strings.LastIndex(s.Addr, ":"):]
		}
		if s.ProxyKind == "socks5" {
			err = socks5(raw, r.Target)
		} else {
			err = httpConnect(raw, r.Target)
		}
		if err != nil {
			r.Error = err.Error()
			return r
		}
		if host == "" {
			host, _, _ = net.SplitHostPort(r.Target)
		}
	} else if host == "" {
		host, _, _ = net.SplitHostPort(s.Addr)
	}
	cfg := &tls.Config{
		ServerName:         s.SNI,
		InsecureSkipVerify: true, // verified below, to record the verdict
		KeyLogWriter:       kl,
		NextProtos:         []string{"http/1.1"},
		MinVersion:         tls.VersionTLS12,
		MaxVersion:         tls.VersionTLS13,
	}
	if s.ALPN != nil {
		cfg.NextProtos = *s.ALPN
	}
	if s.TLS == "1.2" {
		cfg.MaxVersion = tls.VersionTLS12
	}
	c := tls.Client(raw, cfg)
	if err := c.Handshake(); err != nil {
		r.Error = err.Error()
		return r
	}
	st := c.ConnectionState()
	r.Version = map[uint16]string{tls.VersionTLS12: "TLS 1.2", tls.VersionTLS13: "TLS 1.3"}[st.Version]
	r.Resumed = st.DidResume
	for _, cert := range st.PeerCertificates {
		h := sha256.Sum256(cert.Raw)
		r.Chain = append(r.Chain, hex.EncodeToString(h[:]))
	}
	if len(st.PeerCertificates) > 0 {
		leaf := st.PeerCertificates[0]
		r.Issuer = leaf.Issuer.String()
		r.NotBefore = leaf.NotBefore.UTC().Format(time.RFC3339)
		inter := x509.NewCertPool()
		for _, c := range st.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		_, err := leaf.Verify(x509.VerifyOptions{DNSName: s.SNI, Roots: roots, Intermediates: inter})
		r.Verified = err == nil
		if err != nil {
			r.VerifyError = err.Error()
		}
	}
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", host)
	io.Copy(io.Discard, io.LimitReader(c, 1<<20))
	return r
}

// httpConnect asks an HTTP proxy for a tunnel to TARGET.
func httpConnect(c net.Conn, target string) error {
	fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target)
	br := bufio.NewReader(c)
	status, err := br.ReadString('\n')
	for err == nil {
		var line string
		line, err = br.ReadString('\n')
		if line == "\r\n" {
			break
		}
	}
	if err != nil || !strings.Contains(status, " 200 ") {
		return fmt.Errorf("CONNECT: %q %v", status, err)
	}
	return nil
}

// socks5 asks a SOCKS5 proxy (RFC 1928, no authentication) to connect to
// TARGET: by IPv4 address when its host is one, else by name.
func socks5(c net.Conn, target string) error {
	host, p, err := net.SplitHostPort(target)
	if err != nil {
		return err
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return err
	}
	req := []byte{5, 1, 0}
	if ip := net.ParseIP(host).To4(); ip != nil {
		req = append(append(req, 1), ip...)
	} else {
		req = append(append(req, 3, byte(len(host))), host...)
	}
	req = append(req, byte(port>>8), byte(port))
	buf := make([]byte, 262)
	if _, err := c.Write([]byte{5, 1, 0}); err != nil {
		return err
	}
	if _, err := io.ReadFull(c, buf[:2]); err != nil || buf[0] != 5 || buf[1] != 0 {
		return fmt.Errorf("SOCKS5 greeting: % x %v", buf[:2], err)
	}
	if _, err := c.Write(req); err != nil {
		return err
	}
	if _, err := io.ReadFull(c, buf[:5]); err != nil || buf[1] != 0 {
		return fmt.Errorf("SOCKS5 CONNECT: % x %v", buf[:5], err)
	}
	// The rest of the bound address (IPv4, a name whose length byte is
	// already read, IPv6) and its port.
	rest := map[byte]int{1: 3, 3: int(buf[4]), 4: 15}[buf[3]] + 2
	_, err = io.ReadFull(c, buf[:rest])
	return err
}
