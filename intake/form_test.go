package intake

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/socq/socq/incident"
)

func TestParseMapping(t *testing.T) {
	tests := []struct {
		in      []string
		want    Mapping
		wantErr string
	}{
		{in: nil, want: Mapping{}},
		{in: []string{"title=Summary,description=What happened?"}, want: Mapping{"title": "Summary", "description": "What happened?"}},
		{in: []string{"Title = Summary ", "id=ID"}, want: Mapping{"title": "Summary", "id": "ID"}},
		// One pair alone in a --map: the column may contain commas.
		{in: []string{"description=Where, when and what"}, want: Mapping{"description": "Where, when and what"}},
		{in: []string{"description=Where, when and what,id=ID"}, want: Mapping{"description": "Where, when and what", "id": "ID"}},
		{in: []string{"title=A,"}, want: Mapping{"title": "A"}},
		{in: []string{"title=A,titel=B"}, wantErr: `unknown field "titel"`},
		{in: []string{"titel=x"}, wantErr: `unknown field "titel"`},
		{in: []string{"title"}, wantErr: "want FIELD=COLUMN"},
		{in: []string{"title="}, wantErr: "want FIELD=COLUMN"},
		{in: []string{"title=a", "title=b"}, wantErr: "title is mapped twice"},
	}
	for _, tt := range tests {
		got, err := ParseMapping(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseMapping(%q) error %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseMapping(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

// TestReadFormFixtures reads the CSV (BOM, CRLF, quoted newlines) and
// JSON fixtures.
func TestReadFormFixtures(t *testing.T) {
	t.Run("responses.csv", func(t *testing.T) {
		f, err := ReadForm(bytes.NewReader(readFixture(t, "responses.csv")), Mapping{"description": "What happened?"})
		if err != nil {
			t.Fatal(err)
		}
		if f.Format != "CSV" || f.Columns[0] != "ID" {
			t.Errorf("format %s columns %q (the BOM must not stick to the first column)", f.Format, f.Columns)
		}
		wantMapped := map[string]string{"title": "Summary", "description": "What happened?", "severity": "Severity", "tags": "Tags", "id": "ID"}
		if !reflect.DeepEqual(f.Mapped, wantMapped) {
			t.Errorf("mapped %v, want %v", f.Mapped, wantMapped)
		}
		lines := []int{}
		for _, s := range f.Submissions {
			lines = append(lines, s.Line)
		}
		// Row 1 spans lines 2-3; each row is reported by its first line.
		if !reflect.DeepEqual(lines, []int{2, 4, 5, 6, 7}) {
			t.Errorf("lines %v", lines)
		}
		first := f.Submissions[0]
		if first.Title != "Lost laptop" || first.Description != "Left it in a taxi.\nThe taxi company has it now." ||
			first.Severity != "high" || !reflect.DeepEqual(first.Tags, []string{"device", "lost"}) || first.ID != "1" {
			t.Errorf("first row %+v", first)
		}
		if first.Fields["Email"] != "ana@contoso.com" || first.Fields["Start time"] != "12/01/2026 09:00" {
			t.Errorf("other columns %v", first.Fields)
		}
		if last := f.Submissions[4]; last.Title != `Printer "scan to mail"` {
			t.Errorf("escaped quotes: %q", last.Title)
		}
	})
	t.Run("responses.json", func(t *testing.T) {
		f, err := ReadForm(bytes.NewReader(readFixture(t, "responses.json")), nil)
		if err != nil {
			t.Fatal(err)
		}
		if f.Format != "JSON" || f.Mapped["id"] != "responseId" || f.Mapped["description"] != "details" {
			t.Errorf("format %s mapped %v", f.Format, f.Mapped)
		}
		if len(f.Submissions) != 4 || len(f.Rejects) != 1 {
			t.Fatalf("submissions %+v rejects %+v", f.Submissions, f.Rejects)
		}
		if r := f.Rejects[0]; r.Line != 22 || !strings.Contains(r.Reason, "must be a JSON object, not a string") {
			t.Errorf("reject %+v", r)
		}
		s := f.Submissions[0]
		if s.Line != 3 || s.ID != "r-101" || !reflect.DeepEqual(s.Tags, []string{"physical", "usb"}) {
			t.Errorf("first %+v", s)
		}
		if s := f.Submissions[1]; s.Owner != "mei.lin@contoso.com" || s.Line != 10 {
			t.Errorf("second %+v", s)
		}
	})
}

// TestReadForm covers the shapes of form exports, built inline.
func TestReadForm(t *testing.T) {
	type row struct {
		Line                                    int
		Title, Description, Severity, Owner, ID string
		Tags                                    []string
	}
	tests := []struct {
		name    string
		data    string
		m       Mapping
		rows    []row
		rejects []RowError
		err     string
	}{
		{
			name: "semicolon separated (Excel, many locales), default columns",
			data: "Title;Description;Severity\nA;x, y;Low\n",
			rows: []row{{Line: 2, Title: "A", Description: "x, y", Severity: "Low"}},
		},
		{
			name: "tab separated, --map by any case",
			data: "Subject line\tBody\n\"multi\nline\"\tb\n",
			m:    Mapping{"title": "subject LINE"},
			rows: []row{{Line: 2, Title: "multi\nline", Description: "b"}},
		},
		{
			name: "no description column: the other answers are the description",
			data: "Title,Where,When\nBroken lock,Building 2,Monday\n",
			rows: []row{{Line: 2, Title: "Broken lock", Description: "Where: Building 2\nWhen: Monday"}},
		},
		{
			name: "blank rows skipped, wrong field count rejected, bare quote rejected",
			data: "title,severity\n,\nok,low\ntoo,many,fields\nbad \"quote,x\nlast,high\n",
			rows: []row{{Line: 3, Title: "ok", Severity: "low"}, {Line: 6, Title: "last", Severity: "high"}},
			rejects: []RowError{{Line: 4, Reason: "has 3 fields, the header has 2"},
				{Line: 5, Reason: `CSV: bare " in non-quoted-field`}},
		},
		{
			name: "tags separated by semicolons, repeated tags once",
			data: "title,tags\nA,\"x; y ;x,,z\"\n",
			rows: []row{{Line: 2, Title: "A", Tags: []string{"x", "y", "z"}}},
		},
		{
			name: "UTF-16 LE with BOM",
			data: utf16le("title,owner\r\nÜberweisung,jonas@contoso.com\r\n"),
			rows: []row{{Line: 2, Title: "Überweisung", Owner: "jonas@contoso.com"}},
		},
		{
			name: "Windows-1252 (Excel's CSV) is read",
			data: "title\nCaf\xe9 \x80\n",
			rows: []row{{Line: 2, Title: "Café €"}},
		},
		{
			name:    "an unterminated quote rejects the rest",
			data:    "title\nfine\n\"never closed\nmore\n",
			rows:    []row{{Line: 2, Title: "fine"}},
			rejects: []RowError{{Line: 3, Reason: `CSV: extraneous or missing " in quoted-field`}},
		},
		{
			name: "JSON array: numbers as text, null as empty, line of each object",
			data: "[\n {\"title\": \"A\", \"id\": 7, \"severity\": null},\n\n {\"title\": \"B\", \"id\": 8.5, \"tags\": \"p, q\"}\n]\n",
			rows: []row{{Line: 2, Title: "A", ID: "7"}, {Line: 4, Title: "B", ID: "8.5", Tags: []string{"p", "q"}}},
		},
		{
			name: "NDJSON",
			data: "{\"title\":\"A\"}\n{\"title\":\"B\",\"owner\":\"x@y.org\"}\n",
			rows: []row{{Line: 1, Title: "A"}, {Line: 2, Title: "B", Owner: "x@y.org"}},
		},
		{
			name:    "JSON: object in a text field, tags of mixed kinds",
			data:    "[{\"title\": {\"a\": 1}}, {\"title\": \"ok\", \"tags\": [\"a\", 1, true]}, {\"title\": \"t\", \"tags\": [[1]]}]",
			rows:    []row{{Line: 1, Title: "ok", Tags: []string{"a", "1", "true"}}},
			rejects: []RowError{{Line: 1, Reason: `title (column "title"): is an object, want text`}, {Line: 1, Reason: `tags (column "tags"): a tag an array, want text`}},
		},
		{
			name:    "JSON damaged in the middle: the objects before are read",
			data:    "[\n{\"title\": \"A\"},\n{\"title\": \"B\" \"x\"}\n]",
			rows:    []row{{Line: 2, Title: "A"}},
			rejects: []RowError{{Line: 3, Reason: "invalid JSON: invalid character '\"' after object key:value pair"}},
		},
		{
			name: `{"responses": [...]}`,
			data: "{\"form\": \"x\", \"responses\": [\n{\"Title\": \"A\"}]}",
			rows: []row{{Line: 2, Title: "A"}},
		},
		{name: "no title column", data: "Name,Email\nx,y\n", err: `no title column (its columns: "Name", "Email")`},
		{name: "--map to a missing column", data: "title\nx\n", m: Mapping{"id": "Response"}, err: `--map id=Response: the file has no column "Response"`},
		{name: "empty file", data: "", err: "the file is empty"},
		{name: "duplicate header", data: "title,Title\nx,y\n", err: `the column "Title" appears twice`},
		{name: "JSON that is not JSON", data: "[{\"title\": ", err: "line 1: invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ReadForm(strings.NewReader(tt.data), tt.m)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []row
			for _, s := range f.Submissions {
				got = append(got, row{Line: s.Line, Title: s.Title, Description: s.Description, Severity: s.Severity, Owner: s.Owner, ID: s.ID, Tags: s.Tags})
			}
			if !reflect.DeepEqual(got, tt.rows) {
				t.Errorf("rows\n %+v\nwant\n %+v", got, tt.rows)
			}
			if !reflect.DeepEqual(f.Rejects, tt.rejects) {
				t.Errorf("rejects\n %+v\nwant\n %+v", f.Rejects, tt.rejects)
			}
		})
	}
}

func utf16le(s string) string {
	b := []byte{0xFF, 0xFE}
	for _, r := range s {
		b = append(b, byte(r), byte(r>>8))
	}
	return string(b)
}

func TestSubmissionNewIncident(t *testing.T) {
	s := Submission{Line: 4, Title: "T", Severity: "low", Tags: []string{"x"}, ID: "17", Fields: map[string]string{"Email": "a@b.org"}}
	in := s.NewIncident("phish-form", "f.csv")
	if in.ExternalID != "form:phish-form:17" || !reflect.DeepEqual(in.Tags, []string{TagFromForm, "x"}) ||
		in.Source["line"] != 4 || in.Source["file"] != "f.csv" || in.Source["form"] != "phish-form" {
		t.Errorf("%+v", in)
	}
	// A row without id is named by its values, not by its line.
	a := (&Submission{Line: 2, Title: "T", Fields: map[string]string{"When": "Monday"}}).NewIncident("", "f.csv")
	b := (&Submission{Line: 9, Title: "T", Fields: map[string]string{"When": "Monday"}}).NewIncident("", "g.csv")
	c := (&Submission{Line: 2, Title: "T", Fields: map[string]string{"When": "Tuesday"}}).NewIncident("", "f.csv")
	if !strings.HasPrefix(a.ExternalID, "form:sha256:") || len(a.ExternalID) != len("form:sha256:")+32 || a.ExternalID != b.ExternalID || a.ExternalID == c.ExternalID {
		t.Errorf("ids of rows without id: %q %q %q", a.ExternalID, b.ExternalID, c.ExternalID)
	}
	if FormExternalID("", "9") != "form:9" {
		t.Error(FormExternalID("", "9"))
	}
}

// TestLongGeneratedDescription: a description made of the other answers
// is cut to fit; a mapped description is passed on as written, for the
// Recorder to refuse when too long (as `incident create` does).
func TestLongGeneratedDescription(t *testing.T) {
	long := strings.Repeat("word ", 2000)
	f, err := ReadForm(strings.NewReader("title,notes\nA,"+long+"\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := f.Submissions[0].Description; utf8.RuneCountInString(d) > incident.MaxDescription || !strings.Contains(d, "[… cut:") {
		t.Errorf("generated description has %d characters", utf8.RuneCountInString(d))
	}
	f, err = ReadForm(strings.NewReader("title,description\nA,"+long+"\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := f.Submissions[0].Description; d != strings.TrimSpace(long)+" " && d != long {
		t.Errorf("mapped description changed: %d characters", len(d))
	}
}

func TestMappingErrorType(t *testing.T) {
	_, err := ReadForm(strings.NewReader("a\n1\n"), nil)
	var me *MappingError
	if !errors.As(err, &me) {
		t.Errorf("err %T %v, want *MappingError", err, err)
	}
}
