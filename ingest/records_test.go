package ingest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestScanners(t *testing.T) {
	cases := []struct {
		format  Format
		content string
		want    []string // line: raw (error)
		columns []string
	}{
		{NDJSON, "\xef\xbb\xbf{\"a\":1}\n\n  {\"a\":2}  \r\n{bad\n",
			[]string{`1: {"a":1}`, `3: {"a":2}`, `4: {bad`}, nil},
		{JSONArray, "[\n  {\"a\": 1},\n  {\n    \"a\": 2\n  }, 3\n]\n",
			[]string{`2: {"a": 1}`, "3: {\n    \"a\": 2\n  }", `5: 3`}, nil},
		{APIResponse, `{"tables":[{"name":"PrimaryResult","columns":[{"name":"A","type":"string"},{"name":"B","type":"int"}],` +
			"\n\"rows\":[\n[\"x\",1],\n[\"y\",\n2]]}]}",
			[]string{`3: ["x",1]`, "4: [\"y\",\n2]"}, []string{"A", "B"}},
		{APIResponse, `{"tables":[{"rows":[[1]],"columns":[{"name":"A"}]},{"rows":[[2]]}]}`,
			[]string{`1: [1]`}, []string{"A"}},
		{CSV, "A,B\r\n1,\"two\r\nlines\"\r\n\r\n3,4\r\n5\r\n6,\"7\n",
			[]string{"2: 1,\"two\r\nlines\"", `5: 3,4`, `6: 5 (the record has 1 fields, the header has 2)`,
				"7: 6,\"7 (invalid CSV: extraneous or missing \" in quoted-field)"}, []string{"A", "B"}},
	}
	for _, c := range cases {
		t.Run(c.format.String(), func(t *testing.T) {
			var got []string
			columns, err := scannerFor(c.format)(strings.NewReader(c.content), func(rec record) bool {
				s := fmt.Sprintf("%d: %s", rec.line, rec.raw)
				if rec.err != nil {
					s += " (" + rec.err.Error() + ")"
				}
				got = append(got, s)
				return true
			})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, c.want) || !slices.Equal(columns, c.columns) {
				t.Errorf("records %q, columns %q\nwant %q, %q", got, columns, c.want, c.columns)
			}
		})
	}
}

func TestScannerSyntaxErrors(t *testing.T) {
	cases := []struct {
		format  Format
		content string
		want    string
	}{
		{JSONArray, "[\n{\"a\":1},\n{\"a\" 2}\n]", `line 3: invalid JSON: invalid character '2' after object key`},
		{JSONArray, "[\n{\"a\":1}\n{\"a\":2}]", `line 3: invalid JSON: expected comma after array element`},
		{JSONArray, "[{\"a\":1},\n", `line 2: invalid JSON: unexpected end of input`},
		{JSONArray, "[{\"a\":1}]\n]", `line 2: invalid JSON: invalid character ']' looking for beginning of value`},
		{JSONArray, "null", `line 1: invalid JSON: expected [, found null`},
		{JSONArray, `"rows"`, `line 1: invalid JSON: expected [, found "rows"`},
		{APIResponse, `{"tables":{}}`, `line 1: invalid JSON: expected [, found {`},
		{APIResponse, `{"rows":[]}`, `no "tables" in the response`},
		{APIResponse, `{"tables":[]}`, `the response has no tables`},
	}
	for _, c := range cases {
		_, err := scannerFor(c.format)(strings.NewReader(c.content), func(record) bool { return true })
		if err == nil || err.Error() != c.want {
			t.Errorf("%v %q: err = %v, want %s", c.format, c.content, err, c.want)
		}
	}
}
