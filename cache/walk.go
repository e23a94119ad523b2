package cache

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// walkedEntry is a tree entry found on disk, with its absolute path and (for
// files) the Lstat result used for the stat cache.
type walkedEntry struct {
	entry manifestEntry
	abs   string
	info  fs.FileInfo
}

// walkTree lists the regular files, empty directories and symbolic links
// under root, sorted by relative slash path. Digests are not filled in.
// Other file types, and links that are absolute or lead outside root, are
// errors naming the offending path.
func walkTree(root string) ([]walkedEntry, error) {
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, err
	}
	var out []walkedEntry
	if err := walkDir(root, "", realRoot, &out); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].entry.Path < out[j].entry.Path })
	return out, nil
}

// walkDir appends the entries of directory dir (relative path rel) to out.
func walkDir(dir, rel, realRoot string, out *[]walkedEntry) error {
	des, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	if len(des) == 0 && rel != "" {
		*out = append(*out, walkedEntry{entry: manifestEntry{Path: rel, Type: entryDir}, abs: dir})
		return nil
	}
	for _, de := range des {
		abs := filepath.Join(dir, de.Name())
		r := de.Name()
		if rel != "" {
			r = rel + "/" + de.Name()
		}
		if err := walkOne(abs, r, realRoot, out); err != nil {
			return err
		}
	}
	return nil
}

// walkOne classifies the entry at abs (relative path rel) and appends it.
func walkOne(abs, rel, realRoot string, out *[]walkedEntry) error {
	fi, err := os.Lstat(abs)
	if err != nil {
		return err
	}
	switch mode := fi.Mode(); {
	case mode.IsRegular():
		e := manifestEntry{Path: rel, Type: entryFile, Size: fi.Size(), Exec: isExec(mode)}
		*out = append(*out, walkedEntry{entry: e, abs: abs, info: fi})
	case mode.IsDir():
		return walkDir(abs, rel, realRoot, out)
	case mode&fs.ModeSymlink != 0:
		target, err := linkInside(abs, rel, realRoot)
		if err != nil {
			return err
		}
		*out = append(*out, walkedEntry{entry: manifestEntry{Path: rel, Type: entrySymlink, Target: target}, abs: abs})
	default:
		return fmt.Errorf("%s is a %s; a tree may hold only regular files, directories and symbolic links", abs, mode.Type())
	}
	return nil
}

// linkInside reads the symbolic link at abs and returns its target in slash
// form if it stays inside the tree, both lexically and, when the target
// exists, after resolving every link on the way.
func linkInside(abs, rel, realRoot string) (string, error) {
	target, err := os.Readlink(abs)
	if err != nil {
		return "", err
	}
	slash := filepath.ToSlash(target)
	if err := checkLinkTarget(rel, slash); err != nil {
		return "", fmt.Errorf("%s: %w", abs, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return slash, nil // dangling inside the tree: stored as written
	}
	if real != realRoot && !strings.HasPrefix(real, realRoot+string(filepath.Separator)) {
		return "", fmt.Errorf("%s: symbolic link target %q resolves to %s, outside the tree %s", abs, target, real, realRoot)
	}
	return slash, nil
}
