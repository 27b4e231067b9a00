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
	if len(e.Args) != len(f.Params) {
		return texpr{}, arityError(e, len(f.Params), len(f.Params))
	}
	if c.callDepth >= maxCallDepth {
		return texpr{}, parser.Errorf(e.Span(), "'%s' calls itself too deeply", e.Func.Name)
	}
	bound := maps.Clone(c.scalars)
	for i, p := range f.Params {
		t, ok := TypeByName(p.Type.Name)
		if !ok {
			return texpr{}, parser.Errorf(p.Type.Span(), "unknown type '%s'", p.Type.Name)
		}
		x, err := c.expr(e.Args[i], sc)
		if err != nil {
			return texpr{}, err
		}
		bound[p.Name.Name] = convert(x, t)
	}
	saved := c.scalars
	c.scalars = bound
	c.callDepth++
	defer func() { c.scalars, c.callDepth = saved, c.callDepth-1 }()
	x, err := c.expr(f.Body, &scope{})
	if err != nil {
		return texpr{}, err
	}
	return texpr{sql: "(" + x.sql + ")", t: x.t}, nil
}
