// Package parser turns KQL text into socq's abstract syntax tree.
//
// It is the only importer of participle: the grammar structs in grammar.go are
// unexported (expressions and the frequent operators are read into them by
// the hand-written parser in exprparse.go, participle's grammar being slow on
// them) and lowered to the hand-written AST in this file, whose nodes
// carry their source spans and print back to canonical KQL with String.
// Errors are *Error values that render with a caret under the query text.
package parser

import (
	"time"
)

// Span is a half-open range of byte offsets into the query text.
type Span struct {
	Start, End int
}

// At is embedded in every node: where in the query text it came from.
type At struct{ Loc Span }

// Span returns where the node came from.
func (a At) Span() Span { return a.Loc }

func (s Span) asAt() At { return At{s} }

// Node is any AST node.
type Node interface {
	Span() Span
	String() string
}

// Query is a parsed KQL query: let statements, then one tabular pipeline.
type Query struct {
	At
	Lets []*Let
	Pipe *Pipeline
}

// Let binds Name to a scalar expression (Expr), a tabular pipeline (Pipe) or
// a function (Func); exactly one is set. "let T = SecurityIncident;" is a
// Pipe with no operators.
type Let struct {
	At
	Name *Ident
	Expr Expr
	Pipe *Pipeline
	Func *Func
}

// Func is a user-defined scalar function: (x: string, n: long) { body }.
type Func struct {
	At
	Params []*TypedColumn // a tabular parameter has Tabular set and no Type
	Lets   []*Let         // lets at the start of the body
	Body   Expr           // a scalar function's body
	Pipe   *Pipeline      // a tabular function's body: let f = (n: long) { T | take n }
}

// Pipeline is a tabular source followed by operators joined with '|'.
type Pipeline struct {
	At
	Source Source
	Ops    []Operator
}

// Source is where a pipeline's rows come from: a table or let name
// (*Ident), a parenthesised *Pipeline, *Print, *Datatable, *Range or *Union.
type Source interface {
	Node
	source()
}

// Print is a one-row table of expressions: print x = 1, "a".
type Print struct {
	At
	Columns []*NamedExpr
}

// Datatable is an inline table: datatable(Name: type, ...) [values...].
type Datatable struct {
	At
	Columns []*TypedColumn
	Values  []Expr
}

// TypedColumn is a column declaration Name: type.
type TypedColumn struct {
	Name, Type *Ident
	Tabular    bool // a function's tabular parameter, T: (Col: type)
}

// Range is a one-column table of evenly spaced values.
type Range struct {
	At
	Column         *Ident
	From, To, Step Expr
}

// Union concatenates tables. As an operator (UnionOp) its input comes first.
type Union struct {
	At
	Kind       string // "", "inner" or "outer"
	WithSource *Ident // withsource=Name, or nil
	Fuzzy      string // isfuzzy= as written
	Tables     []*Pipeline
}

func (*Ident) source()     {}
func (*Pipeline) source()  {}
func (*Print) source()     {}
func (*Datatable) source() {}
func (*Range) source()     {}
func (*Union) source()     {}
func (*Call) source()      {} // a call of a tabular user function

// UnionOp is union used as an operator: the pipeline so far, then Tables.
type UnionOp struct {
	Union
}

// Operator is one tabular operator of a pipeline.
type Operator interface {
	Node
	operator()
}

// Where keeps the rows for which Pred is true ("filter" is a synonym).
type Where struct {
	At
	Pred Expr
}

// Project selects, renames and computes columns, in argument order.
type Project struct {
	At
	Columns []*NamedExpr
}

// Extend adds computed columns, replacing existing ones in place.
type Extend struct {
	At
	Columns []*NamedExpr
}

// Serialize marks the rows' order as fixed, for the window functions
// (row_number, prev, next, row_cumsum); it may also extend columns.
type Serialize struct {
	At
	Columns []*NamedExpr
}

// Take returns up to Count rows ("limit" is a synonym; Keyword keeps which).
type Take struct {
	At
	Keyword string
	Count   Expr
}

// Count returns the number of input rows as one row with column Count.
type Count struct {
	At
}

// MvExpand expands dynamic arrays or bags into one row per element.
type MvExpand struct {
	At
	Kind      string // "", "bag" or "array" (kind= or bagexpansion=)
	KindParam string // "kind" or "bagexpansion", as written
	ItemIndex *Ident // with_itemindex=Name, or nil
	Items     []*MvExpandItem
	Limit     Expr // nil when absent
}

// MvExpandItem is one expanded column or expression.
type MvExpandItem struct {
	At
	Name   *Ident // Name = expr, or nil
	Expr   Expr
	ToType *Ident // to typeof(T), or nil
}

// Sort orders rows ("order by" is a synonym). Keys without a direction sort
// descending, as in Kusto.
type Sort struct {
	At
	Keyword string // "sort" or "order"
	Keys    []*SortKey
}

// SortKey is one sort expression with its direction and null placement as
// written ("" when not given).
type SortKey struct {
	At
	Expr  Expr
	Dir   string // "", "asc" or "desc"
	Nulls string // "", "first" or "last"
}

// Top is "top N by Key": the first N rows in that order.
type Top struct {
	At
	Count Expr
	Key   *SortKey
}

// Distinct keeps the distinct combinations of the named columns, or of all
// columns for "distinct *".
type Distinct struct {
	At
	Star    bool
	Columns []*Ident
}

// ProjectNames is project-away, project-keep or project-reorder. A column
// name may be a pattern with * wildcards (Tenant*), matching in input order.
type ProjectNames struct {
	At
	Keyword string
	Columns []*Ident
}

// ProjectRename renames columns in place: New = Old.
type ProjectRename struct {
	At
	Renames []*Rename
}

// Rename is one New = Old pair of project-rename.
type Rename struct {
	New, Old *Ident
}

// Summarize groups rows by the By expressions and computes the aggregates.
type Summarize struct {
	At
	Aggs []*NamedExpr
	By   []*NamedExpr
}

// Evaluate invokes a plugin: evaluate bag_unpack(Tasks).
type Evaluate struct {
	At
	Plugin *Ident
	Args   []*NamedExpr
}

// Render asks the client to draw the result as a chart. socq keeps the kind
// and options with the result; the table output ignores them.
type Render struct {
	At
	Kind    string
	Options string // the text inside "with (...)", or ""
}

// Join joins the pipeline's rows with Right's. On holds the conditions as
// written: a column name present on both sides, or $left.A == $right.B.
type Join struct {
	At
	Lookup bool   // lookup: kind leftouter by default, right key columns not repeated
	Kind   string // as written; "" means innerunique (leftouter for lookup)
	Right  *Pipeline
	On     []Expr
}

// ParseOp is the parse operator: it extracts columns from a string by a pattern of literal text, '*'
// (skip) and columns (Name or Name:type).
type ParseOp struct {
	At
	Kind  string
	Expr  Expr
	Parts []*ParsePart
}

// ParsePart is one element of a parse pattern: exactly one of Text, Star,
// Column is set.
type ParsePart struct {
	At
	Text   *string
	Star   bool
	Column *Ident
	Type   *Ident // nil means string
}

// MakeSeries aggregates into one array per group over evenly spaced bins of
// Axis: make-series n = count() default = 0 on TimeGenerated from A to B step 1d by K.
type MakeSeries struct {
	At
	Aggs     []*NamedExpr
	Defaults []Expr // per aggregate; nil where not given (0)
	Axis     Expr
	From, To Expr // nil when not given
	Step     Expr
	By       []*NamedExpr
}

func (*MakeSeries) operator() {}

// MvApply expands arrays per row into a subtable, runs Ops on each
// subtable, and joins each result back to its row's other columns.
type MvApply struct {
	At
	ItemIndex *Ident
	Items     []*MvExpandItem
	Limit     Expr
	Ops       []Operator
}

func (*MvApply) operator() {}

// As names the pipeline so far, for later use in the same query.
type As struct {
	At
	Name *Ident
}

func (*As) operator()        {}
func (*Serialize) operator() {}

// Sample returns up to Count rows picked at random.
type Sample struct {
	At
	Count Expr
}

func (*ParseOp) operator()       {}
func (*Sample) operator()        {}
func (*UnionOp) operator()       {}
func (*Join) operator()          {}
func (*Render) operator()        {}
func (*Evaluate) operator()      {}
func (*Sort) operator()          {}
func (*Top) operator()           {}
func (*Distinct) operator()      {}
func (*ProjectNames) operator()  {}
func (*ProjectRename) operator() {}
func (*Summarize) operator()     {}
func (*Where) operator()         {}
func (*Project) operator()       {}
func (*Extend) operator()        {}
func (*Take) operator()          {}
func (*Count) operator()         {}
func (*MvExpand) operator()      {}

// NamedExpr is "Name = Expr" or a bare Expr in a column list.
type NamedExpr struct {
	At
	Name *Ident // nil when no name was given
	Expr Expr
}

// Expr is a scalar expression.
type Expr interface {
	Node
	expr()
}

// Ident is a name: a column, a table or a function. Quoted records whether
// it was written as ['name'] (needed when the name is not a plain identifier).
type Ident struct {
	At
	Name string
}

// LiteralKind says which type a Literal has.
type LiteralKind int

const (
	StringLit LiteralKind = iota
	LongLit
	IntLit
	RealLit
	BoolLit
	DateTimeLit
	TimespanLit
	DynamicLit
)

var literalKindNames = [...]string{"string", "long", "int", "real", "bool", "datetime", "timespan", "dynamic"}

func (k LiteralKind) String() string { return literalKindNames[k] }

// Literal is a constant. Exactly one value field is meaningful, chosen by
// Kind; Null marks a typed null such as int(null) or datetime(null).
type Literal struct {
	At
	Kind     LiteralKind
	Null     bool
	Str      string        // StringLit; DynamicLit holds compact JSON text
	Int      int64         // LongLit, IntLit
	Real     float64       // RealLit
	Bool     bool          // BoolLit
	Time     time.Time     // DateTimeLit, UTC
	Duration time.Duration // TimespanLit
}

// Binary is a binary operator: arithmetic, comparison, string operators, and/or.
type Binary struct {
	At
	Op          string
	Left, Right Expr
}

// Unary is a prefix '-' or '+'.
type Unary struct {
	At
	Op string
	X  Expr
}

// In is "X in (List)" and its variants in, !in, in~, !in~.
type In struct {
	At
	Op   string
	X    Expr
	List []Expr
}

// Between is "X between (Low .. High)" or "!between".
type Between struct {
	At
	Not       bool
	X         Expr
	Low, High Expr
}

// Call is a function call: name(args...).
// ToScalar is toscalar(T): the first column of the first row of a tabular
// expression (null when it has no rows).
type ToScalar struct {
	At
	Pipe *Pipeline
}

type Call struct {
	At
	Func *Ident
	Args []Expr
	// ArgNames names the arguments written Name = Expr, as in
	// arg_max(TimeGenerated, Rule = Title); nil, or nil entries, otherwise.
	ArgNames []*Ident
}

// Member is dynamic property access: X.Name.
type Member struct {
	At
	X    Expr
	Name *Ident
}

// Index is dynamic element or property access: X[Index].
type Index struct {
	At
	X     Expr
	Index Expr
}

// Paren is a parenthesised expression, kept so that printing is faithful.
type Paren struct {
	At
	X Expr
}

// Star is '*' as a function argument: arg_max(T, *).
type Star struct {
	At
}

func (*Star) expr()     {}
func (*Ident) expr()    {}
func (*Literal) expr()  {}
func (*Binary) expr()   {}
func (*Unary) expr()    {}
func (*In) expr()       {}
func (*Between) expr()  {}
func (*Call) expr()     {}
func (*ToScalar) expr() {}
func (*Member) expr()   {}
func (*Index) expr()    {}
func (*Paren) expr()    {}
