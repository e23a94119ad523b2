package runner

import (
	"strconv"
	"strings"
)

// FileName turns a node address into a file name: for the node's log, scratch folder, managed
// outputs folder, Slurm result file and nodes file. The mapping is injective, so two nodes never
// share a file: the identifiers of the address are kept and joined by dots, and every instance key
// (for_each key, seed, child key) becomes one dot-separated part in which every byte outside
// [A-Za-z0-9_-] is written %XX. `train.mlp["1"]` is train.mlp.1, `command.c["a/b"]` is
// command.c.a%2Fb and `command.c["a_b"]` is command.c.a_b.
func FileName(addr string) string {
	var b strings.Builder
	rest := addr
	for rest != "" {
		switch {
		case strings.HasPrefix(rest, "["):
			end := closingBracket(rest)
			if end < 0 {
				return "%" + escapeKey(addr) // not an address: escape it whole (cannot collide: no address starts with %)
			}
			key, err := strconv.Unquote(rest[1:end])
			if err != nil {
				return "%" + escapeKey(addr)
			}
			b.WriteByte('.')
			b.WriteString(escapeKey(key))
			rest = rest[end+1:]
		case strings.HasPrefix(rest, "."):
			b.WriteByte('.')
			rest = rest[1:]
		default:
			i := strings.IndexAny(rest, ".[")
			if i < 0 {
				i = len(rest)
			}
			part := rest[:i]
			if escapeKey(part) != part {
				return "%" + escapeKey(addr)
			}
			b.WriteString(part)
			rest = rest[i:]
		}
	}
	return b.String()
}

// closingBracket returns the index of the "]" that ends the quoted key at the start of s ("[...]").
func closingBracket(s string) int {
	if len(s) < 2 || s[1] != '"' {
		return -1
	}
	for i := 2; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			if i+1 < len(s) && s[i+1] == ']' {
				return i + 1
			}
			return -1
		}
	}
	return -1
}

// escapeKey writes every byte outside [A-Za-z0-9_-] as %XX.
func escapeKey(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// logName is the file name of a node's log.
func logName(addr string) string { return FileName(addr) + ".log" }
