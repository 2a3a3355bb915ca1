//! A UTC instant serialized like Go's `time.Time` (`RFC3339Nano`), without a date-time dependency.

use serde::{Serialize, Serializer};

const NANOS_PER_SEC: i128 = 1_000_000_000;

/// Nanoseconds since the Unix epoch, UTC. [`Time::ZERO`] is Go's zero `time.Time`
/// (`0001-01-01T00:00:00Z`), which KEB writes for unset times (for example `deleted_at`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(pub i128);

impl Default for Time {
    fn default() -> Time {
        Time::ZERO
    }
}

impl Time {
    /// Go's zero time, `0001-01-01T00:00:00Z`.
    pub const ZERO: Time = Time(-62_135_596_800 * NANOS_PER_SEC);

    pub fn from_unix(secs: i64, nanos: u32) -> Time {
        Time(secs as i128 * NANOS_PER_SEC + nanos as i128)
    }
    pub fn from_unix_nanos(nanos: i128) -> Time {
        Time(nanos)
    }
    pub fn is_zero(&self) -> bool {
        *self == Time::ZERO
    }
    /// Go's `t.UTC().Format(time.RFC3339Nano)`: fraction without trailing zeros, `Z` suffix.
    pub fn rfc3339_nano(&self) -> String {
        let secs = self.0.div_euclid(NANOS_PER_SEC);
        let nanos = self.0.rem_euclid(NANOS_PER_SEC) as u32;
        let days = secs.div_euclid(86_400) as i64;
        let sod = secs.rem_euclid(86_400) as u32;
        let (y, m, d) = civil_from_days(days);
        let mut s = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            y,
            m,
            d,
            sod / 3600,
            sod / 60 % 60,
            sod % 60
        );
        if nanos != 0 {
            let frac = format!("{nanos:09}");
            s.push('.');
            s.push_str(frac.trim_end_matches('0'));
        }
        s.push('Z');
        s
    }
}

impl Serialize for Time {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.rfc3339_nano())
    }
}

/// Howard Hinnant's `civil_from_days`: the proleptic Gregorian date of a day count.
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = (z - era * 146_097) as u64;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe as i64 + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_formatting() {
        assert_eq!(Time::ZERO.rfc3339_nano(), "0001-01-01T00:00:00Z");
        assert_eq!(Time::from_unix(0, 0).rfc3339_nano(), "1970-01-01T00:00:00Z");
        assert_eq!(
            Time::from_unix(1_700_000_000, 120_000_000).rfc3339_nano(),
            "2023-11-14T22:13:20.12Z"
        );
        assert_eq!(
            Time::from_unix(951_782_400, 1).rfc3339_nano(),
            "2000-02-29T00:00:00.000000001Z"
        );
    }
}
