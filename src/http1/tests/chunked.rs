//! Chunked framing: split-invariance, payload ranges, and every rejection rule.

use crate::http1::{ChunkError, ChunkedDecoder, Progress};

/// A body with extensions (token, quoted with an escape, bare name, BWS), upper- and lower-case
/// hex with leading zeros, a last-chunk extension and two trailer fields; then the next message.
const BODY: &[u8] = b"5;name=value;flag\r\nhello\r\n\
1A ; q=\"quoted \\\" str\" ;x\r\nabcdefghijklmnopqrstuvwxyz\r\n\
000a\r\n0123456789\r\n\
0;last=1\r\n\
Trailer-One: v1\r\n\
X-Checksum: caf\xc3\xa9\t!\r\n\
\r\n";
const NEXT: &[u8] = b"GET /next HTTP/1.1\r\n";
const PAYLOAD: &[u8] = b"helloabcdefghijklmnopqrstuvwxyz0123456789";

/// Feeds `pieces` in order; returns total consumed, done, and the payload collected.
fn run(pieces: &[&[u8]]) -> Result<(usize, bool, Vec<u8>), ChunkError> {
    let mut d = ChunkedDecoder::new();
    let mut consumed = 0;
    let mut payload = Vec::new();
    for piece in pieces {
        let p = d.feed_payload(piece, |r| payload.extend_from_slice(piece.get(r).unwrap_or_default()))?;
        assert!(p.consumed <= piece.len());
        consumed += p.consumed;
        if p.done {
            assert_eq!(d.total(), payload.len() as u64);
            return Ok((consumed, true, payload));
        }
        assert_eq!(p.consumed, piece.len(), "a not-done feed consumes everything");
    }
    Ok((consumed, false, payload))
}

fn input() -> Vec<u8> {
    let mut v = BODY.to_vec();
    v.extend_from_slice(NEXT);
    v
}

#[test]
fn whole_body_in_one_feed() {
    let all = input();
    assert_eq!(run(&[&all]), Ok((BODY.len(), true, PAYLOAD.to_vec())));
    let mut d = ChunkedDecoder::new();
    let p = d.feed(&all);
    assert_eq!(
        p,
        Ok(Progress {
            consumed: BODY.len(),
            done: true
        })
    );
    assert!(d.is_done());
    assert_eq!(all.get(BODY.len()..), Some(NEXT));
    // once done, nothing more is consumed
    assert_eq!(
        d.feed(b"more"),
        Ok(Progress {
            consumed: 0,
            done: true
        })
    );
}

#[test]
fn every_split_point_gives_the_same_result() {
    let all = input();
    let want = Ok((BODY.len(), true, PAYLOAD.to_vec()));
    for i in 0..=all.len() {
        let (a, b) = all.split_at(i);
        assert_eq!(run(&[a, b]), want, "split at {i}");
    }
    for i in 0..=BODY.len() {
        for j in i..=all.len() {
            let (a, rest) = all.split_at(i);
            let (b, c) = rest.split_at(j - i);
            assert_eq!(run(&[a, b, c]), want, "split at {i}, {j}");
        }
    }
}

#[test]
fn byte_by_byte() {
    let all = input();
    let pieces: Vec<&[u8]> = all.chunks(1).collect();
    assert_eq!(run(&pieces), Ok((BODY.len(), true, PAYLOAD.to_vec())));
}

#[test]
fn minimal_and_empty_bodies() {
    assert_eq!(run(&[b"0\r\n\r\n"]), Ok((5, true, Vec::new())));
    assert_eq!(run(&[b"0\r\n\r"]), Ok((4, false, Vec::new())));
    assert_eq!(run(&[b""]), Ok((0, false, Vec::new())));
    // 16 hex digits are accepted (then the data is simply not there yet)
    assert_eq!(run(&[b"000000000000000f\r\n"]), Ok((18, false, Vec::new())));
    assert_eq!(run(&[b"ffffffffffffffff\r\nab"]), Ok((20, false, b"ab".to_vec())));
}

fn err(body: &[u8]) -> ChunkError {
    match run(&[body]) {
        Err(e) => e,
        Ok(r) => panic!("accepted {}: {r:?}", String::from_utf8_lossy(body)),
    }
}

#[test]
fn invalid_sizes() {
    let cases: &[&[u8]] = &[
        b"fffffffffffffffff\r\n",
        b"00000000000000000\r\n",
        b"-1\r\n",
        b"+1\r\n",
        b"0x5\r\n",
        b" 5\r\n",
        b"\t5\r\n",
        b"\r\n",
        b"g\r\n",
        b"5 \r\n",
        b"5\t\r\n",
        b"5\n",
        b"5\r\r",
        b"5\rx",
        b"5,6\r\n",
    ];
    for body in cases {
        let e = err(body);
        assert!(
            matches!(
                e,
                ChunkError::BadChunkSize(_) | ChunkError::BadExtension(_) | ChunkError::MissingCrlf(_)
            ),
            "{}: {e:?}",
            String::from_utf8_lossy(body)
        );
    }
    assert!(matches!(err(b"fffffffffffffffff\r\n"), ChunkError::BadChunkSize(_)));
}

#[test]
fn invalid_extensions() {
    let cases: &[&[u8]] = &[
        b"5;\r\n",
        b"5; \r\n",
        b"5;=v\r\n",
        b"5;a=\r\n",
        b"5;a= \r\n",
        b"5;a \r\n",
        b"5;a=b \r\n",
        b"5;a=\"x\r\n",
        b"5;a=\"x\"y\r\n",
        b"5;a=b=c\r\n",
        b"5;a(b)\r\n",
        b"5;a=\"x\x00\"\r\n",
        b"5 x\r\n",
    ];
    for body in cases {
        assert!(
            matches!(err(body), ChunkError::BadExtension(_) | ChunkError::BadChunkSize(_)),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
    // and the valid spellings
    for ok in [
        &b"5;a\r\nhello\r\n0\r\n\r\n"[..],
        b"5 ;a\r\nhello\r\n0\r\n\r\n",
        b"5; a = b ; c\r\nhello\r\n0\r\n\r\n",
        b"5;a=\"\"\r\nhello\r\n0\r\n\r\n",
        b"5;a=\"x;y=\\\"z\"\r\nhello\r\n0\r\n\r\n",
        b"5;a=\"x\" ;b\r\nhello\r\n0\r\n\r\n",
    ] {
        assert_eq!(run(&[ok]).map(|r| r.1), Ok(true), "{}", String::from_utf8_lossy(ok));
    }
}

#[test]
fn data_must_be_followed_by_crlf() {
    assert!(matches!(err(b"5\r\nhelloX\r\n"), ChunkError::MissingCrlf(_)));
    assert!(matches!(err(b"5\r\nhello\rX"), ChunkError::MissingCrlf(_)));
    assert!(matches!(err(b"5\r\nhello\n0\r\n\r\n"), ChunkError::MissingCrlf(_)));
    assert!(matches!(err(b"5\r\nhello world\r\n"), ChunkError::MissingCrlf(_)));
}

#[test]
fn invalid_trailers() {
    let cases: &[&[u8]] = &[
        b"0\r\n obs: fold\r\n\r\n",
        b"0\r\nX: a\r\n b\r\n\r\n",
        b"0\r\nBad Name: x\r\n\r\n",
        b"0\r\nX : x\r\n\r\n",
        b"0\r\n: x\r\n\r\n",
        b"0\r\nX: a\x00b\r\n\r\n",
        b"0\r\nX: a\nY: b\r\n\r\n",
        b"0\r\nX: a\rY: b\r\n\r\n",
        b"0\r\nnocolon\r\n\r\n",
        b"0\r\n\r\r",
        b"0\r\n\n",
    ];
    for body in cases {
        assert!(
            matches!(err(body), ChunkError::BadTrailer(_) | ChunkError::MissingCrlf(_)),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn size_line_and_trailer_caps() {
    let mut long_ext = b"5;a=".to_vec();
    long_ext.extend(std::iter::repeat_n(b'x', 5000));
    assert_eq!(err(&long_ext), ChunkError::SizeLineTooLong);

    let mut ok_ext = b"5;a=".to_vec();
    ok_ext.extend(std::iter::repeat_n(b'x', 4000));
    ok_ext.extend_from_slice(b"\r\nhello\r\n0\r\n\r\n");
    assert_eq!(run(&[&ok_ext]).map(|r| r.1), Ok(true));

    let mut big_trailer = b"0\r\nX: ".to_vec();
    big_trailer.extend(std::iter::repeat_n(b'y', 70_000));
    assert_eq!(err(&big_trailer), ChunkError::TrailersTooLarge);
}

#[test]
fn errors_are_sticky() {
    let mut d = ChunkedDecoder::new();
    let e = d.feed(b"x");
    assert!(e.is_err());
    assert_eq!(d.feed(b"0\r\n\r\n"), e);
    d.reset();
    assert_eq!(
        d.feed(b"0\r\n\r\n"),
        Ok(Progress {
            consumed: 5,
            done: true
        })
    );
}
