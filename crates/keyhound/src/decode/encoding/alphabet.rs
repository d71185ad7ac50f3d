//! The base64 alphabets and hex digits as lookup tables, and the primitive decoders (base64,
//! hex) that know nothing of offsets, keywords or runs.

use super::super::classify::pack;

pub(crate) use super::patterns::{STD, URL};

const fn b64_table() -> [u8; 256] {
    let mut t = [0xFFu8; 256];
    let mut i = 0;
    while i < 64 {
        t[STD[i] as usize] = i as u8;
        t[URL[i] as usize] = i as u8;
        i += 1;
    }
    t
}

pub(crate) static B64: [u8; 256] = b64_table();

#[inline]
pub(crate) fn is_b64(b: u8) -> bool {
    B64[usize::from(b)] != 0xFF
}

/// Decodes base64 text in either alphabet (mixed is fine), without padding or with, starting
/// on a group boundary; stops at the first character of neither alphabet.
pub(crate) fn decode_base64(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 2);
    let mut acc = 0u32;
    let mut n = 0;
    for &c in text {
        let v = B64[usize::from(c)];
        if v == 0xFF {
            break;
        }
        acc = (acc << 6) | u32::from(v);
        n += 1;
        if n == 4 {
            out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]);
            acc = 0;
            n = 0;
        }
    }
    match n {
        2 => out.push((acc >> 4) as u8),
        3 => out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
        _ => {}
    }
    out
}

/// The value of the hex digit `c`.
pub(crate) fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Decodes hex digits in pairs; stops at the first pair that is not.
pub(crate) fn decode_hex(text: &[u8]) -> Vec<u8> {
    text.chunks_exact(2)
        .map_while(|p| Some((hex_value(p[0])? << 4) | hex_value(p[1])?))
        .collect()
}

/// Hex digit values (0 for anything else; callers know they hold hex digits).
pub(crate) static HEX: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => 0,
        };
        c += 1;
    }
    t
};

/// The value of 1 to 6 hex digits.
pub(crate) fn hex_number(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || digits.len() > 6 {
        return None;
    }
    digits
        .iter()
        .try_fold(0u32, |acc, &c| Some((acc << 4) | u32::from(hex_value(c)?)))
}

/// Bit `i` set when byte `i` of `block` (at most 64 bytes) is a hex digit.
pub(crate) fn hex_mask(block: &[u8]) -> u64 {
    let mut hex = [0u8; 64];
    for (h, &c) in hex.iter_mut().zip(block) {
        *h = u8::from(c.wrapping_sub(b'0') < 10) | u8::from((c | 0x20).wrapping_sub(b'a') < 6);
    }
    pack(&hex)
}
