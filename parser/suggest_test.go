package parser

import "testing"

func TestSuggest(t *testing.T) {
	names := []string{"Title", "Severity", "IncidentNumber", "Tasks"}
	for _, tc := range []struct{ name, want string }{
		{"Titel", "Title"},      // a transposition
		{"title", "Title"},      // case only
		{"severty", "Severity"}, // a letter missing
		{"IncidentNumbr", "IncidentNumber"},
		{"Owner", ""}, // nothing near
		{"", ""},
	} {
		if got := Suggest(tc.name, names); got != tc.want {
			t.Errorf("Suggest(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}
