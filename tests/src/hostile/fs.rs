//! Filesystem checks: reading and writing outside the data dir, moving files
//! out of it, symlink escapes, mounting.

use std::ffi::CString;
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::{Outcome, Step};

/// Removes a file (or an empty directory) when dropped, so every path through
/// a check cleans up.
struct Cleanup {
    path: PathBuf,
    dir: bool,
}

impl Cleanup {
    fn file(path: &Path) -> Cleanup {
        Cleanup {
            path: path.to_path_buf(),
            dir: false,
        }
    }

    fn dir(path: &Path) -> Cleanup {
        Cleanup {
            path: path.to_path_buf(),
            dir: true,
        }
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = if self.dir {
            std::fs::remove_dir(&self.path)
        } else {
            std::fs::remove_file(&self.path)
        };
    }
}

/// A per-process name for a file a check creates.
fn scratch(dir: &Path, what: &str) -> PathBuf {
    dir.join(format!("hostile-{what}-{}", std::process::id()))
}

/// `path` as a C string.
///
/// # Errors
/// A "bad args" outcome for a path containing NUL.
pub fn c_path(path: &Path) -> Step<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| Outcome::bad_args(format!("{} contains a NUL byte", path.display())))
}

/// Opens and reads `path` (e.g. `/etc/shadow`, another provider's file). The
/// content is never reported, only its length.
pub fn read_file(path: &Path) -> Outcome {
    let run = || -> Step<String> {
        let mut f = std::fs::File::open(path)
            .map_err(|e| Outcome::io(&format!("open {}", path.display()), &e))?;
        let mut buf = Vec::new();
        f.read_to_end(&mut buf)
            .map_err(|e| Outcome::io(&format!("read {}", path.display()), &e))?;
        Ok(format!("read {} bytes of {}", buf.len(), path.display()))
    };
    run().into()
}

/// Opens and lists directory `path` (e.g. `/`).
pub fn list_dir(path: &Path) -> Outcome {
    let run = || -> Step<String> {
        let entries = std::fs::read_dir(path)
            .map_err(|e| Outcome::io(&format!("opendir {}", path.display()), &e))?;
        let mut n = 0;
        for entry in entries {
            entry.map_err(|e| Outcome::io(&format!("readdir {}", path.display()), &e))?;
            n += 1;
        }
        Ok(format!("{n} entries in {}", path.display()))
    };
    run().into()
}

/// Creates and writes `outside_dir/hostile-<pid>`, then removes it.
pub fn write_outside(outside_dir: &Path) -> Outcome {
    let path = outside_dir.join(format!("hostile-{}", std::process::id()));
    let run = || -> Step<String> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .map_err(|e| Outcome::io(&format!("create {}", path.display()), &e))?;
        let _cleanup = Cleanup::file(&path);
        f.write_all(b"written by igloo-hostile\n")
            .map_err(|e| Outcome::io(&format!("write {}", path.display()), &e))?;
        Ok(format!("created and wrote {} (removed)", path.display()))
    };
    run().into()
}

/// Creates a file in `data_dir`, then renames it into `outside_dir`.
pub fn rename_outside(data_dir: &Path, outside_dir: &Path) -> Outcome {
    move_outside(data_dir, outside_dir, "rename", |from, to| {
        std::fs::rename(from, to)
    })
}

/// Creates a file in `data_dir`, then hard-links it into `outside_dir`.
pub fn link_outside(data_dir: &Path, outside_dir: &Path) -> Outcome {
    move_outside(data_dir, outside_dir, "link", |from, to| {
        std::fs::hard_link(from, to)
    })
}

fn move_outside(
    data_dir: &Path,
    outside_dir: &Path,
    op: &str,
    f: impl FnOnce(&Path, &Path) -> std::io::Result<()>,
) -> Outcome {
    let from = scratch(data_dir, op);
    let to = scratch(outside_dir, op);
    let run = || -> Step<String> {
        std::fs::write(&from, b"igloo-hostile\n")
            .map_err(|e| Outcome::io(&format!("create {} (own data dir)", from.display()), &e))?;
        let _from = Cleanup::file(&from);
        f(&from, &to).map_err(|e| {
            Outcome::io(&format!("{op} {} -> {}", from.display(), to.display()), &e)
        })?;
        let _to = Cleanup::file(&to);
        Ok(format!(
            "{op} {} -> {} worked (removed)",
            from.display(),
            to.display()
        ))
    };
    run().into()
}

/// Makes a symlink in `data_dir` pointing at `target` and reads through it.
pub fn symlink_escape(data_dir: &Path, target: &Path) -> Outcome {
    let link = scratch(data_dir, "symlink");
    let run = || -> Step<String> {
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(target, &link).map_err(|e| {
            Outcome::io(
                &format!("symlink {} -> {}", link.display(), target.display()),
                &e,
            )
        })?;
        let _cleanup = Cleanup::file(&link);
        let mut f = std::fs::File::open(&link).map_err(|e| {
            Outcome::io(
                &format!("open {} -> {}", link.display(), target.display()),
                &e,
            )
        })?;
        let mut buf = Vec::new();
        f.read_to_end(&mut buf)
            .map_err(|e| Outcome::io(&format!("read {}", link.display()), &e))?;
        Ok(format!(
            "read {} bytes of {} through {} (removed)",
            buf.len(),
            target.display(),
            link.display()
        ))
    };
    run().into()
}

/// Mounts a tmpfs on a fresh directory in `data_dir`, unmounts it and removes
/// the directory.
pub fn mount_tmpfs(data_dir: &Path) -> Outcome {
    let dir = scratch(data_dir, "mnt");
    let run = || -> Step<String> {
        std::fs::create_dir(&dir)
            .map_err(|e| Outcome::io(&format!("mkdir {} (own data dir)", dir.display()), &e))?;
        let _cleanup = Cleanup::dir(&dir);
        let target = c_path(&dir)?;
        // SAFETY: all strings are valid NUL-terminated C strings that outlive the call.
        let r = unsafe {
            libc::mount(
                c"none".as_ptr(),
                target.as_ptr(),
                c"tmpfs".as_ptr(),
                libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                c"size=1m".as_ptr().cast(),
            )
        };
        if r < 0 {
            return Err(Outcome::last(&format!("mount tmpfs on {}", dir.display())));
        }
        // SAFETY: as above.
        if unsafe { libc::umount2(target.as_ptr(), 0) } < 0 {
            let o = Outcome::last(&format!("umount2 {}", dir.display()));
            // SAFETY: as above; a lazy unmount so the baseline leaves no mount behind.
            unsafe { libc::umount2(target.as_ptr(), libc::MNT_DETACH) };
            return Err(o);
        }
        Ok(format!(
            "mounted and unmounted a tmpfs on {} (removed)",
            dir.display()
        ))
    };
    run().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_root() -> bool {
        // SAFETY: geteuid cannot fail.
        unsafe { libc::geteuid() == 0 }
    }

    #[test]
    fn baseline_reads_and_lists() {
        if !is_root() {
            return;
        }
        let o = read_file(Path::new("/etc/shadow"));
        assert!(o.ok, "{o:?}");
        let o = list_dir(Path::new("/"));
        assert!(o.ok, "{o:?}");
    }

    #[test]
    fn missing_file_reports_enoent() {
        let o = read_file(Path::new("/nonexistent/igloo-hostile"));
        assert!(!o.ok);
        assert_eq!(o.errno, Some(libc::ENOENT));
        assert_eq!(o.error.as_deref(), Some("ENOENT"));
        assert!(
            o.detail
                .starts_with("open /nonexistent/igloo-hostile: ENOENT")
        );
    }

    #[test]
    fn baseline_writes_moves_and_links_leave_no_trace() {
        let data = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        for o in [
            write_outside(outside.path()),
            rename_outside(data.path(), outside.path()),
            link_outside(data.path(), outside.path()),
            symlink_escape(data.path(), Path::new("/etc/hostname")),
        ] {
            assert!(o.ok, "{o:?}");
        }
        assert_eq!(std::fs::read_dir(data.path()).unwrap().count(), 0);
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    }

    #[test]
    fn cross_device_rename_is_reported() {
        // /dev/shm is a tmpfs, so a rename from a disk dir fails with EXDEV there.
        let shm = Path::new("/dev/shm");
        let data = tempfile::tempdir().unwrap();
        if !shm.is_dir() {
            return;
        }
        let o = rename_outside(data.path(), shm);
        if !o.ok {
            assert_eq!(o.error.as_deref(), Some("EXDEV"), "{o:?}");
        }
        assert_eq!(std::fs::read_dir(data.path()).unwrap().count(), 0);
    }

    #[test]
    fn baseline_mount() {
        if !is_root() {
            return;
        }
        let data = tempfile::tempdir().unwrap();
        let o = mount_tmpfs(data.path());
        assert!(o.ok, "{o:?}");
        assert_eq!(std::fs::read_dir(data.path()).unwrap().count(), 0);
    }
}
