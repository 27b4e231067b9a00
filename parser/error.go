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

// Suggest returns the candidate closest to name (by edit distance, ignoring
// case), if it is close enough to be a likely typo: the "did you mean" of
// an error's hint.
func Suggest(name string, candidates []string) string {
	best, bestDist := "", max(len(name)/3, 2)+1
	for _, c := range candidates {
		if strings.EqualFold(c, name) {
			return c
		}
		if d := editDistance(strings.ToLower(name), strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
