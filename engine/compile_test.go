package engine

import (
	"strings"
	"testing"
)

func TestWriteIndented(t *testing.T) {
	tests := []struct{ sql, want string }{
		{"SELECT 1", "SELECT 1"},
		{"SELECT 1\nFROM s0", "SELECT 1\n  FROM s0"},
		{"SELECT 'a\nb' AS \"x\"\nFROM s0", "SELECT 'a\nb' AS \"x\"\n  FROM s0"},
		{"SELECT \"multi\nline\", 'it''s\n' \nFROM s0\nWHERE x", "SELECT \"multi\nline\", 'it''s\n' \n  FROM s0\n  WHERE x"},
		{"SELECT 'open\n", "SELECT 'open\n"},
		{"\n\n", "\n  \n  "},
	}
	for _, tt := range tests {
		var b strings.Builder
		if writeIndented(&b, tt.sql, "  "); b.String() != tt.want {
			t.Errorf("writeIndented(%q) = %q, want %q", tt.sql, b.String(), tt.want)
		}
	}
}
