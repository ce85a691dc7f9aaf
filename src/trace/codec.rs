//! zstd decoding within kblame's limits: every frame header is checked before it is decoded, no
//! decoder accepts a window larger than zstd's default limit, no frame decoded whole may hold more
//! than [`MAX_FRAME_RAW_BYTES`], and every error names the byte offset of the frame it is about.
//!
//! A trace is untrusted input: a few bytes of zstd can declare a content size of exabytes or
//! expand to gigabytes (a zip bomb). These limits keep what one read allocates bounded whatever
//! the file says. See `docs/trace-format.md`, "Limits".

use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use zstd::stream::raw::{Decoder as RawDecoder, InBuffer, Operation, OutBuffer};
use zstd::zstd_safe::{DCtx, DParameter};

/// The largest line kblame reads, without its newline: 64 MiB. Far above the largest object the
/// API server stores (etcd's default request limit is 1.5 MiB, the API server's request body
/// limit 3 MiB), far below anything that threatens memory. A longer line is skipped, counted
/// as a bad line and reported with its line number.
pub const MAX_LINE_BYTES: usize = 64 << 20;

/// The largest window (in log2 bytes) a zstd frame may ask for: 2^27 = 128 MiB, zstd's own
/// default limit (`ZSTD_WINDOWLOG_LIMIT_DEFAULT`, what `zstd -d` accepts without `--memory`).
/// The limit is set explicitly on every decoder, and a frame that asks for more is refused with
/// its byte offset, like a damaged frame.
pub const MAX_WINDOW_LOG: u32 = 27;

/// The most one frame may decompress to when kblame decompresses it whole, in memory: 128 MiB.
/// kblame's writer ends a frame at 8 MiB of text plus at most one line (below
/// [`MAX_LINE_BYTES`]), so its frames stay far below. A larger frame (declared or actual) means
/// the trace is not written in small frames: it is then read as one stream, whose memory does
/// not depend on frame sizes.
pub const MAX_FRAME_RAW_BYTES: u64 = 128 << 20;

/// The most decompressed bytes one batch of frames may hold at once while the index is built
/// (frames decompressed in parallel). A frame that does not fit in what is left is decompressed
/// alone afterwards. Batches are cut at about [`super::frames::BATCH_RAW_TARGET`] of text (5 of
/// kblame's 8 MiB frames) or 2 MiB of zstd, so ordinary batches fit.
pub const BATCH_RAW_BUDGET: u64 = 64 << 20;

/// What a zstd frame that does not declare its size is assumed to hold: a little more than
/// kblame's writer puts in a frame (8 MiB and the end of a line). Streamed frames, as kblame's
/// writer writes them, do not declare their size.
pub const UNDECLARED_FRAME_RAW: u64 = 9 << 20;

/// How many buffers of decompressed text are kept for reuse, and the smallest kept.
const SPARE_BUFFERS: usize = 8;
const SPARE_MIN_BYTES: usize = 1 << 20;

/// Buffers of decompressed text kept for reuse (see [`recycle`]): a fresh buffer of megabytes
/// costs a page fault every 4 KiB, more than decompressing into it.
static SPARE: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// An empty buffer for decompressed text, a recycled one when there is one.
pub fn spare_buffer() -> Vec<u8> {
    SPARE
        .lock()
        .ok()
        .and_then(|mut spare| spare.pop())
        .unwrap_or_default()
}

/// Keeps a buffer of decompressed text, once read, for a later [`spare_buffer`].
pub fn recycle(mut buffer: Vec<u8>) {
    if buffer.capacity() < SPARE_MIN_BYTES {
        return;
    }
    buffer.clear();
    if let Ok(mut spare) = SPARE.lock() {
        if spare.len() < SPARE_BUFFERS {
            spare.push(buffer);
        }
    }
}

/// The longest frame header: magic, descriptor, window, dictionary ID (4) and content size (8).
const MAX_HEADER_BYTES: usize = 18;

/// The first output buffer of a frame that does not declare its size; it then grows by half
/// each time it is full (streamed frames, as kblame's writer writes them, declare no size).
const GROW_STEP: usize = 1 << 20;

/// What a frame's header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameHeader {
    /// A zstd frame: the window it needs and its content size when declared.
    Frame {
        /// Bytes of history the decoder must keep.
        window: u64,
        /// The declared decompressed size.
        content: Option<u64>,
    },
    /// A skippable frame (no content).
    Skippable,
    /// Too few bytes to tell.
    Incomplete,
    /// Not the start of a frame.
    NotAFrame,
}

impl FrameHeader {
    /// Reads the header at the start of `bytes` (RFC 8878, section 3.1.1).
    pub fn parse(bytes: &[u8]) -> FrameHeader {
        let Some(magic) = bytes.get(..4) else {
            return FrameHeader::Incomplete;
        };
        let magic = u32::from_le_bytes([magic[0], magic[1], magic[2], magic[3]]);
        if magic & 0xFFFF_FFF0 == 0x184D_2A50 {
            return FrameHeader::Skippable;
        }
        if magic != 0xFD2F_B528 {
            return FrameHeader::NotAFrame;
        }
        let Some(&descriptor) = bytes.get(4) else {
            return FrameHeader::Incomplete;
        };
        if descriptor & 0x08 != 0 {
            return FrameHeader::NotAFrame; // the reserved bit must be zero
        }
        let single_segment = descriptor & 0x20 != 0;
        let dictionary_bytes = [0, 1, 2, 4][usize::from(descriptor & 0x03)];
        let content_bytes = match descriptor >> 6 {
            0 if single_segment => 1,
            0 => 0,
            1 => 2,
            2 => 4,
            _ => 8,
        };
        let mut at = 5;
        let mut window = 0u64;
        if !single_segment {
            let Some(&descriptor) = bytes.get(at) else {
                return FrameHeader::Incomplete;
            };
            let log = 10 + u32::from(descriptor >> 3);
            let base = 1u64 << log;
            window = base + (base / 8) * u64::from(descriptor & 0x07);
            at += 1;
        }
        at += dictionary_bytes;
        let Some(field) = bytes.get(at..at + content_bytes) else {
            return FrameHeader::Incomplete;
        };
        let mut value = [0u8; 8];
        value[..content_bytes].copy_from_slice(field);
        let value = u64::from_le_bytes(value);
        let content = match content_bytes {
            0 => None,
            2 => Some(value + 256),
            _ => Some(value),
        };
        if single_segment {
            window = content.unwrap_or(0);
        }
        FrameHeader::Frame { window, content }
    }

    /// The declared content size, when this is a frame that declares one.
    pub fn content_size(&self) -> Option<u64> {
        match self {
            FrameHeader::Frame { content, .. } => *content,
            _ => None,
        }
    }
}

/// Checks the header of the frame starting at file offset `at`: a zstd or skippable frame whose
/// window is within [`MAX_WINDOW_LOG`]. Returns its declared content size.
pub fn check_header(bytes: &[u8], at: u64) -> io::Result<Option<u64>> {
    match FrameHeader::parse(bytes) {
        FrameHeader::Frame { window, .. } if window > 1 << MAX_WINDOW_LOG => Err(refused(
            at,
            format!(
                "it asks for a {} window, more than the {} kblame allows (zstd's default limit)",
                size_words(window),
                size_words(1 << MAX_WINDOW_LOG)
            ),
        )),
        FrameHeader::Frame { content, .. } => Ok(content),
        FrameHeader::Skippable => Ok(Some(0)),
        FrameHeader::Incomplete => Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("the zstd frame at byte {at} is cut short in its header"),
        )),
        FrameHeader::NotAFrame => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("the bytes at {at} are not a zstd frame"),
        )),
    }
}

fn refused(at: u64, why: String) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("the zstd frame at byte {at} was refused: {why}"),
    )
}

/// An error of zstd while decoding the frame at `at`, with that offset.
fn damaged(at: u64, err: io::Error) -> io::Error {
    io::Error::new(
        err.kind(),
        format!("the zstd frame at byte {at} is damaged: {err}"),
    )
}

/// A size in binary units for people: whole when exact (`128 MiB`, `1 GiB`), else with one
/// decimal (`48.8 KiB`, `3.4 GiB`); `812 bytes` below 1 KiB. Used by limits' messages and `check`.
pub fn size_words(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let (mut unit, mut size) = (0, 1024u64);
    while unit + 1 < UNITS.len() && bytes as f64 / size as f64 >= 1023.95 {
        unit += 1;
        size <<= 10;
    }
    if bytes.is_multiple_of(size) {
        return format!("{} {}", bytes / size, UNITS[unit]);
    }
    format!("{:.1} {}", bytes as f64 / size as f64, UNITS[unit])
}

/// A bulk decompressor that refuses windows beyond [`MAX_WINDOW_LOG`].
pub fn bulk_decompressor() -> io::Result<zstd::bulk::Decompressor<'static>> {
    let mut decompressor = zstd::bulk::Decompressor::new()?;
    decompressor.window_log_max(MAX_WINDOW_LOG)?;
    Ok(decompressor)
}

/// A decompression context for re-reads that refuses windows beyond [`MAX_WINDOW_LOG`].
pub fn limited_context() -> io::Result<DCtx<'static>> {
    let mut context =
        DCtx::try_create().ok_or_else(|| io::Error::other("cannot start a zstd decompressor"))?;
    context
        .set_parameter(DParameter::WindowLogMax(MAX_WINDOW_LOG))
        .map_err(|code| io::Error::other(zstd::zstd_safe::get_error_name(code)))?;
    Ok(context)
}

/// Decompressed bytes a batch of frames may still hold (see [`BATCH_RAW_BUDGET`]).
#[derive(Debug)]
pub struct Budget(AtomicU64);

impl Budget {
    /// A budget of `bytes`.
    pub fn new(bytes: u64) -> Budget {
        Budget(AtomicU64::new(bytes))
    }

    /// Takes `bytes` from the budget; `false` (taking nothing) when fewer are left.
    fn take(&self, bytes: u64) -> bool {
        self.0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |left| {
                left.checked_sub(bytes)
            })
            .is_ok()
    }

    fn give_back(&self, bytes: u64) {
        self.0.fetch_add(bytes, Ordering::AcqRel);
    }
}

/// Why a frame was not decompressed.
#[derive(Debug)]
pub enum FrameError {
    /// What is left of the batch's budget is too little: decompress it alone, later.
    OverBudget,
    /// It holds more than [`MAX_FRAME_RAW_BYTES`]: the trace is not written in small frames.
    TooLarge(String),
    /// It is damaged, cut, or refused (its window is too large): reading stops at it.
    Damaged(io::Error),
}

/// Decompresses one whole zstd frame found at file offset `at`, taking its size from `budget`.
pub fn decompress_frame(
    bytes: &[u8],
    at: u64,
    decompressor: &mut zstd::bulk::Decompressor<'_>,
    budget: &Budget,
) -> Result<Vec<u8>, FrameError> {
    let declared = check_header(bytes, at).map_err(FrameError::Damaged)?;
    match declared {
        Some(size) if size > MAX_FRAME_RAW_BYTES => Err(too_large(at, "declares")),
        Some(size) => {
            if !budget.take(size) {
                return Err(FrameError::OverBudget);
            }
            decompressor
                .decompress(bytes, size as usize)
                .map_err(|err| FrameError::Damaged(damaged(at, err)))
        }
        None => decompress_undeclared(bytes, at, decompressor, budget),
    }
}

/// A frame that does not declare its size: first in one pass straight into a buffer of the size
/// kblame's writer gives a frame ([`UNDECLARED_FRAME_RAW`], less for a small frame), then, if
/// it does not fit (or is damaged), a step at a time.
fn decompress_undeclared(
    bytes: &[u8],
    at: u64,
    decompressor: &mut zstd::bulk::Decompressor<'_>,
    budget: &Budget,
) -> Result<Vec<u8>, FrameError> {
    let want = bytes
        .len()
        .saturating_mul(64)
        .clamp(GROW_STEP, UNDECLARED_FRAME_RAW as usize);
    let mut raw = spare_buffer();
    if raw.capacity() < want {
        raw = Vec::with_capacity(want);
    }
    let charged = raw.capacity() as u64;
    if !budget.take(charged) {
        recycle(raw);
        return Err(FrameError::OverBudget);
    }
    if decompressor.decompress_to_buffer(bytes, &mut raw).is_ok() {
        return Ok(raw);
    }
    budget.give_back(charged);
    recycle(raw);
    decompress_unknown_size(bytes, at, budget)
}

fn too_large(at: u64, how: &str) -> FrameError {
    FrameError::TooLarge(format!(
        "the zstd frame at byte {at} {how} more than {} of text",
        size_words(MAX_FRAME_RAW_BYTES)
    ))
}

/// A frame that does not declare its size, decompressed a step at a time, each step taken from
/// the budget before it is allocated. Steps grow with the output (1 MiB, then half of what is
/// there), so a big frame costs a few reallocations, and at most a third of what the budget
/// is charged stays unused.
fn decompress_unknown_size(bytes: &[u8], at: u64, budget: &Budget) -> Result<Vec<u8>, FrameError> {
    let damaged_here = |err| FrameError::Damaged(damaged(at, err));
    let mut decoder = RawDecoder::new().map_err(damaged_here)?;
    decoder
        .set_parameter(DParameter::WindowLogMax(MAX_WINDOW_LOG))
        .map_err(damaged_here)?;
    let mut input = InBuffer::around(bytes);
    let mut raw: Vec<u8> = Vec::new();
    let mut taken = 0u64;
    loop {
        if raw.len() as u64 > MAX_FRAME_RAW_BYTES {
            budget.give_back(taken);
            return Err(too_large(at, "holds"));
        }
        if raw.len() == raw.capacity() {
            let step = GROW_STEP
                .max(raw.len() / 2)
                .min((MAX_FRAME_RAW_BYTES - raw.len() as u64) as usize + 1);
            if !budget.take(step as u64) {
                budget.give_back(taken);
                return Err(FrameError::OverBudget);
            }
            taken += step as u64;
            raw.reserve_exact(step);
        }
        // zstd writes into the vector's spare capacity, which is never zero-filled first.
        let written = raw.len();
        let mut output = OutBuffer::around_pos(&mut raw, written);
        let hint = decoder.run(&mut input, &mut output).map_err(damaged_here)?;
        if hint == 0 {
            return Ok(raw);
        }
        if input.pos() == bytes.len() && raw.len() < raw.capacity() {
            let err = io::Error::new(io::ErrorKind::UnexpectedEof, "incomplete frame");
            return Err(damaged_here(err));
        }
    }
}

/// Decompresses as much of a damaged piece at file offset `at` as can be read (at most
/// [`MAX_FRAME_RAW_BYTES`]), and the error that stopped it.
pub fn salvage(bytes: &[u8], at: u64) -> (Vec<u8>, io::Error) {
    let mut raw = Vec::new();
    let stream = match FrameStream::new(bytes, at) {
        Ok(stream) => stream,
        Err(err) => return (raw, err),
    };
    // Read in the same 64 KiB steps as the streaming reader: zstd loses the output of the call in
    // which it meets damage, so the steps decide how much of the last good block is kept.
    let mut stream = stream.take(MAX_FRAME_RAW_BYTES);
    let mut step = vec![0u8; 1 << 16];
    let read = loop {
        match stream.read(&mut step) {
            Ok(0) => break Ok(()),
            Ok(n) => raw.extend_from_slice(&step[..n]),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => break Err(err),
        }
    };
    let err = match read {
        Ok(()) if raw.len() as u64 >= MAX_FRAME_RAW_BYTES => io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "the damaged zstd data at byte {at} holds more than {}; reading stops there",
                size_words(MAX_FRAME_RAW_BYTES)
            ),
        ),
        Ok(()) => io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("the zstd frame at byte {at} is incomplete"),
        ),
        Err(err) => err,
    };
    (raw, err)
}

/// Decompresses a sequence of zstd frames as one stream, checking each frame's header before
/// decoding it and naming the frame's byte offset in every error. Memory stays bounded (the
/// window of one frame, at most 2^[`MAX_WINDOW_LOG`], and a fixed input buffer) however much the
/// frames hold.
pub struct FrameStream<R: Read> {
    input: R,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    /// File offset of `buf[start]`.
    offset: u64,
    eof: bool,
    decoder: RawDecoder<'static>,
    /// File offset of the frame being decoded, when inside one.
    frame: Option<u64>,
}

impl<R: Read> FrameStream<R> {
    /// Reads frames from `input`, whose first byte is at file offset `offset`.
    pub fn new(input: R, offset: u64) -> io::Result<FrameStream<R>> {
        let mut decoder = RawDecoder::new()?;
        decoder.set_parameter(DParameter::WindowLogMax(MAX_WINDOW_LOG))?;
        Ok(FrameStream {
            input,
            buf: vec![0u8; 1 << 16].into_boxed_slice(),
            start: 0,
            end: 0,
            offset,
            eof: false,
            decoder,
            frame: None,
        })
    }

    /// Reads more input, keeping what is unread; returns how many bytes came.
    fn fill(&mut self) -> io::Result<usize> {
        if self.eof {
            return Ok(0);
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            return Ok(0);
        }
        loop {
            match self.input.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(0);
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(n);
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
    }

    /// Starts the next frame; `false` at a clean end of the input.
    fn begin_frame(&mut self) -> io::Result<bool> {
        while self.end - self.start < MAX_HEADER_BYTES && self.fill()? > 0 {}
        if self.start == self.end {
            return Ok(false);
        }
        check_header(&self.buf[self.start..self.end], self.offset)?;
        self.decoder.reinit()?;
        self.frame = Some(self.offset);
        Ok(true)
    }
}

impl<R: Read> Read for FrameStream<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            if self.frame.is_none() && !self.begin_frame()? {
                return Ok(0);
            }
            let frame = self.frame.unwrap_or(self.offset);
            // First hand out what zstd has decoded already, without new input: a call that meets
            // damage loses its output, and that must not take good blocks with it.
            let mut output = OutBuffer::around(&mut *out);
            let hint = self
                .decoder
                .run(&mut InBuffer::around(&[]), &mut output)
                .map_err(|err| damaged(frame, err))?;
            if output.pos() > 0 {
                if hint == 0 {
                    self.frame = None;
                }
                return Ok(output.pos());
            }
            if self.start == self.end && self.fill()? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("the zstd frame at byte {frame} is cut short"),
                ));
            }
            let mut input = InBuffer::around(&self.buf[self.start..self.end]);
            let mut output = OutBuffer::around(&mut *out);
            let hint = self
                .decoder
                .run(&mut input, &mut output)
                .map_err(|err| damaged(frame, err))?;
            let (read, written) = (input.pos(), output.pos());
            self.start += read;
            self.offset += read as u64;
            if hint == 0 {
                self.frame = None;
            }
            if written > 0 {
                return Ok(written);
            }
            if read == 0 && hint == 0 {
                return Err(damaged(frame, io::Error::other("zstd made no progress")));
            }
            if read == 0 && self.fill()? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("the zstd frame at byte {frame} is cut short"),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(text: &[u8]) -> Vec<u8> {
        zstd::bulk::compress(text, 3).unwrap()
    }

    /// A frame whose window descriptor asks for 2^log bytes (not single-segment, no content size).
    fn frame_with_window(log: u8) -> Vec<u8> {
        let mut bytes = 0xFD2F_B528u32.to_le_bytes().to_vec();
        bytes.push(0x00); // no content size, not single segment, no dictionary
        bytes.push((log - 10) << 3);
        bytes.extend([0x01, 0x00, 0x00]); // a last, empty raw block
        bytes
    }

    #[test]
    fn headers_say_window_and_content_size() {
        let small = frame(b"hello\n");
        assert_eq!(
            FrameHeader::parse(&small),
            FrameHeader::Frame {
                window: 6,
                content: Some(6)
            }
        );
        assert_eq!(
            FrameHeader::parse(&frame_with_window(30)),
            FrameHeader::Frame {
                window: 1 << 30,
                content: None
            }
        );
        assert_eq!(FrameHeader::parse(b"{\"type\""), FrameHeader::NotAFrame);
        assert_eq!(FrameHeader::parse(&small[..3]), FrameHeader::Incomplete);
    }

    #[test]
    fn a_window_beyond_the_limit_is_refused_with_its_offset() {
        let mut file = frame(b"line 1\n");
        let at = file.len();
        file.extend(frame_with_window(31));
        let mut text = Vec::new();
        let err = FrameStream::new(&file[..], 0)
            .unwrap()
            .read_to_end(&mut text)
            .unwrap_err();
        assert_eq!(text, b"line 1\n");
        let message = err.to_string();
        assert!(
            message.contains(&format!("frame at byte {at} was refused")),
            "{message}"
        );
        assert!(message.contains("2 GiB window"), "{message}");
        let mut decompressor = bulk_decompressor().unwrap();
        let refused = decompress_frame(
            &frame_with_window(28),
            7,
            &mut decompressor,
            &Budget::new(1 << 30),
        );
        assert!(matches!(refused, Err(FrameError::Damaged(_))));
        let allowed = decompress_frame(
            &frame_with_window(27),
            7,
            &mut decompressor,
            &Budget::new(1 << 30),
        );
        assert_eq!(allowed.unwrap(), b"");
    }

    #[test]
    fn a_lying_content_size_allocates_nothing_and_is_too_large() {
        let mut bytes = frame(b"tiny\n");
        // Rewrite the header: 8-byte content size of 2^40, not single-segment, window 2^20.
        let body_at = 6; // magic, descriptor, 1-byte content size
        let mut header = 0xFD2F_B528u32.to_le_bytes().to_vec();
        header.push(0xC0);
        header.push(10 << 3);
        header.extend((1u64 << 40).to_le_bytes());
        header.extend(&bytes[body_at..]);
        bytes = header;
        let mut decompressor = bulk_decompressor().unwrap();
        let result = decompress_frame(&bytes, 0, &mut decompressor, &Budget::new(1 << 30));
        assert!(matches!(result, Err(FrameError::TooLarge(_))), "{result:?}");
    }

    #[test]
    fn frames_beyond_the_budget_wait_and_unknown_sizes_stay_within_the_cap() {
        let text = vec![b'x'; 3 << 20];
        let mut decompressor = bulk_decompressor().unwrap();
        let budget = Budget::new(4 << 20);
        let first = decompress_frame(&frame(&text), 0, &mut decompressor, &budget);
        assert_eq!(first.unwrap().len(), 3 << 20);
        let second = decompress_frame(&frame(&text), 0, &mut decompressor, &budget);
        assert!(matches!(second, Err(FrameError::OverBudget)));
        let mut streamed = Vec::new();
        let mut encoder = zstd::stream::write::Encoder::new(&mut streamed, 3).unwrap();
        std::io::Write::write_all(&mut encoder, &text).unwrap();
        encoder.finish().unwrap();
        assert_eq!(FrameHeader::parse(&streamed).content_size(), None);
        let unknown = decompress_frame(&streamed, 0, &mut decompressor, &Budget::new(1 << 30));
        assert!(
            unknown.unwrap() == text,
            "an unknown-size frame decompresses whole"
        );
    }

    #[test]
    fn salvage_keeps_the_readable_prefix_of_a_cut_frame() {
        let text: Vec<u8> = (0..200_000)
            .flat_map(|i| format!("line {i}\n").into_bytes())
            .collect();
        let whole = frame(&text);
        let (prefix, err) = salvage(&whole[..whole.len() / 2], 100);
        assert!(!prefix.is_empty() && text.starts_with(&prefix));
        assert!(err.to_string().contains("byte 100"), "{err}");
    }
}
