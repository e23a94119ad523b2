package slurm

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
)

// TailLines is how many log lines an Outcome carries.
const TailLines = 20

// tailBytes bounds how much of a log file is read to find its last lines.
const tailBytes = 64 << 10

// LogPath returns the stdout log path of a task of spec, expanding the filename patterns Slurm
// expands: %j (the task's own job id), %A (array job id), %a (task index), %x (job name),
// %N (first node), %u (user name) and %%. An empty spec.Output means Slurm's default,
// slurm-%j.out (slurm-%A_%a.out for arrays). Relative paths are resolved against spec.WorkDir.
func LogPath(spec JobSpec, t TaskStatus) string {
	pattern := spec.Output
	if pattern == "" {
		pattern = "slurm-%j.out"
		if t.TaskID >= 0 {
			pattern = "slurm-%A_%a.out"
		}
	}
	p := expandPattern(pattern, spec.Name, t)
	if !filepath.IsAbs(p) && spec.WorkDir != "" {
		p = filepath.Join(spec.WorkDir, p)
	}
	return p
}

func expandPattern(pattern, name string, t TaskStatus) string {
	var b strings.Builder
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		if c != '%' || i+1 == len(pattern) {
			b.WriteByte(c)
			continue
		}
		i++
		switch pattern[i] {
		case '%':
			b.WriteByte('%')
		case 'j':
			b.WriteString(t.RawID)
		case 'A':
			b.WriteString(t.JobID)
		case 'a':
			if t.TaskID >= 0 {
				b.WriteString(strconv.Itoa(t.TaskID))
			} else {
				b.WriteString("4294967294") // what Slurm substitutes outside arrays
			}
		case 'x':
			b.WriteString(name)
		case 'N':
			b.WriteString(firstNode(t.NodeList))
		case 'u':
			b.WriteString(currentUser())
		default:
			b.WriteByte('%')
			b.WriteByte(pattern[i])
		}
	}
	return b.String()
}

func firstNode(list string) string {
	if k := strings.IndexAny(list, ",["); k >= 0 {
		return list[:k]
	}
	return list
}

func currentUser() string {
	u, err := user.Current()
	if err != nil {
		return ""
	}
	return u.Username
}

// TailFile returns the last n lines of the file at path (reading at most 64 KiB from its end).
// A missing file yields "" and an error wrapping fs.ErrNotExist.
func TailFile(path string, n int) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("read log tail: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("read log tail of %s: %w", path, err)
	}
	off := max(st.Size()-tailBytes, 0)
	buf := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read log tail of %s: %w", path, err)
	}
	lines := strings.Split(strings.TrimRight(string(buf), "\n"), "\n")
	if off > 0 && len(lines) > 1 {
		lines = lines[1:] // the first line is probably cut
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n"), nil
}

// ReadResult reads the exit status a rendered script recorded in dir for the task with the given
// key (see JobSpec.ResultDir). ok is false when there is no such file yet.
func ReadResult(dir, key string) (code int, ok bool, err error) {
	path := filepath.Join(dir, key+".exit")
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("read job result %s: %w", path, err)
	}
	code, err = strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return 0, false, fmt.Errorf("read job result %s: %q is not an exit code: %w", path, strings.TrimSpace(string(data)), err)
	}
	return code, true, nil
}
