//! `resource.Quantity` parsing, comparison and canonical printing (k8s.io/apimachinery
//! pkg/api/resource/quantity.go), enough for pod resource validation, QoS classes and error
//! texts such as `must be less than or equal to cpu limit of 1`.
//!
//! Values are held as nano-units in an `i128` (upstream also rounds to nano precision when it
//! leaves its fast path), so comparisons are exact for every quantity users write.

use std::cmp::Ordering;

/// How a quantity was written; upstream keeps the format for printing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    DecimalSI,
    BinarySI,
    DecimalExponent,
}

/// A parsed quantity: value in nano-units plus the format it was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantity {
    pub nanos: i128,
    pub format: Format,
}

/// Upstream's parse error text (`ErrFormatWrong`), which kube-apiserver returns while decoding.
pub const FORMAT_ERROR: &str =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

const NANO: i128 = 1_000_000_000;

impl Quantity {
    pub fn parse(s: &str) -> Result<Quantity, &'static str> {
        let s = s.trim();
        if s.is_empty() {
            return Err(FORMAT_ERROR);
        }
        let (neg, body) = match s.as_bytes()[0] {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        let num_end = body
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(body.len());
        let (num, suffix) = body.split_at(num_end);
        if num.is_empty() || num == "." || num.matches('.').count() > 1 {
            return Err(FORMAT_ERROR);
        }
        let (int_part, frac_part) = match num.split_once('.') {
            Some((i, f)) => (i, f),
            None => (num, ""),
        };
        // Mantissa as an integer with `frac_part.len()` decimals.
        let digits = format!("{int_part}{frac_part}");
        let digits = digits.trim_start_matches('0');
        if digits.len() > 30 {
            return Err(FORMAT_ERROR);
        }
        let mantissa: i128 = if digits.is_empty() {
            0
        } else {
            digits.parse().map_err(|_| FORMAT_ERROR)?
        };
        let decimals = frac_part.len() as i32;
        let (format, base2, exp10) = match suffix {
            "" => (Format::DecimalSI, 0u32, 0i32),
            "n" => (Format::DecimalSI, 0, -9),
            "u" => (Format::DecimalSI, 0, -6),
            "m" => (Format::DecimalSI, 0, -3),
            "k" => (Format::DecimalSI, 0, 3),
            "M" => (Format::DecimalSI, 0, 6),
            "G" => (Format::DecimalSI, 0, 9),
            "T" => (Format::DecimalSI, 0, 12),
            "P" => (Format::DecimalSI, 0, 15),
            "E" => (Format::DecimalSI, 0, 18),
            "Ki" => (Format::BinarySI, 10, 0),
            "Mi" => (Format::BinarySI, 20, 0),
            "Gi" => (Format::BinarySI, 30, 0),
            "Ti" => (Format::BinarySI, 40, 0),
            "Pi" => (Format::BinarySI, 50, 0),
            "Ei" => (Format::BinarySI, 60, 0),
            e if e.starts_with(['e', 'E']) => {
                let n: i32 = e[1..].parse().map_err(|_| FORMAT_ERROR)?;
                if !(-30..=30).contains(&n) {
                    return Err(FORMAT_ERROR);
                }
                (Format::DecimalExponent, 0, n)
            }
            _ => return Err(FORMAT_ERROR),
        };
        // nanos = mantissa * 10^(exp10 + 9 - decimals) * 2^base2, rounded up like upstream.
        let shift = exp10 + 9 - decimals;
        let mut v = mantissa.checked_mul(1i128 << base2).ok_or(FORMAT_ERROR)?;
        if shift >= 0 {
            v = v
                .checked_mul(10i128.checked_pow(shift as u32).ok_or(FORMAT_ERROR)?)
                .ok_or(FORMAT_ERROR)?;
        } else {
            let d = 10i128.checked_pow((-shift) as u32).ok_or(FORMAT_ERROR)?;
            v = (v + d - 1) / d;
        }
        Ok(Quantity {
            nanos: if neg { -v } else { v },
            format,
        })
    }

    pub fn is_negative(&self) -> bool {
        self.nanos < 0
    }

    /// Whether the value is a whole number (`MilliValue() % 1000 == 0` upstream).
    pub fn is_integer(&self) -> bool {
        self.nanos % NANO == 0
    }

    /// Canonical text, as `Quantity.String()` prints it.
    pub fn canonical(&self) -> String {
        if self.nanos == 0 {
            return "0".into();
        }
        let sign = if self.nanos < 0 { "-" } else { "" };
        let abs = self.nanos.abs();
        if self.format == Format::BinarySI && abs % NANO == 0 && abs / NANO >= 1024 {
            let mut v = abs / NANO;
            let mut i = 0;
            while i < 6 && v % 1024 == 0 {
                v /= 1024;
                i += 1;
            }
            let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][i];
            return format!("{sign}{v}{suffix}");
        }
        // Decimal: the largest power-of-1000 unit that keeps the mantissa whole.
        let mut exp = -9i32;
        let mut v = abs;
        while exp < 18 && v % 1000 == 0 {
            v /= 1000;
            exp += 3;
        }
        let suffix = if self.format == Format::DecimalExponent {
            if exp == 0 {
                String::new()
            } else {
                format!("e{exp}")
            }
        } else {
            match exp {
                -9 => "n",
                -6 => "u",
                -3 => "m",
                0 => "",
                3 => "k",
                6 => "M",
                9 => "G",
                12 => "T",
                15 => "P",
                _ => "E",
            }
            .to_string()
        };
        format!("{sign}{v}{suffix}")
    }
}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.nanos.cmp(&other.nanos))
    }
}

/// Canonical text of a quantity string, or the input when it does not parse.
pub fn canonical(s: &str) -> String {
    Quantity::parse(s)
        .map(|q| q.canonical())
        .unwrap_or_else(|_| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_like_upstream() {
        for (input, want) in [
            ("1", "1"),
            ("1000m", "1"),
            ("0.5", "500m"),
            ("1500m", "1500m"),
            ("2000", "2k"),
            ("1Gi", "1Gi"),
            ("1024Mi", "1Gi"),
            ("1.5Gi", "1536Mi"),
            ("128974848", "128974848"),
            ("1e3", "1e3"),
            ("100Ki", "100Ki"),
            ("-1", "-1"),
            ("0", "0"),
            ("250m", "250m"),
        ] {
            assert_eq!(canonical(input), want, "{input}");
        }
        assert!(Quantity::parse("1x").is_err());
        assert!(Quantity::parse("").is_err());
        assert!(Quantity::parse("1..2").is_err());
        let a = Quantity::parse("1").unwrap();
        let b = Quantity::parse("1000m").unwrap();
        assert_eq!(a.nanos, b.nanos);
        assert!(Quantity::parse("2").unwrap() > Quantity::parse("1500m").unwrap());
        assert!(Quantity::parse("1Gi").unwrap() > Quantity::parse("1G").unwrap());
    }
}
