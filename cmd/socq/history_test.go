package main

import (
	"testing"
	"time"
)

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 10, 5, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Time
		err  bool
	}{
		{"", time.Time{}, false},
		{"7d", now.Add(-7 * 24 * time.Hour), false},
		{"12h", now.Add(-12 * time.Hour), false},
		{"30m", now.Add(-30 * time.Minute), false},
		{"2w", now.Add(-14 * 24 * time.Hour), false},
		{"0d", now, false},
		{"2026-10-01", time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), false},
		{"2026-10-01T08:30:00+02:00", time.Date(2026, 10, 1, 6, 30, 0, 0, time.UTC), false},
		{"yesterday", time.Time{}, true},
		{"-3d", time.Time{}, true},
		{"d", time.Time{}, true},
		{"7y", time.Time{}, true},
		{"9999999999d", time.Time{}, true}, // would overflow a time.Duration
	}
	for _, tc := range cases {
		got, err := parseSince(tc.in, now)
		if (err != nil) != tc.err || !got.Equal(tc.want) {
			t.Errorf("parseSince(%q) = %v, %v; want %v (error %v)", tc.in, got, err, tc.want, tc.err)
		}
	}
}

// FuzzParseSince: --since text never panics, and a span is never in the future.
func FuzzParseSince(f *testing.F) {
	for _, s := range []string{"7d", "12h", "2026-10-01", "", "9999999999999999999d", "-1m", "1w "} {
		f.Add(s)
	}
	now := time.Date(2026, 10, 5, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseSince(s, now)
		if err == nil && len(s) > 0 && s[len(s)-1] == 'd' && got.After(now) {
			t.Errorf("parseSince(%q) = %v, after now", s, got)
		}
	})
}
