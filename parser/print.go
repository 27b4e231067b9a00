package parser

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// String methods print nodes back as canonical KQL: parsing the output gives
// the same tree (spans aside).

func (q *Query) String() string {
	var b strings.Builder
	for _, l := range q.Lets {
		b.WriteString(l.String() + "\n")
	}
	b.WriteString(q.Pipe.String())
	return b.String()
}

func (l *Let) String() string {
	if l.Func != nil {
		params := make([]string, len(l.Func.Params))
		for i, p := range l.Func.Params {
			if p.Tabular {
				params[i] = p.Name.String() + ": (*)"
				continue
			}
			params[i] = p.Name.String() + ": " + p.Type.String()
		}
		var body strings.Builder
		for _, inner := range l.Func.Lets {
			body.WriteString(inner.String() + " ")
		}
		if l.Func.Pipe != nil {
			body.WriteString(l.Func.Pipe.String())
		} else {
			body.WriteString(l.Func.Body.String())
		}
		return "let " + l.Name.String() + " = (" + strings.Join(params, ", ") + ") { " + body.String() + " };"
	}
	if l.Pipe != nil {
		return "let " + l.Name.String() + " = " + l.Pipe.String() + ";"
	}
	return "let " + l.Name.String() + " = " + l.Expr.String() + ";"
}

func (p *Pipeline) String() string {
	var b strings.Builder
	if inner, ok := p.Source.(*Pipeline); ok {
		b.WriteString("(" + inner.String() + ")")
	} else {
		b.WriteString(p.Source.String())
	}
	for _, op := range p.Ops {
		b.WriteString("\n| ")
		b.WriteString(op.String())
	}
	return b.String()
}

func (s *Sort) String() string {
	keys := make([]string, len(s.Keys))
	for i, k := range s.Keys {
		keys[i] = k.String()
	}
	return s.Keyword + " by " + strings.Join(keys, ", ")
}

func (k *SortKey) String() string {
	s := k.Expr.String()
	if k.Dir != "" {
		s += " " + k.Dir
	}
	if k.Nulls != "" {
		s += " nulls " + k.Nulls
	}
	return s
}

func (t *Top) String() string { return "top " + t.Count.String() + " by " + t.Key.String() }

func (d *Distinct) String() string {
	if d.Star {
		return "distinct *"
	}
	return "distinct " + joinIdents(d.Columns)
}

func (p *ProjectNames) String() string { return p.Keyword + " " + joinIdents(p.Columns) }

func (p *ProjectRename) String() string {
	parts := make([]string, len(p.Renames))
	for i, r := range p.Renames {
		parts[i] = r.New.String() + " = " + r.Old.String()
	}
	return "project-rename " + strings.Join(parts, ", ")
}

func (s *Summarize) String() string {
	out := "summarize"
	if len(s.Aggs) > 0 {
		out += " " + joinNamed(s.Aggs)
	}
	if len(s.By) > 0 {
		out += " by " + joinNamed(s.By)
	}
	return out
}

func joinIdents(ids []*Ident) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = id.String()
	}
	return strings.Join(parts, ", ")
}

func (*Star) String() string { return "*" }

func (p *ParseOp) String() string {
	s := "parse "
	if p.Kind != "" {
		s += "kind=" + p.Kind + " "
	}
	s += p.Expr.String() + " with"
	for _, part := range p.Parts {
		switch {
		case part.Text != nil:
			s += " " + quoteString(*part.Text)
		case part.Star:
			s += " *"
		default:
			s += " " + part.Column.String()
			if part.Type != nil {
				s += ":" + part.Type.String()
			}
		}
	}
	return s
}

func (m *MakeSeries) String() string {
	aggs := make([]string, len(m.Aggs))
	for i, a := range m.Aggs {
		aggs[i] = a.String()
		if m.Defaults[i] != nil {
			aggs[i] += " default = " + m.Defaults[i].String()
		}
	}
	s := "make-series " + strings.Join(aggs, ", ") + " on " + m.Axis.String()
	if m.From != nil {
		s += " from " + m.From.String()
	}
	if m.To != nil {
		s += " to " + m.To.String()
	}
	s += " step " + m.Step.String()
	if len(m.By) > 0 {
		s += " by " + joinNamed(m.By)
	}
	return s
}

func (m *MvApply) String() string {
	s := "mv-apply "
	if m.ItemIndex != nil {
		s += "with_itemindex=" + m.ItemIndex.String() + " "
	}
	items := make([]string, len(m.Items))
	for i, it := range m.Items {
		items[i] = it.String()
	}
	s += strings.Join(items, ", ")
	if m.Limit != nil {
		s += " limit " + m.Limit.String()
	}
	ops := make([]string, len(m.Ops))
	for i, op := range m.Ops {
		ops[i] = op.String()
	}
	return s + " on (" + strings.Join(ops, " | ") + ")"
}

func (a *As) String() string { return "as " + a.Name.String() }

func (s *Sample) String() string { return "sample " + s.Count.String() }

func (j *Join) String() string {
	s := "join "
	if j.Lookup {
		s = "lookup "
	}
	if j.Kind != "" {
		s += "kind=" + j.Kind + " "
	}
	return s + "(" + strings.ReplaceAll(j.Right.String(), "\n", " ") + ") on " + joinExprs(j.On)
}

func (r *Render) String() string {
	if r.Options == "" {
		return "render " + r.Kind
	}
	return "render " + r.Kind + " with (" + r.Options + ")"
}

func (e *Evaluate) String() string {
	return "evaluate " + e.Plugin.String() + "(" + joinNamed(e.Args) + ")"
}

func (p *Print) String() string { return "print " + joinNamed(p.Columns) }

func (d *Datatable) String() string {
	cols := make([]string, len(d.Columns))
	for i, c := range d.Columns {
		cols[i] = c.Name.String() + ": " + c.Type.String()
	}
	return "datatable(" + strings.Join(cols, ", ") + ") [" + joinExprs(d.Values) + "]"
}

func (r *Range) String() string {
	return "range " + r.Column.String() + " from " + r.From.String() + " to " + r.To.String() + " step " + r.Step.String()
}

func (u *Union) String() string {
	s := "union "
	if u.Kind != "" {
		s += "kind=" + u.Kind + " "
	}
	if u.WithSource != nil {
		s += "withsource=" + u.WithSource.String() + " "
	}
	if u.Fuzzy != "" {
		s += "isfuzzy=" + u.Fuzzy + " "
	}
	tables := make([]string, len(u.Tables))
	for i, t := range u.Tables {
		if id, ok := t.Source.(*Ident); ok && len(t.Ops) == 0 {
			tables[i] = id.String()
		} else {
			tables[i] = "(" + strings.ReplaceAll(t.String(), "\n", " ") + ")"
		}
	}
	return s + strings.Join(tables, ", ")
}

func (w *Where) String() string { return "where " + w.Pred.String() }

func (p *Project) String() string { return "project " + joinNamed(p.Columns) }

func (e *Extend) String() string { return "extend " + joinNamed(e.Columns) }

func (s *Serialize) String() string {
	if len(s.Columns) == 0 {
		return "serialize"
	}
	return "serialize " + joinNamed(s.Columns)
}

func (t *Take) String() string { return t.Keyword + " " + t.Count.String() }

func (*Count) String() string { return "count" }

func (m *MvExpand) String() string {
	var b strings.Builder
	b.WriteString("mv-expand ")
	if m.Kind != "" {
		b.WriteString(m.KindParam + "=" + m.Kind + " ")
	}
	if m.ItemIndex != nil {
		b.WriteString("with_itemindex=" + m.ItemIndex.String() + " ")
	}
	for i, it := range m.Items {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(it.String())
	}
	if m.Limit != nil {
		b.WriteString(" limit " + m.Limit.String())
	}
	return b.String()
}

func (it *MvExpandItem) String() string {
	s := it.Expr.String()
	if it.Name != nil {
		s = it.Name.String() + " = " + s
	}
	if it.ToType != nil {
		s += " to typeof(" + it.ToType.Name + ")"
	}
	return s
}

func (n *NamedExpr) String() string {
	if n.Name == nil {
		return n.Expr.String()
	}
	return n.Name.String() + " = " + n.Expr.String()
}

func joinNamed(cols []*NamedExpr) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = c.String()
	}
	return strings.Join(parts, ", ")
}

var plainIdent = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_]*$`)

// String prints the name, bracket-quoted when it is not a plain identifier
// or when it would read as a keyword.
func (i *Ident) String() string {
	if plainIdent.MatchString(i.Name) && !reserved[i.Name] {
		return i.Name
	}
	return "[" + quoteString(i.Name) + "]"
}

func (l *Literal) String() string {
	if l.Null {
		return l.Kind.String() + "(null)"
	}
	switch l.Kind {
	case StringLit:
		return quoteString(l.Str)
	case LongLit:
		if l.Int < 0 {
			return "long(" + strconv.FormatInt(l.Int, 10) + ")"
		}
		return strconv.FormatInt(l.Int, 10)
	case IntLit:
		return "int(" + strconv.FormatInt(l.Int, 10) + ")"
	case RealLit:
		return formatRealLiteral(l.Real)
	case BoolLit:
		return strconv.FormatBool(l.Bool)
	case DateTimeLit:
		return "datetime(" + l.Time.UTC().Format("2006-01-02T15:04:05.9999999Z") + ")"
	case TimespanLit:
		return formatTimespanLiteral(l.Duration)
	case DynamicLit:
		return "dynamic(" + l.Str + ")"
	}
	return "?"
}

func formatRealLiteral(f float64) string {
	switch {
	case math.IsNaN(f):
		return "real(nan)"
	case math.IsInf(f, 1):
		return "real(+inf)"
	case math.IsInf(f, -1):
		return "real(-inf)"
	case f < 0:
		return "real(" + strconv.FormatFloat(f, 'g', -1, 64) + ")"
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eEn") {
		s += ".0"
	}
	return s
}

// formatTimespanLiteral prints d in the largest unit that divides it exactly.
func formatTimespanLiteral(d time.Duration) string {
	if d < 0 {
		return "timespan(-" + formatTimespanLiteral(-d) + ")"
	}
	units := []struct {
		d    time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}, {time.Millisecond, "ms"}, {time.Microsecond, "microsecond"}, {100 * time.Nanosecond, "tick"}}
	for _, u := range units {
		if d%u.d == 0 {
			return strconv.FormatInt(int64(d/u.d), 10) + u.name
		}
	}
	return strconv.FormatInt(int64(d/100), 10) + "tick"
}

// quoteString prints s as a double-quoted KQL string literal.
func quoteString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 {
				b.WriteString(`\u` + strconv.FormatInt(int64(r)+0x10000, 16)[1:])
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

func (b *Binary) String() string {
	return b.Left.String() + " " + b.Op + " " + b.Right.String()
}

func (u *Unary) String() string { return u.Op + u.X.String() }

func (in *In) String() string {
	return in.X.String() + " " + in.Op + " (" + joinExprs(in.List) + ")"
}

func (b *Between) String() string {
	op := "between"
	if b.Not {
		op = "!between"
	}
	return b.X.String() + " " + op + " (" + b.Low.String() + " .. " + b.High.String() + ")"
}

func (t *ToScalar) String() string { return "toscalar(" + t.Pipe.String() + ")" }

func (c *Call) String() string {
	if c.ArgNames == nil {
		return callOpen(c.Func) + joinExprs(c.Args) + ")"
	}
	args := make([]string, len(c.Args))
	for i, a := range c.Args {
		args[i] = a.String()
		if c.ArgNames[i] != nil {
			args[i] = c.ArgNames[i].String() + " = " + args[i]
		}
	}
	return callOpen(c.Func) + strings.Join(args, ", ") + ")"
}

// callOpen is a call's function name and opening parenthesis. A function
// named as a source (union(…), print(…)) or a typed literal (time(…)) is
// bracket-quoted, so that the call does not read back as the source or the
// literal.
func callOpen(name *Ident) string {
	s := name.String()
	if callShadowed[s] {
		return "['" + s + "']("
	}
	return s + "("
}

var callShadowed = map[string]bool{
	"datetime": true, "date": true, "timespan": true, "time": true,
	"union": true, "print": true, "range": true, "datatable": true, "materialize": true,
	"workspace": true, "app": true, "cluster": true, "database": true, "resource": true, "adx": true,
}

func (m *Member) String() string { return m.X.String() + "." + m.Name.String() }

func (ix *Index) String() string { return ix.X.String() + "[" + ix.Index.String() + "]" }

func (p *Paren) String() string { return "(" + p.X.String() + ")" }

func joinExprs(es []Expr) string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.String()
	}
	return strings.Join(parts, ", ")
}
