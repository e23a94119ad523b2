package bundle

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pcamflow/pcamflow/internal/atomicfile"
)

// ManifestName is the name of the manifest file of a bundle.
const ManifestName = "MANIFEST.sha256"

// Problem is one file of a bundle that does not match its manifest.
type Problem struct {
	// Path is the file's slash-separated path inside the bundle.
	Path string
	// State is "missing" (listed, absent), "changed" (content differs), "extra" (present, not
	// listed) or "unreadable".
	State string
	// Detail explains State (the digests, or the error).
	Detail string
}

// String formats the problem for a user.
func (p Problem) String() string {
	if p.Detail == "" {
		return fmt.Sprintf("%s: %s", p.State, p.Path)
	}
	return fmt.Sprintf("%s: %s (%s)", p.State, p.Path, p.Detail)
}

// fileDigest returns the hex SHA-256 of a file.
func fileDigest(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// listFiles returns the slash-separated paths of every regular file below dir, sorted, without the
// manifest. Anything that is neither a regular file nor a folder (a symlink, a device) is an error:
// a bundle holds plain files only.
func listFiles(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch {
		case d.IsDir():
			return nil
		case !d.Type().IsRegular():
			return fmt.Errorf("%s is not a regular file (a bundle holds plain files only)", rel)
		case rel == ManifestName:
			return nil
		}
		out = append(out, rel)
		return nil
	})
	sort.Strings(out)
	return out, err
}

// writeManifest writes MANIFEST.sha256 for every file of dir, in `sha256sum` format (two spaces
// between digest and path), sorted by path, so `sha256sum -c MANIFEST.sha256` checks it too.
func writeManifest(dir string) error {
	files, err := listFiles(dir)
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, f := range files {
		d, err := fileDigest(filepath.Join(dir, filepath.FromSlash(f)))
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s  %s\n", d, f)
	}
	return atomicfile.Write(filepath.Join(dir, ManifestName), []byte(b.String()), 0o644)
}

// readManifest parses a manifest into path => digest.
func readManifest(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if text == "" {
			continue
		}
		digest, name, ok := strings.Cut(text, "  ")
		if !ok || len(digest) != 64 || strings.Trim(digest, "0123456789abcdef") != "" || name == "" {
			return nil, fmt.Errorf("%s: line %d is not `SHA256  PATH`", path, line)
		}
		if filepath.IsAbs(name) || strings.HasPrefix(name, "../") || strings.Contains(name, "/../") {
			return nil, fmt.Errorf("%s: line %d: path %q leaves the bundle", path, line, name)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("%s: line %d: %s is listed twice", path, line, name)
		}
		out[name] = digest
	}
	return out, sc.Err()
}

// Verify checks every file of the bundle in dir against its manifest and returns the files that do
// not match: missing, changed or extra ones, sorted by path. An error means the manifest itself
// cannot be read.
func Verify(dir string) ([]Problem, int, error) {
	want, err := readManifest(filepath.Join(dir, ManifestName))
	if err != nil {
		if os.IsNotExist(err) {
			return nil, 0, fmt.Errorf("%s has no %s: is it a folder written by pcamflow bundle?", dir, ManifestName)
		}
		return nil, 0, fmt.Errorf("reading the manifest: %w", err)
	}
	have, err := listFiles(dir)
	if err != nil {
		return nil, 0, fmt.Errorf("listing %s: %w", dir, err)
	}
	var probs []Problem
	present := map[string]bool{}
	for _, f := range have {
		present[f] = true
		d, ok := want[f]
		if !ok {
			probs = append(probs, Problem{Path: f, State: "extra", Detail: "not in the manifest"})
			continue
		}
		got, err := fileDigest(filepath.Join(dir, filepath.FromSlash(f)))
		switch {
		case err != nil:
			probs = append(probs, Problem{Path: f, State: "unreadable", Detail: err.Error()})
		case got != d:
			probs = append(probs, Problem{Path: f, State: "changed", Detail: fmt.Sprintf("sha256 %s, manifest says %s", got[:12], d[:12])})
		}
	}
	for f := range want {
		if !present[f] {
			probs = append(probs, Problem{Path: f, State: "missing"})
		}
	}
	sort.Slice(probs, func(i, j int) bool { return probs[i].Path < probs[j].Path })
	return probs, len(want), nil
}
