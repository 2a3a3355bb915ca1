//! The data directory: created private, kept private, and the files twinstack writes in it.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use twinstack_registry::registry::Registry;
use twinstack_registry::runtimes::{self, Runtime, RuntimeRecord};

pub fn create_private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("creating data directory {}", dir.display()))?;
    }
    Ok(())
}

/// The data dir holds every credential (tokens in `store.redb` and the kubeconfigs, the CA key,
/// the broker's password): on every start, whatever an older version or the user left, the
/// directory loses all group and other permissions (0700), and so does everything twinstack
/// keeps in it (0600 for its files): every file directly in it, and `pki/` and `kubeconfigs/`
/// with their contents. Other subdirectories are not twinstack's and are left alone; owner bits
/// are never changed (a data dir pointed at an existing directory keeps its executables). Each
/// change is logged. Symbolic links are not followed.
pub fn secure_data_dir(dir: &Path) -> Result<()> {
    create_private_dir(dir)?;
    restrict(dir)?;
    let mut pending = vec![(dir.to_path_buf(), true)];
    while let Some((d, top)) = pending.pop() {
        let entries = std::fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))?;
        for entry in entries {
            let path = entry?.path();
            let meta = std::fs::symlink_metadata(&path)?;
            let ours = !top
                || path
                    .file_name()
                    .is_some_and(|n| n == "pki" || n == "kubeconfigs");
            if meta.is_dir() && ours {
                restrict(&path)?;
                pending.push((path, false));
            } else if meta.is_file() {
                restrict(&path)?;
            }
        }
    }
    Ok(())
}

/// Takes group and other permissions away from `path`, logging the change.
fn restrict(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let current = std::fs::metadata(path)?.permissions().mode() & 0o7777;
    let private = current & !0o077;
    if current != private {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(private))
            .with_context(|| format!("restricting {}", path.display()))?;
        tracing::warn!(
            path = %path.display(),
            "mode was {current:04o}; set to {private:04o} (the data directory holds credentials)"
        );
    }
    Ok(())
}

/// Removes kubeconfig files of runtimes that no longer exist (a deletion interrupted between
/// its transaction and the file).
pub fn remove_stale_kubeconfigs(registry: &Registry, data_dir: &Path) -> Result<()> {
    for entry in std::fs::read_dir(data_dir.join("kubeconfigs"))? {
        let path = entry?.path();
        let stale = match path.file_name().and_then(|n| n.to_str()) {
            Some(n) => match n.strip_suffix(".yaml") {
                Some(rt) => registry.runtime(rt).is_none(),
                None => n.ends_with(".tmp"),
            },
            None => false,
        };
        if stale {
            let _ = std::fs::remove_file(&path);
            tracing::info!(path = %path.display(), "removed the kubeconfig of a deleted runtime");
        }
    }
    Ok(())
}

pub fn write_private(path: &Path, contents: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

pub fn kubeconfig_path(data_dir: &Path, runtime: &str) -> PathBuf {
    data_dir.join("kubeconfigs").join(format!("{runtime}.yaml"))
}

pub fn load_runtimes(registry: &Registry) -> Result<()> {
    let (kvs, _) = registry.store.list(runtimes::RUNTIMES_PREFIX)?;
    for kv in kvs {
        let record: RuntimeRecord =
            serde_json::from_slice(&kv.value).with_context(|| format!("decoding {}", kv.key))?;
        registry.insert_runtime(Arc::new(Runtime::new(record)?));
    }
    Ok(())
}

/// A 256-bit secret kept (hex) in a private file, created on first start: the key that signs
/// ServiceAccount tokens, so a binding's kubeconfig outlives a restart.
pub fn load_or_create_secret(path: &Path) -> Result<Vec<u8>> {
    if let Ok(text) = std::fs::read_to_string(path) {
        let text = text.trim();
        if text.len() == 64 {
            let bytes: Option<Vec<u8>> = (0..32)
                .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok())
                .collect();
            if let Some(b) = bytes {
                return Ok(b);
            }
        }
        anyhow::bail!("{} is not a 64-digit hex key", path.display());
    }
    let secret = runtimes::new_token();
    write_private(path, &secret)?;
    load_or_create_secret(path)
}
