package server

import (
	"strings"
	"testing"

	"github.com/socq/socq/incident"
)

// FuzzFilter feeds $filter and $orderby text to their parsers: no panic,
// and an accepted filter evaluates on an incident.
func FuzzFilter(f *testing.F) {
	for _, s := range []string{
		"properties/status eq 'New'",
		"(properties/status eq 'New' or properties/status eq 'Active') and properties/severity ne 'Low'",
		"properties/owner/email eq 'it''s@contoso.com'",
		"properties/status eq 'New",
		"((", "properties/status", "and and", "properties/createdTimeUtc desc",
	} {
		f.Add(s)
	}
	name := "Mei Lin"
	inc := &incident.ListEntry{Number: 1, Status: "New", Severity: "High", Owner: incident.Owner{AssignedTo: &name}}
	f.Fuzz(func(t *testing.T, text string) {
		if flt, err := parseFilter(text); err == nil {
			flt.match(inc)
		} else if !strings.HasPrefix(err.Error(), "$filter: ") {
			t.Errorf("error without its parameter: %v", err)
		}
		if o, err := parseOrderBy(text); err == nil {
			o.sort([]incident.ListEntry{*inc, *inc})
		}
	})
}

// FuzzParseTokens feeds token files to ParseTokens: no panic, and every
// token it accepts is long enough and has no spaces.
func FuzzParseTokens(f *testing.F) {
	f.Add("read 0123456789abcdef\nwrite 0123456789abcdefg Mei Lin\n# c\n")
	f.Add("write x")
	f.Fuzz(func(t *testing.T, text string) {
		toks, err := ParseTokens("f", strings.NewReader(text))
		if err != nil {
			return
		}
		for _, tok := range toks {
			if len(tok.Value) < MinTokenLength || strings.ContainsAny(tok.Value, " \t\n") {
				t.Errorf("accepted token %q", tok.Value)
			}
		}
	})
}
