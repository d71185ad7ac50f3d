//! Offset maps: where each decoded byte came from in the text it was decoded from, and
//! [`Decoded`], one pass of decoding with its map.

/// Maps offsets of decoded bytes to offsets of the text they were decoded from.
#[derive(Debug, Clone)]
pub(crate) enum OffsetMap {
    /// Byte `d` comes from `base + d * num / den` (base64: 4/3, hex: 2/1, a copy: 1/1).
    Linear {
        /// Where the encoded text starts.
        base: usize,
        /// Encoded characters per `den` decoded bytes.
        num: usize,
        /// Decoded bytes per `num` characters.
        den: usize,
    },
    /// Runs of decoded bytes, each from one span of source text (sorted by `dec`).
    Pieces(Vec<Piece>),
}

/// Decoded bytes `dec..` come from source `src..`: one byte each when `literal`, else the
/// whole piece (an escape sequence) from `src..src + src_len`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Piece {
    pub(crate) dec: usize,
    pub(crate) src: usize,
    pub(crate) src_len: usize,
    pub(crate) literal: bool,
}

impl OffsetMap {
    /// Source offset where decoded byte `d` starts.
    pub(crate) fn start(&self, d: usize) -> usize {
        match self {
            OffsetMap::Linear { base, num, den } => base + d * num / den,
            OffsetMap::Pieces(pieces) => {
                let p = piece_at(pieces, d);
                if p.literal {
                    p.src + (d - p.dec)
                } else {
                    p.src
                }
            }
        }
    }

    /// Source offset just past the text that decoded byte `end - 1` came from.
    pub(crate) fn end(&self, end: usize) -> usize {
        let last = end.saturating_sub(1);
        match self {
            OffsetMap::Linear { base, num, den } => base + ((last + 1) * num).div_ceil(*den),
            OffsetMap::Pieces(pieces) => {
                let p = piece_at(pieces, last);
                if p.literal {
                    p.src + (last - p.dec) + 1
                } else {
                    p.src + p.src_len
                }
            }
        }
    }
}

fn piece_at(pieces: &[Piece], d: usize) -> Piece {
    let i = pieces.partition_point(|p| p.dec <= d).saturating_sub(1);
    pieces.get(i).copied().unwrap_or(Piece {
        dec: 0,
        src: 0,
        src_len: 0,
        literal: true,
    })
}

/// One pass of decoding: the bytes, and how to map them back one layer.
#[derive(Debug)]
pub(crate) struct Decoded {
    /// What it was: `base64`, `hex`, `percent`, `escape`.
    pub(crate) how: &'static str,
    /// The decoded bytes.
    pub(crate) bytes: Vec<u8>,
    /// Decoded offsets to offsets of the text it was decoded from, innermost first.
    pub(crate) maps: Vec<OffsetMap>,
    /// Whether the bytes may hold encoded strings the text did not show: always for base64
    /// and hex; for a decoded line, only when an escape became a base64 character (`\/` in
    /// JSON, `%2B` in a URL), since its other runs and escapes were looked at in the text.
    pub(crate) look_inside: bool,
}
