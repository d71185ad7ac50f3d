//! Incomplete scans, in the CLI's words: the library records what it could not read whole and
//! why (a typed reason with the limit); this names the options that set each limit, prints
//! the entries on stderr (always, `--quiet` too) and applies the `--on-incomplete` policy.

use keyhound::{Incomplete, OnIncomplete, Unread};

/// `what: why`, naming the option to change.
pub fn describe(i: &Incomplete) -> String {
    let why = match &i.reason {
        Unread::TooLarge {
            size: Some(size),
            limit,
        } => format!(
            "larger than --max-file-size ({} > {}); not scanned",
            human_size(*size),
            human_size(*limit)
        ),
        Unread::TooLarge { size: None, limit } if i.what.contains(['!', '#']) => format!(
            "larger than --max-file-size ({}) once decompressed; not scanned",
            human_size(*limit)
        ),
        Unread::TooLarge { size: None, limit } => format!(
            "holds more than --max-file-size ({}); not scanned",
            human_size(*limit)
        ),
        Unread::DecodeBudget { limit } => format!(
            "stopped looking inside after {} of decompressed or decoded data (4 x \
             --max-file-size, at most 1 GiB); the rest of what it holds was not scanned",
            human_size(*limit)
        ),
        Unread::DepthLimit { depth } => {
            format!("nested deeper than --max-decode-depth ({depth}); not opened or decoded")
        }
        Unread::TooManyMembers { limit } => {
            format!("more than {limit} archive members; the rest were not scanned")
        }
        Unread::ScanBudget { limit_ms } => format!(
            "scanning it took longer than its budget ({:.1} s); the rules after that point did \
             not run on it (a costly regex in a config file?)",
            *limit_ms as f64 / 1000.0
        ),
        Unread::Unreadable { error } => {
            format!("could not be read whole ({error}); scanned what could be read")
        }
        other => other.to_string(),
    };
    match &i.blob {
        Some(blob) => format!("{} (blob {}): {why}", i.what, &blob[..blob.len().min(12)]),
        None => format!("{}: {why}", i.what),
    }
}

/// Prints every entry on stderr, then what the policy makes of them.
pub fn report(incomplete: &[Incomplete], policy: OnIncomplete) {
    if incomplete.is_empty() {
        return;
    }
    for i in incomplete {
        eprintln!("keyhound: incomplete: {}", describe(i));
    }
    let n = incomplete.len();
    let what = if n == 1 {
        "1 item".to_string()
    } else {
        format!("{n} items")
    };
    match policy {
        OnIncomplete::Fail => eprintln!(
            "keyhound: the scan is incomplete ({what} not read whole), so it fails. Change the \
             limit named above, leave the path out (.keyhoundignore), or let incomplete scans \
             pass with a warning: --on-incomplete warn, or `on_incomplete = \"warn\"` under \
             [scan] in .keyhound.toml"
        ),
        OnIncomplete::Warn => eprintln!(
            "keyhound: warning: the scan is incomplete ({what} not read whole); passing, as \
             the on-incomplete policy is warn"
        ),
    }
}

/// `123 bytes`, `4 KiB`, `100 MiB`, `1 GiB` (one decimal above a MiB when not whole).
pub fn human_size(n: u64) -> String {
    const MIB: u64 = 1 << 20;
    match n {
        n if n >= 1 << 30 && n % (1 << 30) == 0 => format!("{} GiB", n >> 30),
        n if n >= MIB && n % MIB == 0 => format!("{} MiB", n >> 20),
        n if n >= MIB => format!("{:.1} MiB", n as f64 / MIB as f64),
        n if n >= 1 << 10 => format!("{} KiB", n >> 10),
        n => format!("{n} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_words() {
        assert_eq!(human_size(100 << 20), "100 MiB");
        assert_eq!(human_size(101 * (1 << 20) + 1), "101.0 MiB");
        assert_eq!(human_size(1 << 30), "1 GiB");
        assert_eq!(human_size(2048), "2 KiB");
        let i = Incomplete::new(
            "dump.sql",
            Unread::TooLarge {
                size: Some(3 << 20),
                limit: 1 << 20,
            },
        );
        assert_eq!(
            describe(&i),
            "dump.sql: larger than --max-file-size (3 MiB > 1 MiB); not scanned"
        );
    }
}
