package parser

import (
	"fmt"
	"io"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
)

// The KQL lexer, written by hand: a rule-per-regexp lexer spent most of a
// parse trying ten regular expressions at every token. Its rules, in
// priority order, are the regular expressions in lexer_test.go, which checks
// this lexer against them token for token.

// Token types. Comments and white space are returned for the parser to
// elide, so that node spans end where their last token ends.
const (
	tokTypedLit lexer.TokenType = -(iota + 2) // datetime(...), timespan(...)
	tokMultiString
	tokString
	tokTimespan
	tokNumber
	tokNegWord  // !has, !in~
	tokDashWord // mv-expand, project-away
	tokIdent
	tokPunct
	tokComment
	tokWhitespace
)

// kqlLexerDef is the participle lexer definition.
type kqlLexerDef struct{}

// Symbols names the token types. It builds the map on each call: the
// grammar is built during package initialisation, before package-level
// maps are certain to exist.
func (kqlLexerDef) Symbols() map[string]lexer.TokenType {
	return map[string]lexer.TokenType{
		"EOF": lexer.EOF, "TypedLit": tokTypedLit, "MultiString": tokMultiString, "String": tokString,
		"Timespan": tokTimespan, "Number": tokNumber, "NegWord": tokNegWord, "DashWord": tokDashWord,
		"Ident": tokIdent, "Punct": tokPunct, "Comment": tokComment, "Whitespace": tokWhitespace,
	}
}

func (d kqlLexerDef) Lex(filename string, r io.Reader) (lexer.Lexer, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return d.LexString(filename, string(b))
}

func (kqlLexerDef) LexString(filename, s string) (lexer.Lexer, error) {
	return &kqlLex{src: s, pos: lexer.Position{Filename: filename, Line: 1, Column: 1}}, nil
}

type kqlLex struct {
	src string
	pos lexer.Position
}

func isWord(c byte) bool   { return c == '_' || isDigit(c) || isLetter(c) }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// advance moves the position over n bytes.
func (l *kqlLex) advance(n int) {
	for _, c := range []byte(l.src[l.pos.Offset : l.pos.Offset+n]) {
		if c == '\n' {
			l.pos.Line++
			l.pos.Column = 1
		} else if c < 0x80 || c >= 0xC0 { // count runes, not continuation bytes
			l.pos.Column++
		}
	}
	l.pos.Offset += n
}

func (l *kqlLex) Next() (lexer.Token, error) {
	rest := l.src[l.pos.Offset:]
	if rest == "" {
		return lexer.Token{Type: lexer.EOF, Pos: l.pos}, nil
	}
	typ, n := tokComment, 0
	switch {
	case strings.HasPrefix(rest, "//"):
		if n = strings.IndexByte(rest, '\n'); n < 0 {
			n = len(rest)
		}
	case rest[0] == ' ' || rest[0] == '\t' || rest[0] == '\r' || rest[0] == '\n':
		typ, n = tokWhitespace, 1
		for n < len(rest) && (rest[n] == ' ' || rest[n] == '\t' || rest[n] == '\r' || rest[n] == '\n') {
			n++
		}
	default:
		if typ, n = l.match(rest); n == 0 {
			return lexer.Token{}, &lexer.Error{Msg: fmt.Sprintf("invalid input text %q", firstRune(rest)), Pos: l.pos}
		}
	}
	tok := lexer.Token{Type: typ, Value: rest[:n], Pos: l.pos}
	l.advance(n)
	return tok, nil
}

func firstRune(s string) string {
	for _, r := range s {
		return string(r)
	}
	return ""
}

// match returns the type and length of the token at the start of s. The
// rules are tried in priority order; each is skipped when the first byte
// cannot start it.
func (l *kqlLex) match(s string) (lexer.TokenType, int) {
	c := s[0]
	prevWord := l.pos.Offset > 0 && isWord(l.src[l.pos.Offset-1])
	if c == 'd' || c == 't' {
		if n := typedLit(s, prevWord); n > 0 {
			return tokTypedLit, n
		}
	}
	if c == '`' || c == '~' || c == 'h' || c == 'H' {
		if n := multiString(s); n > 0 {
			return tokMultiString, n
		}
	}
	if c == '"' || c == '\'' || c == '@' || c == 'h' || c == 'H' {
		if n := stringLit(s); n > 0 {
			return tokString, n
		}
	}
	if isDigit(c) || c == '.' {
		if n := timespanLit(s); n > 0 {
			return tokTimespan, n
		}
		if n := numberLit(s); n > 0 {
			return tokNumber, n
		}
	}
	if c == '!' {
		n := 1
		for n < len(s) && (isLetter(s[n]) || s[n] == '_') {
			n++
		}
		if n > 1 {
			if n < len(s) && s[n] == '~' {
				n++
			}
			return tokNegWord, n
		}
	}
	n := identLit(s)
	// A dash word starts with the letters of a name and a '-'.
	if isLetter(c) && !prevWord && n < len(s) && s[n] == '-' {
		for _, w := range dashWords {
			if strings.HasPrefix(s, w) && (len(s) == len(w) || !isWord(s[len(w)])) {
				return tokDashWord, len(w)
			}
		}
	}
	if n > 0 {
		return tokIdent, n
	}
	if c == '=' || c == '!' || c == '<' || c == '>' || c == '.' {
		for _, p := range twoCharPunct {
			if strings.HasPrefix(s, p) {
				return tokPunct, 2
			}
		}
	}
	if strings.IndexByte("-+*/%<>=(),.[]{}|:;!", c) >= 0 {
		return tokPunct, 1
	}
	return 0, 0
}

var (
	dashWords = []string{"mv-expand", "mv-apply", "project-away", "project-keep", "project-rename",
		"project-reorder", "project-smart", "make-series", "top-nested", "top-hitters", "parse-where", "parse-kv"}
	twoCharPunct  = []string{"==", "!=", "<=", ">=", "=~", "!~", "<>", ".."}
	typedLitWords = []string{"datetime(", "date(", "timespan(", "time("}
)

// typedLit matches datetime(...) and friends: the raw text up to ')',
// without nested parentheses.
func typedLit(s string, prevWord bool) int {
	if prevWord {
		return 0
	}
	for _, w := range typedLitWords {
		if strings.HasPrefix(s, w) {
			end := strings.IndexAny(s[len(w):], "()")
			if end >= 0 && s[len(w)+end] == ')' {
				return len(w) + end + 1
			}
			return 0
		}
	}
	return 0
}

// optionalH skips an obfuscation prefix h or H.
func optionalH(s string) int {
	if len(s) > 1 && (s[0] == 'h' || s[0] == 'H') {
		return 1
	}
	return 0
}

// multiString matches ```...``` (no backtick inside) and ~~~...~~~ (a ~
// or ~~ may stand inside).
func multiString(s string) int {
	h := optionalH(s)
	switch {
	case strings.HasPrefix(s[h:], "```"):
		// The first backtick after the opening fence must start the closing one.
		if end := strings.IndexByte(s[h+3:], '`'); end >= 0 && strings.HasPrefix(s[h+3+end:], "```") {
			return h + 3 + end + 3
		}
	case strings.HasPrefix(s[h:], "~~~"):
		if end := strings.Index(s[h+3:], "~~~"); end >= 0 {
			return h + 3 + end + 3
		}
	}
	return 0
}

// stringLit matches '...' and "..." with backslash escapes (no raw line
// break), and verbatim @'...' and @"..." where a doubled quote is a quote.
func stringLit(s string) int {
	i := optionalH(s)
	verbatim := i < len(s) && s[i] == '@'
	if verbatim {
		i++
	}
	if i >= len(s) || s[i] != '"' && s[i] != '\'' {
		return 0
	}
	q := s[i]
	// A doubled quote in a verbatim string is a quote, unless no closing
	// quote follows: then, like the regular expression backtracking, the
	// last doubled quote's first half closes the string.
	fallback := 0
	for j := i + 1; j < len(s); j++ {
		switch c := s[j]; {
		case verbatim && c == q && j+1 < len(s) && s[j+1] == q:
			fallback = j + 1
			j++
		case c == q:
			return j + 1
		case !verbatim && c == '\n':
			return 0
		case !verbatim && c == '\\':
			if j+1 >= len(s) || s[j+1] == '\n' {
				return 0
			}
			j++
		}
	}
	return fallback
}

var timespanUnitWords = func() map[string]bool {
	m := map[string]bool{}
	for u := range timespanUnits {
		m[u] = true
	}
	return m
}()

// timespanLit matches 1d, 1.5h, .5s: a number, then a unit that ends the word.
func timespanLit(s string) int {
	n := 0
	for n < len(s) && isDigit(s[n]) {
		n++
	}
	switch {
	case n > 0 && n+1 < len(s) && s[n] == '.' && isDigit(s[n+1]):
		n++
		for n < len(s) && isDigit(s[n]) {
			n++
		}
	case n == 0 && len(s) > 1 && s[0] == '.' && isDigit(s[1]):
		n = 1
		for n < len(s) && isDigit(s[n]) {
			n++
		}
	case n == 0:
		return 0
	}
	u := n
	for u < len(s) && isLetter(s[u]) {
		u++
	}
	if u == n || !timespanUnitWords[s[n:u]] || u < len(s) && isWord(s[u]) {
		return 0
	}
	return u
}

// numberLit matches 0x1F, 12, 1.5, .5 and an exponent; it must end a word,
// so that 5th_Percentile is an identifier.
func numberLit(s string) int {
	wordEnd := func(n int) bool { return n == len(s) || !isWord(s[n]) }
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		n := 2
		for n < len(s) && (isDigit(s[n]) || s[n] >= 'a' && s[n] <= 'f' || s[n] >= 'A' && s[n] <= 'F') {
			n++
		}
		if n > 2 && wordEnd(n) {
			return n
		}
	}
	digits := func(i int) int {
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		return j - i
	}
	// The mantissas in the order the regular expression tries them.
	var mantissas []int
	if d := digits(0); d > 0 {
		if d+1 < len(s) && s[d] == '.' && digits(d+1) > 0 {
			mantissas = append(mantissas, d+1+digits(d+1))
		}
	} else if len(s) > 1 && s[0] == '.' && digits(1) > 0 {
		mantissas = append(mantissas, 1+digits(1))
	}
	if d := digits(0); d > 0 {
		mantissas = append(mantissas, d)
	}
	for _, m := range mantissas {
		if m < len(s) && (s[m] == 'e' || s[m] == 'E') {
			e := m + 1
			if e < len(s) && (s[e] == '+' || s[e] == '-') {
				e++
			}
			if d := digits(e); d > 0 && wordEnd(e+d) {
				return e + d
			}
		}
		if wordEnd(m) {
			return m
		}
	}
	return 0
}

// identLit matches names: a letter, _ or $ first, or digits then a letter or
// _; an optional trailing ~ (in~).
func identLit(s string) int {
	n := 0
	switch {
	case isLetter(s[0]) || s[0] == '_' || s[0] == '$':
		n = 1
	default:
		for n < len(s) && isDigit(s[n]) {
			n++
		}
		if n == 0 || n >= len(s) || !(isLetter(s[n]) || s[n] == '_') {
			return 0
		}
		n++
	}
	for n < len(s) && isWord(s[n]) {
		n++
	}
	if n < len(s) && s[n] == '~' {
		n++
	}
	return n
}
