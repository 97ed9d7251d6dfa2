// TlsGet: Java's own TLS stack (JSSE) as a client for scripts/interop/,
// the counterpart of `tlspeer get` (same plan lines in, same JSON lines
// out). Run as a single-file program: `java TlsGet.java PLAN ROOTS`.
//
// Each plan line (JSON: sni, addr, proxy, tls, local) is one connection,
// direct or through an HTTP CONNECT proxy; the chain is checked against
// ROOTS by the JDK's own trust manager and the verdict recorded, then the
// handshake goes on either way so that the capture holds it.

import java.io.*;
import java.net.*;
import java.nio.charset.StandardCharsets;
import java.security.*;
import java.security.cert.*;
import java.util.*;
import java.util.regex.*;
import javax.net.ssl.*;

public class TlsGet {
    static String field(String json, String key) {
        Matcher m = Pattern.compile("\"" + key + "\"\\s*:\\s*\"([^\"]*)\"").matcher(json);
        return m.find() ? m.group(1) : "";
    }

    static String quote(String s) {
        return s == null ? "\"\"" : "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (byte x : b) sb.append(String.format("%02x", x));
        return sb.toString();
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: java TlsGet.java PLAN ROOTS");
            System.exit(2);
        }
        KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
        ks.load(null, null);
        int n = 0;
        try (InputStream in = new FileInputStream(args[1])) {
            for (java.security.cert.Certificate c :
                    CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                ks.setCertificateEntry("root" + n++, c);
            }
        }
        TrustManagerFactory tmf =
            TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        X509TrustManager real = (X509TrustManager) tmf.getTrustManagers()[0];
        List<String> plan = java.nio.file.Files.readAllLines(new File(args[0]).toPath());
        int i = 0;
        for (String line : plan) {
            if (line.isBlank()) continue;
            i++;
            System.out.println(connect(i, line, real));
            System.out.flush();
            Thread.sleep(150);
        }
    }

    static String connect(int index, String step, X509TrustManager real) {
        String sni = field(step, "sni"), addr = field(step, "addr"), proxy = field(step, "proxy");
        String tls = field(step, "tls"), local = field(step, "local");
        final String[] verdict = {"", ""};
        StringBuilder out = new StringBuilder();
        out.append("{\"flow_index\":").append(index).append(",\"sni\":").append(quote(sni));
        out.append(",\"proxy\":").append(quote(proxy));
        try {
            String[] target = (proxy.isEmpty() ? addr : proxy).split(":");
            String[] from = local.split(":");
            Socket raw = new Socket();
            raw.setSoTimeout(10000);
            raw.bind(new InetSocketAddress(from[0], Integer.parseInt(from[1])));
            raw.connect(new InetSocketAddress(target[0], Integer.parseInt(target[1])), 5000);
            out.append(",\"client\":").append(quote(from[0] + ":" + raw.getLocalPort()));
            out.append(",\"server\":").append(quote(target[0] + ":" + target[1]));
            if (!proxy.isEmpty()) {
                String port = addr.substring(addr.lastIndexOf(':'));
                OutputStream o = raw.getOutputStream();
                o.write(("CONNECT " + sni + port + " HTTP/1.1\r\nHost: " + sni + port
                        + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                o.flush();
                InputStream in = raw.getInputStream();
                StringBuilder head = new StringBuilder();
                while (!head.toString().endsWith("\r\n\r\n") && head.length() < 8192) {
                    int b = in.read();
                    if (b < 0) break;
                    head.append((char) b);
                }
                if (!head.toString().contains(" 200 ")) {
                    throw new IOException("CONNECT refused: " + head);
                }
            }
            TrustManager recorder = new X509TrustManager() {
                public void checkClientTrusted(X509Certificate[] c, String a) {}
                public void checkServerTrusted(X509Certificate[] c, String a) {
                    try {
                        real.checkServerTrusted(c, a);
                        verdict[0] = "ok";
                    } catch (CertificateException e) {
                        verdict[0] = "fail";
                        verdict[1] = e.getMessage();
                    }
                }
                public X509Certificate[] getAcceptedIssuers() { return new X509Certificate[0]; }
            };
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, new TrustManager[] {recorder}, null);
            SSLSocket s = (SSLSocket) ctx.getSocketFactory()
                .createSocket(raw, sni, Integer.parseInt(addr.substring(addr.lastIndexOf(':') + 1)), true);
            SSLParameters p = s.getSSLParameters();
            p.setServerNames(List.of(new SNIHostName(sni)));
            p.setProtocols(tls.equals("1.2") ? new String[] {"TLSv1.2"}
                                             : new String[] {"TLSv1.3", "TLSv1.2"});
            p.setApplicationProtocols(new String[] {"http/1.1"});
            s.setSSLParameters(p);
            s.startHandshake();
            SSLSession session = s.getSession();
            String version = session.getProtocol().replace("TLSv", "TLS ");
            out.append(",\"tls_version\":").append(quote(version));
            out.append(",\"resumed\":false");
            List<String> chain = new ArrayList<>();
            java.security.cert.Certificate[] peer = session.getPeerCertificates();
            for (java.security.cert.Certificate c : peer) {
                chain.add(quote(hex(MessageDigest.getInstance("SHA-256").digest(c.getEncoded()))));
            }
            X509Certificate leaf = (X509Certificate) peer[0];
            out.append(",\"verified\":").append(verdict[0].equals("ok"));
            out.append(",\"verify_error\":").append(quote(verdict[1]));
            out.append(",\"chain_sha256\":[").append(String.join(",", chain)).append("]");
            out.append(",\"leaf_issuer\":").append(quote(leaf.getIssuerX500Principal().getName()));
            out.append(",\"leaf_not_before\":")
                .append(quote(leaf.getNotBefore().toInstant().toString()));
            OutputStream o = s.getOutputStream();
            o.write(("GET / HTTP/1.1\r\nHost: " + sni + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            o.flush();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[4096];
            long total = 0;
            int r;
            while ((r = in.read(buf)) > 0 && total < (1 << 20)) total += r;
            s.close();
            out.append(",\"error\":\"\"");
        } catch (Exception e) {
            out.append(",\"error\":").append(quote(e.toString()));
        }
        return out.append("}").toString();
    }
}
