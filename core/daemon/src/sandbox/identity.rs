//! Provider identities: one uid/gid per provider, and its data directory
//! owned by it (DESIGN §7). uids come from `[core] uid_range` and are kept in
//! the database by provider name ([`crate::store::Store::assign_uids`]), so a
//! provider keeps its uid, and its files, across restarts and config edits.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

/// Makes `dir` (a provider's data directory) exist, owned by `uid:gid`, mode
/// 0700; its parents up to `data_root` get mode 0711 (traversable, not
/// listable) so the provider can reach it. Files left by an earlier uid are
/// re-owned.
///
/// # Errors
/// I/O errors from mkdir, chown or chmod.
pub fn own_data_dir(data_root: &Path, dir: &Path, uid: u32, gid: u32) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut p = dir.parent();
    while let Some(parent) = p {
        if !parent.starts_with(data_root) {
            break;
        }
        let meta = std::fs::metadata(parent)?;
        if meta.permissions().mode() & 0o011 != 0o011 {
            let mode = (meta.permissions().mode() & 0o7777) | 0o011;
            std::fs::set_permissions(parent, std::fs::Permissions::from_mode(mode))?;
        }
        if parent == data_root {
            break;
        }
        p = parent.parent();
    }
    let meta = std::fs::metadata(dir)?;
    if meta.uid() != uid || meta.gid() != gid {
        chown_tree(dir, uid, gid)?;
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

fn chown_tree(dir: &Path, uid: u32, gid: u32) -> std::io::Result<()> {
    std::os::unix::fs::lchown(dir, Some(uid), Some(gid))?;
    let meta = std::fs::symlink_metadata(dir)?;
    if meta.is_dir() {
        for entry in std::fs::read_dir(dir)? {
            chown_tree(&entry?.path(), uid, gid)?;
        }
    }
    Ok(())
}

/// Checks that a process with `uid` can reach `exec`: every parent directory
/// must be searchable by "others" (the provider's uid owns none of them).
///
/// # Errors
/// Names the first directory that blocks it, e.g. `/root is mode 0700`.
pub fn check_reachable(exec: &Path, uid: u32) -> Result<(), String> {
    let mut dirs: Vec<&Path> = exec.ancestors().skip(1).collect();
    dirs.reverse();
    for d in dirs {
        let Ok(meta) = std::fs::metadata(d) else {
            continue;
        };
        let mode = meta.permissions().mode();
        let ok = if meta.uid() == uid {
            mode & 0o100 != 0
        } else {
            mode & 0o001 != 0
        };
        if !ok {
            return Err(format!(
                "{} is mode {:04o}, so uid {uid} cannot reach {}; install providers under a directory others may search (e.g. /usr/lib/igloo)",
                d.display(),
                mode & 0o7777,
                exec.display()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreachable_directory_is_named() {
        let tmp = tempfile::tempdir().unwrap();
        let closed = tmp.path().join("closed");
        std::fs::create_dir(&closed).unwrap();
        std::fs::set_permissions(&closed, std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let exe = closed.join("provider");
        std::fs::write(&exe, b"").unwrap();
        let e = check_reachable(&exe, 64999).unwrap_err();
        assert!(e.contains("closed is mode 0700"), "{e}");
        std::fs::set_permissions(&closed, std::fs::Permissions::from_mode(0o711)).unwrap();
        check_reachable(&exe, 64999).unwrap();
    }

    #[test]
    fn data_dir_is_owned_and_parents_traversable() {
        if !nix::unistd::getuid().is_root() {
            eprintln!("skipped: needs root to chown");
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("data");
        std::fs::create_dir(&root).unwrap();
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o700)).unwrap();
        let dir = root.join("providers").join("p");
        own_data_dir(&root, &dir, 64998, 64998).unwrap();
        std::fs::write(dir.join("f"), b"x").unwrap();
        // Re-owning to another uid re-owns the files too.
        own_data_dir(&root, &dir, 64997, 64997).unwrap();
        assert_eq!(std::fs::metadata(dir.join("f")).unwrap().uid(), 64997);
        assert_eq!(
            std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        assert_eq!(
            std::fs::metadata(&root).unwrap().permissions().mode() & 0o777,
            0o711
        );
        assert_eq!(
            std::fs::metadata(root.join("providers"))
                .unwrap()
                .permissions()
                .mode()
                & 0o011,
            0o011
        );
    }
}
