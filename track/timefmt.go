package track

import (
	"database/sql"
	"fmt"
	"time"
)

// timeLayout is the stored form of times: fixed width, UTC, so text order is chronological order.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

// encodeTime returns the stored form of t: NULL for the zero time, UTC text otherwise.
func encodeTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(timeLayout)
}

// decodeTime parses a stored time; NULL gives the zero time.
func decodeTime(s sql.NullString) (time.Time, error) {
	if !s.Valid {
		return time.Time{}, nil
	}
	t, err := time.Parse(timeLayout, s.String)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time %q: %w", s.String, err)
	}
	return t, nil
}
