//! Minimal RFC 6455 framing for the WebSocket tests.

use super::wire::Wire;
use base64::Engine as _;
use std::io;

pub const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
pub const OP_TEXT: u8 = 1;
pub const OP_BINARY: u8 = 2;
pub const OP_CLOSE: u8 = 8;

/// Sec-WebSocket-Accept for a Sec-WebSocket-Key.
pub fn accept_key(key: &str) -> String {
    let mut h = sha1_smol::Sha1::new();
    h.update(key.as_bytes());
    h.update(GUID.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(h.digest().bytes())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub fin: bool,
    pub opcode: u8,
    pub masked: bool,
    pub payload: Vec<u8>,
}

/// One final frame; masked with `mask` when given (client → server).
pub fn encode_frame(opcode: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut out = vec![0x80 | (opcode & 0x0f)];
    let m = if mask.is_some() { 0x80 } else { 0 };
    let len = payload.len();
    if len < 126 {
        out.push(m | len as u8);
    } else if len <= 0xffff {
        out.push(m | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(m | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    match mask {
        Some(k) => {
            out.extend_from_slice(&k);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ k[i % 4]));
        }
        None => out.extend_from_slice(payload),
    }
    out
}

/// Reads one frame, unmasking its payload if it was masked.
pub fn read_frame(conn: &mut Wire, max_payload: u64) -> io::Result<Frame> {
    let h = conn.read_exact_vec(2)?;
    let fin = h[0] & 0x80 != 0;
    let opcode = h[0] & 0x0f;
    let masked = h[1] & 0x80 != 0;
    let len = match h[1] & 0x7f {
        126 => {
            let b = conn.read_exact_vec(2)?;
            u64::from(u16::from_be_bytes([b[0], b[1]]))
        }
        127 => {
            let b = conn.read_exact_vec(8)?;
            let mut a = [0u8; 8];
            a.copy_from_slice(&b);
            u64::from_be_bytes(a)
        }
        n => u64::from(n),
    };
    if len > max_payload {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("frame of {len} bytes"),
        ));
    }
    let key = if masked {
        let k = conn.read_exact_vec(4)?;
        Some([k[0], k[1], k[2], k[3]])
    } else {
        None
    };
    let mut payload = conn.read_exact_vec(len as usize)?;
    if let Some(k) = key {
        for (i, b) in payload.iter_mut().enumerate() {
            *b ^= k[i % 4];
        }
    }
    Ok(Frame {
        fin,
        opcode,
        masked,
        payload,
    })
}
