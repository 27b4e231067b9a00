package parser

import (
	"errors"
	"strings"

	"unicode/utf8"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// Parse parses a KQL query. Errors are *Error.
func Parse(text string) (*Query, error) {
	return parse(text, true)
}

// parse parses text by hand or, when the hand-written parser gives up on
// it (or hand is false), with participle's grammar. Tests parse every query
// both ways and compare the results.
func parse(text string, hand bool) (*Query, error) {
	if i := strings.IndexByte(text, 0); i >= 0 {
		return nil, Errorf(Span{i, i + 1}, "the query contains a NUL character")
	}
	if hand {
		if tokens, err := lexTokens(text); err == nil {
			if g := handQuery(tokens); g != nil {
				return lowerQuery(g)
			}
			if err := tooDeepToSearch(tokens.all); err != nil {
				return nil, err
			}
		}
	}
	g, err := grammar.ParseString("", text)
	if err != nil {
		return nil, participleError(text, err)
	}
	return lowerQuery(g)
}

// maxJoinDepth is how deeply join and lookup subqueries may nest in a
// query participle searches for its error: its search takes twice as long
// for each level (10 ms at 8, 0.1 s at 12, minutes at 24), and a query that
// does not parse must not hold a server's request that long. (Other
// parentheses cost it nothing like that.)
const maxJoinDepth = 8

// tooDeepToSearch returns the error for a query that did not parse and
// nests join or lookup subqueries deeper than maxJoinDepth: the '(' that is
// not closed, or else the one that goes too deep. nil lets participle find
// the error.
func tooDeepToSearch(all []lexer.Token) error {
	type paren struct {
		at   int  // offset of the '('
		join bool // it opens a join's or lookup's subquery
	}
	var open []paren
	joins, tooDeep := 0, -1
	afterJoin := false // in a join or lookup operator, before its '('
	for _, tok := range all {
		switch tok.Value {
		case "join", "lookup":
			afterJoin = true
		case "|":
			afterJoin = false
		case "(":
			open = append(open, paren{tok.Pos.Offset, afterJoin})
			if afterJoin {
				if joins++; joins > maxJoinDepth && tooDeep < 0 {
					tooDeep = tok.Pos.Offset
				}
			}
			afterJoin = false
		case ")":
			if n := len(open); n > 0 {
				if open[n-1].join {
					joins--
				}
				open = open[:n-1]
			}
		}
	}
	switch {
	case tooDeep < 0:
		return nil
	case len(open) > 0:
		at := open[len(open)-1].at
		return Errorf(Span{at, at + 1}, "this '(' is never closed")
	}
	return Errorf(Span{tooDeep, tooDeep + 1}, "the query does not parse, and this join's subquery nests deeper than %d levels, too deep for socq to find where the error is", maxJoinDepth).
		WithHint("split the query with let statements")
}

// participleError turns participle's error into an *Error at the right place.
func participleError(text string, err error) *Error {
	var perr participle.Error
	if !errors.As(err, &perr) {
		return Errorf(Span{0, len(text)}, "%v", err)
	}
	pos := perr.Position().Offset
	end := pos + 1
	// Underline the whole offending token, not just its first byte.
	for end < len(text) && !strings.ContainsRune(" \t\r\n|(),", rune(text[end])) && isWordByte(text[pos]) == isWordByte(text[end]) {
		end++
	}
	if pos >= len(text) {
		return Errorf(Span{len(text), len(text)}, "unexpected end of query")
	}
	msg := perr.Message()
	var le *lexer.Error
	if errors.As(err, &le) {
		if c := text[pos]; c == '"' || c == '\'' {
			end = len(text)
			if nl := strings.IndexByte(text[pos:], '\n'); nl >= 0 {
				end = pos + nl
			}
			return Errorf(Span{pos, end}, "unterminated string literal")
		}
		r, size := utf8.DecodeRuneInString(text[pos:])
		return Errorf(Span{pos, pos + size}, "unexpected character %q", r)
	}
	var ue *participle.UnexpectedTokenError
	if errors.As(err, &ue) {
		end = pos + max(len(ue.Unexpected.Value), 1)
		msg = "unexpected " + describeToken(ue.Unexpected.Value)
		if ue.Expect != "" {
			msg += "; expected " + ue.Expect
		}
	}
	return Errorf(Span{pos, end}, "%s", msg)
}

func describeToken(v string) string {
	if v == "" {
		return "end of query"
	}
	return "'" + v + "'"
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
