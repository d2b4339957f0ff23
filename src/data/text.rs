//! Text for sequence models: a character vocabulary ([`CharVocab`]) and next-token
//! windows ([`next_token_windows`]) over the ids.
//!
//! Ids are `usize` and stay integers all the way to an
//! [`Embedding`](crate::model::Embedding) (a [`Graph`](crate::model::Graph) with an
//! `input_ids()` input, or any `Model<F, Indices>`).
//!
//! ```
//! use ndtrain::data::text::{CharVocab, next_token_windows};
//!
//! let text = "hello world";
//! let vocab = CharVocab::from_text(text);
//! assert_eq!(vocab.len(), 8); // " dehlorw"
//! let ids = vocab.encode(text)?;
//! assert_eq!(vocab.decode(&ids)?, text);
//! let (x, y) = next_token_windows(&ids, 4, 4)?;
//! assert_eq!(x.shape(), &[2, 4]); // windows start at 0 and 4 (the next would need 13 ids)
//! assert_eq!(y[[0, 0]], ids[1]); // targets are the inputs shifted by one
//! # Ok::<(), ndtrain::Error>(())
//! ```

use ndarray::Array2;

use crate::error::{Error, Result};

/// A character-level vocabulary: the distinct characters of a text, sorted, each
/// mapped to its index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CharVocab {
    chars: Vec<char>,
}

impl CharVocab {
    /// The sorted distinct characters of `text`.
    pub fn from_text(text: &str) -> Self {
        let mut chars: Vec<char> = text.chars().collect();
        chars.sort_unstable();
        chars.dedup();
        CharVocab { chars }
    }

    /// Number of characters (the vocabulary size).
    pub fn len(&self) -> usize {
        self.chars.len()
    }

    /// Whether the vocabulary is empty.
    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    /// The characters, in id order.
    pub fn chars(&self) -> &[char] {
        &self.chars
    }

    /// The id of `c`.
    pub fn id(&self, c: char) -> Option<usize> {
        self.chars.binary_search(&c).ok()
    }

    /// The ids of the characters of `text`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the first character not in the vocabulary.
    pub fn encode(&self, text: &str) -> Result<Vec<usize>> {
        text.chars()
            .enumerate()
            .map(|(k, c)| {
                self.id(c).ok_or_else(|| {
                    Error::invalid_input(
                        "CharVocab::encode",
                        format!("character {c:?} at {k} is not in the vocabulary"),
                    )
                })
            })
            .collect()
    }

    /// The text of `ids`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an id `>= len()`.
    pub fn decode(&self, ids: &[usize]) -> Result<String> {
        ids.iter()
            .map(|&i| {
                self.chars.get(i).copied().ok_or_else(|| {
                    Error::invalid_input(
                        "CharVocab::decode",
                        format!("id {i} >= vocabulary size {}", self.len()),
                    )
                })
            })
            .collect()
    }
}

/// Next-token training pairs: window `w` is `ids[s .. s + len]` as input and
/// `ids[s + 1 .. s + len + 1]` as target, `s = w · stride`, for every window that fits.
///
/// # Errors
/// [`Error::InvalidParameter`] for `len` or `stride` of 0; [`Error::EmptyInput`] when
/// `ids` has fewer than `len + 1` ids.
pub fn next_token_windows(
    ids: &[usize],
    len: usize,
    stride: usize,
) -> Result<(Array2<usize>, Array2<usize>)> {
    const OP: &str = "next_token_windows";
    if len == 0 {
        return Err(Error::InvalidParameter { name: "len", value: 0.0, expected: ">= 1" });
    }
    if stride == 0 {
        return Err(Error::InvalidParameter { name: "stride", value: 0.0, expected: ">= 1" });
    }
    if ids.len() < len + 1 {
        return Err(Error::EmptyInput { op: OP, what: "fewer ids than one window and its next token" });
    }
    let n = (ids.len() - len - 1) / stride + 1;
    let x = Array2::from_shape_fn((n, len), |(w, t)| ids[w * stride + t]);
    let y = Array2::from_shape_fn((n, len), |(w, t)| ids[w * stride + t + 1]);
    Ok((x, y))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocab_round_trip_and_errors() {
        let v = CharVocab::from_text("abcab\n");
        assert_eq!(v.chars(), &['\n', 'a', 'b', 'c']);
        assert_eq!(v.encode("cab").unwrap(), vec![3, 1, 2]);
        assert!(v.encode("abd").unwrap_err().to_string().contains("'d' at 2"));
        assert!(v.decode(&[4]).is_err());
    }

    #[test]
    fn windows() {
        let ids: Vec<usize> = (0..10).collect();
        let (x, y) = next_token_windows(&ids, 3, 2).unwrap();
        // starts 0, 2, 4, 6 (6 + 3 + 1 = 10 fits; 8 would need 12)
        assert_eq!(x.nrows(), 4);
        assert_eq!(x.row(3).to_vec(), vec![6, 7, 8]);
        assert_eq!(y.row(3).to_vec(), vec![7, 8, 9]);
        assert!(next_token_windows(&ids, 10, 1).is_err());
        assert!(next_token_windows(&ids, 0, 1).is_err());
    }
}
