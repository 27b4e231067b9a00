package ingest

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/socq/socq/engine"
)

// The fuzz targets below check each decoder on its own: the Go scanners of
// a JSON array, a Log Analytics API response and CSV, and gzip input. Their
// seeds are the fixture history in each format. (FuzzIngestNDJSON loads
// arbitrary content through DuckDB as well.)

// addFixture adds the start of testdata/history/fixture.<ext> and extra as
// seeds.
func addFixture(f *testing.F, ext string, extra ...string) {
	f.Helper()
	content, err := os.ReadFile("../testdata/history/fixture." + ext)
	if err != nil {
		f.Fatal(err)
	}
	// Prefixes: a whole fixture (50 KB) makes the fuzzer crawl (it
	// minimises every new input it finds).
	f.Add(content[:min(len(content), 3000)])
	f.Add(content[:min(len(content), 600)])
	for _, e := range extra {
		f.Add([]byte(e))
	}
}

// checkScan runs a scanner and checks what any scanner promises: records in
// order of line, each line inside the input, raw text that is in the input,
// and JSON that is valid when the record could be read.
func checkScan(t *testing.T, scan scanFunc, data []byte) (records []record, columns []string, err error) {
	t.Helper()
	lines := bytes.Count(data, []byte("\n")) + 1
	columns, err = scan(bytes.NewReader(data), func(rec record) bool {
		records = append(records, rec)
		return true
	})
	last := 0
	for _, rec := range records {
		if rec.line < max(last, 1) || rec.line > lines {
			t.Fatalf("record at line %d after line %d, input of %d lines", rec.line, last, lines)
		}
		last = rec.line
		if !bytes.Contains(data, bytes.TrimSpace(rec.raw)) {
			t.Fatalf("raw text %q is not in the input", rec.raw)
		}
		if rec.err == nil && !json.Valid(rec.json) {
			t.Fatalf("record %q: invalid JSON %q without an error", rec.raw, rec.json)
		}
	}
	return records, columns, err
}

// FuzzScanJSONArray: a JSON array that encoding/json reads is split into
// the same elements; anything else is an error, never a panic.
func FuzzScanJSONArray(f *testing.F) {
	addFixture(f, "json", "[]", "[1,\n2]", "[{\"a\":1},]", "[\n{\"a\":\"\\u00e9\"}\n]\n", "\xef\xbb\xbf[{}]")
	f.Fuzz(func(t *testing.T, data []byte) {
		records, _, err := checkScan(t, scanJSONArray, data)
		var want []json.RawMessage
		if json.Unmarshal(bytes.TrimPrefix(data, utf8BOM), &want) != nil || want == nil {
			return // not an array (encoding/json reads null as no slice, without an error)
		}
		if err != nil {
			t.Fatalf("encoding/json reads the array, the scanner fails: %v", err)
		}
		if len(records) != len(want) {
			t.Fatalf("%d records, encoding/json finds %d", len(records), len(want))
		}
		for i, rec := range records {
			var compact bytes.Buffer
			json.Compact(&compact, want[i])
			if !bytes.Equal(rec.json, compact.Bytes()) {
				t.Fatalf("record %d is %s, want %s", i, rec.json, compact.Bytes())
			}
		}
	})
}

// FuzzScanAPIResponse: the rows of a response encoding/json reads are the
// records, and its columns the column names.
func FuzzScanAPIResponse(f *testing.F) {
	addFixture(f, "api.json",
		`{"tables":[{"name":"PrimaryResult","columns":[{"name":"A","type":"string"}],"rows":[["x"],["y"]]}]}`,
		`{"tables":[{"rows":[[1]],"columns":[{"name":"A"}]},{"rows":[[2]]}]}`,
		`{"tables":[]}`, `{"x":1,"tables":[{"rows":[]}]}`)
	f.Fuzz(func(t *testing.T, data []byte) {
		records, columns, err := checkScan(t, scanAPIResponse, data)
		var want struct {
			Tables []struct {
				Columns []struct{ Name string }
				Rows    []json.RawMessage
			}
		}
		if json.Unmarshal(bytes.TrimPrefix(data, utf8BOM), &want) != nil || len(want.Tables) == 0 || !bytes.HasPrefix(bytes.TrimLeft(bytes.TrimPrefix(data, utf8BOM), " \t\r\n"), []byte("{")) {
			return
		}
		if !validUTF8Keys(data) || hasDuplicateKeys(data) {
			return // encoding/json folds keys and takes the last of two
		}
		if err != nil {
			t.Fatalf("encoding/json reads the response, the scanner fails: %v", err)
		}
		if len(records) != len(want.Tables[0].Rows) {
			t.Fatalf("%d records, encoding/json finds %d rows", len(records), len(want.Tables[0].Rows))
		}
		names := make([]string, len(want.Tables[0].Columns))
		for i, c := range want.Tables[0].Columns {
			names[i] = c.Name
		}
		if len(names) > 0 && !slices.Equal(columns, names) {
			t.Fatalf("columns %q, want %q", columns, names)
		}
	})
}

// validUTF8Keys reports whether data has no key that encoding/json would
// match case-insensitively to "tables", "columns", "rows" or "name" without
// being it: the scanner matches keys exactly, as Log Analytics writes them.
func validUTF8Keys(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := dec.Token()
		if err != nil {
			return true
		}
		if s, ok := tok.(string); ok {
			for _, k := range []string{"tables", "columns", "rows", "name"} {
				if s != k && bytes.EqualFold([]byte(s), []byte(k)) {
					return false
				}
			}
		}
	}
}

// hasDuplicateKeys reports whether any object in data repeats a key.
func hasDuplicateKeys(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	type frame struct {
		keys   map[string]bool
		object bool
		key    bool // the next string is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		top := func() *frame {
			if len(stack) == 0 {
				return nil
			}
			return stack[len(stack)-1]
		}()
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				if top != nil && top.object {
					top.key = true
				}
				stack = append(stack, &frame{keys: map[string]bool{}, object: v == '{', key: v == '{'})
			default:
				stack = stack[:len(stack)-1]
				if t := len(stack); t > 0 && stack[t-1].object {
					stack[t-1].key = true
				}
			}
		default:
			if top != nil && top.object {
				if s, ok := v.(string); ok && top.key {
					if top.keys[s] {
						return true
					}
					top.keys[s] = true
					top.key = false
				} else {
					top.key = true
				}
			}
		}
	}
}

// FuzzScanCSV: a CSV file encoding/csv reads (with a header and records of
// its width) is split into the same records.
func FuzzScanCSV(f *testing.F) {
	addFixture(f, "csv", "A,B\n1,2\n", "A,B\r\n\"x\r\ny\",2\r\n", "A\n\"unterminated\n", "A,B\n1\n1,2,3\n", "\xef\xbb\xbfA\n1\n")
	f.Fuzz(func(t *testing.T, data []byte) {
		records, header, err := checkScan(t, scanCSV, data)
		want, werr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, utf8BOM))).ReadAll()
		if werr != nil || len(want) == 0 || !utf8.Valid(data) {
			return // the loader rejects a record that is not UTF-8 (see readable)
		}
		if err != nil {
			t.Fatalf("encoding/csv reads the file, the scanner fails: %v", err)
		}
		if !slices.Equal(header, want[0]) || len(records) != len(want)-1 {
			t.Fatalf("header %q and %d records, want %q and %d", header, len(records), want[0], len(want)-1)
		}
		for i, rec := range records {
			var fields []string
			if rec.err != nil || json.Unmarshal(rec.json, &fields) != nil || !slices.Equal(fields, want[i+1]) {
				t.Fatalf("record %d: %q (%v), want %q", i, rec.json, rec.err, want[i+1])
			}
		}
	})
}

// FuzzIngestGzip: loading content gzip-compressed gives the same report and
// rows as loading it plain; arbitrary bytes after the gzip magic number are
// an error, never a panic.
func FuzzIngestGzip(f *testing.F) {
	for _, ext := range []string{"ndjson", "csv"} {
		content, err := os.ReadFile("../testdata/history/fixture." + ext)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(content[:min(len(content), 4000)], false)
	}
	f.Add([]byte("\x1f\x8b\x08\x00garbage"), true)
	f.Add(gzipped([]byte(`{"IncidentName":"a"}`))[:15], true)
	// One database for all runs (opening one costs more than a load): each
	// load starts from an empty table.
	ctx := context.Background()
	db, err := engine.Open(ctx, "", engine.Options{})
	if err != nil {
		f.Fatal(err)
	}
	defer db.Close()
	f.Fuzz(func(t *testing.T, data []byte, raw bool) {
		load := func(content []byte) (*Report, []string, error) {
			if _, err := db.Exec(ctx, `DELETE FROM "SecurityIncident"`); err != nil {
				t.Fatal(err)
			}
			rep, err := Reader(ctx, db, "in", bytes.NewReader(content))
			if err != nil {
				return nil, nil, err
			}
			return rep, dumpDB(t, db), nil
		}
		if raw {
			load(append([]byte("\x1f\x8b"), data...))
			return
		}
		if bytes.HasPrefix(data, gzipMagic) {
			return // compressed twice, it would be loaded once uncompressed
		}
		plainRep, plainRows, plainErr := load(data)
		zipRep, zipRows, zipErr := load(gzipped(data))
		if (plainErr == nil) != (zipErr == nil) {
			t.Fatalf("plain: %v; gzip: %v", plainErr, zipErr)
		}
		if plainErr != nil {
			if plainErr.Error() != zipErr.Error() {
				t.Fatalf("plain: %v; gzip: %v", plainErr, zipErr)
			}
			return
		}
		if plainRep.Files[0] != zipRep.Files[0] || !slices.Equal(rejectStrings(plainRep.Rejects), rejectStrings(zipRep.Rejects)) ||
			!slices.Equal(plainRows, zipRows) {
			t.Fatalf("plain and gzip loads differ: %+v vs %+v", plainRep.Files[0], zipRep.Files[0])
		}
	})
}
