//! Matcher throughput on realistic source text: the Rust sources of the crates in the cargo
//! registry (or, without one, this repository's own sources), concatenated into one buffer and
//! scanned in 1 MiB pieces with the built-in rules, with and without looking inside encoded
//! strings (`max_decode_depth` 2, the default, and 0). Also the cost of building the scanner
//! (rule parsing and prefilter; regexes compile lazily) and of compiling every rule.

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use keyhound::{RuleSet, ScanOptions, Scanner};

fn corpus(limit: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(limit);
    let home = std::env::var("HOME").unwrap_or_default();
    let registry = Path::new(&home).join(".cargo/registry/src");
    let own = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let root = if registry.is_dir() { registry } else { own };
    let mut walk = ignore::WalkBuilder::new(root);
    walk.sort_by_file_name(|a, b| a.cmp(b));
    for entry in walk.build().flatten() {
        if out.len() >= limit {
            break;
        }
        if entry
            .path()
            .extension()
            .is_some_and(|e| e == "rs" || e == "toml" || e == "md")
        {
            if let Ok(bytes) = std::fs::read(entry.path()) {
                out.extend_from_slice(&bytes);
            }
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let text = corpus(32 << 20);
    let mut group = c.benchmark_group("matcher");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.sample_size(10);
    for (name, depth) in [
        ("builtin rules over source text", 2),
        ("builtin rules over source text, no decoding", 0),
    ] {
        let mut options = ScanOptions::default();
        options.max_decode_depth = depth;
        let scanner = Scanner::new(RuleSet::builtin().expect("rules")).with_options(options);
        group.bench_function(name, |b| {
            let mut m = scanner.matcher();
            b.iter(|| {
                let mut n = 0;
                for chunk in text.chunks(1 << 20) {
                    n += scanner
                        .scan_content(&mut m, "src/lib.rs", chunk)
                        .findings
                        .len();
                }
                n
            })
        });
    }
    group.finish();
    c.bench_function("build scanner (lazy regexes)", |b| {
        b.iter(|| Scanner::new(RuleSet::builtin().expect("rules")))
    });
    c.bench_function("compile every rule", |b| {
        b.iter(|| {
            let set = RuleSet::builtin().expect("rules");
            set.check_all().expect("compiles");
            set
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
