//! Parity with PyTorch, scikit-learn, optax and Opacus.
//!
//! Runs every reference case in `tests/data/reference/` and, when the environment
//! variable `NDTRAIN_REFERENCE_DIR` names a directory, every case there too (same
//! format, see FORMAT.md there). Prints one line
//! `parity summary: passed=N failed=M unsupported=K`, lists each unsupported case id,
//! and exits non-zero if any case fails. A case is *unsupported* when it names an
//! algorithm or option the crate does not implement yet.
//!
//! `cargo test --test parity -- <substring>` runs only the cases whose id contains
//! the substring.

mod clip;
mod common;
mod dp;
mod layer;
mod layer_activation;
mod layer_attention;
mod layer_conv;
mod layer_norm;
mod layer_recurrent;
mod loss;
mod metric;
mod optimizer;
mod optimizer_optax;
mod permutation;
mod preprocessor;
mod preprocessor_encode;
mod preprocessor_numeric;
mod scheduler;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use common::{Case, Outcome};
use serde_json::Value;

fn reference_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    Ok(files)
}

fn run_case(case: &Case<'_>) -> Outcome {
    match case.kind {
        "optimizer" => optimizer::run_open_loop(case),
        "optimizer_closed_loop" => optimizer::run_closed_loop(case),
        "clip_grad" => clip::run(case),
        "lr_scheduler" => scheduler::run(case),
        "loss" => loss::run(case),
        "metric" => metric::run(case),
        "preprocessor" => preprocessor::run(case),
        "dp_accountant" => dp::run(case),
        "permutation_importance" => permutation::run(case),
        "layer" => layer::run(case),
        other => Outcome::Unsupported(format!("unknown kind {other}")),
    }
}

fn main() -> ExitCode {
    let filter: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/reference")];
    if let Some(extra) = std::env::var_os("NDTRAIN_REFERENCE_DIR") {
        dirs.push(PathBuf::from(extra));
    }

    let (mut passed, mut failed, mut unsupported) = (0usize, Vec::new(), Vec::new());
    for dir in &dirs {
        let files = match reference_files(dir) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("parity: {e}");
                return ExitCode::FAILURE;
            }
        };
        for file in files {
            let text = match std::fs::read_to_string(&file) {
                Ok(t) => t,
                Err(e) => {
                    failed.push(format!("{}: cannot read: {e}", file.display()));
                    continue;
                }
            };
            let cases: Vec<Value> = match serde_json::from_str(&text) {
                Ok(c) => c,
                Err(e) => {
                    failed.push(format!("{}: invalid JSON: {e}", file.display()));
                    continue;
                }
            };
            for raw in &cases {
                let case = match Case::from_value(raw) {
                    Ok(c) => c,
                    Err(e) => {
                        failed.push(format!("{}: {e}", file.display()));
                        continue;
                    }
                };
                if !filter.is_empty() && !filter.iter().any(|f| case.id.contains(f.as_str())) {
                    continue;
                }
                // A panic is a bug in the crate (or the harness): count it as a failure.
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_case(&case)))
                    .unwrap_or_else(|p| {
                        let msg = p
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                            .unwrap_or_default();
                        Outcome::Fail(format!("panicked: {msg}"))
                    });
                match outcome {
                    Outcome::Pass => passed += 1,
                    Outcome::Fail(msg) => failed.push(format!("{}: {msg}", case.id)),
                    Outcome::Unsupported(why) => unsupported.push(format!("{} ({why})", case.id)),
                }
            }
        }
    }

    for u in &unsupported {
        println!("unsupported: {u}");
    }
    for f in &failed {
        println!("FAILED: {f}");
    }
    println!("parity summary: passed={passed} failed={} unsupported={}", failed.len(), unsupported.len());
    if failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
