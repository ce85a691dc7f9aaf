//! Files kblame writes, created so that only their owner can read them: a trace holds a
//! cluster's state (and travels as a CI artifact), so it gets a kubeconfig's 0600.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::Path;

/// The mode of every file kblame creates: read and write for the owner only.
pub const PRIVATE: u32 = 0o600;

/// The mode of every directory kblame creates (the index cache): the owner only.
pub const PRIVATE_DIR: u32 = 0o700;

/// Creates or truncates `path` for writing, readable by its owner only.
///
/// An existing regular file is narrowed to 0600 too (a new file's mode can only be narrowed
/// further by the umask). Devices such as `/dev/stdout` keep their mode.
pub fn create_private(path: &Path) -> io::Result<File> {
    create_with_mode(path, PRIVATE)
}

/// Creates or truncates `path` for writing with the permission bits `mode` (see
/// [`create_private`]).
pub fn create_with_mode(path: &Path, mode: u32) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    let file = options.open(path)?;
    #[cfg(unix)]
    if file.metadata()?.is_file() {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(mode))?;
    }
    Ok(file)
}

/// The permission bits of the file at `path` (without the execute bits), when it has some.
pub fn mode_of(path: &Path) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(path)
            .ok()
            .map(|m| m.permissions().mode() & 0o666)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// Creates `dir` and its missing parents; the ones it creates are readable by the owner only.
pub fn create_private_dir_all(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(PRIVATE_DIR);
    }
    builder.create(dir)
}

/// Whether anyone but the owner may read the file at `path` (false when unknown).
pub fn readable_by_others(path: &Path) -> bool {
    mode_of(path).is_some_and(|mode| mode & 0o066 != 0)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_new_file_and_an_existing_world_readable_one_both_end_up_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let fresh = dir.path().join("fresh");
        create_private(&fresh).unwrap();
        assert_eq!(mode_of(&fresh), Some(0o600));
        let old = dir.path().join("old");
        fs::write(&old, b"x").unwrap();
        fs::set_permissions(&old, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(readable_by_others(&old));
        create_private(&old).unwrap();
        assert_eq!(mode_of(&old), Some(0o600));
        assert!(!readable_by_others(&old));
    }

    #[test]
    fn a_file_can_take_another_files_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index");
        create_with_mode(&path, 0o640).unwrap();
        assert_eq!(mode_of(&path), Some(0o640));
    }

    #[test]
    fn created_directories_are_0700() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let deep = dir.path().join("a/b");
        create_private_dir_all(&deep).unwrap();
        let mode = fs::metadata(&deep).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }
}
