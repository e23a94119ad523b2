// Package projectpath keeps file-system operations on project paths inside the project.
//
// A project-relative path such as "results/model.bin" may pass through symbolic links: "results"
// can be a link to a scratch disk. Lexical checks ("no .., not absolute") do not see where such a
// link leads. The functions here resolve a path component by component, following every link, and
// refuse a path that lands outside the root folder with an *EscapeError naming the link. The
// operations that change files (RemoveAll, MkdirAll, OpenParent) then work through an os.Root
// opened at the resolved root, so that a link swapped in between the check and the operation
// cannot redirect them outside either (openat-style resolution, race-safe on Linux).
//
// The last component of a path is never followed by the operations that replace it: removing or
// renaming over "out/data" when it is itself a link removes or replaces the link, never what it
// points to. Only the folders above it must stay inside the root.
package projectpath

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrEscape is wrapped by every error that reports a path leaving its root.
var ErrEscape = errors.New("leaves the project")

// maxLinks bounds how many symbolic links one resolution follows (as the kernel's ELOOP does).
const maxLinks = 255

// EscapeError reports a path that leaves its root, and through which link when one is to blame.
type EscapeError struct {
	Path   string // the path as given, relative to the root
	Link   string // the link that leads outside, relative to the root ("" when the path itself climbs out)
	Target string // what that link points to, as stored in the link
}

func (e *EscapeError) Error() string { return e.Path + " " + e.Reason() }

// Reason is the error without the path: "leaves the project" and, when a link is to blame,
// "through the symbolic link LINK -> TARGET".
func (e *EscapeError) Reason() string {
	if e.Link == "" {
		return "leaves the project"
	}
	return fmt.Sprintf("leaves the project through the symbolic link %s -> %s", e.Link, e.Target)
}

// Unwrap makes errors.Is(err, ErrEscape) true.
func (e *EscapeError) Unwrap() error { return ErrEscape }

// Within returns p relative to root when p is root or lies below it, lexically (no file-system
// access). Both must be absolute and clean, or comparable as given.
func Within(root, p string) (string, bool) {
	rel, err := filepath.Rel(root, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", false
	}
	return rel, true
}

// Resolve returns the absolute, symlink-free path that rel names under root, following every
// component including the last. Components that do not exist are appended as written. It fails
// with an *EscapeError when rel is absolute or the result lies outside root (root's own links are
// resolved first, so a project reached through a link is fine).
func Resolve(root, rel string) (string, error) {
	return resolve(root, rel, true)
}

// ResolveParent is Resolve without following the last component: the folders above it are
// resolved and must stay inside root; the last component is returned as a name in that folder.
func ResolveParent(root, rel string) (string, error) {
	return resolve(root, rel, false)
}

// resolve walks rel under root one component at a time, expanding links in place.
func resolve(root, rel string, followLast bool) (string, error) {
	realRoot, err := realDir(root)
	if err != nil {
		return "", err
	}
	if filepath.IsAbs(rel) {
		return "", &EscapeError{Path: rel}
	}
	todo := splitPath(rel)
	cur := realRoot
	links := 0
	var via *EscapeError // the first link whose target left the root, for the message
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			cur = filepath.Dir(cur)
			continue
		}
		next := filepath.Join(cur, c)
		if len(todo) == 0 && !followLast {
			cur = next
			break
		}
		fi, err := os.Lstat(next)
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			// Missing (the rest is created later, as written) or a plain file or folder.
			cur = next
			continue
		}
		if links++; links > maxLinks {
			return "", fmt.Errorf("%s: too many levels of symbolic links", rel)
		}
		target, err := os.Readlink(next)
		if err != nil {
			return "", fmt.Errorf("%s: %w", rel, err)
		}
		if filepath.IsAbs(target) {
			cur = string(filepath.Separator)
		}
		if via == nil && !inside(realRoot, filepath.Join(cur, target)) {
			via = &EscapeError{Path: rel, Link: relName(realRoot, next), Target: target}
		}
		todo = append(splitPath(target), todo...)
	}
	if !inside(realRoot, cur) {
		if via != nil {
			return "", via
		}
		return "", &EscapeError{Path: rel}
	}
	return cur, nil
}

// inside reports whether the clean absolute path p is root or below it.
func inside(root, p string) bool {
	_, ok := Within(root, filepath.Clean(p))
	return ok
}

// relName is p relative to root for messages, or p itself when that fails.
func relName(root, p string) string {
	if r, ok := Within(root, p); ok {
		return r
	}
	return p
}

// splitPath splits a slash-separated path into its components.
func splitPath(p string) []string {
	return strings.Split(filepath.ToSlash(p), "/")
}

// realDir returns root as an absolute path with its links resolved.
func realDir(root string) (string, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return "", err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", fmt.Errorf("resolving the project folder %s: %w", root, err)
	}
	return real, nil
}

// openRoot resolves rel under root (its last component too when followLast) and opens an os.Root
// at the resolved root; it returns the root and the resolved rel, relative to it and link-free.
func openRoot(root, rel string, followLast bool) (*os.Root, string, error) {
	realRoot, err := realDir(root)
	if err != nil {
		return nil, "", err
	}
	resolved, err := resolve(root, rel, followLast)
	if err != nil {
		return nil, "", err
	}
	inRoot, _ := Within(realRoot, resolved)
	r, err := os.OpenRoot(realRoot)
	if err != nil {
		return nil, "", err
	}
	return r, inRoot, nil
}

// RemoveAll removes rel under root and everything below it, like os.RemoveAll: a missing path is
// not an error, and a link at rel is removed itself, never its target. The folders above rel must
// stay inside root (else an *EscapeError, and nothing is removed).
func RemoveAll(root, rel string) error {
	r, inRoot, err := openRoot(root, rel, false)
	if err != nil {
		return err
	}
	defer r.Close()
	if inRoot == "." {
		return fmt.Errorf("%s: refusing to remove the project folder itself", rel)
	}
	if err := r.RemoveAll(inRoot); err != nil {
		return explain(rel, err)
	}
	return nil
}

// MkdirAll creates the folder rel under root and any missing parents (0o755), following links
// that stay inside root and refusing any that lead out.
func MkdirAll(root, rel string) error {
	r, inRoot, err := openRoot(root, rel, true)
	if err != nil {
		return err
	}
	defer r.Close()
	if err := r.MkdirAll(inRoot, 0o755); err != nil {
		return explain(rel, err)
	}
	return nil
}

// OpenParent creates the folder that will hold rel (as MkdirAll) and opens it as an os.Root,
// returning it with rel's last component. Everything done through the returned root stays in
// that folder, whatever links appear later. The caller closes the root.
func OpenParent(root, rel string) (*os.Root, string, error) {
	dir, name := filepath.Split(filepath.Clean(rel))
	if name == "" || name == "." || name == ".." || filepath.IsAbs(rel) {
		if filepath.IsAbs(rel) || name == ".." {
			return nil, "", &EscapeError{Path: rel}
		}
		return nil, "", fmt.Errorf("%s: not a file or folder name", rel)
	}
	if dir == "" {
		dir = "."
	}
	r, inRoot, err := openRoot(root, dir, true)
	if err != nil {
		var esc *EscapeError
		if errors.As(err, &esc) {
			esc.Path = rel
		}
		return nil, "", err
	}
	defer r.Close()
	if err := r.MkdirAll(inRoot, 0o755); err != nil {
		return nil, "", explain(rel, err)
	}
	parent, err := r.OpenRoot(inRoot)
	if err != nil {
		return nil, "", explain(rel, err)
	}
	return parent, name, nil
}

// explain turns os.Root's "path escapes from parent" (a link swapped in after the check) into an
// error wrapping ErrEscape.
func explain(rel string, err error) error {
	if strings.Contains(err.Error(), "path escapes from parent") {
		return fmt.Errorf("%w: %w", &EscapeError{Path: rel}, err)
	}
	return err
}
