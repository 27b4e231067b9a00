package engine

import (
	"slices"
	"strings"

	"github.com/socq/socq/parser"
)

// Staging: bag_unpack's columns depend on the data, so the compiler must
// read the rows that reach it before it can compile the operators after it.
// Without a Stager it asks the database for their keys (CompileOptions.Probe)
// and the query then runs the pipeline before bag_unpack a second time.
// With one, the pipeline up to bag_unpack runs once, into a temporary table
// holding only the columns the rest of the query can read; the keys are read
// from that table and the rest of the query reads it too (Microsoft's audit
// query runs its arg_max over the whole history once instead of twice).

// Stager stores rows in temporary tables while a query compiles; DB.Stager
// provides one. The tables belong to the Plan (Plan.Staged) and are dropped
// by DB.Release, which DB.Query and the other runners call when done.
type Stager interface {
	// Stage runs sql and stores its rows in a new temporary table, returning
	// the SQL name to read it by.
	Stage(sql string) (string, error)
	// Drop drops a table Stage made.
	Drop(table string) error
}

// stageInput runs the stages so far into a temporary table, keeping the
// columns of in that the rest of the query can read (and bag, the column
// bag_unpack reads), and returns the scope that reads the table. It returns
// nil when staging does not apply: no Stager, an operator inside a subquery
// or a let (whose readers are elsewhere), serialized rows, a cheap pipeline
// before it (reading the table twice costs less than storing what it
// gives), a rest whose reads cannot be told by name or that reads every
// column (see restReads), or a table the database could not make (staging
// only saves time: the query then runs as it would without it).
func (c *compiler) stageInput(in *scope, bag string) *scope {
	if c.opts.Stager == nil || !c.atTop || in.serialized || !c.worthStaging(c.query.Source, c.before) {
		return nil
	}
	reads, ok := c.restReads(c.rest)
	if !ok || reads == nil {
		return nil
	}
	kept := &scope{exact: true}
	var sel []string
	for _, col := range in.cols {
		if col.Name == bag || reads[col.Name] {
			kept.cols = append(kept.cols, col)
			sel = append(sel, QuoteIdent(col.sql))
		}
	}
	table, err := c.opts.Stager.Stage(c.probeSQL("\n" + selectFrom(sel, in.from, "")))
	if err != nil {
		return nil
	}
	c.staged = append(c.staged, table)
	// The stages so far are in the table: later SQL starts from it.
	kept.from = c.addCTE("SELECT *\nFROM " + table)
	c.firstStage = len(c.ctes) - 1
	return kept
}

// worthStaging reports whether the pipeline from src through ops does more
// than read the table row by row: it groups, joins or reads a let or other
// source, whose work staging saves doing twice.
func (c *compiler) worthStaging(src parser.Source, ops []parser.Operator) bool {
	if p, ok := src.(*parser.Pipeline); ok {
		return c.worthStaging(p.Source, append(slices.Clip(p.Ops), ops...))
	}
	id, ok := src.(*parser.Ident)
	if !ok {
		return true
	}
	if _, isLet := c.tables[id.Name]; isLet {
		return true
	}
	for _, op := range ops {
		switch op.(type) {
		case *parser.Where, *parser.Extend, *parser.Project, *parser.ProjectNames, *parser.ProjectRename,
			*parser.MvExpand, *parser.Take, *parser.Serialize, *parser.ParseOp:
		default:
			return true
		}
	}
	return false
}

// restReads tells which columns the operators after bag_unpack can read, by
// name: every identifier and string literal in them (column_ifexists names
// its column in a string). nil means all of them reach the result, because
// no operator cuts the columns down. ok is false when a read cannot be told
// by name: '*' outside arg_max/arg_min, pack_all(), wildcard column
// patterns, user functions, toscalar(), and operators not listed here
// (joins, unions, other plugins, ...).
func (c *compiler) restReads(ops []parser.Operator) (reads map[string]bool, ok bool) {
	if len(c.funcs) > 0 {
		return nil, false
	}
	names := map[string]bool{}
	n := nameCollector{names: names, ok: true}
	cut := false
	for _, op := range ops {
		n.carriesAll = false
		switch op := op.(type) {
		case *parser.Where:
			n.expr(op.Pred)
		case *parser.Extend:
			n.namedExprs(op.Columns)
		case *parser.Serialize:
			n.namedExprs(op.Columns)
		case *parser.Take:
			n.expr(op.Count)
		case *parser.Sort:
			for _, k := range op.Keys {
				n.expr(k.Expr)
			}
		case *parser.Top:
			n.expr(op.Count)
			n.expr(op.Key.Expr)
		case *parser.MvExpand:
			for _, it := range op.Items {
				n.expr(it.Expr)
			}
			if op.Limit != nil {
				n.expr(op.Limit)
			}
		case *parser.ProjectRename:
			for _, r := range op.Renames {
				names[r.Old.Name] = true
			}
		case *parser.ProjectNames:
			for _, id := range op.Columns {
				if strings.Contains(id.Name, "*") {
					return nil, false
				}
				names[id.Name] = true
			}
			cut = cut || op.Keyword == "project-keep"
		case *parser.Project:
			n.namedExprs(op.Columns)
			cut = true
		case *parser.Summarize:
			n.namedExprs(op.Aggs)
			n.namedExprs(op.By)
			// arg_max(T, *) carries every column on.
			cut = cut || !n.carriesAll
		case *parser.Count:
			cut = true
		case *parser.Distinct:
			if op.Star {
				return nil, false
			}
			for _, id := range op.Columns {
				names[id.Name] = true
			}
			cut = true
		case *parser.Render:
		default:
			return nil, false
		}
		if !n.ok {
			return nil, false
		}
		if cut {
			return names, true
		}
	}
	return nil, true
}

// nameCollector gathers the names an expression can read a column by.
type nameCollector struct {
	names map[string]bool
	// ok turns false at a read that cannot be told by name.
	ok bool
	// carriesAll is set by '*' in arg_max/arg_min.
	carriesAll bool
}

func (n *nameCollector) namedExprs(list []*parser.NamedExpr) {
	for _, ne := range list {
		n.expr(ne.Expr)
	}
}

func (n *nameCollector) expr(e parser.Expr) {
	switch e := e.(type) {
	case *parser.Ident:
		n.names[e.Name] = true
	case *parser.Literal:
		if e.Kind == parser.StringLit {
			n.names[e.Str] = true
		}
	case *parser.Binary:
		n.expr(e.Left)
		n.expr(e.Right)
	case *parser.Unary:
		n.expr(e.X)
	case *parser.In:
		n.expr(e.X)
		for _, x := range e.List {
			n.expr(x)
		}
	case *parser.Between:
		n.expr(e.X)
		n.expr(e.Low)
		n.expr(e.High)
	case *parser.Call:
		if e.Func.Name == "pack_all" {
			n.ok = false
		}
		for i, arg := range e.Args {
			if _, star := arg.(*parser.Star); star && i > 0 && (e.Func.Name == "arg_max" || e.Func.Name == "arg_min") {
				n.carriesAll = true
				continue
			}
			n.expr(arg)
		}
	case *parser.Member:
		n.expr(e.X)
	case *parser.Index:
		n.expr(e.X)
		n.expr(e.Index)
	case *parser.Paren:
		n.expr(e.X)
	default:
		// '*' elsewhere, toscalar() and anything new.
		n.ok = false
	}
}
