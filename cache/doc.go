// Package cache is pcamflow's content-addressed store: it publishes files and
// directory trees as immutable objects, commits node records that name those
// objects under a cache key, keeps named refs to the latest key of each node,
// remembers file digests in a persistent stat cache, serialises work with
// file locks, and collects garbage. It knows nothing of stages, HCL or ML.
//
// # On-disk layout
//
// A store is rooted at a workspace directory (".pcamflow" by default):
//
//	objects/<2 hex>/<62 hex>  blobs named by the SHA-256 of their content, mode 0444
//	nodes/<2 hex>/<key>.json  node records (JSON of Record), named by 64-hex cache key
//	refs/<encoded name>       one line: the 64-hex key a ref points to
//	tmp/                      temporary files and staging directories (TempDir)
//	locks/<key>.lock          per-key flock files (LockKey)
//	locks/workspace.lock      the workspace lock (LockWorkspace)
//	locks/statcache.lock      serialises stat cache flushes
//	statcache                 the persistent stat cache (binary, CRC-protected)
//	refs.index                every ref with its record's key components, for plan (see UpdateRefIndex)
//
// A file artifact is one blob. A tree artifact is one blob per distinct file
// content plus a manifest blob; the tree's digest is the manifest's. The
// manifest is the canonical JSON (encoding/json of fixed structs, entries
// sorted by path) of
//
//	{"format":"pcamflow-tree-v1","entries":[{"path":"a/b.txt","type":"file","digest":"…","size":3,"exec":true}, …]}
//
// with slash-separated relative paths. Besides regular files ("file", with
// the owner-executable bit; other permission bits, owners and times are not
// recorded), a manifest lists empty directories ("dir"; non-empty ones are
// implied) and symbolic links ("symlink", with the link text as "target").
// Only relative links that stay inside the tree are accepted: an absolute
// link, one whose text lexically leaves the tree, or one that resolves
// (following other links) outside it is an error naming the link. Dangling
// links inside the tree are stored as written. A symbolic link given as the
// path to Put or Digest itself is followed. Devices, FIFOs and sockets are
// errors.
//
// Ref names may contain any bytes; they are stored as one file each, with
// every byte outside [A-Za-z0-9_.=-] (and a leading '.') percent-encoded.
//
// # Crash safety
//
// Every file the store publishes (objects, records, refs, the stat cache, the
// ref index) is written to a temporary file under tmp/ (or, for Restore, a
// hidden ".pcamflow-restore-*" sibling of the destination), fsynced, and renamed
// into its final name; the containing directory is then fsynced. rename(2)
// within one file system is atomic, so a reader sees either no file or a
// complete one; a crash leaves at most a temporary file, which is never at an
// object's name and is removed by GC once older than GCOptions.MinTmpAge. An
// object's name is computed from the bytes actually copied into its
// temporary file, so it always matches its content unless the file is
// altered later; Restore and Verify re-hash objects and report a mismatch as
// ErrCorrupt instead of returning the bad content.
//
// A node record is committed only after PutRecord has checked that all its
// objects exist, and a ref should be set only after its record is committed.
// The order object, record, ref means that a crash between any two steps
// leaves unreferenced objects or records (garbage for GC), never a record or
// ref that points at something missing.
//
// Restore of a file over a file is one atomic rename. Replacing a directory
// (or a file by a directory) takes two renames: the old destination is moved
// to a hidden ".pcamflow-old-*" sibling, the new one renamed into place, and
// the old one removed. A crash between the two renames leaves the
// destination absent (restoring again repairs it), never half old, half new.
//
// GC decides everything before deleting anything, and it must run under
// LockWorkspace(ctx, true) while runs take LockWorkspace(ctx, false), so it
// cannot delete objects a running node has published but not yet recorded.
//
// # Stat cache
//
// Digest and Put look up each file's absolute path in the stat cache; an
// entry is used only if the file's device, inode, size, mtime and ctime (in
// nanoseconds) are unchanged and the file's mtime was more than two seconds
// older than the moment it was hashed. The second rule is git's "racily
// clean" guard: a write in the same timestamp tick as the hashed version
// would leave the stat data unchanged, so recently modified files are
// re-hashed until they are old enough to be trusted. Files written by
// Restore are trusted at once, since the store wrote them under a private
// name. A file that changes while it is read is re-read (up to three times)
// and never cached in a torn state.
//
// Files under tmp/ (staged outputs) are never entered, as their names are
// not seen again. The cache is loaded at Open and merged back at Close (or FlushStatCache)
// under locks/statcache.lock: the file is re-read, entries this Store set are
// merged in (the later hash of a path wins), and the result is written
// atomically. A missing, truncated or corrupt file (bad magic, CRC or
// structure) is ignored and rebuilt. Entries for deleted files are not
// pruned individually; the cache is capped at 2^20 entries, dropping those
// hashed longest ago.
//
// # Locks
//
// LockKey and LockWorkspace use flock(2) on files under locks/, taken with
// LOCK_NB and polled with a short backoff so that waits honour a context.
// The kernel drops a flock when its holder dies, including by SIGKILL. In
// process, a context-aware semaphore guards each key and the workspace lock,
// and all shared holders of the workspace lock share one file description;
// this keeps the semantics right on file systems (NFS) where Linux emulates
// flock with per-process fcntl locks, under which a second descriptor in the
// same process would neither block nor survive the first one's close. Lock
// files are never deleted (deleting a lock file races with processes about
// to lock it); they are empty and one per key.
package cache
