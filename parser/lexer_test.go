package parser

import (
	"strings"
	"testing"

	"github.com/alecthomas/participle/v2/lexer"
)

// regexpLexer is the specification of the hand-written lexer: the same
// rules as regular expressions, in priority order. TestLexerMatchesRules
// and FuzzLexer check that both give the same tokens.
var regexpLexer = lexer.MustSimple([]lexer.SimpleRule{
	{Name: "Comment", Pattern: `//[^\n]*`},
	{Name: "Whitespace", Pattern: `[ \t\r\n]+`},
	// datetime(...), timespan(...) and friends hold raw text that is not
	// made of KQL tokens (2024-01-01 10:00), so the lexer takes them whole.
	{Name: "TypedLit", Pattern: `\b(datetime|date|timespan|time)\([^()]*\)`},
	{Name: "MultiString", Pattern: "[hH]?```[^`]*```|[hH]?~~~(?:[^~]|~[^~]|~~[^~])*~~~"},
	{Name: "String", Pattern: `[hH]?@"(?:[^"]|"")*"|[hH]?@'(?:[^']|'')*'|[hH]?"(?:\\.|[^"\\\n])*"|[hH]?'(?:\\.|[^'\\\n])*'`},
	{Name: "Timespan", Pattern: `(?:\d+(?:\.\d+)?|\.\d+)(?:days|day|d|hours|hour|hrs|hr|h|minutes|minute|min|m|seconds|second|sec|s|milliseconds|millisecond|millisec|millis|milli|ms|microseconds|microsecond|microsec|micros|micro|nanoseconds|nanosecond|nanosec|nanos|nano|ticks|tick)\b`},
	// \b keeps "5th_Percentile" (a valid identifier) from lexing as 5 + th_Percentile.
	{Name: "Number", Pattern: `(?:0[xX][0-9a-fA-F]+|(?:\d+\.\d+|\.\d+|\d+)(?:[eE][+-]?\d+)?)\b`},
	{Name: "NegWord", Pattern: `![A-Za-z_]+~?`},
	{Name: "DashWord", Pattern: `\b(?:mv-expand|mv-apply|project-away|project-keep|project-rename|project-reorder|project-smart|make-series|top-nested|top-hitters|parse-where|parse-kv)\b`},
	{Name: "Ident", Pattern: `(?:[A-Za-z_$]|\d+[A-Za-z_])[A-Za-z0-9_]*~?`},
	{Name: "Punct", Pattern: `==|!=|<=|>=|=~|!~|<>|\.\.|[-+*/%<>=(),.\[\]{}|:;!]`},
})

type lexed struct {
	typ   string
	value string
	off   int
}

func lexWith(def lexer.Definition, text string) ([]lexed, error) {
	names := map[lexer.TokenType]string{}
	for name, t := range def.Symbols() {
		names[t] = name
	}
	lex, err := def.Lex("", strings.NewReader(text))
	if err != nil {
		return nil, err
	}
	var out []lexed
	for {
		tok, err := lex.Next()
		if err != nil {
			return out, err
		}
		if tok.EOF() {
			return out, nil
		}
		if names[tok.Type] == "Comment" || names[tok.Type] == "Whitespace" {
			continue
		}
		out = append(out, lexed{names[tok.Type], tok.Value, tok.Pos.Offset})
	}
}

func sameTokens(t *testing.T, text string) {
	t.Helper()
	want, wantErr := lexWith(regexpLexer, text)
	got, gotErr := lexWith(kqlLexerDef{}, text)
	if (wantErr == nil) != (gotErr == nil) {
		t.Fatalf("%q: rules err %v, lexer err %v", text, wantErr, gotErr)
	}
	if len(got) != len(want) {
		t.Fatalf("%q:\n rules %v\n lexer %v", text, want, got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%q: token %d: rules %v, lexer %v", text, i, want[i], got[i])
		}
	}
}

var lexerCases = []string{
	`SecurityIncident | where Title has "a\"b" and x =~ 'c\'d' or y !has_cs @"e""f" | mv-expand T = Tasks to typeof(string)`,
	"print 1d, 1.5h, .5s, 10ms, 2days, 3min, 1tick, 1e5, 1.5e-3, 0x1F, 5th_Percentile, 1..5, a.b, in~, !in~, x!~y",
	"datetime(2024-01-01 10:00) xdatetime(1) date(null) time(1.02:03:04) timespan(1d)",
	"h'secret' H@\"v\" ```multi\nline``` ~~~a~b~~c~~~ // a comment\n| project-away a | make-series",
	"1day_x 2hr3 0x1g 1.5e 5.e3 .5e 1_000 $left.a == $right.b ['col'] [\"c\"]",
	"a\tb\r\nc // end",
	"unterminated 'string",
	"\"bad \\\n escape\"",
	"#",
	"ü",
}

func TestLexerMatchesRules(t *testing.T) {
	for _, c := range lexerCases {
		sameTokens(t, c)
	}
	for _, q := range goldenQueries(t) {
		sameTokens(t, q)
	}
}

// FuzzLexer: the hand-written lexer and the rules agree on every input.
func FuzzLexer(f *testing.F) {
	for _, c := range lexerCases {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, text string) {
		sameTokens(t, text)
	})
}
