//! Deterministic mutation testing: mangled heads and bodies must never panic, and how the input
//! is split across reads must never change the verdict (no false 400 because a packet ended
//! mid-line; no acceptance of a prefix that the whole input rejects).

use crate::http1::{
    parse_request, parse_response, write_request_head, ChunkedDecoder, Forwarding, HeadError, Limits, Method, Parsed,
    RequestHead, ResponseHead,
};

/// xorshift64*: small, deterministic, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const INTERESTING: &[u8] = b"\r\n :;,\t\0\"\\=/?#@%[]0123456789abcdefABCDEF\x7f\x80\xff-";

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(v.len() + 1);
        let byte = INTERESTING.get(rng.below(INTERESTING.len())).copied().unwrap_or(b'x');
        match rng.below(4) {
            0 => v.insert(at, byte),
            1 if at < v.len() => {
                v.remove(at);
            }
            2 if at < v.len() => {
                if let Some(b) = v.get_mut(at) {
                    *b = byte;
                }
            }
            _ => {
                let from = rng.below(v.len());
                let len = rng.below(12);
                let piece: Vec<u8> = v.iter().skip(from).take(len).copied().collect();
                let at = at.min(v.len());
                v.splice(at..at, piece);
            }
        }
    }
    v
}

const REQUESTS: &[&[u8]] = &[
    b"GET /a/b?c=d HTTP/1.1\r\nHost: a.example\r\nAccept: */*\r\nConnection: keep-alive, X-A\r\nX-A: 1\r\n\r\nBODY",
    b"POST http://h.example:81/p HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\nabcd",
    b"PUT /x HTTP/1.1\r\nHost: [::1]:8080\r\nTransfer-Encoding: chunked\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n0\r\n\r\n",
    b"\r\nOPTIONS * HTTP/1.0\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n",
];

const RESPONSES: &[&[u8]] = &[
    b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nabcd",
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n",
    b"HTTP/1.0 304 Not Modified\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
];

const BODIES: &[&[u8]] = &[
    b"5;a=b\r\nhello\r\n1a;q=\"x\\\"y\"\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nT: v\r\n\r\nNEXT",
    b"0\r\n\r\n",
];

fn req_verdict(buf: &[u8]) -> (Result<Parsed, HeadError>, RequestHead) {
    let mut head = RequestHead::new();
    let limits = Limits {
        max_head: 256,
        max_target: 64,
        max_headers: 8,
    };
    let r = parse_request(buf, &limits, &mut head);
    (r, head)
}

fn res_verdict(buf: &[u8]) -> (Result<Parsed, HeadError>, ResponseHead) {
    let mut head = ResponseHead::new();
    let limits = Limits {
        max_head: 256,
        ..Limits::default()
    };
    let r = parse_response(buf, &limits, Method::Get, &mut head);
    (r, head)
}

#[test]
fn mangled_requests_are_split_invariant() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let fwd = Forwarding {
        client_ip: [192, 0, 2, 1].into(),
        proto: "http",
        port: 80,
        host_override: None,
    };
    let mut out = Vec::new();
    for round in 0..10000 {
        let seed = REQUESTS.get(round % REQUESTS.len()).copied().unwrap_or_default();
        let input = mutate(&mut rng, seed);
        let (full, head) = req_verdict(&input);
        // (a hostless HTTP/1.0 request is forwarded with an empty Host, which is valid HTTP/1.1
        // but which our own strict parser refuses from clients, so it is not reparsed here)
        if let (Ok(Parsed::Complete), Some(_)) = (full, head.host) {
            assert!(head.head_len <= input.len());
            for h in &head.headers {
                assert!(h.name.end as usize <= head.head_len && h.value.end as usize <= head.head_len);
            }
            out.clear();
            write_request_head(&input, &head, &fwd, &mut out);
            // what we forward must parse again, to the same framing and host
            let mut again_head = RequestHead::new();
            let again = parse_request(&out, &Limits::default(), &mut again_head);
            assert_eq!(again_head.body, head.body);
            assert_eq!(again_head.host.map(|h| h.get(&out)), head.host.map(|h| h.get(&input)));
            assert!(
                matches!(again, Ok(Parsed::Complete)),
                "rewrite of {:?} reparsed as {again:?}: {:?}",
                String::from_utf8_lossy(&input),
                String::from_utf8_lossy(&out)
            );
        }
        for n in 0..input.len() {
            let prefix = input.get(..n).unwrap_or_default();
            let (part, part_head) = req_verdict(prefix);
            match (&full, &part) {
                (Ok(Parsed::Complete), _) if n < head.head_len => {
                    assert_eq!(
                        part,
                        Ok(Parsed::Partial),
                        "false verdict on prefix {n} of {:?}",
                        String::from_utf8_lossy(&input)
                    );
                }
                (Ok(Parsed::Complete), _) => assert_eq!((part, part_head), (full, head.clone())),
                (_, Err(e)) => assert!(
                    full.is_err(),
                    "prefix {n} rejected ({e}) but the whole {:?} is {full:?}",
                    String::from_utf8_lossy(&input)
                ),
                _ => {}
            }
        }
    }
}

#[test]
fn mangled_responses_are_split_invariant() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for round in 0..10000 {
        let seed = RESPONSES.get(round % RESPONSES.len()).copied().unwrap_or_default();
        let input = mutate(&mut rng, seed);
        let (full, head) = res_verdict(&input);
        for n in 0..input.len() {
            let prefix = input.get(..n).unwrap_or_default();
            let (part, _) = res_verdict(prefix);
            match (&full, &part) {
                (Ok(Parsed::Complete), _) if n < head.head_len => {
                    assert_eq!(
                        part,
                        Ok(Parsed::Partial),
                        "prefix {n} of {:?}",
                        String::from_utf8_lossy(&input)
                    );
                }
                (_, Err(_)) => assert!(full.is_err(), "prefix {n} of {:?}", String::from_utf8_lossy(&input)),
                _ => {}
            }
        }
    }
}

/// Feeds `input` split at `cut`; returns the verdict and the total consumed.
fn feed_split(input: &[u8], cut: usize) -> (Result<bool, crate::http1::ChunkError>, usize) {
    let mut d = ChunkedDecoder::new();
    let (a, b) = input.split_at(cut.min(input.len()));
    let mut consumed = 0;
    for piece in [a, b] {
        match d.feed(piece) {
            Err(e) => return (Err(e), consumed),
            Ok(p) => {
                consumed += p.consumed;
                if p.done {
                    return (Ok(true), consumed);
                }
            }
        }
    }
    (Ok(false), consumed)
}

#[test]
fn mangled_chunked_bodies_are_split_invariant() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for round in 0..20000 {
        let seed = BODIES.get(round % BODIES.len()).copied().unwrap_or_default();
        let input = mutate(&mut rng, seed);
        let whole = feed_split(&input, input.len());
        for cut in 0..input.len() {
            let split = feed_split(&input, cut);
            match (&whole.0, &split.0) {
                (Err(a), Err(b)) => assert_eq!(a, b),
                _ => assert_eq!(whole, split, "cut {cut} of {:?}", String::from_utf8_lossy(&input)),
            }
        }
    }
}
