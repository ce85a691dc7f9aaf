//! Reading chosen records back from a trace file, decompressing only the frames that hold them.

use std::fs::File;
use std::io;
use std::path::Path;

use rayon::prelude::*;

use super::{RecordLoc, TraceIndex};
use crate::trace::frames::read_frame_prefix;
use crate::trace::{parse_line, ReadWarning, Record};

/// How many frames are decompressed together (bounds the memory of one step).
const FRAMES_PER_STEP: usize = 256;

/// Reads the records at `records` (in line order) and hands each, with its line, to `visit`.
///
/// A line that no longer parses (the fast scan does not validate bodies) is skipped and
/// returned as a warning.
pub fn read_records(
    path: &Path,
    index: &TraceIndex,
    records: &[RecordLoc],
    mut visit: impl FnMut(u64, Record<'_>),
) -> io::Result<Vec<ReadWarning>> {
    let mut warnings = Vec::new();
    let groups: Vec<&[RecordLoc]> = records.chunk_by(|a, b| a.frame == b.frame).collect();
    for step in groups.chunks(FRAMES_PER_STEP) {
        let raws: Vec<io::Result<Vec<u8>>> = step
            .par_iter()
            .map_init(
                || File::open(path),
                |file, group| {
                    let file = file
                        .as_mut()
                        .map_err(|err| io::Error::new(err.kind(), err.to_string()))?;
                    let frame = index.frames.get(group[0].frame as usize).ok_or_else(|| {
                        io::Error::other("the index names a frame the trace does not have")
                    })?;
                    let upto = group
                        .iter()
                        .map(|r| r.offset as usize + r.len as usize)
                        .max()
                        .unwrap_or(0);
                    read_frame_prefix(file, index.compressed, frame, upto)
                },
            )
            .collect();
        for (group, raw) in step.iter().zip(raws) {
            let raw = raw?;
            for at in *group {
                let range = at.offset as usize..at.offset as usize + at.len as usize;
                let bytes = raw
                    .get(range)
                    .ok_or_else(|| io::Error::other("the index points past the end of a frame"))?;
                let parsed = std::str::from_utf8(bytes)
                    .map_err(|_| "not UTF-8".to_string())
                    .and_then(parse_line);
                match parsed {
                    Ok(record) => visit(u64::from(at.line), record),
                    Err(why) => warnings.push(ReadWarning {
                        line: Some(u64::from(at.line)),
                        message: format!("line {} skipped: {why}", at.line),
                    }),
                }
            }
        }
    }
    Ok(warnings)
}
