package parser

import (
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
)

// Lowering: grammar structs → AST. Literal text is decoded here (literal.go),
// so the AST holds values, not source spellings.

func span(pos, end lexer.Position) Span { return Span{pos.Offset, end.Offset} }

// reserved words print bracket-quoted when used as names.
var reserved = map[string]bool{
	"and": true, "or": true, "in": true, "between": true, "true": true, "false": true,
	"has": true, "contains": true, "startswith": true, "endswith": true, "to": true,
	"limit": true, "by": true, "with": true, "dynamic": true, "null": true, "typeof": true,
	"has_cs": true, "contains_cs": true, "startswith_cs": true, "endswith_cs": true,
	"hasprefix": true, "hassuffix": true, "hasprefix_cs": true, "hassuffix_cs": true,
	"has_any": true, "has_all": true, "kind": true, "bagexpansion": true, "with_itemindex": true,
	"asc": true, "desc": true, "nulls": true,
}

// kqlOperators are tabular operators of the Kusto language that socq does not
// (yet) translate, so that they are reported as unsupported, not unknown.
var kqlOperators = map[string]bool{
	"consume": true, "externaldata": true, "facet": true, "find": true,
	"fork": true, "getschema": true, "invoke": true, "lookup": true,
	"parse-kv": true, "parse-where": true,
	"partition": true, "project-smart": true, "reduce": true,
	"sample-distinct": true, "scan": true, "search": true,
	"top-hitters": true, "top-nested": true,
}

func lowerQuery(g *gQuery) (*Query, error) {
	q := &Query{At: At{span(g.Pos, g.EndPos)}}
	for _, gl := range g.Lets {
		l, err := lowerLet(gl)
		if err != nil {
			return nil, err
		}
		q.Lets = append(q.Lets, l)
	}
	pipe, err := lowerPipeline(g.Pipe)
	if err != nil {
		return nil, err
	}
	q.Pipe = pipe
	return q, nil
}

// lowerLet tells a tabular let (a name followed by operators, or a bare
// name, which the compiler resolves) from a scalar one.
func lowerLet(g *gLet) (*Let, error) {
	sp := span(g.Pos, g.EndPos)
	name, err := lowerIdent(g.Name)
	if err != nil {
		return nil, err
	}
	if g.Func != nil {
		if g.Func.Body == nil && g.Func.Pipe == nil {
			return nil, Errorf(Span{g.Func.Pos.Offset, g.Func.Pos.Offset + 1}, "this body of the function '%s' is not supported by socq yet", name.Name).
				WithHint("a body may be lets followed by one scalar expression, { strlen(x) }, or by one tabular pipeline, { T | take n }")
		}
		f := &Func{At: At{sp}}
		for _, gp := range g.Func.Params {
			if gp.Type == nil {
				id, err := lowerIdent(gp.Name)
				if err != nil {
					return nil, err
				}
				f.Params = append(f.Params, &TypedColumn{Name: id, Tabular: true})
				continue
			}
			ids, err := lowerIdents([]*gIdent{gp.Name, gp.Type})
			if err != nil {
				return nil, err
			}
			f.Params = append(f.Params, &TypedColumn{Name: ids[0], Type: ids[1]})
		}
		for _, gl := range g.Func.Lets {
			inner, err := lowerLet(gl)
			if err != nil {
				return nil, err
			}
			f.Lets = append(f.Lets, inner)
		}
		if g.Func.Pipe != nil {
			pipe, err := lowerPipeline(g.Func.Pipe)
			if err != nil {
				return nil, err
			}
			f.Pipe = pipe
			return &Let{At: At{sp}, Name: name, Func: f}, nil
		}
		body, err := lowerExpr(g.Func.Body)
		if err != nil {
			return nil, err
		}
		f.Body = body
		return &Let{At: At{sp}, Name: name, Func: f}, nil
	}
	if g.Source != nil && g.Source.Call != nil && len(g.Ops) == 0 {
		// let startTime = ago(14d); reads as a call that could also be a
		// table; with no operators after it, it is a scalar.
		expr, err := lowerCall(span(g.Source.Pos, g.Source.EndPos), g.Source.Call)
		if err != nil {
			return nil, err
		}
		return &Let{At: At{sp}, Name: name, Expr: expr}, nil
	}
	if g.Source != nil {
		src, err := lowerSpecialSource(g.Source)
		if err != nil {
			return nil, err
		}
		l := &Let{At: At{sp}, Name: name, Pipe: &Pipeline{At: src.(Node).Span().asAt(), Source: src}}
		for _, gop := range g.Ops {
			op, err := lowerOperator(gop)
			if err != nil {
				return nil, err
			}
			l.Pipe.Ops = append(l.Pipe.Ops, op)
		}
		return l, nil
	}
	expr, err := lowerExpr(g.Expr)
	if err != nil {
		return nil, err
	}
	l := &Let{At: At{sp}, Name: name}
	src, isName := expr.(*Ident)
	if len(g.Ops) == 0 {
		l.Expr = expr
		return l, nil
	}
	if !isName {
		return nil, Errorf(expr.Span(), "a tabular let must start with a table name")
	}
	l.Pipe = &Pipeline{At: At{Span{expr.Span().Start, sp.End - 1}}, Source: src}
	for _, gop := range g.Ops {
		op, err := lowerOperator(gop)
		if err != nil {
			return nil, err
		}
		l.Pipe.Ops = append(l.Pipe.Ops, op)
	}
	return l, nil
}

func lowerPipeline(g *gPipeline) (*Pipeline, error) {
	var src Source
	var err error
	if g.Source.Plain != nil {
		g.Source.Table = (*gIdent)(g.Source.Plain)
	}
	if g.Source.Table != nil {
		src, err = lowerIdent(g.Source.Table)
	} else {
		src, err = lowerSpecialSource(g.Source.Special)
	}
	if err != nil {
		return nil, err
	}
	p := &Pipeline{At: At{span(g.Pos, g.EndPos)}, Source: src}
	for _, gop := range g.Ops {
		op, err := lowerOperator(gop)
		if err != nil {
			return nil, err
		}
		p.Ops = append(p.Ops, op)
	}
	return p, nil
}

func lowerOperator(g *gOperator) (Operator, error) {
	sp := span(g.Pos, g.EndPos)
	switch {
	case g.Where != nil:
		pred, err := lowerExpr(g.Where.Pred)
		if err != nil {
			return nil, err
		}
		return &Where{At: At{sp}, Pred: pred}, nil
	case g.Project != nil:
		cols, err := lowerNamedExprs(g.Project.Columns)
		if err != nil {
			return nil, err
		}
		return &Project{At: At{sp}, Columns: cols}, nil
	case g.Extend != nil:
		cols, err := lowerNamedExprs(g.Extend.Columns)
		if err != nil {
			return nil, err
		}
		return &Extend{At: At{sp}, Columns: cols}, nil
	case g.Take != nil:
		n, err := lowerExpr(g.Take.Count)
		if err != nil {
			return nil, err
		}
		return &Take{At: At{sp}, Keyword: g.Take.Keyword, Count: n}, nil
	case g.Count != nil:
		return &Count{At: At{sp}}, nil
	case g.MvExpand != nil:
		return lowerMvExpand(sp, g.MvExpand)
	case g.Sort != nil:
		keys := make([]*SortKey, len(g.Sort.Keys))
		for i, gk := range g.Sort.Keys {
			k, err := lowerSortKey(gk)
			if err != nil {
				return nil, err
			}
			keys[i] = k
		}
		return &Sort{At: At{sp}, Keyword: g.Sort.Keyword, Keys: keys}, nil
	case g.Top != nil:
		n, err := lowerExpr(g.Top.Count)
		if err != nil {
			return nil, err
		}
		k, err := lowerSortKey(g.Top.Key)
		if err != nil {
			return nil, err
		}
		return &Top{At: At{sp}, Count: n, Key: k}, nil
	case g.Serialize != nil:
		cols, err := lowerNamedExprs(g.Serialize.Columns)
		return &Serialize{At: At{sp}, Columns: cols}, err
	case g.Distinct != nil:
		cols, err := lowerIdents(g.Distinct.Columns)
		return &Distinct{At: At{sp}, Star: g.Distinct.Star, Columns: cols}, err
	case g.Names != nil:
		p := &ProjectNames{At: At{sp}, Keyword: g.Names.Keyword}
		for _, gn := range g.Names.Columns {
			name := strings.Join(gn.Parts, "")
			if gn.Quoted != "" {
				var err error
				if name, err = decodeString(gn.Quoted); err != nil {
					return nil, Errorf(span(gn.Pos, gn.EndPos), "%v", err)
				}
			}
			p.Columns = append(p.Columns, &Ident{At: At{span(gn.Pos, gn.EndPos)}, Name: name})
		}
		return p, nil
	case g.Rename != nil:
		r := &ProjectRename{At: At{sp}}
		for _, gp := range g.Rename.Pairs {
			ids, err := lowerIdents([]*gIdent{gp.New, gp.Old})
			if err != nil {
				return nil, err
			}
			r.Renames = append(r.Renames, &Rename{New: ids[0], Old: ids[1]})
		}
		return r, nil
	case g.ParseOp != nil:
		x, err := lowerExpr(g.ParseOp.Expr)
		if err != nil {
			return nil, err
		}
		p := &ParseOp{At: At{sp}, Kind: g.ParseOp.Kind, Expr: x}
		for _, gp := range g.ParseOp.Parts {
			part := &ParsePart{At: At{span(gp.Pos, gp.EndPos)}, Star: gp.Star}
			switch {
			case gp.Column != nil:
				ids, err := lowerIdents([]*gIdent{gp.Column})
				if err != nil {
					return nil, err
				}
				part.Column = ids[0]
				if gp.Type != nil {
					if part.Type, err = lowerIdent(gp.Type); err != nil {
						return nil, err
					}
				}
			case !gp.Star:
				text, err := decodeString(gp.Text)
				if err != nil {
					return nil, Errorf(part.Span(), "%v", err)
				}
				part.Text = &text
			}
			p.Parts = append(p.Parts, part)
		}
		return p, nil
	case g.MvApply != nil:
		ex, err := lowerMvExpand(sp, &gMvExpand{ItemIndex: g.MvApply.ItemIndex, Items: g.MvApply.Items, Limit: g.MvApply.Limit})
		if err != nil {
			return nil, err
		}
		m := &MvApply{At: At{sp}, ItemIndex: ex.ItemIndex, Items: ex.Items, Limit: ex.Limit}
		for _, gop := range g.MvApply.Ops {
			op, err := lowerOperator(gop)
			if err != nil {
				return nil, err
			}
			m.Ops = append(m.Ops, op)
		}
		return m, nil
	case g.Series != nil:
		return lowerMakeSeries(sp, g.Series)
	case g.As != nil:
		name, err := lowerIdent(g.As.Name)
		return &As{At: At{sp}, Name: name}, err
	case g.Sample != nil:
		n, err := lowerExpr(g.Sample)
		return &Sample{At: At{sp}, Count: n}, err
	case g.Union != nil:
		u, err := lowerUnion(sp, g.Union)
		if err != nil {
			return nil, err
		}
		return &UnionOp{Union: *u}, nil
	case g.Join != nil:
		right, err := lowerPipeline(g.Join.Right)
		if err != nil {
			return nil, err
		}
		j := &Join{At: At{sp}, Lookup: g.Join.Keyword == "lookup", Kind: g.Join.Kind, Right: right}
		for _, ge := range g.Join.On {
			e, err := lowerExpr(ge)
			if err != nil {
				return nil, err
			}
			j.On = append(j.On, e)
		}
		return j, nil
	case g.Render != nil:
		options := strings.Join(g.Render.Options, " ")
		for i := 0; i+1 < len(g.Render.Legacy); i += 2 {
			if options != "" {
				options += " , "
			}
			options += g.Render.Legacy[i] + " = " + g.Render.Legacy[i+1]
		}
		return &Render{At: At{sp}, Kind: g.Render.Kind, Options: options}, nil
	case g.Evaluate != nil:
		plugin, err := lowerIdent(g.Evaluate.Plugin)
		if err != nil {
			return nil, err
		}
		args, err := lowerNamedExprs(g.Evaluate.Args)
		if err != nil {
			return nil, err
		}
		return &Evaluate{At: At{sp}, Plugin: plugin, Args: args}, nil
	case g.Summ != nil:
		aggs, err := lowerNamedExprs(g.Summ.Aggs)
		if err != nil {
			return nil, err
		}
		by, err := lowerNamedExprs(g.Summ.By)
		if err != nil {
			return nil, err
		}
		return &Summarize{At: At{sp}, Aggs: aggs, By: by}, nil
	}
	return nil, unsupportedOperator(g.Other)
}

func unsupportedOperator(g *gOther) *Error {
	sp := Span{g.Pos.Offset, g.Pos.Offset + len(g.Name)}
	switch {
	case kqlOperators[g.Name]:
		return Errorf(sp, "the '%s' operator is not supported by socq yet", g.Name).
			WithHint("%s", supportedOperatorsHint)
	case kqlOperators[strings.ToLower(g.Name)] || isSupportedOperator(strings.ToLower(g.Name)):
		return Errorf(sp, "unknown operator '%s'", g.Name).
			WithHint("KQL operators are lower case: '%s'", strings.ToLower(g.Name))
	}
	return Errorf(sp, "unknown operator '%s'", g.Name).
		WithHint("%s", supportedOperatorsHint)
}

const supportedOperatorsHint = "supported operators: where, project, extend, mv-expand, mv-apply, summarize, make-series, sort, top, distinct, project-away, project-keep, project-rename, project-reorder, evaluate bag_unpack, join, lookup, union, parse, sample, serialize, as, render, take, limit, count"

func isSupportedOperator(name string) bool {
	switch name {
	case "where", "filter", "project", "extend", "take", "limit", "count", "mv-expand", "mvexpand",
		"sort", "order", "top", "distinct", "project-away", "project-keep", "project-reorder",
		"project-rename", "summarize", "evaluate", "render", "join", "lookup", "union", "parse", "sample", "as", "make-series", "mv-apply":
		return true
	}
	return false
}

func lowerSpecialSource(g *gSpecialSource) (Source, error) {
	sp := span(g.Pos, g.EndPos)
	switch {
	case g.Print != nil:
		cols, err := lowerNamedExprs(g.Print)
		return &Print{At: At{sp}, Columns: cols}, err
	case g.Datatable != nil:
		d := &Datatable{At: At{sp}}
		for _, gc := range g.Datatable.Columns {
			ids, err := lowerIdents([]*gIdent{gc.Name, gc.Type})
			if err != nil {
				return nil, err
			}
			d.Columns = append(d.Columns, &TypedColumn{Name: ids[0], Type: ids[1]})
		}
		for _, gv := range g.Datatable.Values {
			v, err := lowerExpr(gv)
			if err != nil {
				return nil, err
			}
			d.Values = append(d.Values, v)
		}
		return d, nil
	case g.Range != nil:
		col, err := lowerIdent(g.Range.Column)
		if err != nil {
			return nil, err
		}
		r := &Range{At: At{sp}, Column: col}
		for _, p := range []struct {
			g   *gExpr
			dst *Expr
		}{{g.Range.From, &r.From}, {g.Range.To, &r.To}, {g.Range.Step, &r.Step}} {
			if *p.dst, err = lowerExpr(p.g); err != nil {
				return nil, err
			}
		}
		return r, nil
	case g.Union != nil:
		return lowerUnion(sp, g.Union)
	case g.Cross != nil:
		return nil, crossResourceError(g.Cross)
	case g.Materialize != nil:
		// materialize(T) caches T for the query's other uses of it; socq's
		// tabular lets are computed as CTEs, so it is T itself.
		return lowerPipeline(g.Materialize)
	case g.Call != nil:
		call, err := lowerCall(sp, g.Call)
		if err != nil {
			return nil, err
		}
		if c, ok := call.(*Call); ok {
			return c, nil
		}
		return nil, Errorf(sp, "a literal is not a table")
	}
	return lowerPipeline(g.Paren)
}

func lowerUnion(sp Span, g *gUnion) (*Union, error) {
	u := &Union{At: At{sp}, Kind: g.Kind, Fuzzy: g.Fuzzy}
	if g.WithSource != nil {
		id, err := lowerIdent(g.WithSource)
		if err != nil {
			return nil, err
		}
		u.WithSource = id
	}
	for _, a := range g.Tables {
		if a.Cross != nil {
			return nil, crossResourceError(a.Cross)
		}
		if a.Paren != nil {
			p, err := lowerPipeline(a.Paren)
			if err != nil {
				return nil, err
			}
			u.Tables = append(u.Tables, p)
			continue
		}
		id, err := lowerIdent(a.Table)
		if err != nil {
			return nil, err
		}
		u.Tables = append(u.Tables, &Pipeline{At: id.At, Source: id})
	}
	return u, nil
}

func lowerMakeSeries(sp Span, g *gMakeSeries) (*MakeSeries, error) {
	m := &MakeSeries{At: At{sp}}
	for _, ga := range g.Aggs {
		aggs, err := lowerNamedExprs([]*gNamedExpr{ga.Agg})
		if err != nil {
			return nil, err
		}
		var def Expr
		if ga.Default != nil {
			if def, err = lowerExpr(ga.Default); err != nil {
				return nil, err
			}
		}
		m.Aggs = append(m.Aggs, aggs[0])
		m.Defaults = append(m.Defaults, def)
	}
	var err error
	for _, p := range []struct {
		g   *gExpr
		dst *Expr
	}{{g.Axis, &m.Axis}, {g.From, &m.From}, {g.To, &m.To}, {g.Step, &m.Step}} {
		if p.g == nil {
			continue
		}
		if *p.dst, err = lowerExpr(p.g); err != nil {
			return nil, err
		}
	}
	m.By, err = lowerNamedExprs(g.By)
	return m, err
}

func lowerSortKey(g *gSortKey) (*SortKey, error) {
	x, err := lowerExpr(g.Expr)
	if err != nil {
		return nil, err
	}
	return &SortKey{At: At{span(g.Pos, g.EndPos)}, Expr: x, Dir: g.Dir, Nulls: g.Nulls}, nil
}

func lowerIdents(gs []*gIdent) ([]*Ident, error) {
	out := make([]*Ident, len(gs))
	for i, g := range gs {
		id, err := lowerIdent(g)
		if err != nil {
			return nil, err
		}
		out[i] = id
	}
	return out, nil
}

func lowerMvExpand(sp Span, g *gMvExpand) (*MvExpand, error) {
	m := &MvExpand{At: At{sp}, Kind: g.Kind, KindParam: g.KindParam}
	if g.ItemIndex != nil {
		id, err := lowerIdent(g.ItemIndex)
		if err != nil {
			return nil, err
		}
		m.ItemIndex = id
	}
	for _, gi := range g.Items {
		it := &MvExpandItem{At: At{span(gi.Pos, gi.EndPos)}}
		var err error
		if gi.Name != nil {
			if it.Name, err = lowerIdent(gi.Name); err != nil {
				return nil, err
			}
		}
		if it.Expr, err = lowerExpr(gi.Expr); err != nil {
			return nil, err
		}
		if gi.ToType != nil {
			if it.ToType, err = lowerIdent(gi.ToType); err != nil {
				return nil, err
			}
		}
		m.Items = append(m.Items, it)
	}
	if g.Limit != nil {
		lim, err := lowerExpr(g.Limit)
		if err != nil {
			return nil, err
		}
		m.Limit = lim
	}
	return m, nil
}

func lowerNamedExprs(gs []*gNamedExpr) ([]*NamedExpr, error) {
	out := make([]*NamedExpr, 0, len(gs))
	for _, g := range gs {
		n := &NamedExpr{At: At{span(g.Pos, g.EndPos)}}
		var err error
		if g.Name != nil {
			if n.Name, err = lowerIdent(g.Name); err != nil {
				return nil, err
			}
		}
		if n.Expr, err = lowerExpr(g.Expr); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

func lowerIdent(g *gIdent) (*Ident, error) {
	sp := span(g.Pos, g.EndPos)
	if g.Quoted == "" {
		return &Ident{At: At{sp}, Name: g.Plain}, nil
	}
	name, err := decodeString(g.Quoted)
	if err != nil {
		return nil, Errorf(sp, "%v", err)
	}
	if name == "" {
		return nil, Errorf(sp, "a name cannot be empty")
	}
	return &Ident{At: At{sp}, Name: name}, nil
}

// precedence of Kusto's binary operators, from the official grammar
// (Kql.g4): or < and < equality (==, !=, in, between) < relational (<, >)
// < additive < multiplicative < string operators (=~, has, contains, ...).
// String operators binding tighter than arithmetic is Kusto's rule:
// a + b has "x" is a + (b has "x").
func precedence(t *gBinary) int {
	switch {
	case t.In != nil, t.Between != nil:
		return 3
	}
	switch string(t.Op) {
	case "or":
		return 1
	case "and":
		return 2
	case "==", "!=", "<>":
		return 3
	case "<", ">", "<=", ">=":
		return 4
	case "+", "-":
		return 5
	case "*", "/", "%":
		return 6
	}
	return 7
}

// nonAssociative levels do not chain: a == b == c is an error, as in Kusto.
func nonAssociative(prec int) bool { return prec == 3 || prec == 4 }

func lowerExpr(g *gExpr) (Expr, error) {
	c := &climber{tails: g.Rest}
	left, err := lowerUnary(g.Left)
	if err != nil {
		return nil, err
	}
	return c.climb(left, 1)
}

// climber lowers a flat operand/operator list by precedence climbing.
type climber struct {
	tails []*gBinary
	next  int
}

// climb extends left with every following operator of precedence at least
// minPrec, lowering tighter-binding operators on the right first.
func (c *climber) climb(left Expr, minPrec int) (Expr, error) {
	for c.next < len(c.tails) {
		t := c.tails[c.next]
		prec := precedence(t)
		if prec < minPrec {
			return left, nil
		}
		c.next++
		var err error
		switch {
		case t.In != nil:
			left, err = lowerIn(left, t)
		case t.Between != nil:
			left, err = lowerBetween(left, t)
		default:
			var right Expr
			if right, err = lowerUnary(t.Right); err != nil {
				return nil, err
			}
			for c.next < len(c.tails) && precedence(c.tails[c.next]) > prec {
				if right, err = c.climb(right, prec+1); err != nil {
					return nil, err
				}
			}
			left = binary(operatorName(string(t.Op)), left, right)
		}
		if err != nil {
			return nil, err
		}
		if nonAssociative(prec) && c.next < len(c.tails) && precedence(c.tails[c.next]) == prec {
			n := c.tails[c.next]
			return nil, Errorf(Span{n.Pos, n.EndPos}, "comparisons do not chain: put parentheses around one of them")
		}
	}
	return left, nil
}

// operatorName is the canonical spelling of a binary operator.
func operatorName(op string) string {
	switch op {
	case "<>":
		return "!="
	case "matchesregex": // participle joins the two captured tokens
		return "matches regex"
	}
	return op
}

func binary(op string, left, right Expr) *Binary {
	return &Binary{At: At{Span{left.Span().Start, right.Span().End}}, Op: op, Left: left, Right: right}
}

func lowerIn(left Expr, t *gBinary) (Expr, error) {
	list := make([]Expr, 0, len(t.In.List))
	for _, ge := range t.In.List {
		e, err := lowerExpr(ge)
		if err != nil {
			return nil, err
		}
		list = append(list, e)
	}
	return &In{At: At{Span{left.Span().Start, t.EndPos}}, Op: t.In.Op, X: left, List: list}, nil
}

func lowerBetween(left Expr, t *gBinary) (Expr, error) {
	lo, err := lowerExpr(t.Between.Low)
	if err != nil {
		return nil, err
	}
	hi, err := lowerExpr(t.Between.High)
	if err != nil {
		return nil, err
	}
	return &Between{At: At{Span{left.Span().Start, t.EndPos}}, Not: t.Between.Op == "!between", X: left, Low: lo, High: hi}, nil
}

func lowerUnary(g *gUnary) (Expr, error) {
	x, err := lowerPostfix(g.Postfix)
	if err != nil {
		return nil, err
	}
	if g.Op == "" {
		return x, nil
	}
	return &Unary{At: At{Span{g.Pos, g.EndPos}}, Op: string(g.Op), X: x}, nil
}

func lowerPostfix(g *gPostfix) (Expr, error) {
	x, err := lowerPrimary(g.Primary)
	if err != nil {
		return nil, err
	}
	for _, a := range g.Access {
		sp := Span{x.Span().Start, a.EndPos}
		if a.Member != nil {
			name, err := lowerIdent(a.Member)
			if err != nil {
				return nil, err
			}
			x = &Member{At: At{sp}, X: x, Name: name}
			continue
		}
		idx, err := lowerExpr(a.Index)
		if err != nil {
			return nil, err
		}
		x = &Index{At: At{sp}, X: x, Index: idx}
	}
	return x, nil
}

func lowerPrimary(g *gPrimary) (Expr, error) {
	sp := Span{g.Pos, g.EndPos}
	switch {
	case g.TypedLit != "":
		return parseTypedLiteral(sp, g.TypedLit)
	case g.Dynamic != nil:
		text, err := dynamicJSON(g.Dynamic)
		if err != nil {
			return nil, err
		}
		if text == "null" {
			return &Literal{At: At{sp}, Kind: DynamicLit, Null: true}, nil
		}
		return &Literal{At: At{sp}, Kind: DynamicLit, Str: text}, nil
	case len(g.String) > 0:
		var b strings.Builder
		for _, raw := range g.String {
			s, err := decodeString(raw)
			if err != nil {
				return nil, Errorf(sp, "%v", err)
			}
			b.WriteString(s)
		}
		return &Literal{At: At{sp}, Kind: StringLit, Str: b.String()}, nil
	case g.Timespan != "":
		d, err := parseTimespanToken(g.Timespan)
		if err != nil {
			return nil, Errorf(sp, "%v", err)
		}
		return &Literal{At: At{sp}, Kind: TimespanLit, Duration: d}, nil
	case g.Number != "":
		return parseNumber(sp, g.Number)
	case g.Bool != "":
		return &Literal{At: At{sp}, Kind: BoolLit, Bool: g.Bool == "true"}, nil
	case g.Star:
		return &Star{At: At{sp}}, nil
	case g.ToScalar != nil:
		pipe, err := lowerPipeline(g.ToScalar)
		if err != nil {
			return nil, err
		}
		return &ToScalar{At: At{sp}, Pipe: pipe}, nil
	case g.Call != nil:
		return lowerCall(sp, g.Call)
	case g.Ident != nil:
		return lowerIdent(g.Ident)
	case g.Paren != nil:
		x, err := lowerExpr(g.Paren)
		if err != nil {
			return nil, err
		}
		return &Paren{At: At{sp}, X: x}, nil
	}
	return nil, Errorf(sp, "empty expression")
}

func lowerCall(sp Span, g *gCall) (Expr, error) {
	fn, err := lowerIdent(g.Func)
	if err != nil {
		return nil, err
	}
	if kind, ok := literalFuncs[fn.Name]; ok && len(g.Args) == 1 && g.Args[0].Expr != nil {
		if lit, ok, err := typedScalarLiteral(sp, kind, g.Args[0].Expr); ok || err != nil {
			return lit, err
		}
	}
	c := &Call{At: At{sp}, Func: fn}
	for _, a := range g.Args {
		e, err := lowerExpr(a.Expr)
		if err != nil {
			return nil, err
		}
		if a.Name != nil {
			name, err := lowerIdent(a.Name)
			if err != nil {
				return nil, err
			}
			if c.ArgNames == nil {
				c.ArgNames = make([]*Ident, len(g.Args))
			}
			c.ArgNames[len(c.Args)] = name
		}
		c.Args = append(c.Args, e)
	}
	return c, nil
}

// crossResourceError rejects workspace('x').T and its kin: socq holds the
// history of one workspace, queried by table name alone.
func crossResourceError(g *gCross) *Error {
	return Errorf(span(g.Pos, g.EndPos), "%s() reaches into another %s; socq holds one history, so cross-resource queries are not supported", g.Func, crossNoun(g.Func)).
		WithHint("name the table alone, as in: union SecurityIncident")
}

func crossNoun(fn string) string {
	switch fn {
	case "workspace", "app", "cluster", "database":
		return fn
	}
	return "resource"
}
