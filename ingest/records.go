package ingest

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file splits inputs into records in Go. DuckDB reads well-formed files
// itself; Go splitting is the slow path, used to find the lines of rejected
// records, to read inputs DuckDB cannot parse (a malformed line) and inputs it
// cannot open (a reader, with file access off).

// record is one record of an input.
type record struct {
	line int    // 1-based line where the record starts
	raw  []byte // the record as written in the input
	// json is the record as one line of JSON for DuckDB: an object (NDJSON,
	// JSON array) or an array of values (API response rows, CSV records).
	json []byte
	err  error // why the record cannot be read at all; json is then nil
}

// readable says why DuckDB cannot be handed rec, if it cannot: a record Go
// could not split, text that is not UTF-8 or not JSON.
func readable(rec record) error {
	switch {
	case rec.err != nil:
		return rec.err
	case !utf8.Valid(rec.raw):
		return errors.New("not valid UTF-8 text")
	case !json.Valid(rec.json):
		if err := jsonError(rec.json); !strings.Contains(err.Error(), "exceeded max depth") {
			return err
		}
		// Deeper than Go reads (10000 levels): DuckDB, which has no such
		// limit, checks it (see objectRecords), as it does in a file it reads.
		return nil
	}
	if key := duplicateKey(rec.json); key != "" {
		return fmt.Errorf("duplicate key %q", key)
	}
	return nil
}

// duplicateKey returns a key that the JSON object text holds twice at its
// top level; "" when there is none, or text is not an object. (Which value
// would win is up to the reader: Go takes the last, DuckDB the first.)
func duplicateKey(text []byte) string {
	if len(text) == 0 || text[0] != '{' {
		return ""
	}
	dec := json.NewDecoder(bytes.NewReader(text))
	if _, err := dec.Token(); err != nil {
		return ""
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		key, _ := tok.(string)
		if seen[key] {
			return key
		}
		seen[key] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return ""
		}
	}
	return ""
}

// scanFunc splits the input r into records and calls yield for each, in order,
// until yield returns false. For the formats whose records are arrays of
// values it returns the column names. An error means the rest of the input
// cannot be read.
type scanFunc func(r io.Reader, yield func(record) bool) (columns []string, err error)

func scannerFor(f Format) scanFunc {
	switch f {
	case NDJSON:
		return scanNDJSON
	case JSONArray:
		return scanJSONArray
	case APIResponse:
		return scanAPIResponse
	case CSV:
		return scanCSV
	}
	panic(fmt.Sprintf("ingest: no scanner for %v", f))
}

// scanNDJSON yields every line that is not blank. It does not check that a
// line is JSON: see readable.
func scanNDJSON(r io.Reader, yield func(record) bool) ([]string, error) {
	br := skipBOM(r)
	for line := 1; ; line++ {
		text, err := br.ReadBytes('\n')
		if text = bytes.TrimSpace(text); len(text) > 0 {
			if !yield(record{line: line, raw: text, json: text}) {
				return nil, nil
			}
		}
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// skipBOM returns r without a leading UTF-8 byte order mark.
func skipBOM(r io.Reader) *bufio.Reader {
	br := bufio.NewReaderSize(r, 64<<10)
	if head, _ := br.Peek(len(utf8BOM)); bytes.Equal(head, utf8BOM) {
		br.Discard(len(utf8BOM))
	}
	return br
}

// jsonError explains why text, which is not valid JSON, cannot be read.
func jsonError(text []byte) error {
	var v any
	err := json.Unmarshal(text, &v)
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return fmt.Errorf("invalid JSON at byte %d: %v", syntax.Offset, err)
	}
	if err == nil {
		err = errors.New("cannot be read")
	}
	return fmt.Errorf("invalid JSON: %v", err)
}

// scanJSONArray yields the elements of a JSON array.
func scanJSONArray(r io.Reader, yield func(record) bool) ([]string, error) {
	cur := newCursor(skipBOM(r))
	dec := json.NewDecoder(cur)
	if err := expectDelim(dec, cur, '['); err != nil {
		return nil, err
	}
	if more, err := scanElements(dec, cur, yield); err != nil || !more {
		return nil, err
	}
	if err := expectDelim(dec, cur, ']'); err != nil {
		return nil, err
	}
	return nil, expectEnd(dec, cur)
}

// scanAPIResponse yields the rows of the first table of a query API response
// and returns that table's column names.
func scanAPIResponse(r io.Reader, yield func(record) bool) ([]string, error) {
	cur := newCursor(skipBOM(r))
	dec := json.NewDecoder(cur)
	var columns []string
	found := false
	err := scanObject(dec, cur, func(key string) (bool, error) {
		if key != "tables" || found {
			return true, skipValue(dec, cur)
		}
		found = true
		if err := expectDelim(dec, cur, '['); err != nil {
			return false, err
		}
		if !dec.More() {
			return false, errors.New(`the response has no tables`)
		}
		more := true
		err := scanObject(dec, cur, func(key string) (bool, error) {
			switch key {
			case "columns":
				var cols []struct{ Name string }
				if err := dec.Decode(&cols); err != nil {
					return false, cur.decodeError(dec, err)
				}
				for _, c := range cols {
					columns = append(columns, c.Name)
				}
				return true, nil
			case "rows":
				if err := expectDelim(dec, cur, '['); err != nil {
					return false, err
				}
				var err error
				if more, err = scanElements(dec, cur, yield); err != nil || !more {
					return false, err
				}
				return true, expectDelim(dec, cur, ']')
			}
			return true, skipValue(dec, cur)
		})
		if err != nil || !more {
			return false, err
		}
		for dec.More() { // further tables are not ours
			if err := skipValue(dec, cur); err != nil {
				return false, err
			}
		}
		return true, expectDelim(dec, cur, ']')
	})
	if err != nil {
		return columns, err
	}
	if !found {
		return nil, errors.New(`no "tables" in the response`)
	}
	return columns, nil
}

// scanObject reads a JSON object, calling each with every key; each reads the
// value. It stops early, without error, when each returns false.
func scanObject(dec *json.Decoder, cur *cursor, each func(key string) (bool, error)) error {
	if err := expectDelim(dec, cur, '{'); err != nil {
		return err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return cur.syntaxError(dec, err)
		}
		key, _ := tok.(string)
		if more, err := each(key); err != nil || !more {
			return err
		}
	}
	return expectDelim(dec, cur, '}')
}

// scanElements yields the elements of the array dec is in, up to its end,
// and reports whether yield wanted more.
func scanElements(dec *json.Decoder, cur *cursor, yield func(record) bool) (bool, error) {
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return false, cur.decodeError(dec, err)
		}
		end := dec.InputOffset()
		cur.take(end - int64(len(raw))) // the separator before the element
		text, line := cur.take(end)
		var compact bytes.Buffer
		if err := json.Compact(&compact, text); err != nil {
			return false, err
		}
		if !yield(record{line: line, raw: text, json: compact.Bytes()}) {
			return false, nil
		}
	}
	return true, nil
}

func skipValue(dec *json.Decoder, cur *cursor) error {
	var skip json.RawMessage
	if err := dec.Decode(&skip); err != nil {
		return cur.decodeError(dec, err)
	}
	return nil
}

func expectDelim(dec *json.Decoder, cur *cursor, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return cur.syntaxError(dec, err)
	}
	if tok != want {
		return cur.errorAt(dec.InputOffset(), fmt.Errorf("invalid JSON: expected %v, found %s", want, tokenText(tok)))
	}
	return nil
}

// tokenText shows a JSON token as it reads in the input.
func tokenText(tok json.Token) string {
	switch t := tok.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(t)
	}
	return fmt.Sprint(tok)
}

// expectEnd checks that nothing but white space follows the JSON value.
func expectEnd(dec *json.Decoder, cur *cursor) error {
	if tok, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return cur.syntaxError(dec, err)
		}
		return cur.errorAt(dec.InputOffset(), fmt.Errorf("invalid JSON: unexpected %v after the end of the array", tok))
	}
	return nil
}

// scanCSV yields the records after the header row and returns the header.
// A record Go's CSV reader refuses, or with the wrong number of fields, is a
// record with an error.
func scanCSV(r io.Reader, yield func(record) bool) ([]string, error) {
	cur := newCursor(skipBOM(r))
	cr := csv.NewReader(cur)
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errEmpty
		}
		return nil, fmt.Errorf("CSV header: %w", err)
	}
	cur.take(cr.InputOffset())
	for {
		fields, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return header, nil
		}
		text, line := cur.take(cr.InputOffset())
		// csv.Reader skips blank lines before a record; they are not part of it.
		for len(text) > 0 && (text[0] == '\n' || text[0] == '\r') {
			if text[0] == '\n' {
				line++
			}
			text = text[1:]
		}
		rec := record{line: line, raw: bytes.TrimRight(text, "\r\n")}
		var parse *csv.ParseError
		switch {
		case errors.As(err, &parse) && errors.Is(parse.Err, csv.ErrFieldCount):
			rec.err = fmt.Errorf("the record has %d fields, the header has %d", len(fields), len(header))
		case errors.As(err, &parse):
			rec.err = fmt.Errorf("invalid CSV: %v", parse.Err)
		case err != nil:
			return header, err
		default:
			rec.json, err = json.Marshal(fields)
			if err != nil {
				return header, err
			}
		}
		if !yield(rec) {
			return header, nil
		}
	}
}

// A cursor follows a parser (json.Decoder, csv.Reader) through its input:
// the parser reads ahead through the cursor, and the cursor hands back the
// text between offsets the parser reports, with the line it starts on.
type cursor struct {
	r     io.Reader
	buf   []byte // input the parser has read; buf[start:] is not taken yet
	start int
	off   int64 // the input offset of buf[start]
	line  int   // the 1-based line of the input at off
}

func newCursor(r io.Reader) *cursor { return &cursor{r: r, line: 1} }

func (c *cursor) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.start > len(c.buf)/2 { // drop taken text, at amortised cost
		c.buf = append(c.buf[:0], c.buf[c.start:]...)
		c.start = 0
	}
	c.buf = append(c.buf, p[:n]...)
	return n, err
}

// pending is the input from offset from on, as far as the parser has read it.
func (c *cursor) pending(from int64) []byte {
	return c.buf[c.start+int(min(max(from-c.off, 0), int64(len(c.buf)-c.start))):]
}

// take consumes the input up to offset end and returns it (a copy) with the
// line it starts on.
func (c *cursor) take(end int64) ([]byte, int) {
	text := bytes.Clone(c.buf[c.start : len(c.buf)-len(c.pending(end))])
	line := c.line
	c.line += bytes.Count(text, []byte("\n"))
	c.start += len(text)
	c.off += int64(len(text))
	return text, line
}

// errorAt places err at the line holding input offset off.
func (c *cursor) errorAt(off int64, err error) error {
	c.take(off)
	return &lineError{line: c.line, err: err}
}

// syntaxError turns an error from dec.Token into one that names the line:
// the offset of a Token syntax error counts from the start of the input.
func (c *cursor) syntaxError(dec *json.Decoder, err error) error {
	off := dec.InputOffset()
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		off = syntax.Offset
	}
	return c.jsonError(off, err)
}

// decodeError turns an error from dec.Decode into one that names the line.
// The offset of a Decode syntax error counts from no useful place, so the
// text of the value, as far as it was read, is checked again to place it.
func (c *cursor) decodeError(dec *json.Decoder, err error) error {
	start := dec.InputOffset()
	var v any
	var syntax *json.SyntaxError
	if errors.As(json.Unmarshal(c.pending(start), &v), &syntax) {
		return c.jsonError(start+syntax.Offset, err)
	}
	return c.jsonError(start, err)
}

func (c *cursor) jsonError(off int64, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = errors.New("unexpected end of input")
	}
	return c.errorAt(off, fmt.Errorf("invalid JSON: %v", err))
}

// lineError is an error at a line of an input.
type lineError struct {
	line int
	err  error
}

func (e *lineError) Error() string { return fmt.Sprintf("line %d: %v", e.line, e.err) }
func (e *lineError) Unwrap() error { return e.err }
