//! The few statistics the report needs: median and quartiles of a cell's per-round samples, a bootstrap confidence
//! interval of the ratio of two implementations' means over paired rounds, the rule that turns it into a win, a loss
//! or "no difference", and an exact Mann–Whitney U test for "did this change between two builds".

use rand::{Rng as _, SeedableRng as _};

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

/// Bootstrap resamples for a ratio's confidence interval.
pub const RESAMPLES: usize = 4000;
/// Confidence level of the ratio intervals.
pub const CONFIDENCE: f64 = 0.95;
/// The smallest effect the report calls a win or a loss: 5 %.
pub const MIN_EFFECT: f64 = 0.05;

/// The ratio `mean(a) ÷ mean(b)` over rounds both measured, with a percentile-bootstrap confidence interval that
/// resamples whole rounds (so each resample keeps the pairing).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RatioCi {
    /// Rounds paired.
    pub n: usize,
    /// Point estimate: ratio of the means.
    pub ratio: f64,
    /// Lower bound of the interval.
    pub lo: f64,
    /// Upper bound of the interval.
    pub hi: f64,
}

/// Where `a` stands against `b` by a ratio's interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Difference {
    /// `a` lower: the interval lies below 1 and the ratio is at least [`MIN_EFFECT`] below it.
    Lower,
    /// `a` higher: the interval lies above 1 and the ratio at least [`MIN_EFFECT`] above it.
    Higher,
    /// The interval holds 1, or the effect is under [`MIN_EFFECT`].
    None,
}

impl RatioCi {
    /// The ratio and its interval for paired `(a, b)` values (one pair per round). With one pair the interval is
    /// the point itself; `None` when there is no pair or a mean of `b` is zero. The resampling is seeded, so a
    /// results file renders the same every time.
    pub fn of(pairs: &[(f64, f64)]) -> Option<RatioCi> {
        let ratio = ratio_of_means(pairs.iter())?;
        if pairs.len() < 2 {
            return Some(RatioCi {
                n: pairs.len(),
                ratio,
                lo: ratio,
                hi: ratio,
            });
        }
        let mut rng = rand::rngs::StdRng::seed_from_u64(0x1ab_5eed);
        let mut draws: Vec<f64> = (0..RESAMPLES)
            .filter_map(|_| {
                ratio_of_means((0..pairs.len()).map(|_| &pairs[rng.random_range(0..pairs.len())]))
            })
            .collect();
        draws.sort_by(f64::total_cmp);
        let tail = (1.0 - CONFIDENCE) / 2.0;
        Some(RatioCi {
            n: pairs.len(),
            ratio,
            lo: quantile(&draws, tail),
            hi: quantile(&draws, 1.0 - tail),
        })
    }

    /// The report's rule: a difference only when the interval excludes 1 and the effect is at least 5 %.
    pub fn difference(&self) -> Difference {
        if self.hi < 1.0 && self.ratio <= 1.0 - MIN_EFFECT {
            Difference::Lower
        } else if self.lo > 1.0 && self.ratio >= 1.0 + MIN_EFFECT {
            Difference::Higher
        } else {
            Difference::None
        }
    }
}

fn ratio_of_means<'a>(pairs: impl Iterator<Item = &'a (f64, f64)>) -> Option<f64> {
    let (mut a, mut b, mut n) = (0.0, 0.0, 0usize);
    for (x, y) in pairs {
        a += x;
        b += y;
        n += 1;
    }
    (n > 0 && b != 0.0).then(|| a / b)
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

    #[test]
    fn ratio_interval_excludes_one_only_for_a_real_difference() {
        // Rust 20 % faster every round, with a little noise: a clear difference.
        let faster: Vec<(f64, f64)> = (0..10)
            .map(|i| (80.0 + f64::from(i % 3), 100.0 + f64::from(i % 2)))
            .collect();
        let ci = RatioCi::of(&faster).unwrap();
        assert!(ci.lo <= ci.ratio && ci.ratio <= ci.hi, "{ci:?}");
        assert!(ci.hi < 1.0, "{ci:?}");
        assert_eq!(ci.difference(), Difference::Lower);
        // The same pairs swapped: the mirror image.
        let slower: Vec<(f64, f64)> = faster.iter().map(|&(a, b)| (b, a)).collect();
        assert_eq!(
            RatioCi::of(&slower).unwrap().difference(),
            Difference::Higher
        );
        // Rounds on both sides of 1: the interval straddles it.
        let mixed: Vec<(f64, f64)> = (0..10)
            .map(|i| (if i % 2 == 0 { 70.0 } else { 130.0 }, 100.0))
            .collect();
        let ci = RatioCi::of(&mixed).unwrap();
        assert!(ci.lo < 1.0 && ci.hi > 1.0, "{ci:?}");
        assert_eq!(ci.difference(), Difference::None);
        // A consistent but tiny effect (2 %) is no difference either.
        let tiny: Vec<(f64, f64)> = (0..10).map(|_| (98.0, 100.0)).collect();
        let ci = RatioCi::of(&tiny).unwrap();
        assert!(ci.hi < 1.0);
        assert_eq!(ci.difference(), Difference::None);
    }

    #[test]
    fn ratio_interval_edge_cases() {
        assert_eq!(RatioCi::of(&[]), None);
        assert_eq!(RatioCi::of(&[(1.0, 0.0)]), None);
        let one = RatioCi::of(&[(1.0, 2.0)]).unwrap();
        assert_eq!((one.n, one.ratio, one.lo, one.hi), (1, 0.5, 0.5, 0.5));
    }
}
