package parser

import (
	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// tokens is the token stream the hand-written parsers read. It behaves as
// participle's PeekingLexer (the same methods, white space and comments
// skipped but kept, so that RawPeek is where the last token read ends), but
// a query read by hand is lexed straight into it: building a PeekingLexer
// (lexer.Upgrade, a token at a time into a growing slice) was a third of
// the time of a parse.
type tokens struct {
	all      []lexer.Token // every token, white space and comments too; EOF last
	raw      int           // the token after the last one read
	next     int           // the next token that is not white space or a comment
	consumed int           // tokens read, white space and comments not counted
}

func newTokens(all []lexer.Token) *tokens {
	t := &tokens{all: all}
	t.skipElided()
	return t
}

// lexAll lexes text into tokens.
func lexAll(text string) ([]lexer.Token, error) {
	lex := &kqlLex{src: text, pos: lexer.Position{Line: 1, Column: 1}}
	all := make([]lexer.Token, 0, len(text)/3+2)
	for {
		tok, err := lex.Next()
		if err != nil {
			return nil, err
		}
		all = append(all, tok)
		if tok.EOF() {
			return all, nil
		}
	}
}

func elided(tok *lexer.Token) bool { return tok.Type == tokWhitespace || tok.Type == tokComment }

func (t *tokens) skipElided() {
	for elided(&t.all[t.next]) {
		t.next++
	}
}

// Peek returns the next token.
func (t *tokens) Peek() *lexer.Token { return &t.all[t.next] }

// Next reads the next token.
func (t *tokens) Next() *lexer.Token {
	tok := &t.all[t.next]
	if tok.EOF() {
		return tok
	}
	t.next++
	t.raw = t.next
	t.consumed++
	t.skipElided()
	return tok
}

// RawPeek returns the token after the last one read, white space included.
func (t *tokens) RawPeek() *lexer.Token { return &t.all[t.raw] }

// checkpoint is a place in the stream to come back to.
type checkpoint struct{ raw, next, consumed int }

func (t *tokens) MakeCheckpoint() checkpoint { return checkpoint{t.raw, t.next, t.consumed} }

func (t *tokens) LoadCheckpoint(c checkpoint) { t.raw, t.next, t.consumed = c.raw, c.next, c.consumed }

// replay is a lexer.Lexer over tokens already lexed, for participle.
type replay struct{ all []lexer.Token }

func (r *replay) Next() (lexer.Token, error) {
	tok := r.all[0]
	if !tok.EOF() {
		r.all = r.all[1:]
	}
	return tok, nil
}

// peeking returns participle's lexer over the tokens from the next one on
// (what participle reads where the hand-written parsers give up).
func (t *tokens) peeking() *lexer.PeekingLexer {
	lex, _ := lexer.Upgrade(&replay{t.all[t.raw:]}, tokComment, tokWhitespace) // the grammar's Elide
	return lex
}

// fromParticiple runs read, a hand-written parser, where participle's
// lexer is (participle calls the Parseable grammar structs), and moves that
// lexer over the tokens read read (none when it returns NextMatch).
func fromParticiple(lex *lexer.PeekingLexer, read func(*tokens) error) error {
	t := remaining(lex)
	err := read(t)
	if err == participle.NextMatch {
		return err
	}
	for range t.consumed {
		lex.Next()
	}
	return err
}

// remaining returns the tokens participle's lexer has not read yet.
func remaining(lex *lexer.PeekingLexer) *tokens {
	cp := lex.MakeCheckpoint()
	start := lex.RawCursor()
	for !lex.Peek().EOF() {
		lex.Next()
	}
	end := lex.RawCursor()
	lex.LoadCheckpoint(cp)
	all := lex.Range(start, end)
	for len(all) == 0 || !all[len(all)-1].EOF() { // white space, comments, EOF
		end++
		all = lex.Range(start, end)
	}
	return newTokens(all)
}
