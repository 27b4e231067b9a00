package engine

import (
	"maps"

	"github.com/socq/socq/parser"
)

// maxCallDepth stops a user function that calls itself.
const maxCallDepth = 16

// callUser inlines a user-defined function: each argument is compiled in
// the caller's row, converted to the parameter's type and bound to the
// parameter's name; the body sees its parameters and the query's lets, not
// the caller's columns (as in Kusto).
func (c *compiler) callUser(e *parser.Call, f *parser.Func, sc *scope) (texpr, error) {
	if f.Pipe != nil {
		return texpr{}, parser.Errorf(e.Span(), "'%s' is a tabular function: call it where a table goes", e.Func.Name).
			WithHint("toscalar(%s(…)) is not supported yet; bind it first: let t = %s(…); … toscalar(t)", e.Func.Name, e.Func.Name)
	}
	restore, err := c.bindArgs(e, f, sc)
	if err != nil {
		return texpr{}, err
	}
	defer restore()
	x, err := c.expr(f.Body, &scope{})
	if err != nil {
		return texpr{}, err
	}
	return texpr{sql: "(" + x.sql + ")", t: x.t}, nil
}

// callTabular inlines a call of a tabular user function, such as the
// Incident Tasks workbook's Percent(toscalar(WOCount), toscalar(TCount)):
// the arguments are scalars, bound to the parameters' names as in
// callUser, and the body's pipeline is compiled in their place.
func (c *compiler) callTabular(e *parser.Call) (*scope, error) {
	f, ok := c.funcs[e.Func.Name]
	if !ok {
		if _, scalar := functions[e.Func.Name]; scalar {
			return nil, parser.Errorf(e.Span(), "%s() is a scalar function, not a table", e.Func.Name).
				WithHint("use it in an expression: print %s", e)
		}
		return nil, parser.Errorf(e.Func.Span(), "unknown tabular function '%s'", e.Func.Name).
			WithHint("define it first: let %s = (x: long) { T | take x };", e.Func.Name)
	}
	if f.Pipe == nil {
		return nil, parser.Errorf(e.Span(), "'%s' is a scalar function, not a table", e.Func.Name).
			WithHint("use it in an expression: print %s", e)
	}
	restore, err := c.bindArgs(e, f, &scope{})
	if err != nil {
		return nil, err
	}
	defer restore()
	return c.pipeline(f.Pipe)
}

// bindArgs compiles a call's arguments in sc, converted to the parameters'
// types, and binds them to the parameters' names until restore is called.
func (c *compiler) bindArgs(e *parser.Call, f *parser.Func, sc *scope) (restore func(), err error) {
	if len(e.Args) != len(f.Params) {
		return nil, arityError(e, len(f.Params), len(f.Params))
	}
	if c.callDepth >= maxCallDepth {
		return nil, parser.Errorf(e.Span(), "'%s' calls itself too deeply", e.Func.Name)
	}
	bound := maps.Clone(c.scalars)
	for i, p := range f.Params {
		t, ok := TypeByName(p.Type.Name)
		if !ok {
			return nil, parser.Errorf(p.Type.Span(), "unknown type '%s'", p.Type.Name)
		}
		x, err := c.expr(e.Args[i], sc)
		if err != nil {
			return nil, err
		}
		bound[p.Name.Name] = convert(x, t)
	}
	saved := c.scalars
	c.scalars = bound
	c.callDepth++
	return func() { c.scalars, c.callDepth = saved, c.callDepth-1 }, nil
}

// toScalar is toscalar(T): the first column of the first row of a table (a
// tabular let or a table), or null when it has no rows.
func (c *compiler) toScalar(e *parser.Call) (texpr, error) {
	if len(e.Args) != 1 {
		return texpr{}, arityError(e, 1, 1)
	}
	id, ok := unparen(e.Args[0]).(*parser.Ident)
	if !ok || !c.isTable(id.Name) {
		return texpr{}, parser.Errorf(e.Args[0].Span(), "toscalar() takes a tabular let or a table here").
			WithHint("bind the pipeline first: let t = (T | count); … toscalar(t)")
	}
	sub, err := c.table(id)
	if err != nil {
		return texpr{}, err
	}
	if len(sub.cols) == 0 {
		return texpr{}, parser.Errorf(e.Args[0].Span(), "toscalar() of a table without columns")
	}
	return texpr{sql: "(SELECT " + QuoteIdent(sub.cols[0].sql) + " FROM " + sub.from + " LIMIT 1)", t: sub.cols[0].Type}, nil
}
