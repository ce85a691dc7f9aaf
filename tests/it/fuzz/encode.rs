//! Writing mutated lines as a trace file: plain NDJSON, or zstd frames (kblame's small frames,
//! frames without a content size, lines running across frames), then damaged as bytes: cut,
//! flipped, spliced, frames with lying content sizes or absurd windows, zip bombs.

use super::mutate::Line;
use super::rng::Rng;

/// How big the generated zip bombs may get (decompressed bytes).
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    /// The largest bomb.
    pub max_bomb: usize,
}

/// The lines as NDJSON, each ending in a newline (but, sometimes, the last).
pub fn ndjson(rng: &mut Rng, lines: &[Line]) -> Vec<u8> {
    let crlf = rng.chance(3);
    let mut out = Vec::new();
    for line in lines {
        out.extend(line.bytes());
        if crlf {
            out.push(b'\r');
        }
        out.push(b'\n');
    }
    if rng.chance(10) {
        out.pop();
    }
    out
}

/// The NDJSON text as a file: plain, or zstd in frames, maybe damaged.
pub fn file(rng: &mut Rng, text: &[u8], sizes: Sizes) -> Vec<u8> {
    if rng.chance(20) {
        return text.to_vec();
    }
    let mut frames = frames(rng, text);
    if rng.chance(35) {
        damage_frames(rng, &mut frames, sizes);
    }
    let mut bytes = frames.concat();
    if rng.chance(15) {
        damage_bytes(rng, &mut bytes);
    }
    bytes
}

/// Cuts the text into frames: at line ends as kblame's writer does, or (sometimes) anywhere.
fn frames(rng: &mut Rng, text: &[u8]) -> Vec<Vec<u8>> {
    let mid_line = rng.chance(8);
    let lines_per_frame = *rng.pick(&[1usize, 2, 5, 20, 1_000_000]);
    let unknown_sizes = rng.chance(15);
    let mut pieces: Vec<&[u8]> = Vec::new();
    let mut start = 0;
    let mut seen = 0;
    for (i, &b) in text.iter().enumerate() {
        let cut_here = if mid_line {
            rng.chance(1)
        } else {
            b == b'\n' && {
                seen += 1;
                seen % lines_per_frame == 0
            }
        };
        if cut_here {
            pieces.push(&text[start..=i]);
            start = i + 1;
        }
    }
    if start < text.len() {
        pieces.push(&text[start..]);
    }
    pieces
        .into_iter()
        .map(|piece| match unknown_sizes && rng.chance(70) {
            true => streamed(piece),
            false => zstd::bulk::compress(piece, 1).expect("zstd compresses"),
        })
        .collect()
}

/// A frame written by a streaming encoder: no content size in its header.
pub fn streamed(piece: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = zstd::stream::write::Encoder::new(&mut out, 1).expect("an encoder");
    std::io::Write::write_all(&mut encoder, piece).expect("compressed");
    encoder.finish().expect("finished");
    out
}

fn damage_frames(rng: &mut Rng, frames: &mut Vec<Vec<u8>>, sizes: Sizes) {
    let at = rng.below(frames.len() + 1);
    match rng.below(9) {
        0 if !frames.is_empty() => {
            let i = rng.below(frames.len());
            let copy = frames[i].clone();
            frames.insert(at.min(frames.len()), copy);
        }
        1 if !frames.is_empty() => {
            frames.remove(rng.below(frames.len()));
        }
        2 if !frames.is_empty() => {
            let i = rng.below(frames.len());
            let size = match rng.below(4) {
                0 => 0,
                1 => rng.below(64) as u64,
                2 => 1 << 40,
                _ => u64::MAX - 1,
            };
            frames[i] = lie_about_size(&frames[i], size);
        }
        3 => frames.insert(at, window_frame(*rng.pick(&[26u8, 27, 28, 31, 41]))),
        4 => frames.insert(at, skippable(rng.below(100))),
        5 | 6 => {
            let len = rng.range(1 << 10, sizes.max_bomb as i64) as usize;
            let byte = *rng.pick(b"x\n {");
            let mut bomb = rle_frame(byte, len, rng.chance(50));
            if rng.chance(50) {
                bomb.extend(zstd::bulk::compress(b"\n", 1).expect("zstd"));
            }
            frames.insert(at, bomb);
        }
        7 if !frames.is_empty() => {
            let i = rng.below(frames.len());
            let frame = &mut frames[i];
            let cut = rng.below(frame.len());
            frame.truncate(cut);
        }
        _ => frames.insert(at, b"not zstd at all\n".to_vec()),
    }
}

fn damage_bytes(rng: &mut Rng, bytes: &mut Vec<u8>) {
    if bytes.is_empty() {
        return;
    }
    match rng.below(4) {
        0 => bytes.truncate(rng.below(bytes.len())),
        1 => {
            for _ in 0..rng.range(1, 4) {
                let i = rng.below(bytes.len());
                bytes[i] ^= 1 << rng.below(8);
            }
        }
        2 => {
            let from = rng.below(bytes.len());
            let len = rng.below(200).min(bytes.len() - from);
            let piece = bytes[from..from + len].to_vec();
            let to = rng.below(bytes.len());
            bytes.splice(to..to, piece);
        }
        _ => bytes.extend_from_slice(&[0x28, 0xB5, 0x2F, 0xFD, 0x00]),
    }
}

/// `frame` with its header rewritten to declare `size` bytes of content (8-byte field).
pub fn lie_about_size(frame: &[u8], size: u64) -> Vec<u8> {
    let Some(&descriptor) = frame.get(4) else {
        return frame.to_vec();
    };
    let single = descriptor & 0x20 != 0;
    let dictionary = [0, 1, 2, 4][usize::from(descriptor & 3)];
    let content = match descriptor >> 6 {
        0 if single => 1,
        0 => 0,
        1 => 2,
        2 => 4,
        _ => 8,
    };
    let header_len = 5 + usize::from(!single) + dictionary + content;
    if frame.len() < header_len {
        return frame.to_vec();
    }
    // A single-segment frame's window is its content size: keep a plain 1 MiB window instead.
    let mut out = frame[..4].to_vec();
    out.push(0xC0 | (descriptor & 0x07));
    out.push(match single {
        true => 10 << 3,
        false => frame[5],
    });
    out.extend(&frame[5 + usize::from(!single)..5 + usize::from(!single) + dictionary]);
    out.extend(size.to_le_bytes());
    out.extend(&frame[header_len..]);
    out
}

/// An empty frame whose header asks for a window of 2^`log` bytes.
pub fn window_frame(log: u8) -> Vec<u8> {
    let mut bytes = 0xFD2F_B528u32.to_le_bytes().to_vec();
    bytes.push(0x00);
    bytes.push((log - 10) << 3);
    bytes.extend([0x01, 0x00, 0x00]);
    bytes
}

/// A skippable frame of `len` bytes.
pub fn skippable(len: usize) -> Vec<u8> {
    let mut bytes = 0x184D_2A53u32.to_le_bytes().to_vec();
    bytes.extend((len as u32).to_le_bytes());
    bytes.extend(vec![0u8; len]);
    bytes
}

/// A frame of `len` copies of `byte` in RLE blocks: 4 bytes of zstd per 128 KiB of text.
pub fn rle_frame(byte: u8, len: usize, declare_size: bool) -> Vec<u8> {
    const BLOCK: usize = 128 << 10;
    let mut bytes = 0xFD2F_B528u32.to_le_bytes().to_vec();
    bytes.push(if declare_size { 0xC0 } else { 0x00 });
    bytes.push((17 - 10) << 3);
    if declare_size {
        bytes.extend((len as u64).to_le_bytes());
    }
    let mut left = len;
    loop {
        let size = left.min(BLOCK);
        left -= size;
        let header = u32::from(left == 0) | (1 << 1) | ((size as u32) << 3);
        bytes.extend(&header.to_le_bytes()[..3]);
        bytes.push(byte);
        if left == 0 {
            break;
        }
    }
    bytes
}
