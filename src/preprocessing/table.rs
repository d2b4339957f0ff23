//! [`Table`]: named columns of mixed types (numbers, text) with missing values, the
//! raw input of a preprocessing pipeline, and (feature `csv`) CSV loading.

use std::collections::HashSet;
use std::fmt;

use ndarray::{Array1, Array2, ArrayView1};

use crate::error::{Error, Result};

/// The type of a [`Column`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ColumnKind {
    /// Numbers (`f64`), NaN = missing.
    Numeric,
    /// Text (`Option<String>`), `None` = missing.
    Text,
}

impl fmt::Display for ColumnKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ColumnKind::Numeric => "numeric",
            ColumnKind::Text => "text",
        })
    }
}

/// One column of a [`Table`]: numbers with NaN for missing cells, or text with `None`
/// for missing cells.
///
/// Build one with `From`: `Column::from(vec![1.0, f64::NAN])`,
/// `Column::from(vec!["a", "b"])`, `Column::from(vec![Some("a"), None])`.
///
/// Equality (`==`) treats missing cells as equal to each other (NaN == NaN), so a
/// table equals its copy.
#[derive(Clone, Debug)]
pub enum Column {
    /// Numbers; NaN is a missing cell.
    Numeric(Array1<f64>),
    /// Text; `None` is a missing cell.
    Text(Vec<Option<String>>),
}

impl Column {
    /// The column's type.
    pub fn kind(&self) -> ColumnKind {
        match self {
            Column::Numeric(_) => ColumnKind::Numeric,
            Column::Text(_) => ColumnKind::Text,
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Column::Numeric(a) => a.len(),
            Column::Text(v) => v.len(),
        }
    }

    /// Whether the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The numbers of a numeric column, `None` for a text column.
    pub fn as_numeric(&self) -> Option<ArrayView1<'_, f64>> {
        match self {
            Column::Numeric(a) => Some(a.view()),
            Column::Text(_) => None,
        }
    }

    /// The cells of a text column, `None` for a numeric column.
    pub fn as_text(&self) -> Option<&[Option<String>]> {
        match self {
            Column::Numeric(_) => None,
            Column::Text(v) => Some(v),
        }
    }

    /// Whether row `i` is missing (NaN or `None`); `false` out of range.
    pub fn is_missing(&self, i: usize) -> bool {
        match self {
            Column::Numeric(a) => a.get(i).is_some_and(|v| v.is_nan()),
            Column::Text(v) => v.get(i).is_some_and(Option::is_none),
        }
    }

    /// Number of missing cells.
    pub fn n_missing(&self) -> usize {
        match self {
            Column::Numeric(a) => a.iter().filter(|v| v.is_nan()).count(),
            Column::Text(v) => v.iter().filter(|c| c.is_none()).count(),
        }
    }

    /// The rows at `indices` (checked by the caller).
    fn take(&self, indices: &[usize]) -> Column {
        match self {
            Column::Numeric(a) => Column::Numeric(indices.iter().map(|&i| a[i]).collect()),
            Column::Text(v) => Column::Text(indices.iter().map(|&i| v[i].clone()).collect()),
        }
    }
}

impl PartialEq for Column {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Column::Numeric(a), Column::Numeric(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y || (x.is_nan() && y.is_nan()))
            }
            (Column::Text(a), Column::Text(b)) => a == b,
            _ => false,
        }
    }
}

impl From<Array1<f64>> for Column {
    fn from(a: Array1<f64>) -> Self {
        Column::Numeric(a)
    }
}

impl From<Vec<f64>> for Column {
    fn from(v: Vec<f64>) -> Self {
        Column::Numeric(Array1::from(v))
    }
}

impl From<Vec<Option<String>>> for Column {
    fn from(v: Vec<Option<String>>) -> Self {
        Column::Text(v)
    }
}

impl From<Vec<String>> for Column {
    fn from(v: Vec<String>) -> Self {
        Column::Text(v.into_iter().map(Some).collect())
    }
}

impl From<Vec<&str>> for Column {
    fn from(v: Vec<&str>) -> Self {
        Column::Text(v.into_iter().map(|s| Some(s.to_string())).collect())
    }
}

impl From<Vec<Option<&str>>> for Column {
    fn from(v: Vec<Option<&str>>) -> Self {
        Column::Text(v.into_iter().map(|s| s.map(str::to_string)).collect())
    }
}

/// A column-oriented table of named columns, each numeric (`f64`, NaN = missing) or
/// text (`Option<String>`, `None` = missing): the shape of real-world data before
/// preprocessing (a small pandas `DataFrame`).
///
/// * Columns by name: [`column`](Table::column), [`select`](Table::select),
///   [`numeric_matrix`](Table::numeric_matrix) / [`text_matrix`](Table::text_matrix)
///   (the 2-D inputs of preprocessors), [`remove_column`](Table::remove_column) (take
///   the target out).
/// * Rows by index: [`take_rows`](Table::take_rows); cleaning that returns the kept
///   row indices, so a separate target array stays aligned:
///   [`drop_duplicate_rows`](Table::drop_duplicate_rows),
///   [`drop_missing_rows`](Table::drop_missing_rows).
/// * With the `csv` feature: `Table::from_csv_path`, `from_csv_reader`,
///   `from_csv_str`, with per-column type inference.
///
/// Column names are unique; every column has [`n_rows`](Table::n_rows) rows. Two
/// tables are equal when names, order and cells are (missing equals missing).
///
/// # Example
///
/// ```
/// use ndarray::{array, Axis};
/// use ndtrain::preprocessing::{Column, Table};
///
/// let t = Table::from_columns([
///     ("age", Column::from(vec![22.0, f64::NAN, 22.0, 35.0])),
///     ("town", Column::from(vec![Some("Cork"), Some("Galway"), Some("Cork"), None])),
/// ])?;
/// let y = array![0, 1, 0, 1];
/// let (t, kept) = t.drop_duplicate_rows(); // row 2 repeats row 0
/// let y = y.select(Axis(0), &kept);
/// assert_eq!((t.n_rows(), y.len()), (3, 3));
/// assert_eq!(t.numeric_matrix(&["age"])?.column(0).to_vec()[2], 35.0);
/// assert_eq!(t.text_matrix(&["town"])?[[2, 0]], None);
/// # Ok::<(), ndtrain::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    names: Vec<String>,
    columns: Vec<Column>,
    n_rows: usize,
}

fn kind_error(op: &'static str, name: &str, got: ColumnKind, expected: ColumnKind) -> Error {
    Error::invalid_input(op, format!("column {name:?} is {got}, expected {expected}"))
}

/// One cell as a hashable key: NaN equals NaN, `-0.0` equals `0.0`.
#[derive(Hash, PartialEq, Eq)]
enum CellKey<'a> {
    Num(u64),
    Text(Option<&'a str>),
}

impl Table {
    /// An empty table (no columns, no rows).
    pub fn new() -> Self {
        Self::default()
    }

    /// A table from `(name, column)` pairs.
    ///
    /// # Errors
    /// As [`push_column`](Table::push_column).
    pub fn from_columns<I, S, C>(columns: I) -> Result<Self>
    where
        I: IntoIterator<Item = (S, C)>,
        S: Into<String>,
        C: Into<Column>,
    {
        let mut t = Table::new();
        for (name, col) in columns {
            t.push_column(name, col)?;
        }
        Ok(t)
    }

    /// Appends a column. The first column sets the number of rows.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a duplicate or empty name;
    /// [`Error::LengthMismatch`] when the column's length differs from `n_rows`.
    pub fn push_column(&mut self, name: impl Into<String>, column: impl Into<Column>) -> Result<()> {
        const OP: &str = "Table::push_column";
        let name = name.into();
        let column = column.into();
        if name.is_empty() {
            return Err(Error::invalid_input(OP, "column names must not be empty"));
        }
        if self.names.contains(&name) {
            return Err(Error::invalid_input(OP, format!("duplicate column name {name:?}")));
        }
        if !self.columns.is_empty() && column.len() != self.n_rows {
            return Err(Error::LengthMismatch {
                op: OP,
                what: "rows of the new column (must equal the table's)",
                expected: self.n_rows,
                got: column.len(),
            });
        }
        self.n_rows = column.len();
        self.names.push(name);
        self.columns.push(column);
        Ok(())
    }

    /// [`push_column`](Table::push_column), by value, for chaining.
    ///
    /// # Errors
    /// As `push_column`.
    pub fn with_column(mut self, name: impl Into<String>, column: impl Into<Column>) -> Result<Self> {
        self.push_column(name, column)?;
        Ok(self)
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.n_rows
    }

    /// Number of columns.
    pub fn n_columns(&self) -> usize {
        self.columns.len()
    }

    /// Column names, in order.
    pub fn column_names(&self) -> &[String] {
        &self.names
    }

    /// Names of the numeric columns, in order.
    pub fn numeric_column_names(&self) -> Vec<&str> {
        self.names_of(ColumnKind::Numeric)
    }

    /// Names of the text columns, in order.
    pub fn text_column_names(&self) -> Vec<&str> {
        self.names_of(ColumnKind::Text)
    }

    fn names_of(&self, kind: ColumnKind) -> Vec<&str> {
        self.names
            .iter()
            .zip(&self.columns)
            .filter(|(_, c)| c.kind() == kind)
            .map(|(n, _)| n.as_str())
            .collect()
    }

    /// Position of the column `name`.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    fn index_of(&self, op: &'static str, name: &str) -> Result<usize> {
        self.column_index(name).ok_or_else(|| {
            Error::invalid_input(op, format!("no column named {name:?} (columns: {})", self.names.join(", ")))
        })
    }

    /// The column `name`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when there is no such column (the message lists them).
    pub fn column(&self, name: &str) -> Result<&Column> {
        Ok(&self.columns[self.index_of("Table::column", name)?])
    }

    /// Iterates over `(name, column)` pairs in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Column)> {
        self.names.iter().map(String::as_str).zip(&self.columns)
    }

    fn typed(&self, op: &'static str, name: &str, kind: ColumnKind) -> Result<&Column> {
        let c = &self.columns[self.index_of(op, name)?];
        if c.kind() != kind {
            return Err(kind_error(op, name, c.kind(), kind));
        }
        Ok(c)
    }

    /// The numbers of numeric column `name`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an unknown or text column.
    pub fn numeric_column(&self, name: &str) -> Result<ArrayView1<'_, f64>> {
        const OP: &str = "Table::numeric_column";
        let c = self.typed(OP, name, ColumnKind::Numeric)?;
        c.as_numeric().ok_or_else(|| kind_error(OP, name, c.kind(), ColumnKind::Numeric))
    }

    /// The cells of text column `name`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an unknown or numeric column.
    pub fn text_column(&self, name: &str) -> Result<&[Option<String>]> {
        const OP: &str = "Table::text_column";
        let c = self.typed(OP, name, ColumnKind::Text)?;
        c.as_text().ok_or_else(|| kind_error(OP, name, c.kind(), ColumnKind::Text))
    }

    /// A new table with the columns `names`, in that order.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an unknown or repeated name.
    pub fn select<S: AsRef<str>>(&self, names: &[S]) -> Result<Table> {
        const OP: &str = "Table::select";
        let mut t = Table { names: Vec::new(), columns: Vec::new(), n_rows: self.n_rows };
        for n in names {
            let n = n.as_ref();
            let j = self.index_of(OP, n)?;
            if t.names.iter().any(|m| m == n) {
                return Err(Error::invalid_input(OP, format!("column {n:?} selected twice")));
            }
            t.names.push(n.to_string());
            t.columns.push(self.columns[j].clone());
        }
        Ok(t)
    }

    /// A new table without the columns `names`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an unknown name.
    pub fn drop_columns<S: AsRef<str>>(&self, names: &[S]) -> Result<Table> {
        let mut drop = vec![false; self.columns.len()];
        for n in names {
            drop[self.index_of("Table::drop_columns", n.as_ref())?] = true;
        }
        let keep: Vec<&str> =
            self.names.iter().zip(&drop).filter(|(_, d)| !**d).map(|(n, _)| n.as_str()).collect();
        self.select(&keep)
    }

    /// Removes the column `name` and returns it (e.g. the target).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an unknown name; the table is unchanged.
    pub fn remove_column(&mut self, name: &str) -> Result<Column> {
        let j = self.index_of("Table::remove_column", name)?;
        self.names.remove(j);
        Ok(self.columns.remove(j))
    }

    /// The numeric columns `names` as an `(n_rows, names.len())` matrix (NaN = missing):
    /// the input of numeric preprocessors.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an unknown or text column.
    pub fn numeric_matrix<S: AsRef<str>>(&self, names: &[S]) -> Result<Array2<f64>> {
        let cols = names
            .iter()
            .map(|n| self.typed("Table::numeric_matrix", n.as_ref(), ColumnKind::Numeric))
            .collect::<Result<Vec<_>>>()?;
        let mut m = Array2::<f64>::zeros((self.n_rows, cols.len()));
        for (mut dst, c) in m.columns_mut().into_iter().zip(cols) {
            if let Column::Numeric(a) = c {
                dst.assign(a);
            }
        }
        Ok(m)
    }

    /// The text columns `names` as an `(n_rows, names.len())` matrix (`None` =
    /// missing): the input of encoders and text imputers.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an unknown or numeric column.
    pub fn text_matrix<S: AsRef<str>>(&self, names: &[S]) -> Result<Array2<Option<String>>> {
        let cols = names
            .iter()
            .map(|n| self.typed("Table::text_matrix", n.as_ref(), ColumnKind::Text))
            .collect::<Result<Vec<_>>>()?;
        let mut m = Array2::<Option<String>>::from_elem((self.n_rows, cols.len()), None);
        for (mut dst, c) in m.columns_mut().into_iter().zip(cols) {
            if let Column::Text(v) = c {
                for (d, s) in dst.iter_mut().zip(v) {
                    d.clone_from(s);
                }
            }
        }
        Ok(m)
    }

    /// A new table with the rows at `indices`, in that order (repeats allowed).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an index `>= n_rows`.
    pub fn take_rows(&self, indices: &[usize]) -> Result<Table> {
        if let Some(&bad) = indices.iter().find(|&&i| i >= self.n_rows) {
            return Err(Error::invalid_input(
                "Table::take_rows",
                format!("row index {bad} out of range for a table of {} rows", self.n_rows),
            ));
        }
        Ok(self.take_unchecked(indices))
    }

    fn take_unchecked(&self, indices: &[usize]) -> Table {
        Table {
            names: self.names.clone(),
            columns: self.columns.iter().map(|c| c.take(indices)).collect(),
            n_rows: indices.len(),
        }
    }

    fn row_key(&self, i: usize) -> Vec<CellKey<'_>> {
        self.columns
            .iter()
            .map(|c| match c {
                Column::Numeric(a) => {
                    let v = a[i];
                    CellKey::Num(if v.is_nan() {
                        f64::NAN.to_bits()
                    } else if v == 0.0 {
                        0
                    } else {
                        v.to_bits()
                    })
                }
                Column::Text(t) => CellKey::Text(t[i].as_deref()),
            })
            .collect()
    }

    /// Indices of the first occurrence of each distinct row, in order. Cells compare
    /// with `==`, except that missing equals missing (NaN == NaN, `None == None`) and
    /// `-0.0 == 0.0`, as the `DropDuplicateRows` transformer.
    pub fn unique_row_indices(&self) -> Vec<usize> {
        let mut seen = HashSet::with_capacity(self.n_rows);
        (0..self.n_rows).filter(|&i| seen.insert(self.row_key(i))).collect()
    }

    /// Removes repeated rows, keeping the first occurrence (pandas `drop_duplicates`).
    /// Returns the table and the kept row indices: select the same rows of a separate
    /// target with `y.select(Axis(0), &kept)`.
    #[doc(alias = "drop_duplicates")]
    pub fn drop_duplicate_rows(&self) -> (Table, Vec<usize>) {
        let kept = self.unique_row_indices();
        (self.take_unchecked(&kept), kept)
    }

    /// Removes rows with a missing cell in any column (pandas `dropna`). Returns the
    /// table and the kept row indices.
    #[doc(alias = "dropna")]
    pub fn drop_missing_rows(&self) -> (Table, Vec<usize>) {
        let kept: Vec<usize> =
            (0..self.n_rows).filter(|&i| !self.columns.iter().any(|c| c.is_missing(i))).collect();
        (self.take_unchecked(&kept), kept)
    }

    /// Removes rows with a missing cell in any of the columns `names` (pandas
    /// `dropna(subset=...)`). Returns the table and the kept row indices.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an unknown name.
    pub fn drop_missing_rows_in<S: AsRef<str>>(&self, names: &[S]) -> Result<(Table, Vec<usize>)> {
        let cols = names
            .iter()
            .map(|n| self.index_of("Table::drop_missing_rows_in", n.as_ref()).map(|j| &self.columns[j]))
            .collect::<Result<Vec<_>>>()?;
        let kept: Vec<usize> = (0..self.n_rows).filter(|&i| !cols.iter().any(|c| c.is_missing(i))).collect();
        Ok((self.take_unchecked(&kept), kept))
    }
}

impl fmt::Display for Table {
    /// The first 10 rows, aligned; missing cells print as `NaN` / `<NA>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MAX_ROWS: usize = 10;
        let shown = self.n_rows.min(MAX_ROWS);
        let mut cells: Vec<Vec<String>> = self.names.iter().map(|n| vec![n.clone()]).collect();
        for (out, c) in cells.iter_mut().zip(&self.columns) {
            for i in 0..shown {
                out.push(match c {
                    Column::Numeric(a) => format!("{}", a[i]),
                    Column::Text(v) => v[i].clone().unwrap_or_else(|| "<NA>".to_string()),
                });
            }
        }
        let widths: Vec<usize> =
            cells.iter().map(|c| c.iter().map(|s| s.chars().count()).max().unwrap_or(0)).collect();
        for r in 0..=shown {
            let line: Vec<String> =
                cells.iter().zip(&widths).map(|(c, &w)| format!("{:>w$}", c[r])).collect();
            writeln!(f, "{}", line.join("  "))?;
        }
        if self.n_rows > shown {
            writeln!(f, "... ({} rows x {} columns)", self.n_rows, self.columns.len())?;
        }
        Ok(())
    }
}

#[cfg(feature = "csv")]
mod csv_io {
    use std::io::Read;
    use std::path::Path;

    use super::{Column, Table};
    use crate::error::{Error, Result};

    /// How [`Table::from_csv_reader_with`] reads a CSV file.
    ///
    /// | option | default |
    /// | --- | --- |
    /// | `delimiter` | `b','` |
    /// | `has_header` | `true` (else columns are named `column_0`, `column_1`, ...) |
    /// | `na_values` | `""`, `NA`, `N/A`, `n/a`, `NaN`, `nan`, `-NaN`, `-nan`, `NULL`, `null`, `None`, `<NA>`, `#N/A` (most of pandas' list) |
    /// | `trim` | `true`: spaces around fields are removed |
    /// | `comment` | none (e.g. `Some(b'#')` skips lines starting with `#`) |
    /// | `numeric_columns` / `text_columns` | empty: types are inferred |
    ///
    /// Type inference: a column is numeric when every non-missing cell parses as an
    /// `f64` (Rust's `str::parse`, which accepts `1e-3`, `+5`, `inf`), else text. A
    /// column listed in `numeric_columns` must parse (an unparseable cell is an
    /// [`Error::Parse`] with its line); one in `text_columns` stays text.
    #[derive(Clone, Debug)]
    pub struct CsvOptions {
        delimiter: u8,
        has_header: bool,
        na_values: Vec<String>,
        trim: bool,
        comment: Option<u8>,
        numeric_columns: Vec<String>,
        text_columns: Vec<String>,
    }

    impl Default for CsvOptions {
        fn default() -> Self {
            CsvOptions {
                delimiter: b',',
                has_header: true,
                na_values: [
                    "", "NA", "N/A", "n/a", "NaN", "nan", "-NaN", "-nan", "NULL", "null", "None", "<NA>",
                    "#N/A",
                ]
                .iter()
                .map(|s| s.to_string())
                .collect(),
                trim: true,
                comment: None,
                numeric_columns: Vec::new(),
                text_columns: Vec::new(),
            }
        }
    }

    impl CsvOptions {
        /// Field delimiter (default `b','`).
        pub fn delimiter(mut self, delimiter: u8) -> Self {
            self.delimiter = delimiter;
            self
        }

        /// Whether the first record names the columns (default `true`).
        pub fn has_header(mut self, has_header: bool) -> Self {
            self.has_header = has_header;
            self
        }

        /// The strings that mark a missing cell (replaces the default list).
        pub fn na_values<I: IntoIterator<Item = S>, S: Into<String>>(mut self, values: I) -> Self {
            self.na_values = values.into_iter().map(Into::into).collect();
            self
        }

        /// Whether to trim spaces around fields and headers (default `true`).
        pub fn trim(mut self, trim: bool) -> Self {
            self.trim = trim;
            self
        }

        /// Lines starting with this byte are skipped (default: none).
        pub fn comment(mut self, comment: Option<u8>) -> Self {
            self.comment = comment;
            self
        }

        /// Columns that must be numeric (no inference).
        pub fn numeric_columns<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
            self.numeric_columns = names.into_iter().map(Into::into).collect();
            self
        }

        /// Columns that stay text even if every cell is a number (codes, zip codes).
        pub fn text_columns<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
            self.text_columns = names.into_iter().map(Into::into).collect();
            self
        }
    }

    fn csv_error(op: &'static str, e: csv::Error) -> Error {
        let line = e.position().map_or(0, |p| p.line() as usize);
        match e.into_kind() {
            csv::ErrorKind::Io(io) => Error::Io { op, message: io.to_string() },
            csv::ErrorKind::Utf8 { err, .. } => {
                Error::Parse { op, line, message: format!("invalid UTF-8: {err}") }
            }
            other => Error::Parse { op, line, message: format!("{other:?}") },
        }
    }

    impl Table {
        /// Reads a CSV file with [`CsvOptions::default`].
        ///
        /// # Errors
        /// [`Error::Io`] when the file cannot be opened or read (the message names the
        /// path); otherwise as [`from_csv_reader_with`](Table::from_csv_reader_with).
        pub fn from_csv_path(path: impl AsRef<Path>) -> Result<Table> {
            Self::from_csv_path_with(path, &CsvOptions::default())
        }

        /// Reads a CSV file with the given options.
        ///
        /// # Errors
        /// As [`from_csv_path`](Table::from_csv_path).
        pub fn from_csv_path_with(path: impl AsRef<Path>, options: &CsvOptions) -> Result<Table> {
            const OP: &str = "Table::from_csv_path";
            let path = path.as_ref();
            let file = std::fs::File::open(path)
                .map_err(|e| Error::Io { op: OP, message: format!("{}: {e}", path.display()) })?;
            Self::read(OP, std::io::BufReader::new(file), options).map_err(|e| match e {
                Error::Io { op, message } => {
                    Error::Io { op, message: format!("{}: {message}", path.display()) }
                }
                other => other,
            })
        }

        /// Reads CSV text with [`CsvOptions::default`].
        ///
        /// # Errors
        /// As [`from_csv_reader_with`](Table::from_csv_reader_with).
        pub fn from_csv_str(text: &str) -> Result<Table> {
            Self::read("Table::from_csv_str", text.as_bytes(), &CsvOptions::default())
        }

        /// Reads CSV from any reader with [`CsvOptions::default`].
        ///
        /// # Errors
        /// As [`from_csv_reader_with`](Table::from_csv_reader_with).
        pub fn from_csv_reader<R: Read>(reader: R) -> Result<Table> {
            Self::read("Table::from_csv_reader", reader, &CsvOptions::default())
        }

        /// Reads CSV from any reader: a header row, then one row per sample; types
        /// inferred per column (see [`CsvOptions`]); missing cells (the `na_values`)
        /// become NaN / `None`.
        ///
        /// # Errors
        /// * [`Error::Parse`] with the 1-based line number: a row with a different
        ///   number of fields than the header, invalid UTF-8, a duplicate column name,
        ///   an unparseable cell in a `numeric_columns` column, a name in
        ///   `numeric_columns` / `text_columns` that is not a column.
        /// * [`Error::EmptyInput`] when there is no header row.
        /// * [`Error::Io`] when reading fails.
        ///
        /// # Example
        ///
        /// ```
        /// use ndtrain::preprocessing::{ColumnKind, Table};
        ///
        /// let csv = "age,town,score\n22,Cork,1.5\nNA,Galway,\n35,,2\n";
        /// let t = Table::from_csv_str(csv)?;
        /// assert_eq!(t.column("age")?.kind(), ColumnKind::Numeric);
        /// assert_eq!(t.column("town")?.kind(), ColumnKind::Text);
        /// assert!(t.numeric_column("score")?[1].is_nan());
        /// assert_eq!(t.text_column("town")?[2], None);
        ///
        /// let err = Table::from_csv_str("a,b\n1,2\n3\n").unwrap_err();
        /// assert!(matches!(err, ndtrain::Error::Parse { line: 3, .. }));
        /// # Ok::<(), ndtrain::Error>(())
        /// ```
        pub fn from_csv_reader_with<R: Read>(reader: R, options: &CsvOptions) -> Result<Table> {
            Self::read("Table::from_csv_reader", reader, options)
        }

        fn read<R: Read>(op: &'static str, reader: R, opt: &CsvOptions) -> Result<Table> {
            let mut rdr = csv::ReaderBuilder::new()
                .delimiter(opt.delimiter)
                .has_headers(false)
                .flexible(true)
                .trim(if opt.trim { csv::Trim::All } else { csv::Trim::None })
                .comment(opt.comment)
                .from_reader(reader);
            let mut record = csv::StringRecord::new();
            let mut names: Vec<String> = Vec::new();
            let mut cells: Vec<Vec<Option<String>>> = Vec::new();
            let mut lines: Vec<usize> = Vec::new();
            let mut header_line = 1;
            let mut first = true;
            while rdr.read_record(&mut record).map_err(|e| csv_error(op, e))? {
                let line = record.position().map_or(0, |p| p.line() as usize);
                if first {
                    first = false;
                    header_line = line;
                    if opt.has_header {
                        names = record
                            .iter()
                            .enumerate()
                            .map(|(i, s)| if s.is_empty() { format!("Unnamed: {i}") } else { s.to_string() })
                            .collect();
                        cells = vec![Vec::new(); names.len()];
                        continue;
                    }
                    names = (0..record.len()).map(|i| format!("column_{i}")).collect();
                    cells = vec![Vec::new(); names.len()];
                }
                if record.len() != names.len() {
                    return Err(Error::Parse {
                        op,
                        line,
                        message: format!(
                            "expected {} fields (as the header), got {}",
                            names.len(),
                            record.len()
                        ),
                    });
                }
                for (col, field) in cells.iter_mut().zip(record.iter()) {
                    col.push(if opt.na_values.iter().any(|na| na == field) {
                        None
                    } else {
                        Some(field.to_string())
                    });
                }
                lines.push(line);
            }
            if first {
                return Err(Error::EmptyInput { op, what: "the CSV has no header row" });
            }
            for (i, n) in names.iter().enumerate() {
                if names[..i].contains(n) {
                    return Err(Error::Parse {
                        op,
                        line: header_line,
                        message: format!("duplicate column name {n:?}"),
                    });
                }
            }
            for forced in opt.numeric_columns.iter().chain(&opt.text_columns) {
                if !names.contains(forced) {
                    return Err(Error::Parse {
                        op,
                        line: header_line,
                        message: format!("no column named {forced:?} (columns: {})", names.join(", ")),
                    });
                }
            }
            let mut table = Table::new();
            table.n_rows = lines.len();
            for (name, col) in names.into_iter().zip(cells) {
                let force_text = opt.text_columns.contains(&name);
                let force_numeric = opt.numeric_columns.contains(&name);
                let parsed: std::result::Result<Vec<f64>, usize> = col
                    .iter()
                    .enumerate()
                    .map(|(r, c)| match c {
                        None => Ok(f64::NAN),
                        Some(s) => s.parse::<f64>().map_err(|_| r),
                    })
                    .collect();
                let column = match parsed {
                    Ok(v) if !force_text => Column::Numeric(v.into()),
                    Err(r) if force_numeric => {
                        return Err(Error::Parse {
                            op,
                            line: lines[r],
                            message: format!(
                                "column {name:?}: cannot parse {:?} as a number",
                                col[r].as_deref().unwrap_or_default()
                            ),
                        });
                    }
                    _ => Column::Text(col),
                };
                table.names.push(name);
                table.columns.push(column);
            }
            Ok(table)
        }
    }
}

#[cfg(feature = "csv")]
pub use csv_io::CsvOptions;

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        Table::from_columns([
            ("x", Column::from(vec![1.0, f64::NAN, 1.0, -0.0, 0.0, f64::NAN])),
            ("s", Column::from(vec![Some("a"), None, Some("a"), Some("b"), Some("b"), None])),
        ])
        .unwrap()
    }

    #[test]
    fn duplicates_treat_missing_and_signed_zero_as_equal() {
        let t = sample();
        let (u, kept) = t.drop_duplicate_rows();
        // Rows 2 (= row 0), 4 (0.0 == -0.0) and 5 (NaN, None == row 1) are repeats.
        assert_eq!(kept, vec![0, 1, 3]);
        assert_eq!(u.n_rows(), 3);
        assert_eq!(u.text_column("s").unwrap(), &[Some("a".to_string()), None, Some("b".to_string())]);
    }

    #[test]
    fn missing_rows_and_errors() {
        let t = sample();
        let (c, kept) = t.drop_missing_rows();
        assert_eq!(kept, vec![0, 2, 3, 4]);
        assert_eq!(c.column("x").unwrap().n_missing(), 0);
        assert!(matches!(t.numeric_matrix(&["s"]), Err(Error::InvalidInput { .. })));
        assert!(matches!(t.column("nope"), Err(Error::InvalidInput { .. })));
        assert!(matches!(t.take_rows(&[6]), Err(Error::InvalidInput { .. })));
        let mut t2 = t.clone();
        assert!(matches!(
            t2.push_column("y", vec![1.0]),
            Err(Error::LengthMismatch { expected: 6, got: 1, .. })
        ));
        assert!(matches!(t2.push_column("x", vec![1.0; 6]), Err(Error::InvalidInput { .. })));
        assert_eq!(t2, t, "failed pushes leave the table unchanged");
    }

    #[test]
    fn select_and_remove() {
        let mut t = sample();
        let s = t.select(&["s", "x"]).unwrap();
        assert_eq!(s.column_names(), &["s".to_string(), "x".to_string()]);
        assert!(t.select(&["x", "x"]).is_err());
        let d = t.drop_columns(&["x"]).unwrap();
        assert_eq!(d.column_names(), &["s".to_string()]);
        let col = t.remove_column("x").unwrap();
        assert_eq!(col.kind(), ColumnKind::Numeric);
        assert_eq!(t.n_columns(), 1);
        assert_eq!(t.n_rows(), 6);
    }
}
