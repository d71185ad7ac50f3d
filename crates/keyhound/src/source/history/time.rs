//! Dates without a date library: RFC 3339 for commit dates in reports, and the two forms
//! a history's author-time window accepts (`YYYY-MM-DD`, taken as midnight UTC, and RFC 3339).

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `seconds` since the epoch shown in the zone `offset_minutes` east of UTC, as RFC 3339.
pub fn rfc3339(seconds: i64, offset_minutes: i32) -> String {
    let local = seconds + i64::from(offset_minutes) * 60;
    let (y, mo, d) = civil_from_days(local.div_euclid(86_400));
    let s = local.rem_euclid(86_400);
    let zone = if offset_minutes == 0 {
        "Z".to_string()
    } else {
        let sign = if offset_minutes < 0 { '-' } else { '+' };
        let a = offset_minutes.unsigned_abs();
        format!("{sign}{:02}:{:02}", a / 60, a % 60)
    };
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}{zone}",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// Parses `YYYY-MM-DD` (midnight UTC) or RFC 3339 (`2024-05-01T12:00:00Z`,
/// `2024-05-01T12:00:00+02:00`) into seconds since the epoch.
pub fn parse_date(text: &str) -> Result<i64, String> {
    let bad =
        || format!("`{text}` is not a date (YYYY-MM-DD or RFC 3339, e.g. 2024-05-01T12:00:00Z)");
    let t = text.trim();
    let num = |s: &str| -> Result<i64, String> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        s.parse().map_err(|_| bad())
    };
    let (date, rest) = match t.find(['T', 't', ' ']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let mut parts = date.splitn(3, '-');
    let (y, m, d) = match (parts.next(), parts.next(), parts.next()) {
        (Some(y), Some(m), Some(d)) if y.len() == 4 && m.len() == 2 && d.len() == 2 => {
            (num(y)?, num(m)?, num(d)?)
        }
        _ => return Err(bad()),
    };
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return Err(bad());
    }
    let mut seconds = days_from_civil(y, m as u32, d as u32) * 86_400;
    if let Some(rest) = rest {
        let (clock, zone) = match rest.find(['Z', 'z', '+', '-']) {
            Some(i) => rest.split_at(i),
            None => return Err(bad()),
        };
        let clock = clock.split('.').next().unwrap_or(clock);
        let hms: Vec<&str> = clock.split(':').collect();
        if hms.len() != 3 || hms.iter().any(|p| p.len() != 2) {
            return Err(bad());
        }
        let (h, mi, s) = (num(hms[0])?, num(hms[1])?, num(hms[2])?);
        if h > 23 || mi > 59 || s > 60 {
            return Err(bad());
        }
        seconds += h * 3600 + mi * 60 + s;
        if !zone.eq_ignore_ascii_case("z") {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let hm: Vec<&str> = zone[1..].split(':').collect();
            if hm.len() != 2 || hm.iter().any(|p| p.len() != 2) {
                return Err(bad());
            }
            seconds -= sign * (num(hm[0])? * 3600 + num(hm[1])? * 60);
        }
    }
    Ok(seconds)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000, 60), "2023-11-14T23:13:20+01:00");
        assert_eq!(rfc3339(951_782_400, -330), "2000-02-28T18:30:00-05:30");
    }

    #[test]
    fn parses() {
        assert_eq!(parse_date("1970-01-02"), Ok(86_400));
        assert_eq!(parse_date("2023-11-14T23:13:20+01:00"), Ok(1_700_000_000));
        assert_eq!(parse_date("2023-11-14T22:13:20Z"), Ok(1_700_000_000));
        assert_eq!(parse_date("2000-03-01"), Ok(951_868_800));
        assert!(parse_date("yesterday").is_err());
        assert!(parse_date("2023-13-01").is_err());
        assert!(parse_date("2023-11-14T22:13Z").is_err());
    }

    #[test]
    fn round_trip() {
        for s in [-86_400 * 400, 0, 1_234_567_890, 4_102_444_800] {
            assert_eq!(parse_date(&rfc3339(s, 0)), Ok(s));
            assert_eq!(parse_date(&rfc3339(s, -420)), Ok(s));
        }
    }
}
