package parser

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Error is a parse or compile error at a place in the query text.
type Error struct {
	Span Span
	Msg  string // "unknown column 'Titel'"
	Hint string // "did you mean 'Title'?"; may be empty
}

// Errorf returns an *Error at span.
func Errorf(span Span, format string, args ...any) *Error {
	return &Error{Span: span, Msg: fmt.Sprintf(format, args...)}
}

// WithHint returns e with a hint attached.
func (e *Error) WithHint(format string, args ...any) *Error {
	e.Hint = fmt.Sprintf(format, args...)
	return e
}

func (e *Error) Error() string {
	if e.Hint != "" {
		return e.Msg + " (" + e.Hint + ")"
	}
	return e.Msg
}

// Render formats the error for a person, with the offending line of query
// and carets under the span:
//
//	error: unknown column 'Titel'
//	  | SecurityIncident | where Titel has "phish"
//	  |                          ^^^^^
//	  hint: did you mean 'Title'?
func (e *Error) Render(query string) string {
	var b strings.Builder
	b.WriteString("error: " + e.Msg + "\n")
	start := min(max(e.Span.Start, 0), len(query))
	end := min(max(e.Span.End, start), len(query))
	lineStart := strings.LastIndexByte(query[:start], '\n') + 1
	lineEnd := strings.IndexByte(query[start:], '\n')
	if lineEnd < 0 {
		lineEnd = len(query)
	} else {
		lineEnd += start
	}
	line := query[lineStart:lineEnd]
	if lineNo := strings.Count(query[:lineStart], "\n") + 1; strings.Contains(query, "\n") {
		fmt.Fprintf(&b, "  --> line %d, column %d\n", lineNo, utf8.RuneCountInString(query[lineStart:start])+1)
	}
	b.WriteString("  | " + strings.ReplaceAll(line, "\t", " ") + "\n")
	width := utf8.RuneCountInString(query[start:min(end, lineEnd)])
	if width < 1 {
		width = 1
	}
	b.WriteString("  | " + strings.Repeat(" ", utf8.RuneCountInString(query[lineStart:start])) + strings.Repeat("^", width) + "\n")
	if e.Hint != "" {
		b.WriteString("  hint: " + e.Hint + "\n")
	}
	return b.String()
}
