package ingest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Format is the layout of an input, detected from its content.
type Format int

const (
	// NDJSON is one JSON object per line, as exported from Log Analytics.
	NDJSON Format = iota + 1
	// JSONArray is a JSON array of objects.
	JSONArray
	// APIResponse is the Log Analytics query API response:
	// {"tables":[{"name":"PrimaryResult","columns":[…],"rows":[[…],…]}]}.
	APIResponse
	// CSV is comma-separated values with a header row, as the Logs page's
	// "Export to CSV" writes them.
	CSV
)

// String names the format for people.
func (f Format) String() string {
	switch f {
	case NDJSON:
		return "NDJSON"
	case JSONArray:
		return "JSON array"
	case APIResponse:
		return "Log Analytics API response"
	case CSV:
		return "CSV"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// lastByte is the last byte, but for white space, of a well-formed input of
// the format; 0 when it can be any.
func (f Format) lastByte() byte {
	switch f {
	case NDJSON, APIResponse:
		return '}'
	case JSONArray:
		return ']'
	}
	return 0
}

var (
	utf8BOM   = []byte("\xef\xbb\xbf")
	gzipMagic = []byte("\x1f\x8b")
)

// errEmpty is returned for an input without any content.
var errEmpty = errors.New("empty file")

// sniffSize is how much of an input detection looks at.
const sniffSize = 64 << 10

// isGzip reports whether br starts with the gzip magic bytes.
func isGzip(br *bufio.Reader) bool {
	head, _ := br.Peek(len(gzipMagic))
	return bytes.Equal(head, gzipMagic)
}

// sniff detects the format of the input br reads, without consuming it.
// br must buffer at least sniffSize bytes.
func sniff(br *bufio.Reader) (Format, error) {
	head, err := br.Peek(sniffSize)
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, err
	}
	return detect(head, len(head) < sniffSize)
}

// detect tells the format from the first bytes of an input; complete says
// whether head is the whole input.
func detect(head []byte, complete bool) (Format, error) {
	text := bytes.TrimLeft(bytes.TrimPrefix(head, utf8BOM), " \t\r\n")
	if len(text) == 0 {
		if complete {
			return 0, errEmpty
		}
		return 0, errors.New("not a recognised format: the first 64 KB are white space")
	}
	switch text[0] {
	case '[':
		return JSONArray, nil
	case '{':
		if firstKey(text) == "tables" {
			return APIResponse, nil
		}
		return NDJSON, nil
	}
	return CSV, nil
}

// firstKey returns the first key of the JSON object text starts with, or ""
// when it cannot be read from text.
func firstKey(text []byte) string {
	dec := json.NewDecoder(bytes.NewReader(text))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return ""
	}
	key, _ := dec.Token()
	s, _ := key.(string)
	return s
}

// headerName turns a CSV header cell into a column name. The Logs page
// exports datetime columns as "TimeGenerated [UTC]"; "[Local Time]" columns
// cannot be converted to UTC and are refused.
func headerName(cell string) (string, error) {
	name := strings.TrimSpace(cell)
	if base, ok := strings.CutSuffix(name, "[UTC]"); ok {
		return strings.TrimSpace(base), nil
	}
	if base, ok := strings.CutSuffix(name, "[Local Time]"); ok {
		return "", fmt.Errorf("column %q holds local times, which cannot be converted to UTC: export again with times in UTC", strings.TrimSpace(base))
	}
	return name, nil
}
