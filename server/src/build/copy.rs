//! COPY and ADD as buildah v1.30 performs them: which files a source names (paths, globs,
//! directories copied by content), where they land (a trailing `/`, several sources or an
//! existing directory make the destination a directory), what the ignore file hides, and the
//! owner and mode they get. Sources never reach outside the context: `../x` is refused and a
//! symlink named as a source must resolve inside the context (symlinks met while copying a
//! directory are copied as symlinks, never followed).

use std::{
    collections::BTreeMap,
    fs,
    io::Read,
    os::unix::fs::{MetadataExt, PermissionsExt},
    path::{Path, PathBuf},
};

use super::{
    evaluate::CopyOp,
    tree::{clean_relative, Content, Entry, Kind, Tree},
    words::path_match,
};
use crate::context::ignore::ContextIgnore;

/// Where a COPY/ADD reads from.
pub enum Source<'a> {
    /// The build context, with its ignore file and the paths the build itself writes there
    /// (the output image, temporary files), which are never copied.
    Context { root: &'a Path, ignore: &'a ContextIgnore, excluded: &'a [PathBuf] },
    /// An earlier stage or an image (`COPY --from`).
    Tree(&'a Tree),
}

/// Times the copied entries get.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    /// `--timestamp`: every entry gets this mtime.
    pub fixed: Option<u64>,
    /// For directories the copy creates when no timestamp is fixed.
    pub now: u64,
}

impl Clock {
    fn mtime(&self, original: u64) -> u64 {
        self.fixed.unwrap_or(original)
    }

    fn created(&self) -> u64 {
        self.fixed.unwrap_or(self.now)
    }
}

/// The entries one COPY/ADD adds to the stage's tree (and to its layer).
pub fn resolve(op: &CopyOp, source: &Source<'_>, target: &Tree, clock: Clock) -> Result<BTreeMap<String, Entry>, String> {
    let owner = match &op.chown {
        Some(spec) => Some(parse_chown(spec, target)?),
        None => None,
    };
    let keyword = if op.add { "ADD" } else { "COPY" };
    let mut items: Vec<Item> = Vec::new();
    for raw in &op.sources {
        if op.add && (raw.starts_with("http://") || raw.starts_with("https://") || raw.starts_with("git@")) {
            return Err(format!(
                "{keyword} {raw}: downloading URLs is not supported by the native engine; put the file in the context or use `--engine buildah`"
            ));
        }
        let found = match source {
            Source::Context { root, ignore, excluded } => context_items(raw, root, ignore, excluded),
            Source::Tree(tree) => tree_items(raw, tree),
        }
        .map_err(|e| format!("{keyword} {e}"))?;
        if found.is_empty() {
            return Err(format!("{keyword} {raw}: no such file or directory"));
        }
        items.extend(found);
    }
    let dest = op.dest.trim_start_matches('/').trim_end_matches('/').to_owned();
    let dest_is_dir = op.dest.ends_with('/') || op.sources.len() > 1 || items.len() > 1 || target.is_dir(&dest);
    if (op.sources.len() > 1 || items.len() > 1) && !op.dest.ends_with('/') && !target.is_dir(&dest) && target.get(&dest).is_some() {
        return Err(format!("{keyword}: adding multiple sources to non-directory destination {}", op.dest));
    }

    let mut added: BTreeMap<String, Entry> = BTreeMap::new();
    let join = |base: &str, rest: &str| match (base.is_empty(), rest.is_empty()) {
        (true, _) => rest.to_owned(),
        (false, true) => base.to_owned(),
        (false, false) => format!("{base}/{rest}"),
    };
    for item in items {
        let archive = op.add && !item.entry.is_dir() && item.disk.as_deref().is_some_and(is_tar_archive);
        if archive {
            let path = item.disk.as_deref().expect("archives come from the context");
            for (inner, mut entry) in archive_entries(path, clock).map_err(|e| format!("{keyword} {}: {e}", item.name))? {
                if let Kind::Hardlink(target) = &entry.kind {
                    entry.kind = Kind::Hardlink(join(&dest, target));
                }
                added.insert(join(&dest, &inner), entry);
            }
            continue;
        }
        let place = |relative: &str| if item.entry.is_dir() { join(&dest, relative) } else if dest_is_dir { join(&join(&dest, &item.name), relative) } else { dest.clone() };
        let mut top = item.entry.clone();
        adjust(&mut top, owner, op.chmod, clock);
        added.insert(place(""), top);
        for (relative, mut entry) in item.children {
            adjust(&mut entry, owner, op.chmod, clock);
            added.insert(place(&relative), entry);
        }
    }
    added.remove("");
    let mut parents: BTreeMap<String, Entry> = BTreeMap::new();
    for path in added.keys() {
        let mut cut = path.as_str();
        while let Some((parent, _)) = cut.rsplit_once('/') {
            if !target.is_dir(parent) && !added.contains_key(parent) {
                let (uid, gid) = owner.unwrap_or((0, 0));
                parents.insert(parent.to_owned(), Entry { kind: Kind::Dir, mode: 0o755, uid, gid, mtime: clock.created() });
            }
            cut = parent;
        }
    }
    added.extend(parents);
    Ok(added)
}

fn adjust(entry: &mut Entry, owner: Option<(u64, u64)>, chmod: Option<u32>, clock: Clock) {
    if let Some((uid, gid)) = owner {
        entry.uid = uid;
        entry.gid = gid;
    }
    if let (Some(mode), false) = (chmod, matches!(entry.kind, Kind::Symlink(_))) {
        entry.mode = mode;
    }
    entry.mtime = clock.mtime(entry.mtime);
}

/// One matched source: its own entry (a directory's entry stands for the destination
/// directory), and for a directory everything below it, relative to it.
struct Item {
    name: String,
    entry: Entry,
    children: Vec<(String, Entry)>,
    /// The file on disk (for ADD's archive detection).
    disk: Option<PathBuf>,
}

fn has_glob(text: &str) -> bool {
    text.contains(['*', '?', '['])
}

fn context_items(raw: &str, root: &Path, ignore: &ContextIgnore, excluded: &[PathBuf]) -> Result<Vec<Item>, String> {
    let relative = clean_relative(raw).ok_or_else(|| format!("{raw}: the path is outside the build context"))?;
    let ignore_name = ignore.file().map_or_else(|| ".dockerignore".to_owned(), |f| f.display().to_string());
    let hidden = |rel: &str| !rel.is_empty() && ignore.is_ignored(rel);
    let is_excluded = |path: &Path| excluded.iter().any(|e| path == e);
    let names: Vec<String> = if has_glob(&relative) {
        let literal: Vec<&str> = relative.split('/').take_while(|part| !has_glob(part)).collect();
        let start = literal.join("/");
        let depth = relative.split('/').count();
        let mut matches = Vec::new();
        walk_names(root, &start, depth, &mut matches);
        matches.retain(|name| path_match(&relative, name) && !hidden(name) && !is_excluded(&root.join(name)));
        matches.sort();
        matches
    } else {
        if hidden(&relative) {
            return Err(format!("{raw}: excluded by {ignore_name}"));
        }
        vec![relative]
    };
    let mut items = Vec::new();
    for name in names {
        let path = if name.is_empty() { root.to_owned() } else { root.join(&name) };
        let link = fs::symlink_metadata(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => format!("{raw}: no such file or directory"),
            _ => format!("{raw}: {e}"),
        })?;
        let (path, metadata) = if link.file_type().is_symlink() {
            let resolved = fs::canonicalize(&path).map_err(|e| format!("{raw}: {e}"))?;
            let canonical_root = fs::canonicalize(root).map_err(|e| format!("{}: {e}", root.display()))?;
            if !resolved.starts_with(&canonical_root) {
                return Err(format!("{raw}: symlink to {}, outside the build context", resolved.display()));
            }
            let metadata = fs::metadata(&resolved).map_err(|e| format!("{raw}: {e}"))?;
            (resolved, metadata)
        } else {
            (path, link)
        };
        let entry = disk_entry(&path, &metadata, None).ok_or_else(|| format!("{raw}: not a regular file, directory or symlink"))?;
        let mut children = Vec::new();
        if metadata.is_dir() {
            walk_dir(&path, "", &name, &mut children, &hidden, &is_excluded)?;
        }
        let base = name.rsplit('/').next().unwrap_or(&name).to_owned();
        items.push(Item { name: base, entry, children, disk: Some(path) });
    }
    Ok(items)
}

/// Paths (relative to the root) `depth` components deep below `start`, for glob matching.
fn walk_names(root: &Path, start: &str, depth: usize, out: &mut Vec<String>) {
    let here = if start.is_empty() { 0 } else { start.split('/').count() };
    if here == depth {
        out.push(start.to_owned());
        return;
    }
    let Ok(entries) = fs::read_dir(root.join(start)) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let child = if start.is_empty() { name } else { format!("{start}/{name}") };
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if here + 1 == depth {
            out.push(child);
        } else if is_dir {
            walk_names(root, &child, depth, out);
        }
    }
}

/// Everything below a source directory, not following symlinks, minus ignored paths.
fn walk_dir(
    dir: &Path,
    relative: &str,
    context_relative: &str,
    out: &mut Vec<(String, Entry)>,
    hidden: &dyn Fn(&str) -> bool,
    excluded: &dyn Fn(&Path) -> bool,
) -> Result<(), String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        let rel = if relative.is_empty() { name.clone() } else { format!("{relative}/{name}") };
        let ctx_rel = if context_relative.is_empty() { name.clone() } else { format!("{context_relative}/{name}") };
        if excluded(&path) || hidden(&ctx_rel) {
            continue;
        }
        let metadata = fs::symlink_metadata(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let link = metadata.file_type().is_symlink().then(|| fs::read_link(&path).map(|t| t.to_string_lossy().into_owned()));
        let link = link.transpose().map_err(|e| format!("{}: {e}", path.display()))?;
        let Some(item) = disk_entry(&path, &metadata, link) else { continue };
        let is_dir = item.is_dir();
        out.push((rel.clone(), item));
        if is_dir {
            walk_dir(&path, &rel, &ctx_rel, out, hidden, excluded)?;
        }
    }
    Ok(())
}

/// A context file as copied from the context: owned by root, mode and mtime kept.
fn disk_entry(path: &Path, metadata: &fs::Metadata, link: Option<String>) -> Option<Entry> {
    let kind = if let Some(target) = link {
        Kind::Symlink(target)
    } else if metadata.is_dir() {
        Kind::Dir
    } else if metadata.is_file() {
        Kind::File { content: Content::Disk(path.to_owned()), size: metadata.len() }
    } else {
        return None;
    };
    Some(Entry { kind, mode: metadata.permissions().mode() & 0o7777, uid: 0, gid: 0, mtime: metadata.mtime().max(0) as u64 })
}

fn tree_items(raw: &str, tree: &Tree) -> Result<Vec<Item>, String> {
    let relative = clean_relative(raw).unwrap_or_default();
    let names: Vec<String> = if has_glob(&relative) {
        tree.entries.keys().filter(|p| path_match(&relative, p)).cloned().collect()
    } else if relative.is_empty() || tree.get(&relative).is_some() {
        vec![relative]
    } else {
        Vec::new()
    };
    let mut items = Vec::new();
    for name in names {
        let entry = if name.is_empty() {
            Entry { kind: Kind::Dir, mode: 0o755, uid: 0, gid: 0, mtime: 0 }
        } else {
            tree.get(&name).cloned().ok_or_else(|| format!("{raw}: no such file or directory"))?
        };
        let entry = resolve_hardlink(tree, entry);
        let children = if entry.is_dir() {
            let prefix_len = if name.is_empty() { 0 } else { name.len() + 1 };
            tree.below(&name).map(|(p, e)| (p[prefix_len..].to_owned(), resolve_hardlink(tree, e.clone()))).collect()
        } else {
            Vec::new()
        };
        let base = name.rsplit('/').next().unwrap_or(&name).to_owned();
        items.push(Item { name: base, entry, children, disk: None });
    }
    Ok(items)
}

/// A hard link copied out of its layer becomes a copy of the file it links to.
fn resolve_hardlink(tree: &Tree, entry: Entry) -> Entry {
    match &entry.kind {
        Kind::Hardlink(target) => match tree.get(target) {
            Some(file @ Entry { kind: Kind::File { .. }, .. }) => Entry { kind: file.kind.clone(), ..entry },
            _ => entry,
        },
        _ => entry,
    }
}

/// `uid[:gid]` (numeric, or names looked up in the stage's /etc/passwd and /etc/group).
fn parse_chown(spec: &str, target: &Tree) -> Result<(u64, u64), String> {
    let (user, group) = match spec.split_once(':') {
        Some((user, group)) => (user, Some(group)),
        None => (spec, None),
    };
    let uid = match user.parse::<u64>() {
        Ok(uid) => uid,
        Err(_) => lookup_id(target, "etc/passwd", user).ok_or_else(|| format!("--chown={spec}: no user {user:?} in the image's /etc/passwd"))?,
    };
    let gid = match group {
        None => match user.parse::<u64>() {
            Ok(_) => uid,
            Err(_) => lookup_primary_gid(target, user).unwrap_or(uid),
        },
        Some(group) => match group.parse::<u64>() {
            Ok(gid) => gid,
            Err(_) => lookup_id(target, "etc/group", group).ok_or_else(|| format!("--chown={spec}: no group {group:?} in the image's /etc/group"))?,
        },
    };
    Ok((uid, gid))
}

fn read_tree_file(tree: &Tree, path: &str) -> Option<String> {
    let Kind::File { content, .. } = &tree.get(path)?.kind else { return None };
    let bytes = match content {
        Content::Disk(disk) => fs::read(disk).ok()?,
        Content::Layer { blob, path } => super::tree::read_layer_file(blob, path).ok()?,
        Content::Memory(bytes) => bytes.to_vec(),
    };
    String::from_utf8(bytes).ok()
}

fn lookup_id(tree: &Tree, file: &str, name: &str) -> Option<u64> {
    read_tree_file(tree, file)?.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.first() == Some(&name)).then(|| fields.get(2)?.parse().ok()).flatten()
    })
}

fn lookup_primary_gid(tree: &Tree, user: &str) -> Option<u64> {
    read_tree_file(tree, "etc/passwd")?.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.first() == Some(&user)).then(|| fields.get(3)?.parse().ok()).flatten()
    })
}

/// Tar archives ADD unpacks: plain, or compressed with gzip, bzip2, xz or zstd (by content, as
/// buildah does).
fn is_tar_archive(path: &Path) -> bool {
    let Ok(mut reader) = super::tree::open_archive(path) else { return false };
    let mut block = vec![0u8; 512];
    let mut filled = 0;
    while filled < block.len() {
        match reader.read(&mut block[filled..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => filled += n,
        }
    }
    filled == 512 && &block[257..262] == b"ustar"
}

/// The entries of an archive ADD unpacks, with their own owners and modes.
fn archive_entries(path: &Path, clock: Clock) -> std::io::Result<Vec<(String, Entry)>> {
    let mut tree = Tree::default();
    tree.apply_layer(path, true)?;
    Ok(tree
        .entries
        .into_iter()
        .map(|(name, mut entry)| {
            entry.mtime = clock.mtime(entry.mtime);
            (name, entry)
        })
        .collect())
}
