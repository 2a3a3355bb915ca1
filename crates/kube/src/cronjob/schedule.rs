//! Cron schedules as the CronJob controller reads them: robfig/cron v3's standard parser
//! (`cron.ParseStandard`: five fields or a `@` descriptor, an optional `TZ=`/`CRON_TZ=` prefix)
//! with its error texts, which kube-apiserver returns verbatim in `spec.schedule: Invalid
//! value`, and its `SpecSchedule.Next`. Written here rather than taken from a crate because the
//! error texts and the day-of-month/day-of-week rule are robfig's, not cron's in general.

/// A parsed schedule: one bit per allowed value of each field, plus whether the day fields
/// were a star (robfig's `starBit`, which makes day-of-month and day-of-week both required
/// instead of either).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Schedule {
    Spec {
        minute: u64,
        hour: u64,
        dom: u64,
        month: u64,
        dow: u64,
        dom_star: bool,
        dow_star: bool,
        /// `TZ=` in the schedule itself.
        tz: Option<String>,
    },
    /// `@every <duration>` (`ConstantDelaySchedule`), in whole seconds.
    Every(i64),
}

struct Bounds {
    min: u32,
    max: u32,
    names: &'static [(&'static str, u32)],
}

const MINUTES: Bounds = Bounds {
    min: 0,
    max: 59,
    names: &[],
};
const HOURS: Bounds = Bounds {
    min: 0,
    max: 23,
    names: &[],
};
const DOM: Bounds = Bounds {
    min: 1,
    max: 31,
    names: &[],
};
const MONTHS: Bounds = Bounds {
    min: 1,
    max: 12,
    names: &[
        ("jan", 1),
        ("feb", 2),
        ("mar", 3),
        ("apr", 4),
        ("may", 5),
        ("jun", 6),
        ("jul", 7),
        ("aug", 8),
        ("sep", 9),
        ("oct", 10),
        ("nov", 11),
        ("dec", 12),
    ],
};
const DOW: Bounds = Bounds {
    min: 0,
    max: 6,
    names: &[
        ("sun", 0),
        ("mon", 1),
        ("tue", 2),
        ("wed", 3),
        ("thu", 4),
        ("fri", 5),
        ("sat", 6),
    ],
};

fn bits(min: u32, max: u32, step: u32) -> u64 {
    (min..=max)
        .step_by(step as usize)
        .fold(0, |b, i| b | (1u64 << i))
}

/// Go's `strconv.Atoi` error text.
fn atoi(s: &str) -> Result<i64, String> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "strconv.Atoi: parsing {}: invalid syntax",
            go_quote(s)
        ));
    }
    s.parse::<i64>()
        .map_err(|_| format!("strconv.Atoi: parsing {}: value out of range", go_quote(s)))
}

fn go_quote(s: &str) -> String {
    twinstack_core::field::go_quote(s)
}

/// `mustParseInt`.
fn parse_uint(expr: &str) -> Result<u32, String> {
    let n = atoi(expr).map_err(|e| format!("failed to parse int from {expr}: {e}"))?;
    if n < 0 {
        return Err(format!("negative number ({n}) not allowed: {expr}"));
    }
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

fn parse_int_or_name(expr: &str, r: &Bounds) -> Result<u32, String> {
    let lower = expr.to_ascii_lowercase();
    if let Some((_, v)) = r.names.iter().find(|(n, _)| *n == lower) {
        return Ok(*v);
    }
    parse_uint(expr)
}

/// `getRange`: `number | number "-" number [ "/" number ]`; the bool is the star bit.
fn get_range(expr: &str, r: &Bounds) -> Result<(u64, bool), String> {
    let range_and_step: Vec<&str> = expr.split('/').collect();
    let low_and_high: Vec<&str> = range_and_step[0].split('-').collect();
    let single = low_and_high.len() == 1;
    let (start, mut end, mut star);
    if low_and_high[0] == "*" || low_and_high[0] == "?" {
        start = r.min;
        end = r.max;
        star = true;
    } else {
        star = false;
        start = parse_int_or_name(low_and_high[0], r)?;
        end = match low_and_high.len() {
            1 => start,
            2 => parse_int_or_name(low_and_high[1], r)?,
            _ => return Err(format!("too many hyphens: {expr}")),
        };
    }
    let step = match range_and_step.len() {
        1 => 1,
        2 => {
            let step = parse_uint(range_and_step[1])?;
            if single {
                end = r.max;
            }
            if step > 1 {
                star = false;
            }
            step
        }
        _ => return Err(format!("too many slashes: {expr}")),
    };
    if start < r.min {
        return Err(format!(
            "beginning of range ({start}) below minimum ({}): {expr}",
            r.min
        ));
    }
    if end > r.max {
        return Err(format!(
            "end of range ({end}) above maximum ({}): {expr}",
            r.max
        ));
    }
    if start > end {
        return Err(format!(
            "beginning of range ({start}) beyond end of range ({end}): {expr}"
        ));
    }
    if step == 0 {
        return Err(format!("step of range should be a positive number: {expr}"));
    }
    Ok((bits(start, end, step), star))
}

/// `getField`: a comma-separated list of ranges.
fn get_field(field: &str, r: &Bounds) -> Result<(u64, bool), String> {
    let mut out = (0, false);
    for expr in field.split(',').filter(|e| !e.is_empty()) {
        let (b, star) = get_range(expr, r)?;
        out.0 |= b;
        out.1 |= star;
    }
    Ok(out)
}

/// Go's `time.ParseDuration` for the units a schedule uses (h, m, s), in seconds.
fn parse_duration(s: &str) -> Option<i64> {
    let mut total = 0i64;
    let mut rest = s;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let value: i64 = rest[..n].parse().ok()?;
        rest = &rest[n..];
        let u = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let mult = match &rest[..u] {
            "h" => 3600,
            "m" => 60,
            "s" => 1,
            _ => return None,
        };
        rest = &rest[u..];
        total += value * mult;
    }
    Some(total)
}

/// `cron.ParseStandard(spec)`; `Err` is robfig's message, which kube-apiserver shows.
pub fn parse(spec: &str) -> Result<Schedule, String> {
    if spec.is_empty() {
        return Err("empty spec string".into());
    }
    let mut spec = spec;
    let mut tz = None;
    if spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=") {
        let eq = spec.find('=').unwrap_or(0);
        let i = spec.find(' ').unwrap_or(spec.len());
        let name = &spec[eq + 1..i];
        if jiff::tz::TimeZone::get(name).is_err() {
            return Err(format!(
                "provided bad location {name}: unknown time zone {name}"
            ));
        }
        tz = Some(name.to_string());
        spec = spec[i..].trim();
    }
    if spec.starts_with('@') {
        let every = |min, hour, dom, month, dow: (u64, bool)| Schedule::Spec {
            minute: min,
            hour,
            dom,
            month,
            dow: dow.0,
            dom_star: dom == bits(1, 31, 1),
            dow_star: dow.1,
            tz: tz.clone(),
        };
        let all_dow = (bits(0, 6, 1), true);
        return match spec {
            "@yearly" | "@annually" => Ok(every(1, 1, 1 << 1, 1 << 1, all_dow)),
            "@monthly" => Ok(every(1, 1, 1 << 1, bits(1, 12, 1), all_dow)),
            "@weekly" => Ok(every(1, 1, bits(1, 31, 1), bits(1, 12, 1), (1, false))),
            "@daily" | "@midnight" => Ok(every(1, 1, bits(1, 31, 1), bits(1, 12, 1), all_dow)),
            "@hourly" => Ok(every(
                1,
                bits(0, 23, 1),
                bits(1, 31, 1),
                bits(1, 12, 1),
                all_dow,
            )),
            _ => match spec.strip_prefix("@every ") {
                Some(d) => match parse_duration(d) {
                    Some(secs) => Ok(Schedule::Every(secs.max(1))),
                    None => Err(format!(
                        "failed to parse duration {spec}: time: invalid duration {}",
                        go_quote(d)
                    )),
                },
                None => Err(format!("unrecognized descriptor: {spec}")),
            },
        };
    }
    let fields: Vec<&str> = spec.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "expected exactly 5 fields, found {}: [{}]",
            fields.len(),
            fields.join(" ")
        ));
    }
    let (minute, _) = get_field(fields[0], &MINUTES)?;
    let (hour, _) = get_field(fields[1], &HOURS)?;
    let (dom, dom_star) = get_field(fields[2], &DOM)?;
    let (month, _) = get_field(fields[3], &MONTHS)?;
    let (dow, dow_star) = get_field(fields[4], &DOW)?;
    Ok(Schedule::Spec {
        minute,
        hour,
        dom,
        month,
        dow,
        dom_star,
        dow_star,
        tz,
    })
}

impl Schedule {
    /// The time zone the schedule itself names (`TZ=`), if any.
    pub fn time_zone(&self) -> Option<&str> {
        match self {
            Schedule::Spec { tz, .. } => tz.as_deref(),
            Schedule::Every(_) => None,
        }
    }

    /// `Next(t)`: the first activation strictly after `t`, read in `tz` (the CronJob's
    /// `timeZone`, else the schedule's `TZ=`, else UTC: kube-controller-manager runs in UTC on
    /// a Gardener shoot). `None` when nothing matches within five years (`31 February`).
    pub fn next(&self, t: jiff::Timestamp, tz: &jiff::tz::TimeZone) -> Option<jiff::Timestamp> {
        use jiff::ToSpan;
        let (minute, hour, dom, month, dow, dom_star, dow_star) = match self {
            Schedule::Every(secs) => {
                // `ConstantDelaySchedule.Next`: rounded down to the second, plus the delay.
                return t.checked_add(secs.seconds()).ok();
            }
            Schedule::Spec {
                minute,
                hour,
                dom,
                month,
                dow,
                dom_star,
                dow_star,
                ..
            } => (*minute, *hour, *dom, *month, *dow, *dom_star, *dow_star),
        };
        let has = |set: u64, v: i8| set & (1u64 << v as u32) != 0;
        let day_matches = |d: jiff::civil::DateTime| {
            let dom_match = has(dom, d.day());
            let dow_match = has(dow, d.weekday().to_sunday_zero_offset());
            if dom_star || dow_star {
                dom_match && dow_match
            } else {
                dom_match || dow_match
            }
        };
        let zoned = t.to_zoned(tz.clone());
        // Start at the next whole minute.
        let mut d = zoned
            .datetime()
            .with()
            .second(0)
            .subsec_nanosecond(0)
            .build()
            .ok()?
            .checked_add(1.minute())
            .ok()?;
        let limit = d.year() + 5;
        while d.year() <= limit {
            if !has(month, d.month()) {
                d = d
                    .first_of_month()
                    .checked_add(1.month())
                    .ok()?
                    .start_of_day();
                continue;
            }
            if !day_matches(d) {
                d = d.start_of_day().checked_add(1.day()).ok()?;
                continue;
            }
            if !has(hour, d.hour()) {
                d = d
                    .with()
                    .minute(0)
                    .build()
                    .ok()?
                    .checked_add(1.hour())
                    .ok()?;
                continue;
            }
            if !has(minute, d.minute()) {
                d = d.checked_add(1.minute()).ok()?;
                continue;
            }
            let at = tz.to_timestamp(d).ok()?;
            // A local time skipped by a clock change resolves past `t` anyway.
            if at > t {
                return Some(at);
            }
            d = d.checked_add(1.minute()).ok()?;
        }
        None
    }
}
