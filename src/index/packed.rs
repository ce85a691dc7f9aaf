//! Fixed-width little-endian storage for the index's big tables: a saved index is decoded with
//! one pass over bytes per table instead of one serde call per field.

use std::marker::PhantomData;

use serde::de::{Deserializer, Visitor};
use serde::Serializer;

/// A value stored as `WORDS` little-endian `u32`s.
pub trait Words: Sized {
    /// How many words a value takes.
    const WORDS: usize;
    /// Appends the value's words.
    fn put(&self, out: &mut Vec<u32>);
    /// Reads a value from exactly [`Self::WORDS`] words.
    fn take(words: &[u32]) -> Self;
}

impl Words for u32 {
    const WORDS: usize = 1;
    fn put(&self, out: &mut Vec<u32>) {
        out.push(*self);
    }
    fn take(words: &[u32]) -> Self {
        words[0]
    }
}

impl Words for (u32, u32) {
    const WORDS: usize = 2;
    fn put(&self, out: &mut Vec<u32>) {
        out.extend([self.0, self.1]);
    }
    fn take(words: &[u32]) -> Self {
        (words[0], words[1])
    }
}

/// The bytes of a table.
pub fn encode_words<T: Words>(items: &[T]) -> Vec<u8> {
    let mut words = Vec::with_capacity(items.len() * T::WORDS);
    for item in items {
        item.put(&mut words);
    }
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

/// A table from its bytes (a partial entry at the end is ignored).
pub fn decode_words<T: Words>(bytes: &[u8]) -> Vec<T> {
    let mut words = vec![0u32; T::WORDS];
    bytes
        .chunks_exact(4 * T::WORDS)
        .map(|entry| {
            for (word, b) in words.iter_mut().zip(entry.chunks_exact(4)) {
                *word = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            }
            T::take(&words)
        })
        .collect()
}

/// Serializes a table as one byte string.
pub fn serialize<T: Words, S: Serializer>(items: &[T], out: S) -> Result<S::Ok, S::Error> {
    out.serialize_bytes(&encode_words(items))
}

/// Reads a table written by [`serialize`].
pub fn deserialize<'de, T: Words, D: Deserializer<'de>>(input: D) -> Result<Vec<T>, D::Error> {
    input.deserialize_bytes(TableVisitor(PhantomData))
}

struct TableVisitor<T>(PhantomData<T>);

impl<T: Words> Visitor<'_> for TableVisitor<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a table of {}-word entries", T::WORDS)
    }

    fn visit_bytes<E: serde::de::Error>(self, bytes: &[u8]) -> Result<Vec<T>, E> {
        if !bytes.len().is_multiple_of(4 * T::WORDS) {
            return Err(E::custom(
                "a table's length is not a whole number of entries",
            ));
        }
        Ok(decode_words(bytes))
    }

    fn visit_byte_buf<E: serde::de::Error>(self, bytes: Vec<u8>) -> Result<Vec<T>, E> {
        self.visit_bytes(&bytes)
    }
}

#[cfg(test)]
mod tests {
    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Holder {
        #[serde(with = "super")]
        pairs: Vec<(u32, u32)>,
        tail: String,
    }

    #[test]
    fn tables_round_trip_through_postcard() {
        let holder = Holder {
            pairs: vec![(1, 2), (u32::MAX, 0)],
            tail: "x".to_string(),
        };
        let bytes = postcard::to_stdvec(&holder).unwrap();
        assert_eq!(postcard::from_bytes::<Holder>(&bytes).unwrap(), holder);
        let mut cut = bytes.clone();
        cut[0] = 3; // a length that is not a whole number of 8-byte entries
        assert!(postcard::from_bytes::<Holder>(&cut).is_err());
    }
}
