//! Reading chosen records back from a trace file, decompressing only the frames that hold them.

use std::fs::File;
use std::io;
use std::path::Path;

use rayon::prelude::*;

use super::{RecordLoc, TraceIndex};
use crate::trace::codec::{limited_context, recycle};
use crate::trace::frames::read_frame_prefix;
use crate::trace::{parse_line, ReadWarning, Record, MAX_LINE_BYTES};

/// How many frames are decompressed together at most (bounds the memory of one step)...
const FRAMES_PER_STEP: usize = 64;

/// ...and how much of their text: a step ends once it holds this much (64 old-layout frames of
/// a few hundred KiB, or 4 of 8 MiB).
const RAW_PER_STEP: usize = 32 << 20;

/// The records of one frame.
type Group<'r> = &'r [RecordLoc];

/// The frames of one step, decompressed.
type Decompressed = Vec<io::Result<Vec<u8>>>;

/// How many skipped lines are described one by one; the rest are only counted.
const DESCRIBED_SKIPS: usize = 20;

/// The lines a re-read had to skip.
#[derive(Debug, Clone, Default)]
pub struct Skipped {
    /// How many.
    pub count: u64,
    /// The first few, described.
    pub warnings: Vec<ReadWarning>,
}

impl Skipped {
    /// Counts a skipped line, describing it while few are.
    pub fn push(&mut self, line: u32, why: &str) {
        self.count += 1;
        if self.warnings.len() < DESCRIBED_SKIPS {
            self.warnings.push(ReadWarning {
                line: Some(u64::from(line)),
                message: format!("line {line} skipped: {why}"),
            });
        }
    }
}

/// Reads the records at `records` (in line order) and hands each, with its line, to `visit`.
///
/// Frames are decompressed in parallel a step at a time, the next step while the records of
/// the current one are handed out. A line that no longer parses (the fast scan does not
/// validate bodies) is skipped and counted.
pub fn read_records(
    path: &Path,
    index: &TraceIndex,
    records: &[RecordLoc],
    mut visit: impl FnMut(u64, Record<'_>) + Send,
) -> io::Result<Skipped> {
    let mut warnings = Skipped::default();
    read_lines(path, index, records, |at, bytes| {
        if let Some(record) = parse_record(at.line, bytes, &mut warnings) {
            visit(u64::from(at.line), record)
        }
    })?;
    Ok(warnings)
}

/// Parses one record's bytes; a line that does not parse is counted in `warnings`.
pub fn parse_record<'b>(line: u32, bytes: &'b [u8], warnings: &mut Skipped) -> Option<Record<'b>> {
    match parse_bytes(bytes) {
        Ok(record) => Some(record),
        Err(why) => {
            warnings.push(line, &why);
            None
        }
    }
}

/// Parses one record's bytes, or says why it does not parse.
pub fn parse_bytes(bytes: &[u8]) -> Result<Record<'_>, String> {
    if bytes.len() > MAX_LINE_BYTES {
        return Err("longer than the line limit".to_string());
    }
    std::str::from_utf8(bytes)
        .map_err(|_| "not UTF-8".to_string())
        .and_then(parse_line)
}

/// Like [`read_records`], handing out each record's bytes unparsed.
pub fn read_lines(
    path: &Path,
    index: &TraceIndex,
    records: &[RecordLoc],
    mut visit: impl FnMut(&RecordLoc, &[u8]) + Send,
) -> io::Result<()> {
    let groups: Vec<Group<'_>> = records.chunk_by(|a, b| a.frame == b.frame).collect();
    let mut steps = steps(&groups);
    let mut current: Option<(&[Group<'_>], Decompressed)> = None;
    loop {
        let upcoming = steps.next();
        let (handed, decoded) = rayon::join(
            || match current.take() {
                Some((step, raws)) => hand_out(step, raws, &mut visit),
                None => Ok(()),
            },
            || upcoming.map(|step| (step, decompress(path, index, step))),
        );
        handed?;
        match decoded {
            Some(decoded) => current = Some(decoded),
            None => return Ok(()),
        }
    }
}

/// The groups cut into steps of at most [`FRAMES_PER_STEP`] frames and about [`RAW_PER_STEP`]
/// bytes of text.
fn steps<'g, 'r>(groups: &'g [Group<'r>]) -> impl Iterator<Item = &'g [Group<'r>]> {
    let mut rest = groups;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut raw = 0;
        let mut end = 0;
        while end < rest.len() && end < FRAMES_PER_STEP && raw < RAW_PER_STEP {
            raw += upto(rest[end]);
            end += 1;
        }
        let (step, after) = rest.split_at(end);
        rest = after;
        Some(step)
    })
}

/// How much of its frame a group needs decompressed: up to the end of its last record.
fn upto(group: Group<'_>) -> usize {
    group
        .iter()
        .map(|r| r.offset as usize + r.len as usize)
        .max()
        .unwrap_or(0)
}

/// Decompresses the frames of one step, each up to its last needed record.
fn decompress(path: &Path, index: &TraceIndex, step: &[Group<'_>]) -> Decompressed {
    step.par_iter()
        .map_init(
            || (File::open(path), limited_context()),
            |(file, context), group| {
                let file = file
                    .as_mut()
                    .map_err(|err| io::Error::new(err.kind(), err.to_string()))?;
                let context = context
                    .as_mut()
                    .map_err(|err| io::Error::new(err.kind(), err.to_string()))?;
                let frame = index.frames.get(group[0].frame as usize).ok_or_else(|| {
                    io::Error::other("the index names a frame the trace does not have")
                })?;
                read_frame_prefix(file, context, index.compressed, frame, upto(group))
            },
        )
        .collect()
}

/// Hands out the records of one decompressed step in order.
fn hand_out(
    step: &[Group<'_>],
    raws: Decompressed,
    visit: &mut impl FnMut(&RecordLoc, &[u8]),
) -> io::Result<()> {
    for (group, raw) in step.iter().zip(raws) {
        let raw = raw?;
        for at in *group {
            let range = at.offset as usize..at.offset as usize + at.len as usize;
            let bytes = raw
                .get(range)
                .ok_or_else(|| io::Error::other("the index points past the end of a frame"))?;
            visit(at, bytes);
        }
        recycle(raw);
    }
    Ok(())
}
