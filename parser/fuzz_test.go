package parser

import (
	"reflect"
	"testing"
)

// FuzzParse: the parser never panics, and whatever it accepts prints back
// to KQL that parses to the same tree.
func FuzzParse(f *testing.F) {
	for _, q := range roundTripCases {
		f.Add(q)
	}
	f.Add(`SecurityIncident | where Title has "a" | mv-expand x = dynamic([1,2]) to typeof(long) limit 2`)
	f.Add("SecurityIncident | where x == 'a\\u00e9' and y == @\"b\"\"c\"")
	f.Fuzz(func(t *testing.T, text string) {
		q, err := Parse(text)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("Parse(%q) returned %T, want *Error", text, err)
			}
			return
		}
		printed := q.String()
		q2, err := Parse(printed)
		if err != nil {
			t.Fatalf("Parse(%q) printed as %q, which does not parse: %v", text, printed, err)
		}
		if !reflect.DeepEqual(stripSpans(q), stripSpans(q2)) {
			t.Fatalf("round trip changed the tree: %q → %q", text, printed)
		}
	})
}
