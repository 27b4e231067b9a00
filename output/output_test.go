package output

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/socq/socq/engine"
)

func TestFormatCell(t *testing.T) {
	cases := []struct {
		in   any
		want string
	}{
		{nil, ""},
		{"text", "text"},
		{int64(-42), "-42"},
		{1.0, "1"},
		{0.1, "0.1"},
		{1e20, "1E+20"},
		{math.NaN(), "NaN"},
		{math.Inf(-1), "-Infinity"},
		{true, "true"},
		{time.Date(2026, 9, 14, 8, 30, 0, 0, time.UTC), "2026-09-14T08:30:00Z"},
		{time.Date(2026, 9, 14, 8, 30, 0, 100, time.UTC), "2026-09-14T08:30:00.0000001Z"},
		{time.Date(2026, 9, 14, 10, 30, 0, 500_000_000, time.FixedZone("x", 7200)), "2026-09-14T08:30:00.5000000Z"},
		{90 * time.Minute, "01:30:00"},
		{26*time.Hour + 3*time.Second + 500*time.Millisecond, "1.02:00:03.5000000"},
		{-time.Hour, "-01:00:00"},
		{json.RawMessage(`"a@b.c"`), "a@b.c"},
		{json.RawMessage(`[1,{"b":2}]`), `[1,{"b":2}]`},
		{json.RawMessage(`7`), "7"},
	}
	for _, c := range cases {
		if got := FormatCell(c.in); got != c.want {
			t.Errorf("FormatCell(%#v) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestWriters(t *testing.T) {
	cols := []engine.Column{{Name: "N", Type: engine.Long}, {Name: "Owner", Type: engine.Dynamic}, {Name: "When", Type: engine.DateTime}}
	rows := [][]any{
		{int64(1), json.RawMessage(`{"email":"a@b.c"}`), time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		{nil, nil, nil},
	}
	want := map[string]string{
		"csv":    "N,Owner,When\n1,\"{\"\"email\"\":\"\"a@b.c\"\"}\",2026-01-02T03:04:05Z\n,,\n",
		"tsv":    "N\tOwner\tWhen\n1\t\"{\"\"email\"\":\"\"a@b.c\"\"}\"\t2026-01-02T03:04:05Z\n\t\t\n",
		"json":   "[\n{\"N\":1,\"Owner\":{\"email\":\"a@b.c\"},\"When\":\"2026-01-02T03:04:05Z\"},\n{\"N\":null,\"Owner\":null,\"When\":null}\n]\n",
		"ndjson": "{\"N\":1,\"Owner\":{\"email\":\"a@b.c\"},\"When\":\"2026-01-02T03:04:05Z\"}\n{\"N\":null,\"Owner\":null,\"When\":null}\n",
	}
	for format, w := range want {
		var out bytes.Buffer
		rw, err := New(&out, format, cols)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if err := rw.Row(r); err != nil {
				t.Fatal(err)
			}
		}
		if err := rw.Close(); err != nil {
			t.Fatal(err)
		}
		if out.String() != w {
			t.Errorf("%s:\n got %q\nwant %q", format, out.String(), w)
		}
	}
}

func TestEmptyJSONAndTable(t *testing.T) {
	cols := []engine.Column{{Name: "Title", Type: engine.String}}
	var out bytes.Buffer
	rw, _ := New(&out, "json", cols)
	rw.Close()
	if out.String() != "[]\n" {
		t.Errorf("empty json = %q", out.String())
	}
	out.Reset()
	rw, _ = New(&out, "table", cols)
	rw.Row([]any{strings.Repeat("x", 100)})
	rw.Close()
	if !strings.Contains(out.String(), strings.Repeat("x", maxTableCell-1)+"…") || !strings.Contains(out.String(), "(1 row)") {
		t.Errorf("table did not cut the long cell or count rows:\n%s", out.String())
	}
	if _, err := New(&out, "yaml", cols); err == nil {
		t.Error("unknown format accepted")
	}
}

func TestMarkdown(t *testing.T) {
	cols := []engine.Column{{Name: "Title", Type: engine.String}, {Name: "N", Type: engine.Long}}
	var out bytes.Buffer
	rw, err := New(&out, "markdown", cols)
	if err != nil {
		t.Fatal(err)
	}
	rw.Row([]any{"a | b", int64(1)})
	rw.Close()
	want := "| Title | N |\n| --- | --- |\n| a \\| b | 1 |\n"
	if out.String() != want {
		t.Errorf("markdown:\n got %q\nwant %q", out.String(), want)
	}
}
