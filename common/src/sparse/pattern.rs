//! Where a pruned weight matrix keeps its weights: compressed rows (CSR) for the forward product
//! and the weight gradient, and the same positions by column (CSC) for the input gradient. The
//! values themselves stay in the model's dense row-major weight tensor (pruned entries exactly
//! zero), so the network, its checkpoints and every hook see the weights as they always did.

use anyhow::{bail, Result};

/// The survivors of one `rows × cols` weight matrix (`rows` outputs, `cols` inputs). Built only
/// by [`Pattern::from_mask`], so every index is in range (the kernels' unsafe loads rely on it).
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    pub(super) rows: usize,
    pub(super) cols: usize,
    /// `row_ptr[i]..row_ptr[i + 1]` are row `i`'s entries in `col` (length `rows + 1`).
    pub(super) row_ptr: Vec<u32>,
    /// Each entry's column, increasing within a row (length nnz). Entry `k` of row `i` is the
    /// weight at row-major position `i · cols + col[k]`; entries are numbered in row-major order.
    pub(super) col: Vec<u32>,
    /// `col_ptr[c]..col_ptr[c + 1]` are column `c`'s entries in `col_row` (length `cols + 1`).
    pub(super) col_ptr: Vec<u32>,
    /// Each column entry's row, increasing within a column (length nnz).
    pub(super) col_row: Vec<u32>,
}

impl Pattern {
    /// The pattern of a row-major `rows × cols` 0/1 mask (any nonzero is kept).
    pub fn from_mask(mask: &[f32], rows: usize, cols: usize) -> Result<Pattern> {
        if mask.len() != rows * cols {
            bail!("a {rows}x{cols} weight matrix needs {} mask entries, got {}", rows * cols, mask.len());
        }
        if rows * cols > u32::MAX as usize {
            bail!("a {rows}x{cols} weight matrix is too large for 32-bit sparse indices");
        }
        let mut row_ptr = Vec::with_capacity(rows + 1);
        let mut col = Vec::new();
        let mut per_col = vec![0u32; cols];
        row_ptr.push(0);
        for i in 0..rows {
            for (c, &m) in mask[i * cols..(i + 1) * cols].iter().enumerate() {
                if m != 0.0 {
                    col.push(c as u32);
                    per_col[c] += 1;
                }
            }
            row_ptr.push(col.len() as u32);
        }
        let mut col_ptr = Vec::with_capacity(cols + 1);
        col_ptr.push(0u32);
        for n in &per_col {
            col_ptr.push(col_ptr.last().expect("starts with 0") + n);
        }
        let mut next: Vec<u32> = col_ptr[..cols].to_vec();
        let mut col_row = vec![0u32; col.len()];
        for i in 0..rows {
            for &c in &col[row_ptr[i] as usize..row_ptr[i + 1] as usize] {
                col_row[next[c as usize] as usize] = i as u32;
                next[c as usize] += 1;
            }
        }
        Ok(Pattern { rows, cols, row_ptr, col, col_ptr, col_row })
    }

    /// Outputs (the weight matrix's rows).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Inputs (the weight matrix's columns).
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Number of kept weights.
    pub fn nnz(&self) -> usize {
        self.col.len()
    }

    /// Fraction of the matrix kept.
    pub fn density(&self) -> f64 {
        self.nnz() as f64 / (self.rows * self.cols).max(1) as f64
    }

    /// Row-major positions of the kept weights, in entry order (increasing).
    pub fn positions(&self) -> Vec<u32> {
        (0..self.rows).flat_map(|i| self.col[self.row_ptr[i] as usize..self.row_ptr[i + 1] as usize].iter().map(move |&c| (i * self.cols) as u32 + c)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_and_columns_list_the_same_survivors() {
        // 3 × 4:  1 0 1 0 / 0 0 0 0 / 1 1 0 1
        let mask = [1., 0., 1., 0., 0., 0., 0., 0., 1., 1., 0., 1.];
        let p = Pattern::from_mask(&mask, 3, 4).unwrap();
        assert_eq!(p.row_ptr, [0, 2, 2, 5]);
        assert_eq!(p.col, [0, 2, 0, 1, 3]);
        assert_eq!(p.col_ptr, [0, 2, 3, 4, 5]);
        assert_eq!(p.col_row, [0, 2, 2, 0, 2]);
        assert_eq!(p.positions(), [0, 2, 8, 9, 11]);
        assert_eq!(p.nnz(), 5);
        assert!(Pattern::from_mask(&mask, 4, 4).is_err());
    }
}
