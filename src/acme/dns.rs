//! A minimal blocking DNS client: the A and AAAA addresses of one name, asked of one given DNS server over UDP.
//!
//! Owns the wire format of one question and the parsing of its answer (header, question echo, answer records with
//! compression pointers, CNAME chains, RCODE). It exists so that tests can resolve names through the same DNS server
//! as the test CA (pebble-challtestsrv); production uses the system resolver instead.
//!
//! Runs on the control thread only, blocking for at most the given timeout. Must never: panic or loop on a hostile
//! or truncated packet (every read is bounds-checked, pointer jumps are bounded), accept an answer whose ID, source or
//! question does not match what was asked, fall back to another server, cache anything, or log (the caller logs).

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Record type A (RFC 1035).
const TYPE_A: u16 = 1;
/// Record type CNAME (RFC 1035).
const TYPE_CNAME: u16 = 5;
/// Record type AAAA (RFC 3596).
const TYPE_AAAA: u16 = 28;
/// Class IN.
const CLASS_IN: u16 = 1;

/// RCODE NOERROR.
const RCODE_NOERROR: u8 = 0;
/// RCODE NXDOMAIN.
const RCODE_NXDOMAIN: u8 = 3;

/// Longest label (RFC 1035 2.3.4).
const MAX_LABEL: usize = 63;
/// Longest name in text form, without the trailing dot.
const MAX_NAME_TEXT: usize = 253;
/// Longest name in wire form, terminating zero included (RFC 1035 2.3.4).
const MAX_NAME_WIRE: usize = 255;
/// Most compression pointers followed while reading one name.
const MAX_JUMPS: usize = 16;
/// Most CNAME hops followed from the asked name.
const MAX_CNAME_HOPS: usize = 8;
/// Receive buffer: answers without EDNS fit in 512 bytes; larger ones are accepted up to this size.
const RECV_BUF: usize = 4096;
/// Unanswered queries are sent again after this long (UDP may lose them).
const RESEND_EVERY: Duration = Duration::from_millis(1000);

/// Why a lookup failed. Every variant names the name asked about; all but [`DnsError::InvalidName`] name the server.
#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    #[error("DNS lookup of {name:?}: not a valid host name: {reason}")]
    InvalidName { name: String, reason: &'static str },
    #[error("DNS lookup of {name} at {server}: {source}")]
    Socket {
        server: SocketAddr,
        name: String,
        #[source]
        source: io::Error,
    },
    #[error("DNS lookup of {name} at {server}: no answer within {timeout:?}")]
    Timeout {
        server: SocketAddr,
        name: String,
        timeout: Duration,
    },
    #[error("DNS lookup of {name} at {server}: malformed answer: {reason}")]
    Malformed {
        server: SocketAddr,
        name: String,
        reason: &'static str,
    },
    #[error(
        "DNS lookup of {name} at {server}: the answer is truncated (TC bit) and this client does not retry over TCP"
    )]
    Truncated { server: SocketAddr, name: String },
    #[error("DNS lookup of {name} at {server}: the name does not exist (NXDOMAIN)")]
    NxDomain { server: SocketAddr, name: String },
    #[error("DNS lookup of {name} at {server}: the server answered {}", rcode_name(*.rcode))]
    Rcode {
        server: SocketAddr,
        name: String,
        rcode: u8,
    },
}

/// The A then AAAA addresses of `name`, asked of `server` only, within `timeout` overall.
///
/// CNAME chains in the answer are followed (the addresses of the chain's end are returned). An existing name without
/// address records gives an empty list; a name that does not exist gives [`DnsError::NxDomain`]. Duplicates are
/// removed, order is kept (IPv4 first).
pub fn lookup(server: SocketAddr, name: &str, timeout: Duration) -> Result<Vec<IpAddr>, DnsError> {
    let qname = encode_name(name).map_err(|reason| DnsError::InvalidName {
        name: name.to_string(),
        reason,
    })?;
    let ctx = Ctx { server, name };
    let deadline = Instant::now() + timeout;

    let bind: SocketAddr = match server {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = UdpSocket::bind(bind).map_err(|e| ctx.socket(e))?;
    // A connected socket only receives datagrams from `server`.
    socket.connect(server).map_err(|e| ctx.socket(e))?;

    let id_a = random_id();
    let mut id_aaaa = random_id();
    if id_aaaa == id_a {
        id_aaaa = id_a.wrapping_add(1);
    }
    let mut queries = [
        Query {
            id: id_a,
            qtype: TYPE_A,
            packet: encode_query(id_a, &qname, TYPE_A),
            outcome: None,
        },
        Query {
            id: id_aaaa,
            qtype: TYPE_AAAA,
            packet: encode_query(id_aaaa, &qname, TYPE_AAAA),
            outcome: None,
        },
    ];

    let mut buf = vec![0u8; RECV_BUF];
    // A malformed datagram with a matching ID is not trusted at once (it may be spoofed), but it is a better
    // explanation than "timeout" if nothing good ever arrives.
    let mut last_malformed: Option<&'static str> = None;
    let mut next_send = Instant::now();
    loop {
        let now = Instant::now();
        if now >= next_send {
            for q in queries.iter().filter(|q| q.outcome.is_none()) {
                socket.send(&q.packet).map_err(|e| ctx.socket(e))?;
            }
            next_send = now + RESEND_EVERY;
        }
        let wait = match deadline.checked_duration_since(now) {
            Some(left) if !left.is_zero() => left.min(next_send.saturating_duration_since(now)),
            _ => {
                return Err(match last_malformed {
                    Some(reason) => ctx.malformed(reason),
                    None => DnsError::Timeout {
                        server,
                        name: name.to_string(),
                        timeout,
                    },
                });
            }
        };
        // set_read_timeout rejects zero.
        socket
            .set_read_timeout(Some(wait.max(Duration::from_millis(1))))
            .map_err(|e| ctx.socket(e))?;
        let len = match socket.recv(&mut buf) {
            Ok(len) => len,
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => continue,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(ctx.socket(e)),
        };
        let packet = buf.get(..len).unwrap_or_default();
        let Some(id) = packet_id(packet) else { continue };
        let Some(q) = queries.iter_mut().find(|q| q.id == id && q.outcome.is_none()) else {
            continue;
        };
        match parse_response(packet, q.id, &qname, q.qtype) {
            Ok(Parsed::NotOurs) => continue,
            Ok(Parsed::Answer(answer)) => q.outcome = Some(answer),
            Err(reason) => {
                last_malformed = Some(reason);
                continue;
            }
        }
        if queries.iter().all(|q| q.outcome.is_some()) {
            break;
        }
    }

    let mut addrs: Vec<IpAddr> = Vec::new();
    let mut nxdomain = false;
    for q in &queries {
        let Some(answer) = &q.outcome else { continue };
        if answer.truncated {
            return Err(DnsError::Truncated {
                server,
                name: name.to_string(),
            });
        }
        match answer.rcode {
            RCODE_NOERROR => {}
            RCODE_NXDOMAIN => nxdomain = true,
            rcode => {
                return Err(DnsError::Rcode {
                    server,
                    name: name.to_string(),
                    rcode,
                })
            }
        }
        for addr in &answer.addrs {
            if !addrs.contains(addr) {
                addrs.push(*addr);
            }
        }
    }
    if addrs.is_empty() && nxdomain {
        return Err(DnsError::NxDomain {
            server,
            name: name.to_string(),
        });
    }
    Ok(addrs)
}

/// Server and name, for building errors.
struct Ctx<'a> {
    server: SocketAddr,
    name: &'a str,
}

impl Ctx<'_> {
    fn socket(&self, source: io::Error) -> DnsError {
        DnsError::Socket {
            server: self.server,
            name: self.name.to_string(),
            source,
        }
    }

    fn malformed(&self, reason: &'static str) -> DnsError {
        DnsError::Malformed {
            server: self.server,
            name: self.name.to_string(),
            reason,
        }
    }
}

/// One outstanding question.
struct Query {
    id: u16,
    qtype: u16,
    packet: Vec<u8>,
    outcome: Option<Answer>,
}

/// What a matching answer said.
#[derive(Debug, PartialEq, Eq)]
struct Answer {
    rcode: u8,
    truncated: bool,
    /// Addresses of the asked type owned by the asked name or the end of its CNAME chain, in answer order.
    addrs: Vec<IpAddr>,
}

/// The result of reading one datagram.
#[derive(Debug, PartialEq, Eq)]
enum Parsed {
    /// Not an answer to this question (other ID, not a response, other question): ignore it.
    NotOurs,
    Answer(Answer),
}

/// A readable name for an RCODE.
fn rcode_name(rcode: u8) -> String {
    match rcode {
        1 => "FORMERR (the server could not read the query)".to_string(),
        2 => "SERVFAIL".to_string(),
        3 => "NXDOMAIN".to_string(),
        4 => "NOTIMP".to_string(),
        5 => "REFUSED".to_string(),
        other => format!("RCODE {other}"),
    }
}

/// A query ID that an off-path sender cannot predict: SipHash with the process's random keys over the time and a
/// counter (std only; no random-number crate is a dependency).
fn random_id() -> u16 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(nanos);
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    let h = hasher.finish();
    (h ^ (h >> 16) ^ (h >> 32) ^ (h >> 48)) as u16
}

/// `name` in wire form (length-prefixed labels, lower-cased, terminating zero). Accepts letters, digits, `-` and `_`,
/// and one optional trailing dot.
fn encode_name(name: &str) -> Result<Vec<u8>, &'static str> {
    let text = name.strip_suffix('.').unwrap_or(name);
    if text.is_empty() {
        return Err("empty name");
    }
    if text.len() > MAX_NAME_TEXT {
        return Err("longer than 253 characters");
    }
    let mut wire = Vec::with_capacity(text.len() + 2);
    for label in text.split('.') {
        if label.is_empty() {
            return Err("empty label");
        }
        if label.len() > MAX_LABEL {
            return Err("label longer than 63 characters");
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err("only letters, digits, '-' and '_' are allowed (use the punycode form of names)");
        }
        wire.push(label.len() as u8);
        wire.extend(label.bytes().map(|b| b.to_ascii_lowercase()));
    }
    wire.push(0);
    Ok(wire)
}

/// A standard query (RD set, one question, class IN) for `qname` (wire form) of type `qtype`.
fn encode_query(id: u16, qname: &[u8], qtype: u16) -> Vec<u8> {
    let mut packet = Vec::with_capacity(12 + qname.len() + 4);
    packet.extend_from_slice(&id.to_be_bytes());
    packet.extend_from_slice(&0x0100u16.to_be_bytes()); // QR=0, OPCODE=0, RD=1
    packet.extend_from_slice(&1u16.to_be_bytes()); // QDCOUNT
    packet.extend_from_slice(&[0, 0, 0, 0, 0, 0]); // ANCOUNT, NSCOUNT, ARCOUNT
    packet.extend_from_slice(qname);
    packet.extend_from_slice(&qtype.to_be_bytes());
    packet.extend_from_slice(&CLASS_IN.to_be_bytes());
    packet
}

/// The ID of a datagram, if it has one.
fn packet_id(packet: &[u8]) -> Option<u16> {
    Some(u16::from_be_bytes([*packet.first()?, *packet.get(1)?]))
}

/// Reads a datagram that claims to answer query `id` for `qname` (wire form, lower-cased) of type `qtype`.
fn parse_response(packet: &[u8], id: u16, qname: &[u8], qtype: u16) -> Result<Parsed, &'static str> {
    let mut r = Reader { packet, pos: 0 };
    if r.u16().ok_or("shorter than a DNS header")? != id {
        return Ok(Parsed::NotOurs);
    }
    let flags = r.u16().ok_or("shorter than a DNS header")?;
    let qdcount = r.u16().ok_or("shorter than a DNS header")?;
    let ancount = r.u16().ok_or("shorter than a DNS header")?;
    let _nscount = r.u16().ok_or("shorter than a DNS header")?;
    let _arcount = r.u16().ok_or("shorter than a DNS header")?;
    let is_response = flags & 0x8000 != 0;
    let opcode = (flags >> 11) & 0xf;
    if !is_response || opcode != 0 {
        return Ok(Parsed::NotOurs);
    }
    let truncated = flags & 0x0200 != 0;
    let rcode = (flags & 0xf) as u8;

    // The question must be echoed (servers may omit it only on some errors; such answers are not trusted).
    if qdcount != 1 {
        return Ok(Parsed::NotOurs);
    }
    let echoed = r.name()?;
    let echoed_type = r.u16().ok_or("question cut short")?;
    let echoed_class = r.u16().ok_or("question cut short")?;
    if echoed != qname || echoed_type != qtype || echoed_class != CLASS_IN {
        return Ok(Parsed::NotOurs);
    }

    // Read the whole answer section first: CNAME and address records may come in any order.
    let mut cnames: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut found: Vec<(Vec<u8>, IpAddr)> = Vec::new();
    for _ in 0..ancount {
        let owner = r.name()?;
        let rtype = r.u16().ok_or("answer record cut short")?;
        let class = r.u16().ok_or("answer record cut short")?;
        let _ttl = r.u32().ok_or("answer record cut short")?;
        let rdlength = usize::from(r.u16().ok_or("answer record cut short")?);
        let rdata_start = r.pos;
        let rdata = r.take(rdlength).ok_or("answer record data cut short")?;
        if class != CLASS_IN {
            continue;
        }
        match rtype {
            TYPE_A if qtype == TYPE_A => {
                let octets: [u8; 4] = rdata.try_into().map_err(|_| "A record data is not 4 bytes")?;
                found.push((owner, IpAddr::from(octets)));
            }
            TYPE_AAAA if qtype == TYPE_AAAA => {
                let octets: [u8; 16] = rdata.try_into().map_err(|_| "AAAA record data is not 16 bytes")?;
                found.push((owner, IpAddr::from(octets)));
            }
            TYPE_CNAME => {
                // The target may be compressed, pointing anywhere earlier in the packet.
                let mut target = Reader {
                    packet,
                    pos: rdata_start,
                };
                let name = target.name()?;
                if target.pos != rdata_start + rdlength {
                    return Err("CNAME record data length does not match its name");
                }
                cnames.push((owner, name));
            }
            _ => {}
        }
    }

    // Names that stand for the asked one: itself and the CNAME chain from it.
    let mut aliases: Vec<Vec<u8>> = vec![qname.to_vec()];
    for _ in 0..MAX_CNAME_HOPS {
        let Some(last) = aliases.last() else { break };
        let Some((_, target)) = cnames.iter().find(|(owner, _)| owner == last) else {
            break;
        };
        if aliases.contains(target) {
            break;
        }
        aliases.push(target.clone());
    }
    let addrs = found
        .into_iter()
        .filter(|(owner, _)| aliases.contains(owner))
        .map(|(_, addr)| addr)
        .collect();
    Ok(Parsed::Answer(Answer {
        rcode,
        truncated,
        addrs,
    }))
}

/// A bounds-checked cursor over a packet.
struct Reader<'a> {
    packet: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn u8(&mut self) -> Option<u8> {
        let b = *self.packet.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_be_bytes([self.u8()?, self.u8()?]))
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes([self.u8()?, self.u8()?, self.u8()?, self.u8()?]))
    }

    fn take(&mut self, len: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(len)?;
        let bytes = self.packet.get(self.pos..end)?;
        self.pos = end;
        Some(bytes)
    }

    /// A possibly compressed name, returned in wire form, lower-cased, uncompressed. The cursor ends after the name's
    /// in-place part (after the first pointer, if any).
    fn name(&mut self) -> Result<Vec<u8>, &'static str> {
        let mut out = Vec::new();
        let mut at = self.pos;
        let mut resume: Option<usize> = None;
        let mut jumps = 0;
        loop {
            let len = *self.packet.get(at).ok_or("name cut short")?;
            match len & 0xc0 {
                0x00 => {
                    let len = usize::from(len);
                    if out.len() + 1 + len > MAX_NAME_WIRE {
                        return Err("name longer than 255 bytes");
                    }
                    if len == 0 {
                        out.push(0);
                        self.pos = resume.unwrap_or(at + 1);
                        return Ok(out);
                    }
                    let label = self.packet.get(at + 1..at + 1 + len).ok_or("name cut short")?;
                    out.push(len as u8);
                    out.extend(label.iter().map(u8::to_ascii_lowercase));
                    at += 1 + len;
                }
                0xc0 => {
                    let low = *self.packet.get(at + 1).ok_or("name cut short")?;
                    let target = (usize::from(len & 0x3f) << 8) | usize::from(low);
                    jumps += 1;
                    if jumps > MAX_JUMPS {
                        return Err("too many compression pointers in one name (loop?)");
                    }
                    // Compression points at earlier data only (RFC 1035 4.1.4); forward pointers are rejected.
                    if target >= at {
                        return Err("compression pointer does not point backwards");
                    }
                    if resume.is_none() {
                        resume = Some(at + 2);
                    }
                    at = target;
                }
                _ => return Err("unsupported label type"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;

    const NAME: &str = "app.example.com";

    fn qname() -> Vec<u8> {
        encode_name(NAME).expect("valid name")
    }

    /// An answer header + echoed question for `qtype`, with `ancount` records to be appended by the caller.
    fn response(id: u16, flags: u16, qtype: u16, ancount: u16) -> Vec<u8> {
        let mut p = Vec::new();
        p.extend_from_slice(&id.to_be_bytes());
        p.extend_from_slice(&flags.to_be_bytes());
        p.extend_from_slice(&1u16.to_be_bytes());
        p.extend_from_slice(&ancount.to_be_bytes());
        p.extend_from_slice(&[0, 0, 0, 0]);
        p.extend_from_slice(&qname());
        p.extend_from_slice(&qtype.to_be_bytes());
        p.extend_from_slice(&CLASS_IN.to_be_bytes());
        p
    }

    /// Appends a record whose owner is `owner` (raw wire bytes, possibly a pointer).
    fn record(p: &mut Vec<u8>, owner: &[u8], rtype: u16, rdata: &[u8]) {
        p.extend_from_slice(owner);
        p.extend_from_slice(&rtype.to_be_bytes());
        p.extend_from_slice(&CLASS_IN.to_be_bytes());
        p.extend_from_slice(&300u32.to_be_bytes());
        p.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        p.extend_from_slice(rdata);
    }

    /// A pointer to the question's name (always at offset 12).
    const PTR_QNAME: [u8; 2] = [0xc0, 12];

    fn addrs(parsed: Result<Parsed, &'static str>) -> Vec<IpAddr> {
        match parsed {
            Ok(Parsed::Answer(a)) => a.addrs,
            other => panic!("expected an answer, got {other:?}"),
        }
    }

    #[test]
    fn encodes_names_and_checks_labels() {
        assert_eq!(
            encode_name("App.Example.com.").expect("valid"),
            b"\x03app\x07example\x03com\x00".to_vec()
        );
        assert!(encode_name("").is_err());
        assert!(encode_name(".").is_err());
        assert!(encode_name("a..b").is_err());
        assert!(encode_name("a b.com").is_err());
        assert!(encode_name("é.com").is_err());
        assert!(encode_name(&format!("{}.com", "a".repeat(63))).is_ok());
        assert!(encode_name(&format!("{}.com", "a".repeat(64))).is_err());
        // 4 labels of 63 = 255 chars of text: too long; 253 is the limit.
        let l63 = "a".repeat(63);
        let long = format!("{l63}.{l63}.{l63}.{}", "a".repeat(61));
        assert_eq!(long.len(), 253);
        assert!(encode_name(&long).is_ok());
        assert!(encode_name(&format!("{long}a")).is_err());
        let err = lookup(
            "127.0.0.1:53".parse().expect("addr"),
            "bad..name",
            Duration::from_millis(10),
        )
        .expect_err("invalid");
        assert!(matches!(err, DnsError::InvalidName { .. }), "{err}");
    }

    #[test]
    fn query_round_trips_through_the_parser() {
        let q = encode_query(0xbeef, &qname(), TYPE_AAAA);
        assert_eq!(&q[..4], &[0xbe, 0xef, 0x01, 0x00]);
        // The query itself is not a response.
        assert_eq!(parse_response(&q, 0xbeef, &qname(), TYPE_AAAA), Ok(Parsed::NotOurs));
        // The same bytes with QR set and one AAAA record appended parse back.
        let mut p = q.clone();
        p[2] |= 0x80;
        p[7] = 1; // ANCOUNT
        let ip: Ipv6Addr = "2001:db8::7".parse().expect("ip");
        record(&mut p, &PTR_QNAME, TYPE_AAAA, &ip.octets());
        assert_eq!(
            addrs(parse_response(&p, 0xbeef, &qname(), TYPE_AAAA)),
            vec![IpAddr::V6(ip)]
        );
    }

    #[test]
    fn reads_a_records_uncompressed_and_compressed() {
        let mut p = response(7, 0x8180, TYPE_A, 2);
        record(&mut p, &qname(), TYPE_A, &[192, 0, 2, 1]);
        record(&mut p, &PTR_QNAME, TYPE_A, &[192, 0, 2, 2]);
        assert_eq!(
            addrs(parse_response(&p, 7, &qname(), TYPE_A)),
            vec![IpAddr::from([192, 0, 2, 1]), IpAddr::from([192, 0, 2, 2])]
        );
    }

    #[test]
    fn owner_names_compare_case_insensitively_and_through_partial_pointers() {
        let mut p = response(7, 0x8180, TYPE_A, 1);
        // "APP" followed by a pointer to "example.com" inside the question (offset 12 + 4).
        let mut owner = b"\x03APP".to_vec();
        owner.extend_from_slice(&[0xc0, 16]);
        record(&mut p, &owner, TYPE_A, &[192, 0, 2, 3]);
        assert_eq!(
            addrs(parse_response(&p, 7, &qname(), TYPE_A)),
            vec![IpAddr::from([192, 0, 2, 3])]
        );
    }

    #[test]
    fn follows_cnames_and_ignores_unrelated_records() {
        let mut p = response(9, 0x8180, TYPE_A, 4);
        // app.example.com CNAME edge.cdn.test
        record(&mut p, &PTR_QNAME, TYPE_CNAME, b"\x04edge\x03cdn\x04test\x00");
        let target_at = p.len() - 15; // where "edge.cdn.test" starts
                                      // An unrelated name's address is not ours.
        record(&mut p, b"\x05other\x04test\x00", TYPE_A, &[198, 51, 100, 1]);
        // edge.cdn.test A (owner compressed to the CNAME target).
        record(&mut p, &[0xc0, target_at as u8], TYPE_A, &[192, 0, 2, 10]);
        // An AAAA record in an A answer is ignored.
        record(&mut p, &PTR_QNAME, TYPE_AAAA, &[0; 16]);
        assert_eq!(
            addrs(parse_response(&p, 9, &qname(), TYPE_A)),
            vec![IpAddr::from([192, 0, 2, 10])]
        );
    }

    #[test]
    fn cname_loops_end() {
        let mut p = response(9, 0x8180, TYPE_A, 2);
        record(&mut p, &PTR_QNAME, TYPE_CNAME, b"\x01b\x00");
        record(&mut p, b"\x01b\x00", TYPE_CNAME, &PTR_QNAME);
        assert_eq!(addrs(parse_response(&p, 9, &qname(), TYPE_A)), Vec::<IpAddr>::new());
    }

    #[test]
    fn pointer_loops_and_forward_pointers_are_rejected() {
        // A pointer to itself.
        let mut p = response(1, 0x8180, TYPE_A, 1);
        let at = p.len();
        p.extend_from_slice(&[0xc0, at as u8]);
        assert!(parse_response(&p, 1, &qname(), TYPE_A).is_err());

        // A backward pointer whose target runs into the same pointer again: "\x01x" then a pointer to it.
        let mut p = response(1, 0x8180, TYPE_A, 1);
        let at = p.len();
        p.extend_from_slice(&[1, b'x', 0xc0, at as u8]);
        let err = parse_response(&p, 1, &qname(), TYPE_A).expect_err("loop");
        assert!(err.contains("pointer") || err.contains("255"), "{err}");

        // Two pointers pointing at each other (the second one forward).
        let mut p = response(1, 0x8180, TYPE_A, 1);
        let at = p.len();
        p.extend_from_slice(&[0xc0, (at + 2) as u8, 0xc0, at as u8]);
        assert!(parse_response(&p, 1, &qname(), TYPE_A).is_err());

        // A name made only of pointers hopping backwards a long way is cut off by the jump bound.
        let mut p = response(1, 0x8180, TYPE_A, 1);
        let first = p.len();
        p.extend_from_slice(&[0xc0, 12]);
        for i in 0..20 {
            let prev = first + 2 * i;
            p.extend_from_slice(&[0xc0, prev as u8]);
        }
        let mut r = Reader {
            packet: &p,
            pos: p.len() - 2,
        };
        assert_eq!(r.name(), Err("too many compression pointers in one name (loop?)"));
    }

    #[test]
    fn truncated_packets_are_errors_never_panics() {
        let mut full = response(5, 0x8180, TYPE_A, 2);
        record(&mut full, &PTR_QNAME, TYPE_CNAME, b"\x01b\xc0\x10");
        record(&mut full, &PTR_QNAME, TYPE_A, &[192, 0, 2, 1]);
        assert!(parse_response(&full, 5, &qname(), TYPE_A).is_ok());
        for len in 2..full.len() {
            let cut = &full[..len];
            assert!(
                parse_response(cut, 5, &qname(), TYPE_A).is_err(),
                "accepted {len} bytes"
            );
        }
        assert_eq!(
            parse_response(&[], 5, &qname(), TYPE_A),
            Err("shorter than a DNS header")
        );
        // ANCOUNT larger than the records present.
        let mut p = response(5, 0x8180, TYPE_A, 3);
        record(&mut p, &PTR_QNAME, TYPE_A, &[192, 0, 2, 1]);
        assert!(parse_response(&p, 5, &qname(), TYPE_A).is_err());
        // Wrong address length.
        let mut p = response(5, 0x8180, TYPE_A, 1);
        record(&mut p, &PTR_QNAME, TYPE_A, &[192, 0, 2]);
        assert!(parse_response(&p, 5, &qname(), TYPE_A).is_err());
        // Reserved label type.
        let mut p = response(5, 0x8180, TYPE_A, 1);
        p.extend_from_slice(&[0x40, 0]);
        assert_eq!(parse_response(&p, 5, &qname(), TYPE_A), Err("unsupported label type"));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // A cheap deterministic fuzz: mutate a valid answer byte by byte.
        let mut base = response(5, 0x8180, TYPE_A, 2);
        record(&mut base, &PTR_QNAME, TYPE_CNAME, b"\x01b\xc0\x10");
        record(&mut base, &[0xc0, 0x2d], TYPE_A, &[192, 0, 2, 1]);
        for i in 0..base.len() {
            for v in [0x00, 0x01, 0x3f, 0x40, 0x80, 0xc0, 0xc1, 0xff] {
                let mut p = base.clone();
                p[i] = v;
                let _ = parse_response(&p, 5, &qname(), TYPE_A);
            }
        }
    }

    #[test]
    fn wrong_id_wrong_question_and_queries_are_not_ours() {
        let mut p = response(5, 0x8180, TYPE_A, 1);
        record(&mut p, &PTR_QNAME, TYPE_A, &[192, 0, 2, 1]);
        assert_eq!(parse_response(&p, 6, &qname(), TYPE_A), Ok(Parsed::NotOurs));
        assert_eq!(parse_response(&p, 5, &qname(), TYPE_AAAA), Ok(Parsed::NotOurs));
        assert_eq!(
            parse_response(&p, 5, &encode_name("other.test").expect("name"), TYPE_A),
            Ok(Parsed::NotOurs)
        );
        let mut q = p.clone();
        q[2] &= 0x7f; // QR = 0
        assert_eq!(parse_response(&q, 5, &qname(), TYPE_A), Ok(Parsed::NotOurs));
        // A wrong ID is ignored even when the rest is garbage.
        assert_eq!(parse_response(&[0, 6, 1], 5, &qname(), TYPE_A), Ok(Parsed::NotOurs));
    }

    #[test]
    fn rcode_and_tc_are_reported() {
        let p = response(5, 0x8183, TYPE_A, 0);
        assert_eq!(
            parse_response(&p, 5, &qname(), TYPE_A),
            Ok(Parsed::Answer(Answer {
                rcode: RCODE_NXDOMAIN,
                truncated: false,
                addrs: vec![]
            }))
        );
        let p = response(5, 0x8380, TYPE_A, 0);
        assert_eq!(
            parse_response(&p, 5, &qname(), TYPE_A),
            Ok(Parsed::Answer(Answer {
                rcode: 0,
                truncated: true,
                addrs: vec![]
            }))
        );
    }

    /// Runs a UDP DNS server on 127.0.0.1 for `rounds` datagrams; `answer` builds the reply(s) to each query.
    fn serve<F>(rounds: usize, answer: F) -> (SocketAddr, thread::JoinHandle<()>)
    where
        F: Fn(u16, u16) -> Vec<Vec<u8>> + Send + 'static,
    {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
        socket.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
        let addr = socket.local_addr().expect("addr");
        let handle = thread::spawn(move || {
            let mut buf = [0u8; 512];
            for _ in 0..rounds {
                let Ok((len, peer)) = socket.recv_from(&mut buf) else {
                    return;
                };
                let query = &buf[..len];
                let id = u16::from_be_bytes([query[0], query[1]]);
                let qtype = u16::from_be_bytes([query[len - 4], query[len - 3]]);
                for reply in answer(id, qtype) {
                    socket.send_to(&reply, peer).expect("send");
                }
            }
        });
        (addr, handle)
    }

    #[test]
    fn resolves_through_a_local_server_ignoring_wrong_ids() {
        let (server, handle) = serve(2, |id, qtype| {
            // First a spoof-like answer with the wrong ID, then the real one.
            let mut wrong = response(id.wrapping_add(1), 0x8180, qtype, 1);
            let mut right = response(id, 0x8180, qtype, 2);
            record(&mut right, &PTR_QNAME, TYPE_CNAME, b"\x04edge\xc0\x10");
            if qtype == TYPE_A {
                record(&mut wrong, &PTR_QNAME, TYPE_A, &[203, 0, 113, 66]);
                record(&mut right, &PTR_QNAME, TYPE_A, &[127, 0, 0, 1]);
            } else {
                record(&mut wrong, &PTR_QNAME, TYPE_AAAA, &[0xff; 16]);
                record(&mut right, &PTR_QNAME, TYPE_AAAA, &Ipv6Addr::LOCALHOST.octets());
            }
            vec![wrong, right]
        });
        let got = lookup(server, NAME, Duration::from_secs(3)).expect("lookup");
        assert_eq!(
            got,
            vec![IpAddr::V4(Ipv4Addr::LOCALHOST), IpAddr::V6(Ipv6Addr::LOCALHOST)]
        );
        handle.join().expect("server");
    }

    #[test]
    fn nxdomain_and_servfail_from_a_local_server() {
        let (server, handle) = serve(2, |id, qtype| vec![response(id, 0x8183, qtype, 0)]);
        let err = lookup(server, NAME, Duration::from_secs(3)).expect_err("nxdomain");
        assert!(matches!(err, DnsError::NxDomain { .. }), "{err}");
        assert!(
            err.to_string().contains(NAME) && err.to_string().contains(&server.to_string()),
            "{err}"
        );
        handle.join().expect("server");

        let (server, handle) = serve(2, |id, qtype| vec![response(id, 0x8182, qtype, 0)]);
        let err = lookup(server, NAME, Duration::from_secs(3)).expect_err("servfail");
        assert!(err.to_string().contains("SERVFAIL"), "{err}");
        handle.join().expect("server");
    }

    #[test]
    fn silent_server_times_out_on_time() {
        let silent = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let server = silent.local_addr().expect("addr");
        let started = Instant::now();
        let err = lookup(server, NAME, Duration::from_millis(300)).expect_err("timeout");
        assert!(matches!(err, DnsError::Timeout { .. }), "{err}");
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}
