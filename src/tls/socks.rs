//! SOCKS preambles: the client side of a connection through a SOCKS proxy
//! (RFC 1928 SOCKS5 with the RFC 1929 username/password step, SOCKS4 and
//! SOCKS4a) asks the proxy to CONNECT to a target before TLS starts.
//!
//! In: the first bytes of the client's direction. Out: the target as
//! `host:port` (IPv6 in brackets, as an HTTP CONNECT names it) and how many
//! bytes the requests took, when they are complete; `Partial` while they
//! may still be; `No` when the bytes are no SOCKS CONNECT. Leaves out: BIND
//! and UDP ASSOCIATE (no TLS follows them on this connection) and the
//! proxy's replies, which the record hunt skips.

use std::net::{Ipv4Addr, Ipv6Addr};

/// Longest client preamble: a greeting (2 + 255), a username/password step
/// (3 + 255 + 255) and a request (7 + 255).
pub(super) const MAX_SOCKS_PREAMBLE: usize = 257 + 513 + 262;

/// SOCKS4 user ids and SOCKS4a host names are NUL-terminated; no more than
/// this many bytes are searched for the NUL.
const MAX_SOCKS4_FIELD: usize = 255;

/// What the first client bytes are.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Socks {
    /// A complete CONNECT: its target and the bytes it took.
    Connect { target: String, len: usize },
    /// A prefix of one: wait for more bytes.
    Partial,
    /// Not a SOCKS CONNECT.
    No,
}

/// Reads a SOCKS4, SOCKS4a or SOCKS5 CONNECT at the start of `b`.
pub(super) fn client_request(b: &[u8]) -> Socks {
    match b.first() {
        Some(4) => socks4(b),
        Some(5) => socks5(b),
        Some(_) => Socks::No,
        None => Socks::Partial,
    }
}

/// One step of reading: the value and the offset after it, or why not.
type Step<T> = Result<(T, usize), Socks>;

fn byte(b: &[u8], at: usize) -> Step<u8> {
    b.get(at).map_or(Err(Socks::Partial), |&v| Ok((v, at + 1)))
}

fn bytes(b: &[u8], at: usize, n: usize) -> Step<&[u8]> {
    b.get(at..at + n)
        .map_or(Err(Socks::Partial), |v| Ok((v, at + n)))
}

fn array<const N: usize>(b: &[u8], at: usize) -> Step<[u8; N]> {
    let (v, at) = bytes(b, at, N)?;
    v.try_into().map_or(Err(Socks::Partial), |a| Ok((a, at)))
}

fn port(b: &[u8], at: usize) -> Step<u16> {
    let (p, at) = array::<2>(b, at)?;
    Ok((u16::from_be_bytes(p), at))
}

/// A NUL-terminated field of at most [`MAX_SOCKS4_FIELD`] bytes.
fn cstr(b: &[u8], at: usize) -> Step<&[u8]> {
    let rest = b.get(at..).unwrap_or(&[]);
    match rest.iter().take(MAX_SOCKS4_FIELD + 1).position(|&c| c == 0) {
        Some(n) => Ok((rest.get(..n).unwrap_or_default(), at + n + 1)),
        None if rest.len() > MAX_SOCKS4_FIELD => Err(Socks::No),
        None => Err(Socks::Partial),
    }
}

/// A host name as sent: printable ASCII without spaces, else not SOCKS.
fn host_name(raw: &[u8]) -> Result<String, Socks> {
    if raw.is_empty() || !raw.iter().all(|c| c.is_ascii_graphic()) {
        return Err(Socks::No);
    }
    Ok(String::from_utf8_lossy(raw).into_owned())
}

fn done(r: Result<Socks, Socks>) -> Socks {
    r.unwrap_or_else(|e| e)
}

/// VER 4, CMD 1 (CONNECT), port, IPv4, user id; SOCKS4a: IPv4 0.0.0.x
/// (x not 0) and the host name after the user id.
fn socks4(b: &[u8]) -> Socks {
    done((|| {
        let (cmd, at) = byte(b, 1)?;
        if cmd != 1 {
            return Err(Socks::No);
        }
        let (p, at) = port(b, at)?;
        let (ip, at) = array::<4>(b, at)?;
        let (_user, at) = cstr(b, at)?;
        let (host, at) = if matches!(ip, [0, 0, 0, x] if x != 0) {
            let (raw, at) = cstr(b, at)?;
            (host_name(raw)?, at)
        } else {
            (Ipv4Addr::from(ip).to_string(), at)
        };
        Ok(Socks::Connect {
            target: format!("{host}:{p}"),
            len: at,
        })
    })())
}

/// Greeting (VER 5, NMETHODS at least 1, methods), the username/password
/// step when it follows (VER 1), then the request (VER 5, CMD 1, RSV 0,
/// ATYP 1/3/4, address, port).
fn socks5(b: &[u8]) -> Socks {
    done((|| {
        let (n, at) = byte(b, 1)?;
        if n == 0 {
            return Err(Socks::No);
        }
        let (_methods, mut at) = bytes(b, at, usize::from(n))?;
        if byte(b, at)?.0 == 1 {
            let (ulen, a) = byte(b, at + 1)?;
            let (_user, a) = bytes(b, a, usize::from(ulen))?;
            let (plen, a) = byte(b, a)?;
            let (_pass, a) = bytes(b, a, usize::from(plen))?;
            at = a;
        }
        let ([ver, cmd, rsv, atyp], at) = array::<4>(b, at)?;
        if [ver, cmd, rsv] != [5, 1, 0] {
            return Err(Socks::No);
        }
        let (host, at) = match atyp {
            1 => {
                let (a, at) = array::<4>(b, at)?;
                (Ipv4Addr::from(a).to_string(), at)
            }
            3 => {
                let (len, at) = byte(b, at)?;
                let (raw, at) = bytes(b, at, usize::from(len))?;
                (host_name(raw)?, at)
            }
            4 => {
                let (a, at) = array::<16>(b, at)?;
                (format!("[{}]", Ipv6Addr::from(a)), at)
            }
            _ => return Err(Socks::No),
        };
        let (p, at) = port(b, at)?;
        Ok(Socks::Connect {
            target: format!("{host}:{p}"),
            len: at,
        })
    })())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connect(target: &str, len: usize) -> Socks {
        Socks::Connect {
            target: target.into(),
            len,
        }
    }

    #[test]
    fn socks5_requests_by_name_address_and_after_a_password() {
        // curl --socks5-hostname: greeting (no auth), CONNECT by name.
        let mut b = vec![5, 1, 0, 5, 1, 0, 3, 13];
        b.extend_from_slice(b"www.shop.test");
        b.extend_from_slice(&443u16.to_be_bytes());
        let len = b.len();
        b.extend_from_slice(&[0x16, 3, 1, 0, 0x80]);
        assert_eq!(client_request(&b), connect("www.shop.test:443", len));
        // Every prefix of it is a prefix, never a wrong answer.
        for n in 0..len {
            assert_eq!(client_request(&b[..n]), Socks::Partial, "{n}");
        }
        // Two methods, username/password, CONNECT to an IPv4 address.
        let mut b = vec![5, 2, 0, 2, 1, 5];
        b.extend_from_slice(b"alice");
        b.push(3);
        b.extend_from_slice(b"pwd");
        b.extend_from_slice(&[5, 1, 0, 1, 203, 0, 113, 10, 0x20, 0xfb]);
        assert_eq!(client_request(&b), connect("203.0.113.10:8443", b.len()));
        // IPv6.
        let mut b = vec![5, 1, 0, 5, 1, 0, 4];
        b.extend_from_slice(&"2001:db8::10".parse::<Ipv6Addr>().unwrap().octets());
        b.extend_from_slice(&443u16.to_be_bytes());
        assert_eq!(client_request(&b), connect("[2001:db8::10]:443", b.len()));
    }

    #[test]
    fn socks4_and_socks4a() {
        let mut b = vec![4, 1, 1, 187, 203, 0, 113, 10];
        b.extend_from_slice(b"bob\0");
        assert_eq!(client_request(&b), connect("203.0.113.10:443", b.len()));
        let mut b = vec![4, 1, 1, 187, 0, 0, 0, 1, 0];
        b.extend_from_slice(b"api.shop.test\0");
        assert_eq!(client_request(&b), connect("api.shop.test:443", b.len()));
        assert_eq!(client_request(&b[..b.len() - 1]), Socks::Partial);
        // A user id that never ends is not SOCKS.
        let mut b = vec![4, 1, 1, 187, 1, 2, 3, 4];
        b.extend_from_slice(&[b'x'; 300]);
        assert_eq!(client_request(&b), Socks::No);
    }

    #[test]
    fn other_bytes_and_commands_are_not_socks() {
        for b in [
            &b"\x16\x03\x01\x02\x00"[..],
            b"EHLO mail.test\r\n",
            b"\x05\x00\x05\x00\x00\x01", // the proxy's replies: no methods
            b"\x05\x01\x00\x05\x02\x00\x01", // BIND
            b"\x05\x01\x00\x05\x01\x00\x09", // unknown address type
            b"\x04\x02\x01\xbb\x01\x02\x03\x04\x00", // SOCKS4 BIND
            b"\x05\x01\x00\x05\x01\x00\x03\x03a b\x01\xbb", // a space in the name
        ] {
            assert_eq!(client_request(b), Socks::No, "{b:?}");
        }
    }
}
