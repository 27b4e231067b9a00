package server

import (
	"slices"
	"testing"
)

func TestFilterNarrowing(t *testing.T) {
	tests := []struct {
		filter               string
		statuses, severities []string
	}{
		{"", nil, nil},
		{"properties/status eq 'New'", []string{"New"}, nil},
		{"(properties/status eq 'New' or properties/status eq 'Active') and properties/severity eq 'High'", []string{"New", "Active"}, []string{"High"}},
		{"properties/status ne 'Closed'", nil, nil},
		{"(properties/status eq 'New' or properties/severity eq 'High')", nil, nil},
		{"properties/owner/email eq 'a@b.c' and properties/severity eq 'Low'", nil, []string{"Low"}},
	}
	for _, tt := range tests {
		f, err := parseFilter(tt.filter)
		if err != nil {
			t.Fatalf("%q: %v", tt.filter, err)
		}
		lf := f.narrowing()
		if !lf.All || !slices.Equal(lf.Statuses, tt.statuses) || !slices.Equal(lf.Severities, tt.severities) {
			t.Errorf("%q: narrowing = %+v, want statuses %q, severities %q", tt.filter, lf, tt.statuses, tt.severities)
		}
	}
}
