//! The few statistics the report needs: median and quartiles of a cell's per-round samples, and an exact
//! Mann–Whitney U test for "did this change between two runs".

/// Median, quartiles and range of a set of samples (linear interpolation between order statistics, as R's
/// default `quantile` type 7).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    /// Number of samples.
    pub n: usize,
    /// Median.
    pub median: f64,
    /// First quartile.
    pub q1: f64,
    /// Third quartile.
    pub q3: f64,
    /// Smallest sample.
    pub min: f64,
    /// Largest sample.
    pub max: f64,
}

impl Summary {
    /// The summary of `samples`; `None` when there are none (or any is not finite).
    pub fn of(samples: &[f64]) -> Option<Summary> {
        if samples.is_empty() || samples.iter().any(|x| !x.is_finite()) {
            return None;
        }
        let mut v = samples.to_vec();
        v.sort_by(f64::total_cmp);
        Some(Summary {
            n: v.len(),
            median: quantile(&v, 0.5),
            q1: quantile(&v, 0.25),
            q3: quantile(&v, 0.75),
            min: v[0],
            max: v[v.len() - 1],
        })
    }

    /// Interquartile range relative to the median, in percent (the spread the report prints beside a cell).
    pub fn iqr_pct(&self) -> f64 {
        if self.median == 0.0 {
            0.0
        } else {
            (self.q3 - self.q1) / self.median.abs() * 100.0
        }
    }
}

/// Quantile `p` of sorted, non-empty `v` (type 7).
fn quantile(v: &[f64], p: f64) -> f64 {
    let h = (v.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    v[lo] + (h - lo as f64) * (v[hi] - v[lo])
}

/// Two-sided exact p-value of the Mann–Whitney U test that `a` and `b` come from the same distribution (ties count
/// one half). Exact enumeration of the U distribution, fine for the report's handful of rounds (it is O(m·n·m·n)).
/// `None` if either side is empty.
pub fn mann_whitney_p(a: &[f64], b: &[f64]) -> Option<f64> {
    let (m, n) = (a.len(), b.len());
    if m == 0 || n == 0 {
        return None;
    }
    // U of `a` in half-units, so ties stay integral.
    let mut u2: usize = 0;
    for x in a {
        for y in b {
            u2 += match x.total_cmp(y) {
                std::cmp::Ordering::Greater => 2,
                std::cmp::Ordering::Equal => 1,
                std::cmp::Ordering::Less => 0,
            };
        }
    }
    let counts = u_distribution(m, n);
    let total: f64 = counts.iter().sum();
    let mean2 = m * n; // E[U] = mn/2, in half-units
    let dist = u2.abs_diff(mean2);
    // P(|U − mn/2| ≥ observed distance) under the null.
    let extreme: f64 = counts
        .iter()
        .enumerate()
        .filter(|(u, _)| (2 * u).abs_diff(mean2) >= dist)
        .map(|(_, c)| c)
        .sum();
    Some((extreme / total).min(1.0))
}

/// Number of orderings of `m` x's and `n` y's with each U value 0..=m·n (the classic recursion
/// f(m, n, u) = f(m − 1, n, u − n) + f(m, n − 1, u)), as floats to stay exact far enough and never overflow.
fn u_distribution(m: usize, n: usize) -> Vec<f64> {
    // table[i][j] = distribution for i x's and j y's.
    let mut table: Vec<Vec<Vec<f64>>> = vec![vec![Vec::new(); n + 1]; m + 1];
    for i in 0..=m {
        for j in 0..=n {
            table[i][j] = if i == 0 || j == 0 {
                vec![1.0]
            } else {
                let mut d = vec![0.0; i * j + 1];
                for (u, c) in table[i - 1][j].iter().enumerate() {
                    d[u + j] += c;
                }
                for (u, c) in table[i][j - 1].iter().enumerate() {
                    d[u] += c;
                }
                d
            };
        }
    }
    std::mem::take(&mut table[m][n])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_of_five_samples_uses_type_7_quartiles() {
        let s = Summary::of(&[5.0, 1.0, 4.0, 2.0, 3.0]).unwrap();
        assert_eq!(
            (s.n, s.median, s.q1, s.q3, s.min, s.max),
            (5, 3.0, 2.0, 4.0, 1.0, 5.0)
        );
        assert!((s.iqr_pct() - 66.666).abs() < 0.01);
        let even = Summary::of(&[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!((even.median, even.q1, even.q3), (2.5, 1.75, 3.25));
    }

    #[test]
    fn summary_rejects_empty_and_non_finite_samples() {
        assert_eq!(Summary::of(&[]), None);
        assert_eq!(Summary::of(&[1.0, f64::NAN]), None);
    }

    #[test]
    fn mann_whitney_matches_the_exact_tables() {
        // Complete separation of 5 vs 5: p = 2 / C(10, 5) = 2 / 252.
        let p = mann_whitney_p(&[1.0, 2.0, 3.0, 4.0, 5.0], &[6.0, 7.0, 8.0, 9.0, 10.0]).unwrap();
        assert!((p - 2.0 / 252.0).abs() < 1e-12, "{p}");
        // Complete separation of 3 vs 3: p = 2 / 20.
        let p = mann_whitney_p(&[3.0, 2.0, 1.0], &[4.0, 5.0, 6.0]).unwrap();
        assert!((p - 0.1).abs() < 1e-12, "{p}");
        // Interleaved samples are not significant.
        let p = mann_whitney_p(&[1.0, 3.0, 5.0, 7.0], &[2.0, 4.0, 6.0, 8.0]).unwrap();
        assert!(p > 0.5, "{p}");
        // Identical samples: p = 1.
        assert_eq!(mann_whitney_p(&[1.0, 1.0], &[1.0, 1.0]), Some(1.0));
        assert_eq!(mann_whitney_p(&[], &[1.0]), None);
    }

    #[test]
    fn u_distribution_sums_to_the_binomial_coefficient() {
        let d = u_distribution(4, 6);
        assert_eq!(d.len(), 25);
        assert_eq!(d.iter().sum::<f64>(), 210.0);
        assert_eq!(d[0], 1.0);
        assert_eq!(d[24], 1.0);
    }
}
