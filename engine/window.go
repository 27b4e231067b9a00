package engine

import (
	"fmt"
	"strings"

	"github.com/socq/socq/parser"
)

// Window functions: row_number(), prev(), next() and row_cumsum() work on
// serialized rows, whose order sort and serialize fix (Kusto docs,
// window-functions). socq numbers such rows in a hidden column (scope.order)
// when a window function first needs it, and compiles each call to a DuckDB
// window over that number.

// orderColumn is the hidden column that numbers serialized rows.
const orderColumn = "_socq_order"

// windowFunction compiles one window function's call; over is its OVER
// clause.
type windowFunction struct {
	minArgs, maxArgs int
	compile          func(c *compiler, call *parser.Call, args []texpr, over string) (texpr, error)
}

var windowFunctions = map[string]windowFunction{
	"row_number": {0, 1, rowNumber},
	"prev":       {1, 3, neighbour("lag")},
	"next":       {1, 3, neighbour("lead")},
	"row_cumsum": {1, 1, rowCumsum},
}

// allowWindows lets window functions appear until the returned func runs.
func (c *compiler) allowWindows() (restore func()) {
	saved := c.windows
	c.windows = true
	return func() { c.windows = saved }
}

func (c *compiler) windowCall(e *parser.Call, w windowFunction, sc *scope) (texpr, error) {
	name := e.Func.Name
	switch {
	case !c.windows || c.aggregating:
		return texpr{}, parser.Errorf(e.Func.Span(), "%s() can be used only in extend, project, serialize and where", name)
	case !sc.serialized:
		return texpr{}, parser.Errorf(e.Func.Span(), "%s() needs serialized rows", name).
			WithHint("put serialize, or sort by, before it: T | sort by TimeGenerated asc | extend p = %s(…)", name)
	}
	if n := len(e.Args); n < w.minArgs || n > w.maxArgs {
		if name == "row_number" || name == "row_cumsum" {
			return texpr{}, parser.Errorf(e.Span(), "%s()'s restart argument is not supported by socq yet", name)
		}
		return texpr{}, arityError(e, w.minArgs, w.maxArgs)
	}
	pending := len(c.pendingWindows)
	args, err := c.exprs(e.Args, sc)
	if err != nil {
		return texpr{}, err
	}
	if len(c.pendingWindows) != pending {
		return texpr{}, parser.Errorf(e.Span(), "window functions cannot be nested in socq: compute the inner one in an extend first")
	}
	order := QuoteIdent(orderColumn) // numbered by flushWindows if need be
	if sc.order != "" {
		order = QuoteIdent(sc.order)
	}
	over := "OVER (ORDER BY " + order + ")"
	if c.partition != nil { // inside mv-apply, each row's subtable is its own series
		over = "OVER (PARTITION BY " + QuoteIdent(c.partition.sql) + " ORDER BY " + order + ")"
	}
	x, err := w.compile(c, e, args, over)
	if err != nil {
		return texpr{}, err
	}
	// DuckDB allows window functions neither in WHERE nor inside try(),
	// which other functions use: the value is computed in a stage of its
	// own (see flushWindows) and referred to by name.
	col := fmt.Sprintf("_socq_w%d_%d", len(c.ctes), len(c.pendingWindows))
	c.pendingWindows = append(c.pendingWindows, x.sql+" AS "+QuoteIdent(col))
	return texpr{sql: QuoteIdent(col), t: x.t}, nil
}

// flushWindows computes the window functions that the expressions just
// compiled over in refer to, in a stage before the operator's own, and
// returns the scope to build that operator on.
func (c *compiler) flushWindows(in *scope) *scope {
	if len(c.pendingWindows) == 0 {
		return in
	}
	if in.order == "" {
		in = c.number(in)
	}
	from := c.addCTE("SELECT *, " + strings.Join(c.pendingWindows, ", ") + "\nFROM " + in.from)
	c.pendingWindows = nil
	return &scope{from: from, cols: in.cols, serialized: true, order: in.order}
}

// number numbers serialized rows in their order, which DuckDB's streaming
// row_number() OVER () keeps.
func (c *compiler) number(in *scope) *scope {
	out := in.over(c.addCTE("SELECT *, row_number() OVER () AS " + QuoteIdent(orderColumn) + "\nFROM " + in.from))
	out.serialized, out.order = true, orderColumn
	return out
}

// rowNumber is row_number([start]): the row's position, from start (1).
func rowNumber(_ *compiler, call *parser.Call, args []texpr, over string) (texpr, error) {
	start := "1"
	if len(args) == 1 {
		n, err := longArg(call, args, 0)
		if err != nil {
			return texpr{}, err
		}
		start = n.sql
	}
	return texpr{sql: "(row_number() " + over + " + " + start + " - 1)", t: Long}, nil
}

// neighbour is prev(column [, offset [, default]]) or next: the value
// offset rows before (after), or default (null) past the first (last) row.
func neighbour(fn string) func(*compiler, *parser.Call, []texpr, string) (texpr, error) {
	return func(_ *compiler, call *parser.Call, args []texpr, over string) (texpr, error) {
		x := args[0]
		offset := "1"
		if len(args) > 1 {
			n, ok := constLong(args[1])
			if !ok || n < 0 {
				return texpr{}, parser.Errorf(call.Args[1].Span(), "%s()'s offset must be a whole number constant, 0 or more", call.Func.Name)
			}
			offset = fmt.Sprint(n)
		}
		sql := fn + "(" + x.sql + ", " + offset
		if len(args) > 2 {
			d, y, err := comparable(call, x, args[2])
			if err != nil {
				return texpr{}, parser.Errorf(call.Args[2].Span(), "%s()'s default must have the column's type, %s, not %s", call.Func.Name, x.t, args[2].t)
			}
			x = d
			sql = fn + "(" + d.sql + ", " + offset + ", " + y.sql
		}
		sql += ") " + over
		if x.t == String && len(args) < 3 {
			sql = "coalesce(" + sql + ", '')" // strings are never null: past the edge is ""
		}
		return texpr{sql: sql, t: x.t}, nil
	}
}

// rowCumsum is row_cumsum(term): the running sum of term over the rows so
// far, a long for whole numbers, a real or a timespan otherwise.
func rowCumsum(_ *compiler, call *parser.Call, args []texpr, over string) (texpr, error) {
	x := args[0]
	t := x.t
	switch t {
	case Int, Long:
		t = Long
	case Real, Timespan:
	default:
		return texpr{}, argError(call, 0, "a number or timespan", x.t)
	}
	sum := "sum(" + x.sql + ") " + over[:len(over)-1] + " ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"
	if t != Real {
		sum = "CAST(" + sum + " AS BIGINT)"
	}
	return texpr{sql: sum, t: t}, nil
}

// serialize fixes the rows' current order and extends its columns, if any.
func (c *compiler) serialize(op *parser.Serialize, in *scope) (*scope, error) {
	base := in.over(in.from)
	base.serialized = true
	if len(op.Columns) == 0 {
		return base, nil
	}
	return c.extend(&parser.Extend{At: op.At, Columns: op.Columns}, base)
}

// starExceptOrder is "*" without a previous order column.
func starExceptOrder(in *scope) string {
	if in.order != "" {
		return "* EXCLUDE (" + QuoteIdent(in.order) + ")"
	}
	return "*"
}
