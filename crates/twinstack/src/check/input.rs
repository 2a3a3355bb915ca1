//! Where `check` reads manifests from, as `kubectl apply` does: `-f FILE`, `-f DIR` (its
//! `.yaml`, `.yml` and `.json` files in name order, not descending into subdirectories, as
//! kubectl without `-R`), `-f -` (standard input), and `-k DIR`, which runs `kubectl
//! kustomize DIR` (kubectl's built-in kustomize; it must be on the PATH) and reads its output.

use anyhow::{bail, Context, Result};
use std::io::Read;
use std::path::{Path, PathBuf};
use twinstack_check::manifest::{self, Located, ManifestError};

/// Why input could not be read: I/O (exit 1) or malformed manifests (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error(transparent)]
    Malformed(#[from] ManifestError),
    #[error("{0:#}")]
    Io(#[from] anyhow::Error),
}

/// The files `-f PATH` names.
fn files_of(path: &Path) -> Result<Vec<PathBuf>> {
    let meta = std::fs::metadata(path)
        .with_context(|| format!("the path {:?} does not exist", path.display().to_string()))?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .with_context(|| format!("reading {}", path.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
        })
        .collect();
    files.sort();
    Ok(files)
}

fn read_text(name: &str, bytes: Vec<u8>) -> Result<String, InputError> {
    String::from_utf8(bytes).map_err(|e| {
        // The line of the first byte that is not UTF-8.
        let ok = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = ok.iter().filter(|b| **b == b'\n').count() + 1;
        InputError::Malformed(ManifestError {
            file: name.to_string(),
            line,
            message: "yaml: invalid leading UTF-8 octet".into(),
        })
    })
}

/// Reads every object of `-f` paths (`-` is standard input) and `-k` directories, in order.
pub fn read_all(files: &[String], kustomize: &[PathBuf]) -> Result<Vec<Located>, InputError> {
    let mut out = Vec::new();
    for f in files {
        if f == "-" {
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .context("reading standard input")?;
            out.extend(manifest::read("-", &read_text("-", bytes)?)?);
            continue;
        }
        for path in files_of(Path::new(f))? {
            let name = path.display().to_string();
            let bytes = std::fs::read(&path).with_context(|| format!("reading {name}"))?;
            out.extend(manifest::read(&name, &read_text(&name, bytes)?)?);
        }
    }
    for dir in kustomize {
        let name = format!("kustomize:{}", dir.display());
        let text = kustomize_build(dir)?;
        out.extend(manifest::read(&name, &read_text(&name, text)?)?);
    }
    Ok(out)
}

/// `kubectl kustomize DIR`: kustomize's output, one YAML stream.
fn kustomize_build(dir: &Path) -> Result<Vec<u8>> {
    let out = std::process::Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .output()
        .context("running `kubectl kustomize` (-k needs kubectl on the PATH)")?;
    if !out.status.success() {
        bail!(
            "kubectl kustomize {}: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(out.stdout)
}
