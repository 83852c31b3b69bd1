//! The ratio ours ÷ Go over interleaved rounds, with a percentile-bootstrap confidence interval.
//!
//! Each round gives one pair (ours, Go), both mean ns/op of that round, measured back to back; the point estimate
//! is the median of the per-round ratios, and the interval comes from resampling whole rounds (so a pair stays a
//! pair) with replacement. A fixed seed makes a re-render of the same figures print the same interval.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// Resamples per interval.
pub const RESAMPLES: usize = 10_000;

/// Seed of the resampling.
const SEED: u64 = 0x5ec2_e7ab_1e00_0011;

/// A point estimate and its two-sided 95 % interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Median of the per-round ratios.
    pub point: f64,
    /// 2.5th percentile of the bootstrap medians.
    pub low: f64,
    /// 97.5th percentile of the bootstrap medians.
    pub high: f64,
}

/// Median of `ratios` and its percentile-bootstrap 95 % interval over `resamples` resamples. `None` when there
/// is no ratio or any is not finite.
pub fn median_ci(ratios: &[f64], resamples: usize) -> Option<Interval> {
    if ratios.is_empty() || ratios.iter().any(|r| !r.is_finite()) {
        return None;
    }
    let mut rng = StdRng::seed_from_u64(SEED);
    let mut sample = vec![0.0; ratios.len()];
    let mut medians: Vec<f64> = (0..resamples.max(1))
        .map(|_| {
            for slot in sample.iter_mut() {
                *slot = ratios[rng.random_range(0..ratios.len())];
            }
            median(&mut sample)
        })
        .collect();
    medians.sort_by(f64::total_cmp);
    Some(Interval {
        point: median(&mut ratios.to_vec()),
        low: percentile(&medians, 0.025),
        high: percentile(&medians, 0.975),
    })
}

/// The per-round ratios `ours ÷ go` of the rounds both sides measured (pairs are `(round, value)`).
pub fn paired_ratios(ours: &[(u32, f64)], go: &[(u32, f64)]) -> Vec<f64> {
    ours.iter()
        .filter_map(|&(round, o)| go.iter().find(|&&(r, _)| r == round).map(|&(_, g)| o / g))
        .collect()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Nearest-rank percentile of sorted, non-empty `v`.
fn percentile(v: &[f64], p: f64) -> f64 {
    let rank = (p * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_ratios_give_a_point_interval() {
        let ci = median_ci(&[0.5; 10], RESAMPLES).unwrap();
        assert_eq!((ci.point, ci.low, ci.high), (0.5, 0.5, 0.5));
    }

    #[test]
    fn interval_holds_the_median_and_stays_inside_the_data() {
        let ratios = [0.61, 0.72, 0.65, 0.9, 0.7, 0.68, 0.75, 0.66, 0.71, 1.4];
        let ci = median_ci(&ratios, RESAMPLES).unwrap();
        assert!((ci.point - 0.705).abs() < 1e-12, "{ci:?}");
        assert!(ci.low <= ci.point && ci.point <= ci.high, "{ci:?}");
        assert!(ci.low >= 0.61 && ci.high <= 1.4, "{ci:?}");
        // The one outlier round does not drag the interval to it: medians of 10 resampled rounds rarely reach it.
        assert!(ci.high < 0.9, "{ci:?}");
        assert!(ci.low < ci.high, "{ci:?}");
    }

    #[test]
    fn more_spread_gives_a_wider_interval() {
        let tight =
            median_ci(&[0.70, 0.71, 0.69, 0.70, 0.72, 0.68, 0.70, 0.71], RESAMPLES).unwrap();
        let loose =
            median_ci(&[0.50, 0.90, 0.60, 0.80, 0.55, 0.85, 0.70, 0.75], RESAMPLES).unwrap();
        assert!(loose.high - loose.low > 4.0 * (tight.high - tight.low));
    }

    #[test]
    fn same_input_same_interval() {
        let ratios = [1.0, 1.2, 0.8, 1.1, 0.9];
        assert_eq!(median_ci(&ratios, 500), median_ci(&ratios, 500));
    }

    #[test]
    fn no_or_non_finite_ratios_give_none() {
        assert_eq!(median_ci(&[], RESAMPLES), None);
        assert_eq!(median_ci(&[1.0, f64::INFINITY], RESAMPLES), None);
    }

    #[test]
    fn ratios_pair_values_of_the_same_round() {
        let ours = [(0, 100.0), (1, 300.0), (2, 50.0)];
        let go = [(1, 600.0), (0, 200.0)];
        assert_eq!(paired_ratios(&ours, &go), vec![0.5, 0.5]);
    }
}
