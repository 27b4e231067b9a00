package parser

import "github.com/alecthomas/participle/v2"

// The hand-written parser of whole queries: let statements, sources and
// operators, read into the grammar structs as their tags describe, like
// expressions (exprparse.go). It reads the well-formed text real queries
// are made of and gives up on anything else (its readers return nil or
// false); then participle parses the query with the tags of grammar.go,
// and reports errors as it always did. TestHandParsersAgree and
// FuzzHandParsers check that both ways give the same trees, spans and
// errors.

// moreOperator reads the operators operatorInto does not read itself,
// after their keyword (not yet consumed).
func (p *exprParser) moreOperator(o *gOperator, keyword string) bool {
	p.lex.Next()
	switch keyword {
	case "mv-expand", "mvexpand":
		return found(&o.MvExpand, p.mvExpand(keyword))
	case "join", "lookup":
		return found(&o.Join, p.join(keyword))
	case "project-away", "project-keep", "project-reorder":
		return found(&o.Names, p.names(keyword))
	case "project-rename":
		return found(&o.Rename, p.rename())
	case "evaluate":
		return found(&o.Evaluate, p.evaluate())
	case "distinct":
		return found(&o.Distinct, p.distinct())
	case "top":
		return found(&o.Top, p.top())
	case "serialize":
		return found(&o.Serialize, p.serialize())
	case "render":
		return found(&o.Render, p.render())
	case "as":
		return found(&o.As, p.as())
	case "union":
		return found(&o.Union, p.union())
	case "mv-apply":
		return found(&o.MvApply, p.mvApply())
	case "parse":
		return found(&o.ParseOp, p.parseOp())
	case "make-series":
		return found(&o.Series, p.makeSeries())
	}
	return false
}

// found sets *field to what a reader returned and says whether it read
// anything.
func found[T any](field **T, v *T) bool {
	*field = v
	return v != nil
}

// accept consumes the next token if its value is v.
func (p *exprParser) accept(v string) bool {
	if p.peekValue() == v {
		p.lex.Next()
		return true
	}
	return false
}

// tryExpr reads an expression, or returns nil.
func (p *exprParser) tryExpr() *gExpr {
	x, err := p.expr()
	if err != nil {
		return nil
	}
	return x
}

// tryNamedExprs reads [Name =] Expr, … or returns nil.
func (p *exprParser) tryNamedExprs() []*gNamedExpr {
	xs, err := p.namedExprs()
	if err != nil {
		return nil
	}
	return xs
}

// endsOperator reports whether the next token ends an operator: what
// follows an operator in a pipeline, a let statement or parentheses.
func (p *exprParser) endsOperator() bool {
	tok := p.lex.Peek()
	return tok.EOF() || tok.Value == "|" || tok.Value == ";" || tok.Value == ")"
}

// operator reads one operator by hand, or returns nil with the lexer put
// back.
func (p *exprParser) operator() *gOperator {
	cp := p.lex.MakeCheckpoint()
	op := &gOperator{}
	if err := p.operatorInto(op); err != nil {
		p.lex.LoadCheckpoint(cp)
		return nil
	}
	return op
}

// operators reads ( '|' Operator )*; ok is false when one is not read.
func (p *exprParser) operators() (ops []*gOperator, ok bool) {
	for p.accept("|") {
		op := p.operator()
		if op == nil {
			return nil, false
		}
		ops = append(ops, op)
	}
	return ops, true
}

// pipeline reads a source followed by operators, or returns nil.
func (p *exprParser) pipeline() *gPipeline {
	start := p.lex.Peek().Pos
	src := &gSource{Table: p.plainTable()}
	if src.Table == nil {
		if src.Special = p.specialSource(); src.Special == nil {
			return nil
		}
	}
	ops, ok := p.operators()
	if !ok {
		return nil
	}
	return &gPipeline{Pos: start, EndPos: p.endPos(), Source: src, Ops: ops}
}

// specialSource reads the sources of gSpecialSource but workspace(…) and
// friends, or returns nil.
func (p *exprParser) specialSource() *gSpecialSource {
	tok := p.lex.Peek()
	s := &gSpecialSource{Pos: tok.Pos}
	switch {
	case tok.Value == "print":
		p.lex.Next()
		if s.Print = p.tryNamedExprs(); s.Print == nil {
			return nil
		}
	case tok.Value == "datatable":
		p.lex.Next()
		if !found(&s.Datatable, p.datatable()) {
			return nil
		}
	case tok.Value == "range":
		p.lex.Next()
		if !found(&s.Range, p.rangeSource()) {
			return nil
		}
	case tok.Value == "union":
		p.lex.Next()
		if !found(&s.Union, p.union()) {
			return nil
		}
	case tok.Value == "(":
		p.lex.Next()
		if s.Paren = p.pipeline(); s.Paren == nil || !p.accept(")") {
			return nil
		}
	case tok.Value == "materialize":
		p.lex.Next()
		if !p.accept("(") {
			return nil
		}
		if s.Materialize = p.pipeline(); s.Materialize == nil || !p.accept(")") {
			return nil
		}
	case tok.Type == tokIdent && !sourceKeywords[tok.Value] && p.peek2Value() == "(":
		name := p.ident()
		call, err := p.callAfterName(name)
		if err != nil {
			return nil
		}
		s.Call = call
	default:
		return nil
	}
	s.EndPos = p.endPos()
	return s
}

// datatable reads (Name: type, …) [values].
func (p *exprParser) datatable() *gDatatable {
	d := &gDatatable{}
	if !p.accept("(") {
		return nil
	}
	for {
		c := &gTypedColumn{Name: p.ident()}
		if c.Name == nil || !p.accept(":") {
			return nil
		}
		if c.Type = p.ident(); c.Type == nil {
			return nil
		}
		d.Columns = append(d.Columns, c)
		if !p.accept(",") {
			break
		}
	}
	if !p.accept(")") || !p.accept("[") {
		return nil
	}
	if p.accept("]") {
		return d
	}
	for {
		x := p.tryExpr()
		if x == nil {
			return nil
		}
		d.Values = append(d.Values, x)
		if !p.accept(",") {
			break
		}
		if p.peekValue() == "]" {
			break // a trailing comma
		}
	}
	if !p.accept("]") {
		return nil
	}
	return d
}

// rangeSource reads Column from A to B step S.
func (p *exprParser) rangeSource() *gRange {
	r := &gRange{Column: p.ident()}
	if r.Column == nil || !p.accept("from") {
		return nil
	}
	if r.From = p.tryExpr(); r.From == nil || !p.accept("to") {
		return nil
	}
	if r.To = p.tryExpr(); r.To == nil || !p.accept("step") {
		return nil
	}
	if r.Step = p.tryExpr(); r.Step == nil {
		return nil
	}
	return r
}

// mvExpand reads mv-expand's parameters and items.
func (p *exprParser) mvExpand(keyword string) *gMvExpand {
	m := &gMvExpand{Keyword: keyword}
	if v := p.peekValue(); (v == "kind" || v == "bagexpansion") && p.peek2Value() == "=" {
		p.lex.Next()
		p.lex.Next()
		kind := p.peekValue()
		if kind != "bag" && kind != "array" {
			return nil
		}
		p.lex.Next()
		m.KindParam, m.Kind = v, kind
	}
	if !p.expandItems(&m.ItemIndex, &m.Items, &m.Limit) {
		return nil
	}
	return m
}

// mvExpandItems reads [Name =] Expr [to typeof(T)], …
func (p *exprParser) mvExpandItems() []*gMvExpandItem {
	var items []*gMvExpandItem
	for {
		tok := p.lex.Peek()
		if tok.EOF() {
			return nil
		}
		it := &gMvExpandItem{Pos: tok.Pos}
		it.Name, _ = p.optionalName()
		if it.Expr = p.tryExpr(); it.Expr == nil {
			return nil
		}
		if p.accept("to") {
			if !p.accept("typeof") || !p.accept("(") {
				return nil
			}
			if it.ToType = p.ident(); it.ToType == nil || !p.accept(")") {
				return nil
			}
		}
		it.EndPos = p.endPos()
		items = append(items, it)
		if !p.accept(",") {
			return items
		}
	}
}

// hints reads ( 'hint' '.' Name '=' Value )*, the names kept.
func (p *exprParser) hints() (names []string, ok bool) {
	for p.peekValue() == "hint" && p.peek2Value() == "." {
		p.lex.Next()
		p.lex.Next()
		name := p.lex.Peek()
		if name.Type != tokIdent {
			return nil, false
		}
		p.lex.Next()
		if !p.accept("=") {
			return nil, false
		}
		if t := p.lex.Peek().Type; t != tokIdent && t != tokString && t != tokNumber {
			return nil, false
		}
		p.lex.Next()
		names = append(names, name.Value)
	}
	return names, true
}

// join reads join's (or lookup's) kind, hints, right side and conditions.
func (p *exprParser) join(keyword string) *gJoin {
	j := &gJoin{Keyword: keyword}
	if p.peekValue() == "kind" && p.peek2Value() == "=" {
		p.lex.Next()
		p.lex.Next()
		kind := p.lex.Peek()
		if kind.Type != tokIdent {
			return nil
		}
		p.lex.Next()
		j.Kind = kind.Value
	}
	var ok bool
	if j.Hints, ok = p.hints(); !ok {
		return nil
	}
	if p.accept("(") {
		if j.Right = p.pipeline(); j.Right == nil || !p.accept(")") {
			return nil
		}
	} else {
		// A bare table name: participle's gPipeline reads it as a table
		// with no operators when 'on' follows.
		tok := p.lex.Peek()
		id := p.ident()
		if id == nil || p.peekValue() != "on" || sourceKeywords[id.Plain] {
			return nil
		}
		j.Right = &gPipeline{Pos: tok.Pos, EndPos: id.EndPos, Source: &gSource{Table: id}}
	}
	if !p.accept("on") {
		return nil
	}
	for {
		x := p.tryExpr()
		if x == nil {
			return nil
		}
		j.On = append(j.On, x)
		if !p.accept(",") {
			return j
		}
	}
}

// sourceKeywords start the sources of gSpecialSource and gUnionArg other
// than a plain name; a name spelled so is left to participle.
var sourceKeywords = map[string]bool{
	"print": true, "datatable": true, "range": true, "union": true, "materialize": true,
	"toscalar": true, "workspace": true, "app": true, "cluster": true, "database": true,
	"resource": true, "adx": true,
}

// names reads project-away's (-keep's, -reorder's) column names and
// patterns.
func (p *exprParser) names(keyword string) *gNames {
	n := &gNames{Keyword: keyword}
	for {
		tok := p.lex.Peek()
		pat := &gNamePattern{Pos: tok.Pos}
		switch {
		case tok.Value == "[":
			id := p.ident()
			if id == nil {
				return nil
			}
			pat.Quoted = id.Quoted
		case tok.Type == tokIdent || tok.Value == "*":
			for t := p.lex.Peek(); t.Type == tokIdent || t.Value == "*"; t = p.lex.Peek() {
				pat.Parts = append(pat.Parts, t.Value)
				p.lex.Next()
			}
		default:
			return nil
		}
		pat.EndPos = p.endPos()
		n.Columns = append(n.Columns, pat)
		if !p.accept(",") {
			return n
		}
	}
}

// rename reads project-rename's New = Old pairs.
func (p *exprParser) rename() *gRename {
	r := &gRename{}
	for {
		newName := p.ident()
		if newName == nil || !p.accept("=") {
			return nil
		}
		old := p.ident()
		if old == nil {
			return nil
		}
		r.Pairs = append(r.Pairs, &gRenamePair{New: newName, Old: old})
		if !p.accept(",") {
			return r
		}
	}
}

// evaluate reads plugin(args).
func (p *exprParser) evaluate() *gEvaluate {
	e := &gEvaluate{Plugin: p.ident()}
	if e.Plugin == nil || !p.accept("(") || p.peekValue() == ")" {
		return nil
	}
	if e.Args = p.tryNamedExprs(); e.Args == nil || !p.accept(")") {
		return nil
	}
	return e
}

// distinct reads * or column names.
func (p *exprParser) distinct() *gDistinct {
	if p.accept("*") {
		return &gDistinct{Star: true}
	}
	d := &gDistinct{}
	for {
		id := p.ident()
		if id == nil {
			return nil
		}
		d.Columns = append(d.Columns, id)
		if !p.accept(",") {
			return d
		}
	}
}

// top reads N by Key.
func (p *exprParser) top() *gTop {
	t := &gTop{Count: p.tryExpr()}
	if t.Count == nil || !p.accept("by") {
		return nil
	}
	keys, err := p.sortKeys()
	if err != nil || len(keys) != 1 {
		return nil
	}
	t.Key = keys[0]
	return t
}

// serialize reads the optional columns.
func (p *exprParser) serialize() *gSerialize {
	s := &gSerialize{Keyword: "serialize"}
	if p.endsOperator() {
		return s
	}
	if s.Columns = p.tryNamedExprs(); s.Columns == nil {
		return nil
	}
	return s
}

// render reads the chart kind and its options, with (…) or legacy
// name = value pairs.
func (p *exprParser) render() *gRender {
	kind := p.lex.Peek()
	if kind.Type != tokIdent {
		return nil
	}
	p.lex.Next()
	r := &gRender{Kind: kind.Value}
	if p.peekValue() == "with" && p.peek2Value() == "(" {
		p.lex.Next()
		p.lex.Next()
		for tok := p.lex.Peek(); tok.Value != ")"; tok = p.lex.Peek() {
			if tok.EOF() {
				return nil
			}
			r.Options = append(r.Options, tok.Value)
			p.lex.Next()
		}
		p.lex.Next()
		return r
	}
	for p.lex.Peek().Type == tokIdent && p.peek2Value() == "=" {
		name := p.lex.Peek().Value
		p.lex.Next()
		p.lex.Next()
		value := p.lex.Peek()
		if value.Type != tokIdent && value.Type != tokString && value.Type != tokNumber {
			return nil
		}
		p.lex.Next()
		r.Legacy = append(r.Legacy, name, value.Value)
	}
	return r
}

// as reads [hint.name = value …] Name.
func (p *exprParser) as() *gAs {
	a := &gAs{}
	var ok bool
	if a.Hints, ok = p.hints(); !ok {
		return nil
	}
	if a.Name = p.ident(); a.Name == nil {
		return nil
	}
	return a
}

// union reads union's parameters and its tables: names and pipelines in
// parentheses.
func (p *exprParser) union() *gUnion {
	u := &gUnion{}
	if p.peekValue() == "kind" && p.peek2Value() == "=" {
		p.lex.Next()
		p.lex.Next()
		if u.Kind = p.peekValue(); u.Kind != "inner" && u.Kind != "outer" {
			return nil
		}
		p.lex.Next()
	}
	if p.peekValue() == "withsource" && p.peek2Value() == "=" {
		p.lex.Next()
		p.lex.Next()
		if u.WithSource = p.ident(); u.WithSource == nil {
			return nil
		}
	}
	if p.peekValue() == "isfuzzy" && p.peek2Value() == "=" {
		p.lex.Next()
		p.lex.Next()
		if u.Fuzzy = p.peekValue(); u.Fuzzy != "true" && u.Fuzzy != "false" {
			return nil
		}
		p.lex.Next()
	}
	for {
		arg := &gUnionArg{}
		if p.accept("(") {
			if arg.Paren = p.pipeline(); arg.Paren == nil || !p.accept(")") {
				return nil
			}
		} else if arg.Table = p.ident(); arg.Table == nil || sourceKeywords[arg.Table.Plain] {
			return nil
		}
		u.Tables = append(u.Tables, arg)
		if !p.accept(",") {
			return u
		}
	}
}

// expandItems reads [with_itemindex=I] Items [limit N], which mv-expand
// and mv-apply share, into their fields; false if it cannot.
func (p *exprParser) expandItems(index **gIdent, items *[]*gMvExpandItem, limit **gExpr) bool {
	if p.peekValue() == "with_itemindex" && p.peek2Value() == "=" {
		p.lex.Next()
		p.lex.Next()
		if *index = p.ident(); *index == nil {
			return false
		}
	}
	if *items = p.mvExpandItems(); *items == nil {
		return false
	}
	if p.accept("limit") {
		if *limit = p.tryExpr(); *limit == nil {
			return false
		}
	}
	return true
}

// mvApply reads [with_itemindex=I] Items [limit N] on (Operators).
func (p *exprParser) mvApply() *gMvApply {
	m := &gMvApply{}
	if !p.expandItems(&m.ItemIndex, &m.Items, &m.Limit) {
		return nil
	}
	if !p.accept("on") || !p.accept("(") {
		return nil
	}
	for {
		op := p.operator()
		if op == nil {
			return nil
		}
		m.Ops = append(m.Ops, op)
		if !p.accept("|") {
			break
		}
	}
	if !p.accept(")") {
		return nil
	}
	return m
}

// handQuery reads a whole query of let statements and a pipeline by hand,
// as gQuery's tags describe, or returns nil (the lexer moved) when
// participle must read it.
func handQuery(lex *tokens) *gQuery {
	p := exprParser{lex: lex}
	q := &gQuery{Pos: lex.Peek().Pos}
	for lex.Peek().Value == "let" {
		l := &gLet{}
		if !p.let(l) {
			return nil
		}
		q.Lets = append(q.Lets, l)
	}
	if q.Pipe = p.pipeline(); q.Pipe == nil {
		return nil
	}
	p.accept(";")
	if !lex.Peek().EOF() {
		return nil
	}
	q.EndPos = p.endPos()
	q.letCallExpr = p.letCallExpr
	return q
}

// parseOp reads [kind=K] Expr with Parts.
func (p *exprParser) parseOp() *gParse {
	g := &gParse{}
	if p.peekValue() == "kind" && p.peek2Value() == "=" {
		p.lex.Next()
		p.lex.Next()
		kind := p.lex.Peek()
		if kind.Type != tokIdent {
			return nil
		}
		p.lex.Next()
		g.Kind = kind.Value
	}
	if g.Expr = p.tryExpr(); g.Expr == nil || !p.accept("with") {
		return nil
	}
	for {
		tok := p.lex.Peek()
		part := &gParsePart{Pos: tok.Pos}
		switch {
		case tok.Type == tokString:
			p.lex.Next()
			part.Text = tok.Value
		case tok.Value == "*":
			p.lex.Next()
			part.Star = true
		default:
			part.Column = p.ident()
		}
		if part.Text == "" && !part.Star && part.Column == nil {
			break
		}
		// Only a column has a type: the tags read @String | '*' | Name (':' Type)?.
		if part.Column != nil && p.accept(":") {
			if part.Type = p.ident(); part.Type == nil {
				return nil
			}
		}
		part.EndPos = p.endPos()
		g.Parts = append(g.Parts, part)
	}
	if g.Parts == nil {
		return nil
	}
	return g
}

// makeSeries reads Aggs on Axis [from A] [to B] step S [by Groups].
func (p *exprParser) makeSeries() *gMakeSeries {
	m := &gMakeSeries{}
	for {
		agg := &gSeriesAgg{Agg: &gNamedExpr{}}
		if p.namedExprInto(agg.Agg, &gExpr{}) != nil {
			return nil
		}
		if p.peekValue() == "default" && p.peek2Value() == "=" {
			p.lex.Next()
			p.lex.Next()
			if agg.Default = p.tryExpr(); agg.Default == nil {
				return nil
			}
		}
		m.Aggs = append(m.Aggs, agg)
		if !p.accept(",") {
			break
		}
	}
	if !p.accept("on") {
		return nil
	}
	if m.Axis = p.tryExpr(); m.Axis == nil {
		return nil
	}
	if p.accept("from") {
		if m.From = p.tryExpr(); m.From == nil {
			return nil
		}
	}
	if p.accept("to") {
		if m.To = p.tryExpr(); m.To == nil {
			return nil
		}
	}
	if !p.accept("step") {
		return nil
	}
	if m.Step = p.tryExpr(); m.Step == nil {
		return nil
	}
	if p.accept("by") {
		if m.By = p.tryNamedExprs(); m.By == nil {
			return nil
		}
	}
	return m
}

// toscalarPipeline reads toscalar's pipeline by hand or, if it cannot,
// with participle's grammar.
func (p *exprParser) toscalarPipeline() (*gPipeline, error) {
	cp := p.lex.MakeCheckpoint()
	if pipe := p.pipeline(); pipe != nil {
		return pipe, nil
	}
	p.lex.LoadCheckpoint(cp)
	lex, start := p.lex.peeking()
	pipe, err := pipelineGrammar.ParseFromLexer(lex, participle.AllowTrailing(true))
	for range lex.Cursor() - start {
		p.lex.Next()
	}
	return pipe, err
}

// functionAhead reports whether the tokens after '(' start a function's
// parameters: ")" or "Name :".
func (p *exprParser) functionAhead() bool {
	cp := p.lex.MakeCheckpoint()
	defer p.lex.LoadCheckpoint(cp)
	p.lex.Next()
	if p.accept(")") {
		return true
	}
	return p.ident() != nil && p.peekValue() == ":"
}

// letFunc reads a function: (Params) { [lets] Body }, the body a scalar
// expression or a pipeline; other bodies are left to participle.
func (p *exprParser) letFunc() *gLetFunc {
	f := &gLetFunc{Pos: p.lex.Peek().Pos}
	p.lex.Next() // (
	if !p.accept(")") {
		for {
			param := &gFuncParam{Pos: p.lex.Peek().Pos}
			if param.Name = p.ident(); param.Name == nil || !p.accept(":") {
				return nil
			}
			if p.accept("(") {
				// A tabular parameter's schema is kept as written.
				for tok := p.lex.Peek(); tok.Value != ")"; tok = p.lex.Peek() {
					if tok.EOF() {
						return nil
					}
					param.Tabular = append(param.Tabular, tok.Value)
					p.lex.Next()
				}
				p.lex.Next()
			} else if param.Type = p.ident(); param.Type == nil {
				return nil
			}
			param.EndPos = p.endPos()
			f.Params = append(f.Params, param)
			if !p.accept(",") {
				break
			}
		}
		if !p.accept(")") {
			return nil
		}
	}
	if !p.accept("{") {
		return nil
	}
	for p.peekValue() == "let" {
		l := &gLet{}
		if !p.let(l) {
			return nil
		}
		f.Lets = append(f.Lets, l)
	}
	cp := p.lex.MakeCheckpoint()
	if f.Body = p.tryExpr(); f.Body != nil && p.accept("}") {
		return f
	}
	f.Body = nil
	p.lex.LoadCheckpoint(cp)
	if f.Pipe = p.pipeline(); f.Pipe == nil {
		return nil
	}
	p.accept(";")
	if !p.accept("}") {
		return nil
	}
	return f
}

// let reads a let statement as participle's gLet does: a source that is
// a call, else an expression, then operators and ';'.
func (p *exprParser) let(l *gLet) bool {
	l.Pos = p.lex.Peek().Pos
	p.lex.Next()
	if l.Name = p.ident(); l.Name == nil || !p.accept("=") {
		return false
	}
	tok := p.lex.Peek()
	switch {
	case tok.Value == "(" && p.functionAhead():
		if l.Func = p.letFunc(); l.Func == nil {
			return false
		}
	case tok.Value == "(" || sourceKeywords[tok.Value] && tok.Type == tokIdent || tok.Type == tokIdent && p.peek2Value() == "(":
		// participle tries the special sources, calls included, before
		// an expression: let x = dynamic([1]) is an expression because
		// it is no call.
		cp := p.lex.MakeCheckpoint()
		if l.Source = p.specialSource(); l.Source != nil {
			next := p.lex.Peek().Value
			if l.Source.Call == nil || next == "|" || next == ";" {
				break
			}
			// let start = ago(14d) + 1d: a call that an operator follows
			// is an expression. participle's grammar cannot see that (it
			// keeps the call as a source and fails at the '+'), so here
			// the hand parser reads what participle rejects.
			l.Source = nil
			p.lex.LoadCheckpoint(cp)
			if l.Expr = p.tryExpr(); l.Expr == nil {
				return false
			}
			p.letCallExpr = true
			break
		}
		if tok.Type != tokIdent || sourceKeywords[tok.Value] {
			return false
		}
		p.lex.LoadCheckpoint(cp)
		if l.Expr = p.tryExpr(); l.Expr == nil {
			return false
		}
	case tok.Type == tokIdent || tok.Type == tokNumber || tok.Type == tokString || tok.Type == tokMultiString ||
		tok.Type == tokTimespan || tok.Type == tokTypedLit:
		if l.Expr = p.tryExpr(); l.Expr == nil {
			return false
		}
	default:
		return false
	}
	var ok bool
	if l.Ops, ok = p.operators(); !ok || !p.accept(";") {
		return false
	}
	l.EndPos = p.endPos()
	return true
}
