//! [`ColumnTransformer`]: different preprocessing for different columns of a
//! [`Table`], concatenated into one model-ready matrix.

use std::ops::Range;

use ndarray::{Array2, s};

use super::pipeline::{DynStep, Plain};
use crate::error::{Error, Result};
use crate::preprocessing::{ColumnKind, Preprocessor, Table};

/// Which columns of a [`Table`] a transformer of a [`ColumnTransformer`] receives.
///
/// From a list of names (`["age", "fare"]`, `vec!["age"]`, `&["age"][..]`), or every
/// column of a kind, like scikit-learn's `make_column_selector(dtype_include=...)`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Columns {
    /// These columns, in this order.
    Names(Vec<String>),
    /// Every numeric column of the table, in table order.
    AllNumeric,
    /// Every text column of the table, in table order.
    AllText,
}

impl<S: AsRef<str>, const N: usize> From<[S; N]> for Columns {
    fn from(names: [S; N]) -> Self {
        Columns::Names(names.iter().map(|s| s.as_ref().to_string()).collect())
    }
}

impl<S: AsRef<str>> From<&[S]> for Columns {
    fn from(names: &[S]) -> Self {
        Columns::Names(names.iter().map(|s| s.as_ref().to_string()).collect())
    }
}

impl<S: AsRef<str>> From<Vec<S>> for Columns {
    fn from(names: Vec<S>) -> Self {
        Columns::Names(names.iter().map(|s| s.as_ref().to_string()).collect())
    }
}

/// What a [`ColumnTransformer`] does with the columns no transformer names
/// (scikit-learn's `remainder`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Remainder {
    /// Leave them out (`"drop"`, the default).
    #[default]
    Drop,
    /// Append them unchanged after the transformed columns (`"passthrough"`); they must
    /// be numeric.
    Passthrough,
}

pub(crate) enum Block {
    Numeric(Box<dyn DynStep<f64, f64>>),
    Text(Box<dyn DynStep<Option<String>, f64>>),
    Passthrough,
}

impl Clone for Block {
    fn clone(&self) -> Self {
        match self {
            Block::Numeric(b) => Block::Numeric(b.clone_box()),
            Block::Text(b) => Block::Text(b.clone_box()),
            Block::Passthrough => Block::Passthrough,
        }
    }
}

impl Block {
    fn kind(&self) -> ColumnKind {
        match self {
            Block::Numeric(_) | Block::Passthrough => ColumnKind::Numeric,
            Block::Text(_) => ColumnKind::Text,
        }
    }
}

#[derive(Clone)]
pub(crate) struct Entry {
    pub(crate) name: String,
    pub(crate) columns: Columns,
    pub(crate) block: Block,
}

/// What `fit` learned about the table's layout.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Layout {
    /// Resolved input columns of each entry.
    pub(crate) inputs: Vec<Vec<String>>,
    /// Output column range of each entry.
    pub(crate) outputs: Vec<Range<usize>>,
    /// Remainder columns passed through (empty under `Remainder::Drop`).
    pub(crate) remainder: Vec<String>,
    pub(crate) names_out: Vec<String>,
    pub(crate) n_output: usize,
}

/// Applies different preprocessing to different columns of a [`Table`] and joins the
/// results side by side into one `Array2<f64>` (scikit-learn's `ColumnTransformer`).
///
/// Each transformer is named and receives its columns as a matrix: numeric columns
/// as `Array2<f64>` (NaN = missing) to a [`Preprocessor<f64>`], text columns as
/// `Array2<Option<String>>` (`None` = missing) to a
/// [`Preprocessor<Option<String>, f64>`] (typically a
/// [`Pipeline`](crate::preprocessing::Pipeline) of an imputer and
/// an encoder). The outputs are concatenated in transformer order, then the
/// remainder columns under [`Remainder::Passthrough`]:
///
/// ```text
/// out = [ t_1(table[cols_1]) | t_2(table[cols_2]) | ... | remainder ]
/// ```
///
/// | setting | default | values |
/// | --- | --- | --- |
/// | transformers | (none) | `numeric(name, cols, t)`, `text(name, cols, t)`, `passthrough(name, cols)` |
/// | `remainder` | [`Remainder::Drop`] | `Drop`, `Passthrough` (numeric columns only) |
/// | `verbose_feature_names_out` | `true` | prefix output names with `"{transformer}__"` |
///
/// Columns are matched by name, in `fit` and in `transform` (the test table may order
/// its columns differently or hold extra ones). A transformer with an empty column
/// selection is skipped, as in scikit-learn. `fit` is all-or-nothing.
/// [`feature_names_out`](ColumnTransformer::feature_names_out) gives names like
/// `"num__age"`, `"cat__town_Cork"`, `"remainder__fare"`; a transformer whose
/// `feature_names_out` fails or disagrees with its output width gets
/// `"{name}__x{i}"`.
///
/// An [`Error::UnknownCategory`] from a text transformer reports the column's index
/// in the table (not in the transformer's input). Deviations: the output is always
/// dense `f64`; a text remainder cannot pass through (it would need an encoder); no
/// `n_jobs`, `sparse_threshold` or transformer weights. With the `serde` feature, a
/// column transformer of built-in transformers (or pipelines of them) saves and loads
/// (`Serialize`, `Deserialize`, `to_saved`); see the
/// [`pipeline`](crate::preprocessing::pipeline) module docs, "Saving and loading".
///
/// # Errors
///
/// * `build`: [`Error::InvalidConfig`] for an empty, repeated or reserved
///   (`"remainder"`) transformer name.
/// * `fit` / `transform`: [`Error::InvalidInput`] for a missing column or a column of
///   the wrong kind (naming it), a text column in a passthrough remainder;
///   [`Error::EmptyInput`] for a table without rows; [`Error::NotFitted`] before `fit`;
///   [`Error::ShapeMismatch`] when a transformer's output width changes between `fit`
///   and `transform`; [`Error::LengthMismatch`] when it changes the row count; a
///   transformer's own errors.
///
/// Reference: scikit-learn, `sklearn.compose.ColumnTransformer`
/// (<https://scikit-learn.org/stable/modules/generated/sklearn.compose.ColumnTransformer.html>).
///
/// # Example
///
/// ```
/// use ndtrain::preprocessing::{
///     Column, ColumnTransformer, Columns, HandleUnknown, OneHotEncoder, Remainder, Table,
/// };
///
/// let train = Table::from_columns([
///     ("age", Column::from(vec![22.0, 38.0, 26.0])),
///     ("town", Column::from(vec![Some("Cork"), None, Some("Galway")])),
///     ("fare", Column::from(vec![7.25, 71.3, 7.9])),
/// ])?;
/// let onehot = OneHotEncoder::<Option<String>>::builder().handle_unknown(HandleUnknown::Ignore).build()?;
/// let mut ct = ColumnTransformer::builder()
///     .text("cat", Columns::AllText, onehot)
///     .passthrough("num", ["age"])
///     .remainder(Remainder::Passthrough)
///     .build()?;
/// let x = ct.fit_transform(&train)?;
/// assert_eq!(x.shape(), &[3, 5]);
/// assert_eq!(
///     ct.feature_names_out()?,
///     ["cat__town_Cork", "cat__town_Galway", "cat__town_nan", "num__age", "remainder__fare"]
/// );
/// assert_eq!(x.row(1).to_vec(), [0.0, 0.0, 1.0, 38.0, 71.3]);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[derive(Clone)]
pub struct ColumnTransformer {
    pub(crate) entries: Vec<Entry>,
    pub(crate) remainder: Remainder,
    pub(crate) verbose_feature_names_out: bool,
    pub(crate) layout: Option<Layout>,
}

impl std::fmt::Debug for ColumnTransformer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let t: Vec<(&str, &Columns)> = self.entries.iter().map(|e| (e.name.as_str(), &e.columns)).collect();
        f.debug_struct("ColumnTransformer")
            .field("transformers", &t)
            .field("remainder", &self.remainder)
            .field("fitted", &self.layout.is_some())
            .finish()
    }
}

/// Builder of a [`ColumnTransformer`].
#[derive(Clone)]
pub struct ColumnTransformerBuilder {
    pub(crate) entries: Vec<Entry>,
    pub(crate) remainder: Remainder,
    pub(crate) verbose_feature_names_out: bool,
}

impl std::fmt::Debug for ColumnTransformerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let t: Vec<&str> = self.entries.iter().map(|e| e.name.as_str()).collect();
        f.debug_struct("ColumnTransformerBuilder").field("transformers", &t).finish_non_exhaustive()
    }
}

impl ColumnTransformerBuilder {
    /// Sends the numeric columns `columns` to `transformer`.
    pub fn numeric<P>(mut self, name: impl Into<String>, columns: impl Into<Columns>, transformer: P) -> Self
    where
        P: Preprocessor<f64> + Clone + Send + Sync + 'static,
    {
        self.entries.push(Entry {
            name: name.into(),
            columns: columns.into(),
            block: Block::Numeric(Box::new(Plain(transformer))),
        });
        self
    }

    /// Sends the text columns `columns` to `transformer`, which outputs numbers.
    pub fn text<P>(mut self, name: impl Into<String>, columns: impl Into<Columns>, transformer: P) -> Self
    where
        P: Preprocessor<Option<String>, f64> + Clone + Send + Sync + 'static,
    {
        self.entries.push(Entry {
            name: name.into(),
            columns: columns.into(),
            block: Block::Text(Box::new(Plain(transformer))),
        });
        self
    }

    /// Passes the numeric columns `columns` through unchanged (`"passthrough"`).
    pub fn passthrough(mut self, name: impl Into<String>, columns: impl Into<Columns>) -> Self {
        self.entries.push(Entry { name: name.into(), columns: columns.into(), block: Block::Passthrough });
        self
    }

    /// What to do with the columns no transformer names (default `Drop`).
    pub fn remainder(mut self, remainder: Remainder) -> Self {
        self.remainder = remainder;
        self
    }

    /// Whether output names carry the `"{transformer}__"` prefix (default `true`).
    pub fn verbose_feature_names_out(mut self, verbose: bool) -> Self {
        self.verbose_feature_names_out = verbose;
        self
    }

    /// Validates the transformer names and builds.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an empty, repeated or reserved (`"remainder"`) name.
    pub fn build(self) -> Result<ColumnTransformer> {
        for (i, e) in self.entries.iter().enumerate() {
            if e.name.is_empty() || e.name == "remainder" {
                return Err(Error::invalid_config(format!(
                    "ColumnTransformer: invalid transformer name {:?} (empty or reserved)",
                    e.name
                )));
            }
            if self.entries[..i].iter().any(|p| p.name == e.name) {
                return Err(Error::invalid_config(format!(
                    "ColumnTransformer: transformer name {:?} is used twice",
                    e.name
                )));
            }
        }
        Ok(ColumnTransformer {
            entries: self.entries,
            remainder: self.remainder,
            verbose_feature_names_out: self.verbose_feature_names_out,
            layout: None,
        })
    }
}

/// `Err(LengthMismatch)` unless a transformer's output has the table's rows.
fn check_rows(op: &'static str, table: &Table, out: &Array2<f64>) -> Result<()> {
    if out.nrows() == table.n_rows() {
        return Ok(());
    }
    Err(Error::LengthMismatch {
        op,
        what: "rows of a transformer's output (must equal the table's)",
        expected: table.n_rows(),
        got: out.nrows(),
    })
}

/// Rewrites a transformer's column index (into its input matrix) as the table's.
fn remap(e: Error, table: &Table, cols: &[String]) -> Error {
    match e {
        Error::UnknownCategory { op, column, value } => {
            let column = cols.get(column).and_then(|n| table.column_index(n)).unwrap_or(column);
            Error::UnknownCategory { op, column, value }
        }
        other => other,
    }
}

impl ColumnTransformer {
    /// A builder with scikit-learn's defaults (no transformers, remainder dropped,
    /// verbose feature names).
    pub fn builder() -> ColumnTransformerBuilder {
        ColumnTransformerBuilder {
            entries: Vec::new(),
            remainder: Remainder::Drop,
            verbose_feature_names_out: true,
        }
    }

    fn layout(&self, op: &'static str) -> Result<&Layout> {
        self.layout.as_ref().ok_or(Error::NotFitted { op })
    }

    /// Resolves each entry's columns against `table` and checks their kinds.
    fn resolve(&self, op: &'static str, table: &Table) -> Result<(Vec<Vec<String>>, Vec<String>)> {
        let mut inputs = Vec::with_capacity(self.entries.len());
        for e in &self.entries {
            let want = e.block.kind();
            let cols: Vec<String> = match &e.columns {
                Columns::Names(n) => n.clone(),
                Columns::AllNumeric => table.numeric_column_names().iter().map(|s| s.to_string()).collect(),
                Columns::AllText => table.text_column_names().iter().map(|s| s.to_string()).collect(),
            };
            for c in &cols {
                let kind = table.column(c).map_err(|_| {
                    Error::invalid_input(
                        op,
                        format!("transformer {:?}: the table has no column {c:?}", e.name),
                    )
                })?;
                if kind.kind() != want {
                    return Err(Error::invalid_input(
                        op,
                        format!(
                            "transformer {:?} takes {want} columns, but column {c:?} is {}",
                            e.name,
                            kind.kind()
                        ),
                    ));
                }
            }
            inputs.push(cols);
        }
        let mut remainder = Vec::new();
        if self.remainder == Remainder::Passthrough {
            for (name, col) in table.iter() {
                if inputs.iter().any(|cols| cols.iter().any(|c| c == name)) {
                    continue;
                }
                if col.kind() != ColumnKind::Numeric {
                    return Err(Error::invalid_input(
                        op,
                        format!(
                            "remainder passthrough: column {name:?} is text and the output is numeric \
                             (encode it with a transformer or use Remainder::Drop)"
                        ),
                    ));
                }
                remainder.push(name.to_string());
            }
        }
        Ok((inputs, remainder))
    }

    /// Fits every transformer on its columns of `table`; all-or-nothing.
    ///
    /// # Errors
    /// See the type's docs.
    pub fn fit(&mut self, table: &Table) -> Result<()> {
        self.fit_transform(table).map(|_| ())
    }

    /// Fits every transformer and returns the transformed training table.
    ///
    /// # Errors
    /// See the type's docs; on error the transformer is unchanged.
    pub fn fit_transform(&mut self, table: &Table) -> Result<Array2<f64>> {
        const OP: &str = "ColumnTransformer::fit";
        if table.n_rows() == 0 {
            return Err(Error::EmptyInput { op: OP, what: "the table has no rows" });
        }
        let (inputs, remainder) = self.resolve(OP, table)?;
        let mut entries = self.entries.clone();
        let mut blocks = Vec::with_capacity(entries.len());
        for (e, cols) in entries.iter_mut().zip(&inputs) {
            let out = if cols.is_empty() {
                Array2::zeros((table.n_rows(), 0))
            } else {
                match &mut e.block {
                    Block::Numeric(t) => t.fit_transform(table.numeric_matrix(cols)?.view()),
                    Block::Text(t) => t.fit_transform(table.text_matrix(cols)?.view()),
                    Block::Passthrough => table.numeric_matrix(cols),
                }
                .map_err(|err| remap(err, table, cols))?
            };
            check_rows(OP, table, &out)?;
            blocks.push(out);
        }
        if !remainder.is_empty() {
            blocks.push(table.numeric_matrix(&remainder)?);
        }
        let (out, ranges) = concat(table.n_rows(), &blocks);
        let mut names_out = Vec::with_capacity(out.ncols());
        for ((e, cols), r) in entries.iter().zip(&inputs).zip(&ranges) {
            let names = match &e.block {
                Block::Numeric(t) => t.names_out(cols),
                Block::Text(t) => t.names_out(cols),
                Block::Passthrough => Ok(cols.clone()),
            };
            let names = match names {
                Ok(n) if n.len() == r.len() => n,
                _ => (0..r.len()).map(|i| format!("x{i}")).collect(),
            };
            names_out.extend(names.into_iter().map(|n| self.prefixed(&e.name, n)));
        }
        names_out.extend(remainder.iter().map(|n| self.prefixed("remainder", n.clone())));
        let n_output = out.ncols();
        let outputs = ranges.into_iter().take(entries.len()).collect();
        for (old, new) in self.entries.iter_mut().zip(entries) {
            old.block = new.block;
        }
        self.layout = Some(Layout { inputs, outputs, remainder, names_out, n_output });
        Ok(out)
    }

    fn prefixed(&self, transformer: &str, name: String) -> String {
        if self.verbose_feature_names_out { format!("{transformer}__{name}") } else { name }
    }

    /// Transforms `table` with the fitted transformers.
    ///
    /// # Errors
    /// See the type's docs.
    pub fn transform(&self, table: &Table) -> Result<Array2<f64>> {
        const OP: &str = "ColumnTransformer::transform";
        let layout = self.layout(OP)?;
        let mut blocks = Vec::with_capacity(self.entries.len() + 1);
        for ((e, cols), range) in self.entries.iter().zip(&layout.inputs).zip(&layout.outputs) {
            if cols.is_empty() {
                continue;
            }
            let check_kind = |c: &String| -> Result<()> {
                let kind = table.column(c).map_err(|_| {
                    Error::invalid_input(
                        OP,
                        format!("transformer {:?}: the table has no column {c:?}", e.name),
                    )
                })?;
                if kind.kind() != e.block.kind() {
                    return Err(Error::invalid_input(
                        OP,
                        format!("column {c:?} is {}, but it was {} in fit", kind.kind(), e.block.kind()),
                    ));
                }
                Ok(())
            };
            cols.iter().try_for_each(check_kind)?;
            let out = match &e.block {
                Block::Numeric(t) => t.transform(table.numeric_matrix(cols)?.view()),
                Block::Text(t) => t.transform(table.text_matrix(cols)?.view()),
                Block::Passthrough => table.numeric_matrix(cols),
            }
            .map_err(|err| remap(err, table, cols))?;
            if out.ncols() != range.len() {
                return Err(Error::ShapeMismatch {
                    op: OP,
                    expected: vec![table.n_rows(), range.len()],
                    got: out.shape().to_vec(),
                });
            }
            check_rows(OP, table, &out)?;
            blocks.push(out);
        }
        if !layout.remainder.is_empty() {
            blocks.push(table.numeric_matrix(&layout.remainder).map_err(|e| match e {
                Error::InvalidInput { message, .. } => {
                    Error::invalid_input(OP, format!("remainder column: {message}"))
                }
                other => other,
            })?);
        }
        Ok(concat(table.n_rows(), &blocks).0)
    }

    /// Names of the output columns (scikit-learn's `get_feature_names_out`).
    ///
    /// # Errors
    /// [`Error::NotFitted`] before `fit`; [`Error::InvalidInput`] when
    /// `verbose_feature_names_out` is off and two names collide.
    #[doc(alias = "get_feature_names_out")]
    pub fn feature_names_out(&self) -> Result<Vec<String>> {
        const OP: &str = "ColumnTransformer::feature_names_out";
        let names = &self.layout(OP)?.names_out;
        if !self.verbose_feature_names_out {
            for (i, n) in names.iter().enumerate() {
                if names[..i].contains(n) {
                    return Err(Error::invalid_input(
                        OP,
                        format!("output name {n:?} is not unique; turn verbose_feature_names_out on"),
                    ));
                }
            }
        }
        Ok(names.clone())
    }

    /// Number of output columns.
    ///
    /// # Errors
    /// [`Error::NotFitted`] before `fit`.
    pub fn n_features_out(&self) -> Result<usize> {
        Ok(self.layout("ColumnTransformer::n_features_out")?.n_output)
    }

    /// The output column range of each transformer, by name, plus `"remainder"` when
    /// columns pass through (scikit-learn's `output_indices_`).
    ///
    /// # Errors
    /// [`Error::NotFitted`] before `fit`.
    #[doc(alias = "output_indices_")]
    pub fn output_indices(&self) -> Result<Vec<(String, Range<usize>)>> {
        let layout = self.layout("ColumnTransformer::output_indices")?;
        let mut v: Vec<(String, Range<usize>)> =
            self.entries.iter().zip(&layout.outputs).map(|(e, r)| (e.name.clone(), r.clone())).collect();
        let start = v.last().map_or(0, |(_, r)| r.end);
        if !layout.remainder.is_empty() {
            v.push(("remainder".to_string(), start..layout.n_output));
        }
        Ok(v)
    }

    /// The columns each transformer received in `fit`, by name.
    ///
    /// # Errors
    /// [`Error::NotFitted`] before `fit`.
    pub fn input_columns(&self) -> Result<Vec<(String, Vec<String>)>> {
        let layout = self.layout("ColumnTransformer::input_columns")?;
        Ok(self.entries.iter().zip(&layout.inputs).map(|(e, c)| (e.name.clone(), c.clone())).collect())
    }

    /// The transformer called `name`, if it exists and has type `P` (scikit-learn's
    /// `named_transformers_`), e.g. a fitted [`Pipeline`](crate::preprocessing::Pipeline)
    /// to read or serialise.
    pub fn named_transformer<P: 'static>(&self, name: &str) -> Option<&P> {
        let e = self.entries.iter().find(|e| e.name == name)?;
        match &e.block {
            Block::Numeric(t) => t.as_any().downcast_ref(),
            Block::Text(t) => t.as_any().downcast_ref(),
            Block::Passthrough => None,
        }
    }
}

/// Joins blocks side by side; returns the matrix and each block's column range.
fn concat(n_rows: usize, blocks: &[Array2<f64>]) -> (Array2<f64>, Vec<Range<usize>>) {
    let total = blocks.iter().map(|b| b.ncols()).sum();
    let mut out = Array2::<f64>::zeros((n_rows, total));
    let mut ranges = Vec::with_capacity(blocks.len());
    let mut start = 0;
    for b in blocks {
        let r = start..start + b.ncols();
        out.slice_mut(s![.., r.clone()]).assign(b);
        start = r.end;
        ranges.push(r);
    }
    (out, ranges)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preprocessing::{Column, HandleUnknown, OneHotEncoder};

    fn table() -> Table {
        Table::from_columns([
            ("a", Column::from(vec![1.0, 2.0])),
            ("t", Column::from(vec![Some("x"), Some("y")])),
            ("b", Column::from(vec![3.0, 4.0])),
        ])
        .unwrap()
    }

    #[test]
    fn unknown_category_reports_the_table_column() {
        let mut ct = ColumnTransformer::builder()
            .text("cat", ["t"], OneHotEncoder::<Option<String>>::default())
            .build()
            .unwrap();
        ct.fit(&table()).unwrap();
        let test = Table::from_columns([("t", Column::from(vec!["z"])), ("a", Column::from(vec![0.0]))])
            .unwrap()
            .select(&["a", "t"])
            .unwrap();
        match ct.transform(&test) {
            Err(Error::UnknownCategory { column, value, .. }) => {
                assert_eq!((column, value.as_str()), (1, "z"));
            }
            other => panic!("expected UnknownCategory, got {other:?}"),
        }
    }

    #[test]
    fn text_remainder_is_rejected_and_kinds_checked() {
        let mut ct = ColumnTransformer::builder()
            .passthrough("p", ["a"])
            .remainder(Remainder::Passthrough)
            .build()
            .unwrap();
        assert!(matches!(ct.fit(&table()), Err(Error::InvalidInput { .. })));
        assert!(matches!(ct.transform(&table()), Err(Error::NotFitted { .. })));
        let mut ct = ColumnTransformer::builder().passthrough("p", ["t"]).build().unwrap();
        assert!(matches!(ct.fit(&table()), Err(Error::InvalidInput { .. })));
        let onehot =
            OneHotEncoder::<Option<String>>::builder().handle_unknown(HandleUnknown::Ignore).build().unwrap();
        let mut ct = ColumnTransformer::builder()
            .text("c", Columns::AllText, onehot)
            .passthrough("p", ["b", "a"])
            .build()
            .unwrap();
        let x = ct.fit_transform(&table()).unwrap();
        assert_eq!(x, ndarray::array![[1.0, 0.0, 3.0, 1.0], [0.0, 1.0, 4.0, 2.0]]);
        assert_eq!(ct.output_indices().unwrap(), vec![("c".to_string(), 0..2), ("p".to_string(), 2..4)]);
    }

    #[test]
    fn build_rejects_bad_names() {
        assert!(ColumnTransformer::builder().passthrough("remainder", ["a"]).build().is_err());
        assert!(
            ColumnTransformer::builder().passthrough("p", ["a"]).passthrough("p", ["b"]).build().is_err()
        );
    }

    #[test]
    fn column_transformer_is_send_sync() {
        fn check<T: Send + Sync>() {}
        check::<ColumnTransformer>();
    }
}
