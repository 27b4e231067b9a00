package parser

import (
	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// Expressions are parsed by hand (recursive descent over a token stream,
// tokens.go) into the same grammar structs the tags in grammar.go describe:
// participle tried every alternative of a primary and of a binary operator
// as a separate branch, allocating a parse context and deferred field sets
// for each, which was most of the time of a parse. gExpr and gNamedExpr
// implement participle.Parseable, so the rest of the grammar still uses them
// with @@, and lower.go sees the same trees as before.

// pipelineGrammar parses the pipeline inside toscalar(...).
var pipelineGrammar = participle.MustBuild[gPipeline](
	participle.Lexer(kqlLexerDef{}),
	participle.Elide("Comment", "Whitespace"),
	participle.UseLookahead(64),
)

// exprParser reads expressions from participle's token stream.
type exprParser struct {
	lex *tokens
	// deepest is the error of an alternative given up (dynamic(...) read
	// as a call): when the one taken fails too, the error that got further
	// is reported, as participle does.
	deepest error
	// letCallExpr: see gQuery.
	letCallExpr bool
}

// remember keeps err if it is further into the text than the one kept.
func (p *exprParser) remember(err error) {
	if p.deepest == nil || errOffset(err) > errOffset(p.deepest) {
		p.deepest = err
	}
}

// fail returns err, or the remembered error if that got further.
func (p *exprParser) fail(err error) error {
	if p.deepest != nil && errOffset(p.deepest) > errOffset(err) {
		return p.deepest
	}
	return err
}

// failed returns err from a Parse method with the lexer moved up to the
// error: participle reports the error of the branch that got furthest, and
// measures how far by the lexer's position.
func failed(lex *tokens, err error) error {
	off := errOffset(err)
	for tok := lex.Peek(); !tok.EOF() && tok.Pos.Offset < off; tok = lex.Peek() {
		lex.Next()
	}
	return err
}

func errOffset(err error) int {
	if perr, ok := err.(participle.Error); ok {
		return perr.Position().Offset
	}
	return -1
}

// unexpected returns participle's error for the next token, so that
// participleError places the caret as for the rest of the grammar.
func (p *exprParser) unexpected(expect string) error {
	return &participle.UnexpectedTokenError{Unexpected: *p.lex.Peek(), Expect: expect}
}

func (p *exprParser) peekValue() string { return p.lex.Peek().Value }

// peek2Value is the value of the token after the next one.
func (p *exprParser) peek2Value() string {
	cp := p.lex.MakeCheckpoint()
	p.lex.Next()
	v := p.lex.Peek().Value
	p.lex.LoadCheckpoint(cp)
	return v
}

func (p *exprParser) expect(v string) error {
	if p.lex.Peek().Value != v {
		return p.unexpected("'" + v + "'")
	}
	p.lex.Next()
	return nil
}

// endPos is where the last token read ends (participle's EndPos).
func (p *exprParser) endPos() lexer.Position { return p.lex.End() }

// endOffset is endPos's byte offset.
func (p *exprParser) endOffset() int { return p.lex.EndOffset() }

// Parse implements participle.Parseable.
func (e *gExpr) Parse(lex *lexer.PeekingLexer) error { return fromParticiple(lex, e.read) }

func (e *gExpr) read(lex *tokens) error {
	if lex.Peek().EOF() {
		return &participle.UnexpectedTokenError{Unexpected: *lex.Peek(), Expect: "expression"}
	}
	p := exprParser{lex: lex}
	if err := p.exprInto(e); err != nil {
		return failed(lex, p.fail(err))
	}
	return nil
}

// Parse implements participle.Parseable: ( gIdent "=" )? gExpr.
func (n *gNamedExpr) Parse(lex *lexer.PeekingLexer) error { return fromParticiple(lex, n.read) }

func (n *gNamedExpr) read(lex *tokens) error {
	if lex.Peek().EOF() {
		return &participle.UnexpectedTokenError{Unexpected: *lex.Peek(), Expect: "expression"}
	}
	p := exprParser{lex: lex}
	if err := p.namedExprInto(n, &gExpr{}); err != nil {
		return failed(lex, p.fail(err))
	}
	return nil
}

// optionalName reads "Name =" (not "=="), leaving the lexer untouched when
// the tokens are something else.
func (p *exprParser) optionalName() (*gIdent, bool) {
	if tok := p.lex.Peek(); tok.Type == tokIdent && p.peek2Value() != "=" || tok.Type != tokIdent && tok.Value != "[" {
		return nil, false // the usual case, decided without reading a name
	}
	cp := p.lex.MakeCheckpoint()
	id := p.ident()
	if id != nil && p.peekValue() == "=" {
		p.lex.Next()
		return id, true
	}
	p.lex.LoadCheckpoint(cp)
	return nil, false
}

// ident reads a plain or quoted name, or returns nil and leaves the lexer
// untouched.
func (p *exprParser) ident() *gIdent {
	id := &gIdent{}
	if !p.identInto(id) {
		return nil
	}
	return id
}

// identInto reads a plain or quoted name into id, or returns false and
// leaves the lexer untouched.
func (p *exprParser) identInto(id *gIdent) bool {
	tok := p.lex.Peek()
	if tok.Type == tokIdent {
		*id = gIdent{Pos: tok.Pos, Plain: tok.Value}
		p.lex.Next()
		id.EndPos = p.endPos()
		return true
	}
	if tok.Value == "[" {
		cp := p.lex.MakeCheckpoint()
		p.lex.Next()
		s := p.lex.Peek()
		if s.Type == tokString {
			p.lex.Next()
			if p.peekValue() == "]" {
				p.lex.Next()
				*id = gIdent{Pos: tok.Pos, Quoted: s.Value, EndPos: p.endPos()}
				return true
			}
			p.remember(p.unexpected("']'"))
		} else {
			p.remember(p.unexpected("a quoted name"))
		}
		p.lex.LoadCheckpoint(cp)
	}
	return false
}

func (p *exprParser) expr() (*gExpr, error) {
	e := &gExpr{}
	return e, p.exprInto(e)
}

// exprInto reads an operand followed by binary operators with their right
// operands (precedence is applied when lowering).
func (p *exprParser) exprInto(e *gExpr) error {
	left, err := p.unary()
	if err != nil {
		return err
	}
	e.Left = left
	for {
		b, err := p.binary()
		if err != nil {
			return err
		}
		if b == nil {
			return nil
		}
		e.Rest = append(e.Rest, b)
	}
}

// binary reads one binary operator and its right operand, or returns nil
// when the next token is not a binary operator.
func (p *exprParser) binary() (*gBinary, error) {
	tok := p.lex.Peek()
	if tok.EOF() || tok.Type == tokString {
		return nil, nil
	}
	b := &gBinary{Pos: tok.Pos.Offset}
	switch tok.Value {
	case "in", "in~", "!in", "!in~", "has_any", "has_all":
		p.lex.Next()
		t := &gInTail{Op: tok.Value}
		if err := p.expect("("); err != nil {
			return nil, err
		}
		for {
			x, err := p.expr()
			if err != nil {
				return nil, err
			}
			t.List = append(t.List, x)
			if p.peekValue() != "," {
				break
			}
			p.lex.Next()
		}
		if err := p.expect(")"); err != nil {
			return nil, err
		}
		b.In = t
	case "between", "!between":
		p.lex.Next()
		t := &gBetween{Op: tok.Value}
		if err := p.expect("("); err != nil {
			return nil, err
		}
		lo, err := p.expr()
		if err != nil {
			return nil, err
		}
		if err := p.expect(".."); err != nil {
			return nil, err
		}
		hi, err := p.expr()
		if err != nil {
			return nil, err
		}
		if err := p.expect(")"); err != nil {
			return nil, err
		}
		t.Low, t.High = lo, hi
		b.Between = t
	default:
		var op binOp
		if !op.read(p.lex) {
			return nil, nil
		}
		right, err := p.unary()
		if err != nil {
			return nil, err
		}
		b.Op, b.Right = op, right
	}
	b.EndPos = p.endOffset()
	return b, nil
}

// operand holds the nodes of one operand, allocated together: most
// operands are a name or a call, and allocating them one by one was much of
// the time of a parse.
type operand struct {
	unary   gUnary
	postfix gPostfix
	primary gPrimary
	name    gIdent
}

func (p *exprParser) unary() (*gUnary, error) {
	tok := p.lex.Peek()
	o := &operand{}
	u := &o.unary
	u.Pos = tok.Pos.Offset
	if tok.Value == "-" || tok.Value == "+" {
		u.Op = sign(tok.Value)
		p.lex.Next()
	}
	if err := p.primaryInto(&o.primary, &o.name); err != nil {
		return nil, err
	}
	post := &o.postfix
	post.Primary = &o.primary
	for {
		a, err := p.access()
		if err != nil {
			return nil, err
		}
		if a == nil {
			break
		}
		post.Access = append(post.Access, a)
	}
	u.Postfix = post
	u.EndPos = p.endOffset()
	return u, nil
}

// access reads .Name, [index] or .[index], or returns nil when the next
// token is neither . nor [.
func (p *exprParser) access() (*gAccess, error) {
	v := p.peekValue()
	if v != "." && v != "[" {
		return nil, nil
	}
	if v == "." {
		p.lex.Next()
		if id := p.ident(); id != nil {
			return &gAccess{Member: id, EndPos: p.endOffset()}, nil
		}
		if p.peekValue() != "[" {
			return nil, p.unexpected("a name or '['")
		}
	}
	p.lex.Next() // [
	x, err := p.expr()
	if err != nil {
		return nil, err
	}
	if err := p.expect("]"); err != nil {
		return nil, err
	}
	return &gAccess{Index: x, EndPos: p.endOffset()}, nil
}

// keywordParens reads "KEYWORD ( … )" with read between the parentheses.
// When that fails it leaves the tokens where they were and remembers the
// error, so that the caller can read the text another way (as a call).
func (p *exprParser) keywordParens(read func() error) bool {
	cp := p.lex.MakeCheckpoint()
	p.lex.Next()
	p.lex.Next()
	err := read()
	if err == nil && p.peekValue() != ")" {
		err = p.unexpected("')'")
	}
	if err == nil {
		p.lex.Next()
		return true
	}
	p.remember(err)
	p.lex.LoadCheckpoint(cp)
	return false
}

// primaryInto reads a primary into g; a name (alone or a function's) is
// read into name.
func (p *exprParser) primaryInto(g *gPrimary, name *gIdent) error {
	tok := p.lex.Peek()
	g.Pos = tok.Pos.Offset
	switch {
	case tok.EOF():
		return p.unexpected("expression")
	case tok.Value == "dynamic" && p.peek2Value() == "(":
		var d *gDynamic
		if p.keywordParens(func() (err error) { d, err = p.dynamic(); return err }) {
			g.Dynamic = d
			g.EndPos = p.endOffset()
			return nil
		}
		// Read as a call: dynamic(expr).
	case tok.Value == "true" || tok.Value == "false":
		p.lex.Next()
		g.Bool = tok.Value
		g.EndPos = p.endOffset()
		return nil
	case tok.Value == "toscalar" && p.peek2Value() == "(":
		var pipe *gPipeline
		if p.keywordParens(func() (err error) { pipe, err = p.toscalarPipeline(); return err }) {
			g.ToScalar = pipe
			g.EndPos = p.endOffset()
			return nil
		}
		// Read as a call: toscalar(expr).
	case tok.Value == "*":
		p.lex.Next()
		g.Star = true
		g.EndPos = p.endOffset()
		return nil
	}
	switch tok.Type {
	case tokString, tokMultiString:
		for t := p.lex.Peek(); t.Type == tokString || t.Type == tokMultiString; t = p.lex.Peek() {
			g.String = append(g.String, t.Value)
			p.lex.Next()
		}
	case tokNumber:
		p.lex.Next()
		g.Number = tok.Value
	case tokTimespan:
		p.lex.Next()
		g.Timespan = tok.Value
	case tokTypedLit:
		p.lex.Next()
		g.TypedLit = tok.Value
	default:
		if tok.Value == "(" {
			p.lex.Next()
			x, err := p.expr()
			if err != nil {
				return err
			}
			if err := p.expect(")"); err != nil {
				return err
			}
			g.Paren = x
			break
		}
		if !p.identInto(name) {
			return p.unexpected("expression")
		}
		if p.peekValue() == "(" {
			call, err := p.callAfterName(name)
			if err != nil {
				return err
			}
			g.Call = call
		} else {
			g.Ident = name
		}
	}
	g.EndPos = p.endOffset()
	return nil
}

// callAfterName reads "(" args ")" after a function name.
func (p *exprParser) callAfterName(name *gIdent) (*gCall, error) {
	p.lex.Next() // (
	c := &gCall{Func: name}
	if p.peekValue() == ")" {
		p.lex.Next()
		return c, nil
	}
	for {
		// An argument and its expression, allocated together.
		arg := &struct {
			gCallArg
			expr gExpr
		}{}
		a := &arg.gCallArg
		a.Pos = p.lex.Peek().Pos
		if id, ok := p.optionalName(); ok {
			a.Name = id
		}
		if err := p.exprInto(&arg.expr); err != nil {
			return nil, err
		}
		a.Expr = &arg.expr
		a.EndPos = p.endPos()
		c.Args = append(c.Args, a)
		if p.peekValue() != "," {
			break
		}
		p.lex.Next()
	}
	if err := p.expect(")"); err != nil {
		return nil, err
	}
	return c, nil
}

// dynamic reads the JSON-like value inside dynamic(...).
func (p *exprParser) dynamic() (*gDynamic, error) {
	tok := p.lex.Peek()
	d := &gDynamic{Pos: tok.Pos}
	switch {
	case tok.Value == "null":
		p.lex.Next()
		d.Null = true
	case tok.Value == "true" || tok.Value == "false":
		p.lex.Next()
		d.Bool = tok.Value
	case tok.Value == "-" || tok.Type == tokNumber:
		if tok.Value == "-" {
			d.Neg = "-"
			p.lex.Next()
		}
		n := p.lex.Peek()
		if n.Type != tokNumber {
			return nil, p.unexpected("number")
		}
		p.lex.Next()
		d.Number = n.Value
	case tok.Type == tokString:
		p.lex.Next()
		d.String = tok.Value
	case tok.Value == "[":
		p.lex.Next()
		if p.peekValue() != "]" {
			for {
				x, err := p.dynamic()
				if err != nil {
					return nil, err
				}
				d.Array = append(d.Array, x)
				if p.peekValue() != "," {
					break
				}
				p.lex.Next()
			}
		}
		if err := p.expect("]"); err != nil {
			return nil, err
		}
	case tok.Value == "{":
		p.lex.Next()
		d.IsObj = true
		if p.peekValue() != "}" {
			for {
				k := p.lex.Peek()
				if k.Type != tokString {
					return nil, p.unexpected("string")
				}
				p.lex.Next()
				if err := p.expect(":"); err != nil {
					return nil, err
				}
				v, err := p.dynamic()
				if err != nil {
					return nil, err
				}
				d.Fields = append(d.Fields, &gDynamicPair{Key: k.Value, Value: v})
				if p.peekValue() != "," {
					break
				}
				p.lex.Next()
			}
		}
		if err := p.expect("}"); err != nil {
			return nil, err
		}
	case tok.Type == tokTypedLit:
		p.lex.Next()
		d.Time = tok.Value
	default:
		return nil, p.unexpected("dynamic value")
	}
	d.EndPos = p.endPos()
	return d, nil
}

// plainTable reads a source that is a plain name followed by '|', ')',
// ';' or the end, as most are, or returns nil.
func (p *exprParser) plainTable() *gIdent {
	tok := p.lex.Peek()
	if tok.Type != tokIdent {
		return nil
	}
	cp := p.lex.MakeCheckpoint()
	p.lex.Next()
	end := p.endPos()
	if next := p.lex.Peek(); !next.EOF() && next.Value != "|" && next.Value != ")" && next.Value != ";" {
		p.lex.LoadCheckpoint(cp)
		return nil
	}
	return &gIdent{Pos: tok.Pos, EndPos: end, Plain: tok.Value}
}

// operatorInto reads an operator into o: the most frequent ones here, the
// others in moreOperator. It returns participle.NextMatch (the lexer
// moved) for an operator it does not read, or an error.
func (p *exprParser) operatorInto(o *gOperator) error {
	lex := p.lex
	tok := lex.Peek()
	if tok.EOF() {
		return &participle.UnexpectedTokenError{Unexpected: *tok, Expect: "operator"}
	}
	o.Pos = tok.Pos
	var err error
	switch tok.Value {
	case "where", "filter":
		lex.Next()
		o.Where = &gWhere{Keyword: tok.Value}
		o.Where.Pred, err = p.expr()
	case "extend":
		lex.Next()
		o.Extend = &gExtend{Keyword: tok.Value}
		o.Extend.Columns, err = p.namedExprs()
	case "project":
		lex.Next()
		o.Project = &gProject{Keyword: tok.Value}
		o.Project.Columns, err = p.namedExprs()
	case "take", "limit":
		lex.Next()
		o.Take = &gTake{Keyword: tok.Value}
		o.Take.Count, err = p.expr()
	case "count":
		lex.Next()
		o.Count = &gCount{Keyword: tok.Value}
	case "sort", "order":
		lex.Next()
		o.Sort = &gSort{Keyword: tok.Value}
		if err = p.expect("by"); err == nil {
			o.Sort.Keys, err = p.sortKeys()
		}
	case "summarize":
		lex.Next()
		o.Summ, err = p.summarize()
	case "sample":
		lex.Next()
		o.Sample, err = p.expr()
	default:
		cp := lex.MakeCheckpoint()
		if !p.moreOperator(o, tok.Value) {
			lex.LoadCheckpoint(cp)
			return participle.NextMatch
		}
	}
	if err != nil {
		return failed(lex, p.fail(err))
	}
	o.EndPos = p.endPos()
	return nil
}

// namedExprs reads one or more [Name =] Expr separated by commas.
func (p *exprParser) namedExprs() ([]*gNamedExpr, error) {
	var out []*gNamedExpr
	for {
		// A named expression and its expression, allocated together.
		n := &struct {
			gNamedExpr
			expr gExpr
		}{}
		if err := p.namedExprInto(&n.gNamedExpr, &n.expr); err != nil {
			return nil, err
		}
		out = append(out, &n.gNamedExpr)
		if p.peekValue() != "," {
			return out, nil
		}
		p.lex.Next()
	}
}

// namedExprInto reads [Name =] Expr into n, the expression into x.
func (p *exprParser) namedExprInto(n *gNamedExpr, x *gExpr) error {
	tok := p.lex.Peek()
	if tok.EOF() {
		return p.unexpected("expression")
	}
	n.Pos = tok.Pos
	if name, ok := p.optionalName(); ok {
		n.Name = name
	}
	if err := p.exprInto(x); err != nil {
		return err
	}
	n.Expr = x
	n.EndPos = p.endPos()
	return nil
}

// sortKeys reads Expr [asc|desc] [nulls first|last], ...
func (p *exprParser) sortKeys() ([]*gSortKey, error) {
	var out []*gSortKey
	for {
		tok := p.lex.Peek()
		if tok.EOF() {
			return nil, p.unexpected("expression")
		}
		k := &gSortKey{Pos: tok.Pos}
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		k.Expr = x
		if v := p.peekValue(); v == "asc" || v == "desc" {
			k.Dir = v
			p.lex.Next()
		}
		if p.peekValue() == "nulls" {
			p.lex.Next()
			v := p.peekValue()
			if v != "first" && v != "last" {
				return nil, p.unexpected("'first' or 'last'")
			}
			k.Nulls = v
			p.lex.Next()
		}
		k.EndPos = p.endPos()
		out = append(out, k)
		if p.peekValue() != "," {
			return out, nil
		}
		p.lex.Next()
	}
}

// summarize reads what follows the keyword: [hint.name = value …]
// [aggregates] [by groups].
func (p *exprParser) summarize() (*gSummarize, error) {
	s := &gSummarize{}
	for p.peekValue() == "hint" && p.peek2Value() == "." {
		p.lex.Next()
		p.lex.Next()
		name := p.lex.Peek()
		if name.Type != tokIdent {
			return nil, p.unexpected("a hint name")
		}
		p.lex.Next()
		if err := p.expect("="); err != nil {
			return nil, err
		}
		if t := p.lex.Peek().Type; t != tokIdent && t != tokString && t != tokNumber {
			return nil, p.unexpected("a hint value")
		}
		p.lex.Next()
		s.Hints = append(s.Hints, name.Value)
	}
	if v := p.peekValue(); v != "by" {
		// The aggregates are optional: nothing that starts an expression
		// leaves them out, as in the grammar's ( … )?.
		cp := p.lex.MakeCheckpoint()
		start := p.lex.Peek().Pos.Offset
		aggs, err := p.namedExprs()
		switch {
		case err == nil:
			s.Aggs = aggs
		case errOffset(err) > start:
			return nil, err
		default:
			p.lex.LoadCheckpoint(cp)
		}
	}
	if p.peekValue() == "by" {
		p.lex.Next()
		by, err := p.namedExprs()
		if err != nil {
			return nil, err
		}
		s.By = by
	}
	return s, nil
}
