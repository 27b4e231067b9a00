package parser

import (
	"strings"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// tokens is the token stream the hand-written parsers read, and a cursor.
// It reads like participle's PeekingLexer (Peek, Next, checkpoints; white
// space and comments skipped), and End is where participle's EndPos would
// be: where the last token read ends. A query read by hand is lexed
// straight into it, without white space and comments: building a
// PeekingLexer (lexer.Upgrade, every token appended to a growing slice) was
// a third of the time of a parse.
type tokens struct {
	all   []lexer.Token  // EOF last; white space and comments are skipped
	next  int            // the next token that is not skipped
	last  int            // the last token read, -1 before the first
	read  int            // how many tokens were read
	start lexer.Position // where the stream starts, the end before a token is read

	// The end of token endOf, computed last: the nodes that end at one
	// token all ask for it.
	endOf int
	end   lexer.Position

	// Where participle's lexer can be had at the same place (toscalar's
	// pipeline, when the hand-written parsers cannot read it): the query
	// text, or the PeekingLexer the stream was taken from.
	text string
	from *lexer.PeekingLexer
}

func newTokens(all []lexer.Token, start lexer.Position) *tokens {
	t := &tokens{all: all, last: -1, start: start, endOf: -1}
	t.skipElided()
	return t
}

// lexTokens lexes text.
func lexTokens(text string) (*tokens, error) {
	lex := &kqlLex{src: text, pos: lexer.Position{Line: 1, Column: 1}}
	all := make([]lexer.Token, 0, len(text)/4+2)
	for {
		tok, err := lex.Next()
		if err != nil {
			return nil, err
		}
		if elided(&tok) {
			continue
		}
		all = append(all, tok)
		if tok.EOF() {
			t := newTokens(all, lexer.Position{Line: 1, Column: 1})
			t.text = text
			return t, nil
		}
	}
}

// elided reports whether participle's grammar skips tok (its Elide).
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
	t.last = t.next
	t.next++
	t.read++
	t.skipElided()
	return tok
}

// End is where the last token read ends (participle's RawPeek().Pos: the
// position of the white space, comment or token after it).
func (t *tokens) End() lexer.Position {
	if t.last < 0 {
		return t.start
	}
	if t.endOf == t.last {
		return t.end
	}
	last := &t.all[t.last]
	end := last.Pos
	end.Offset += len(last.Value)
	if nl := strings.LastIndexByte(last.Value, '\n'); nl >= 0 {
		end.Line += strings.Count(last.Value, "\n")
		end.Column = 1 + utf8.RuneCountInString(last.Value[nl+1:])
	} else {
		end.Column += utf8.RuneCountInString(last.Value)
	}
	t.endOf, t.end = t.last, end
	return end
}

// EndOffset is End's byte offset.
func (t *tokens) EndOffset() int {
	if t.last < 0 {
		return t.start.Offset
	}
	return t.all[t.last].Pos.Offset + len(t.all[t.last].Value)
}

// checkpoint is a place in the stream to come back to.
type checkpoint struct{ next, last, read int }

func (t *tokens) MakeCheckpoint() checkpoint { return checkpoint{t.next, t.last, t.read} }

func (t *tokens) LoadCheckpoint(c checkpoint) { t.next, t.last, t.read = c.next, c.last, c.read }

// peeking returns participle's lexer at the stream's place, and how many
// tokens it had read there.
func (t *tokens) peeking() (*lexer.PeekingLexer, int) {
	var lex *lexer.PeekingLexer
	if t.from != nil {
		copied := *t.from
		lex = &copied
	} else {
		l, _ := kqlLexerDef{}.LexString("", t.text)
		lex, _ = lexer.Upgrade(l, tokComment, tokWhitespace) // the grammar's Elide; lexed once already
	}
	for range t.read {
		lex.Next()
	}
	return lex, lex.Cursor()
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
	for range t.read {
		lex.Next()
	}
	return err
}

// remaining returns the tokens participle's lexer has not read yet: its
// own, from its raw cursor (white space and comments too) to EOF.
func remaining(lex *lexer.PeekingLexer) *tokens {
	cp := lex.MakeCheckpoint()
	start, startPos := lex.RawCursor(), lex.RawPeek().Pos
	for !lex.Peek().EOF() {
		lex.Next()
	}
	end := lex.RawCursor()
	lex.LoadCheckpoint(cp)
	all := lex.Range(start, end)
	for len(all) == 0 || !all[len(all)-1].EOF() { // up to EOF, after white space and comments
		end++
		all = lex.Range(start, end)
	}
	t := newTokens(all, startPos)
	t.from = lex
	return t
}
