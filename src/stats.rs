//! Statistics the field benchmark and the kiosk both report: nearest-rank percentiles of
//! latency samples and this process's memory from `/proc/self/status`.

/// Nearest-rank percentile of sorted samples (0 when empty).
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// The samples in ascending order, ready for [`percentile`].
pub fn sorted(samples: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let mut s: Vec<f64> = samples.into_iter().collect();
    s.sort_by(f64::total_cmp);
    s
}

/// A memory figure of this process from /proc/self/status, in MiB: `VmRSS` (resident
/// now) or `VmHWM` (peak resident).
pub fn rss_mib(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status
        .lines()
        .find(|l| l.strip_prefix(field).is_some_and(|r| r.starts_with(':')))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Resident memory of this process now, in MiB.
pub fn resident_mib() -> Option<f64> {
    rss_mib("VmRSS")
}

/// Peak resident memory of this process, in MiB.
pub fn peak_rss_mib() -> Option<f64> {
    rss_mib("VmHWM")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let s: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&s, 0.5), 50.0);
        assert_eq!(percentile(&s, 0.9), 90.0);
        assert_eq!(percentile(&s, 0.99), 99.0);
        assert_eq!(percentile(&[7.0], 0.99), 7.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
        assert_eq!(sorted([3.0, 1.0, 2.0]), [1.0, 2.0, 3.0]);
    }

    #[test]
    fn this_process_has_resident_memory_and_a_peak_at_least_as_high() {
        let (now, peak) = (resident_mib().unwrap(), peak_rss_mib().unwrap());
        assert!(now > 0.0 && peak >= now, "{now} {peak}");
        assert_eq!(rss_mib("NoSuchField"), None);
    }
}
