package parser

import (
	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// The participle grammar. These structs never leave the package: lower.go
// turns them into the AST. Each struct mirrors one production; precedence is
// encoded by nesting (or → and → comparison → additive → multiplicative →
// unary → postfix → primary), as in the Kusto grammar.
//
// A query is read by hand first (opparse.go, exprparse.go), into these same
// structs as the tags describe; participle reads the queries the hand-written
// parser gives up on (and reports errors). Expressions are always read by
// hand: gExpr and gNamedExpr implement participle.Parseable.

var grammar = participle.MustBuild[gQuery](
	participle.Lexer(kqlLexerDef{}),
	participle.Elide("Comment", "Whitespace"),
	participle.UseLookahead(64),
)

type gQuery struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Lets   []*gLet    `parser:"@@*"`
	Pipe   *gPipeline `parser:"@@ \";\"?"`
	// letCallExpr is set by the hand parser when it read a let's value
	// that starts with a call as an expression (let x = ago(1d) + 1h),
	// which participle's grammar rejects: the one place they differ.
	letCallExpr bool
}

// gLet is a let statement binding a name to a scalar expression or to a
// tabular pipeline.
type gLet struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Name   *gIdent         `parser:"'let' @@ '='"`
	Func   *gLetFunc       `parser:"( @@"`
	Source *gSpecialSource `parser:"| @@"`
	Expr   *gExpr          `parser:"| @@ )"`
	Ops    []*gOperator    `parser:"( '|' @@ )* ';'"`
}

// gLetFunc is a user-defined function with a scalar body:
// let f = (x: string, n: long) { strlen(x) + n }. Other bodies are kept raw
// so they can be reported by name.
type gLetFunc struct {
	Pos    lexer.Position
	Params []*gFuncParam `parser:"'(' ( @@ ( ',' @@ )* )? ')' '{'"`
	Lets   []*gLet       `parser:"@@*"`
	Body   *gExpr        `parser:"( @@ '}'"`
	Pipe   *gPipeline    `parser:"| @@ ';'? '}'"`
	Raw    []string      `parser:"| @(~'}')* '}' )"`
}

// gFuncParam is a function parameter: a scalar x: string, or a tabular
// T: (Col: type, …) or T: (*), whose schema socq does not check.
type gFuncParam struct {
	Pos     lexer.Position
	EndPos  lexer.Position
	Name    *gIdent  `parser:"@@ ':'"`
	Type    *gIdent  `parser:"( @@"`
	Tabular []string `parser:"| '(' @(~')')* ')' )"`
}

type gPipeline struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Source *gSource     `parser:"@@"`
	Ops    []*gOperator `parser:"( \"|\" @@ )*"`
}

// gSource is where a pipeline's rows come from.
type gSource struct {
	Plain   *gPlainTable    `parser:"  @@"`
	Special *gSpecialSource `parser:"| @@"`
	Table   *gIdent         `parser:"| @@"`
}

// gPlainTable is a source that is a plain name followed by '|', ')', ';'
// or the end, as most are: participle tried the alternatives of
// gSpecialSource before the name, and a failed one (a call: the name, then
// no '(') could be the error it reported for a mistake further on.
// Lowering reads it as the gIdent it is.
type gPlainTable gIdent

// Parse implements participle.Parseable.
func (t *gPlainTable) Parse(lex *lexer.PeekingLexer) error {
	return fromParticiple(lex, func(tokens *tokens) error {
		p := exprParser{lex: tokens}
		id := p.plainTable()
		if id == nil {
			return participle.NextMatch
		}
		*t = gPlainTable(*id)
		return nil
	})
}

// gSpecialSource is any source but a plain name (which a let could also
// read as a scalar).
type gSpecialSource struct {
	Pos         lexer.Position
	EndPos      lexer.Position
	Print       []*gNamedExpr `parser:"  'print' @@ ( ',' @@ )*"`
	Datatable   *gDatatable   `parser:"| @@"`
	Range       *gRange       `parser:"| @@"`
	Union       *gUnion       `parser:"| @@"`
	Paren       *gPipeline    `parser:"| '(' @@ ')'"`
	Materialize *gPipeline    `parser:"| 'materialize' '(' @@ ')'"`
	Cross       *gCross       `parser:"| @@"`
	Call        *gCall        `parser:"| @@"`
}

type gDatatable struct {
	Columns []*gTypedColumn `parser:"'datatable' '(' @@ ( ',' @@ )* ')'"`
	Values  []*gExpr        `parser:"'[' ( @@ ( ',' @@ )* ','? )? ']'"`
}

type gTypedColumn struct {
	Name *gIdent `parser:"@@ ':'"`
	Type *gIdent `parser:"@@"`
}

type gRange struct {
	Column *gIdent `parser:"'range' @@"`
	From   *gExpr  `parser:"'from' @@"`
	To     *gExpr  `parser:"'to' @@"`
	Step   *gExpr  `parser:"'step' @@"`
}

// gUnion is "union [kind=inner|outer] [withsource=Name] T1, (T2 | ...)",
// as a source or as an operator (then its input is the first table).
type gUnion struct {
	Kind       string       `parser:"'union' ( 'kind' '=' @('inner' | 'outer') )?"`
	WithSource *gIdent      `parser:"( 'withsource' '=' @@ )?"`
	Fuzzy      string       `parser:"( 'isfuzzy' '=' @('true' | 'false') )?"`
	Tables     []*gUnionArg `parser:"@@ ( ',' @@ )*"`
}

type gUnionArg struct {
	Paren *gPipeline `parser:"  '(' @@ ')'"`
	Cross *gCross    `parser:"| @@"`
	Table *gIdent    `parser:"| @@"`
}

// gCross is a table in another workspace, app or cluster:
// workspace('name').SecurityIncident. It is parsed to be rejected by name.
type gCross struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Func   string        `parser:"@('workspace' | 'app' | 'cluster' | 'database' | 'resource' | 'adx')"`
	Arg    string        `parser:"'(' @String ')'"`
	Path   []*gCrossStep `parser:"( '.' @@ )+"`
}

type gCrossStep struct {
	Func string  `parser:"  @Ident '(' String ')'"`
	Name *gIdent `parser:"| @@"`
}

type gOperator struct {
	Pos    lexer.Position
	EndPos lexer.Position
	// Most frequent first: each alternative tried costs participle a
	// branch.
	Where     *gWhere      `parser:"  @@"`
	Extend    *gExtend     `parser:"| @@"`
	Project   *gProject    `parser:"| @@"`
	Summ      *gSummarize  `parser:"| @@"`
	Sort      *gSort       `parser:"| @@"`
	Take      *gTake       `parser:"| @@"`
	MvExpand  *gMvExpand   `parser:"| @@"`
	Join      *gJoin       `parser:"| @@"`
	Distinct  *gDistinct   `parser:"| @@"`
	Serialize *gSerialize  `parser:"| @@"`
	Top       *gTop        `parser:"| @@"`
	Names     *gNames      `parser:"| @@"`
	Rename    *gRename     `parser:"| @@"`
	Count     *gCount      `parser:"| @@"`
	Evaluate  *gEvaluate   `parser:"| @@"`
	Render    *gRender     `parser:"| @@"`
	Union     *gUnion      `parser:"| @@"`
	ParseOp   *gParse      `parser:"| @@"`
	Sample    *gExpr       `parser:"| 'sample' @@"`
	As        *gAs         `parser:"| @@"`
	Series    *gMakeSeries `parser:"| @@"`
	MvApply   *gMvApply    `parser:"| @@"`
	Other     *gOther      `parser:"| @@"`
}

type gSort struct {
	Keyword string      `parser:"@('sort' | 'order') 'by'"`
	Keys    []*gSortKey `parser:"@@ ( ',' @@ )*"`
}

type gSortKey struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Expr   *gExpr `parser:"@@"`
	Dir    string `parser:"@('asc' | 'desc')?"`
	Nulls  string `parser:"( 'nulls' @('first' | 'last') )?"`
}

type gTop struct {
	Count *gExpr    `parser:"'top' @@ 'by'"`
	Key   *gSortKey `parser:"@@"`
}

type gDistinct struct {
	Star    bool      `parser:"'distinct' ( @'*'"`
	Columns []*gIdent `parser:"| @@ ( ',' @@ )* )"`
}

// gNames is an operator that takes a list of column names.
type gNames struct {
	Keyword string          `parser:"@('project-away' | 'project-keep' | 'project-reorder')"`
	Columns []*gNamePattern `parser:"@@ ( ',' @@ )*"`
}

// gNamePattern is a column name, or a pattern with * wildcards (Tenant*).
type gNamePattern struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Quoted string   `parser:"  '[' @String ']'"`
	Parts  []string `parser:"| @(Ident | '*')+"`
}

type gRename struct {
	Pairs []*gRenamePair `parser:"'project-rename' @@ ( ',' @@ )*"`
}

type gRenamePair struct {
	New *gIdent `parser:"@@ '='"`
	Old *gIdent `parser:"@@"`
}

// gMakeSeries is "make-series Aggs on Axis [from A] [to B] step S [by ...]".
type gMakeSeries struct {
	Aggs []*gSeriesAgg `parser:"'make-series' @@ ( ',' @@ )*"`
	Axis *gExpr        `parser:"'on' @@"`
	From *gExpr        `parser:"( 'from' @@ )?"`
	To   *gExpr        `parser:"( 'to' @@ )?"`
	Step *gExpr        `parser:"'step' @@"`
	By   []*gNamedExpr `parser:"( 'by' @@ ( ',' @@ )* )?"`
}

type gSeriesAgg struct {
	Agg     *gNamedExpr `parser:"@@"`
	Default *gExpr      `parser:"( 'default' '=' @@ )?"`
}

// gMvApply is "mv-apply [with_itemindex=I] Items [limit N] on (Operators)".
type gMvApply struct {
	ItemIndex *gIdent          `parser:"'mv-apply' ( 'with_itemindex' '=' @@ )?"`
	Items     []*gMvExpandItem `parser:"@@ ( ',' @@ )*"`
	Limit     *gExpr           `parser:"( 'limit' @@ )?"`
	Ops       []*gOperator     `parser:"'on' '(' @@ ( '|' @@ )* ')'"`
}

// gAs is "as [hint.materialized=true] Name".
type gAs struct {
	Hints []string `parser:"'as' ( 'hint' '.' @Ident '=' (Ident | String | Number) )*"`
	Name  *gIdent  `parser:"@@"`
}

// gParse is "parse [kind=simple] Expr with Part...".
type gParse struct {
	Kind  string        `parser:"'parse' ( 'kind' '=' @Ident )?"`
	Expr  *gExpr        `parser:"@@ 'with'"`
	Parts []*gParsePart `parser:"@@+"`
}

type gParsePart struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Text   string  `parser:"  @String"`
	Star   bool    `parser:"| @'*'"`
	Column *gIdent `parser:"| @@"`
	Type   *gIdent `parser:"  ( ':' @@ )?"`
}

// gJoin is "join [kind=K] [hint.x=y ...] (Right) on Conditions".
type gJoin struct {
	Keyword string     `parser:"@('join' | 'lookup')"`
	Kind    string     `parser:"( 'kind' '=' @Ident )?"`
	Hints   []string   `parser:"( 'hint' '.' @Ident '=' (Ident | String | Number) )*"`
	Right   *gPipeline `parser:"( '(' @@ ')' | @@ )"`
	On      []*gExpr   `parser:"'on' @@ ( ',' @@ )*"`
}

// gRender is "render kind [with (name = value, ...)]"; the options are kept
// as written.
type gRender struct {
	Kind    string   `parser:"'render' @Ident"`
	Options []string `parser:"( 'with' '(' @(~')')* ')'"`
	Legacy  []string `parser:"| ( @Ident '=' @(Ident | String | Number) )+ )?"` // render columnchart kind=stacked
}

// gEvaluate is "evaluate plugin(args)"; arguments may be named (x = v).
type gEvaluate struct {
	Plugin *gIdent       `parser:"'evaluate' @@ '('"`
	Args   []*gNamedExpr `parser:"( @@ ( ',' @@ )* )? ')'"`
}

// gSummarize is "summarize [hint.name = value …] aggregates [by …]"; hints
// steer Kusto's execution and do not change the result, so socq reads and
// ignores them.
type gSummarize struct {
	Hints []string      `parser:"'summarize' ( 'hint' '.' @Ident '=' (Ident | String | Number) )*"`
	Aggs  []*gNamedExpr `parser:"( (?! 'by') @@ ( ',' @@ )* )?"`
	By    []*gNamedExpr `parser:"( 'by' @@ ( ',' @@ )* )?"`
}

type gWhere struct {
	Keyword string `parser:"@(\"where\" | \"filter\")"`
	Pred    *gExpr `parser:"@@"`
}

type gProject struct {
	Keyword string        `parser:"@\"project\""`
	Columns []*gNamedExpr `parser:"@@ ( \",\" @@ )*"`
}

// gSerialize is "serialize [Name = expr, …]": the rows get an order that
// row_number(), prev(), next() and row_cumsum() can use.
type gSerialize struct {
	Keyword string        `parser:"@'serialize'"`
	Columns []*gNamedExpr `parser:"( @@ ( ',' @@ )* )?"`
}

type gExtend struct {
	Keyword string        `parser:"@\"extend\""`
	Columns []*gNamedExpr `parser:"@@ ( \",\" @@ )*"`
}

type gTake struct {
	Keyword string `parser:"@(\"take\" | \"limit\")"`
	Count   *gExpr `parser:"@@"`
}

type gCount struct {
	Keyword string `parser:"@\"count\""`
}

type gMvExpand struct {
	Keyword   string           `parser:"@(\"mv-expand\" | \"mvexpand\")"`
	KindParam string           `parser:"( @(\"kind\" | \"bagexpansion\") \"=\""`
	Kind      string           `parser:"  @(\"bag\" | \"array\") )?"`
	ItemIndex *gIdent          `parser:"( \"with_itemindex\" \"=\" @@ )?"`
	Items     []*gMvExpandItem `parser:"@@ ( \",\" @@ )*"`
	Limit     *gExpr           `parser:"( \"limit\" @@ )?"`
}

type gMvExpandItem struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Name   *gIdent `parser:"( @@ \"=\" )?"`
	Expr   *gExpr  `parser:"@@"`
	ToType *gIdent `parser:"( \"to\" \"typeof\" \"(\" @@ \")\" )?"`
}

// gOther is any operator this grammar does not know: its name is kept so
// lowering can say precisely what is unsupported, and its tokens are skipped.
type gOther struct {
	Pos  lexer.Position
	Name string   `parser:"(?! \"where\" | \"filter\" | \"project\" | \"extend\" | \"take\" | \"limit\" | \"count\" | \"mv-expand\" | \"mvexpand\" | \"sort\" | \"order\" | \"top\" | \"distinct\" | \"project-away\" | \"project-keep\" | \"project-reorder\" | \"project-rename\" | \"summarize\" | \"evaluate\" | \"render\" | \"join\" | \"lookup\" | \"union\" | \"parse\" | \"sample\" | \"as\" | \"make-series\" | \"mv-apply\") @(Ident | DashWord)"`
	Rest []string `parser:"@(~\"|\")*"`
}

type gNamedExpr struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Name   *gIdent // ( gIdent "=" )?
	Expr   *gExpr
}

// gIdent is a name: plain, or quoted as ['name'] / ["name"].
type gIdent struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Plain  string `parser:"  @Ident"`
	Quoted string `parser:"| \"[\" @String \"]\""`
}

// The nodes of expressions that only the hand-written parser builds
// (gBinary, gUnary, gAccess, gPrimary) keep byte offsets instead of
// participle's positions, which are five times the size: expressions are
// most of the nodes of a query.

// gExpr is a flat list of operands and binary operators; lowering applies
// Kusto's precedence (precedence climbing in lower.go). Expressions are
// parsed by hand (exprparse.go: gExpr and gNamedExpr implement
// participle.Parseable); the tags from here on describe what that parser
// reads, and participle still uses those of gCall, gCallArg and gIdent where
// the rest of the grammar names them.
type gExpr struct {
	Left *gUnary
	Rest []*gBinary
}

// gBinary is one operator with its right operand; in and between carry
// their parenthesised lists instead.
type gBinary struct {
	Pos     int // byte offsets, see above gExpr
	EndPos  int
	In      *gInTail  `parser:"  @@"`
	Between *gBetween `parser:"| @@"`
	Op      binOp     `parser:"| ( @@"`
	Right   *gUnary   `parser:"    @@ )"`
}

// binOp is a binary operator token. It parses itself with one map lookup:
// as a participle disjunction of ~45 literals it cost a parser branch per
// literal at the end of every operand, most of the parse time.
type binOp string

var binaryOperators = map[string]bool{
	"or": true, "and": true, "==": true, "!=": true, "<>": true, "<=": true, ">=": true,
	"<": true, ">": true, "+": true, "-": true, "*": true, "/": true, "%": true,
	"=~": true, "!~": true, "matches": true,
	"has": true, "has_cs": true, "hasprefix": true, "hasprefix_cs": true,
	"hassuffix": true, "hassuffix_cs": true, "contains": true, "contains_cs": true,
	"startswith": true, "startswith_cs": true, "endswith": true, "endswith_cs": true,
	"!has": true, "!has_cs": true, "!hasprefix": true, "!hasprefix_cs": true,
	"!hassuffix": true, "!hassuffix_cs": true, "!contains": true, "!contains_cs": true,
	"!startswith": true, "!startswith_cs": true, "!endswith": true, "!endswith_cs": true,
}

// read reads a binary operator, or returns false and leaves the lexer
// untouched.
func (b *binOp) read(lex *tokens) bool {
	tok := lex.Peek()
	if tok.EOF() || !binaryOperators[tok.Value] || tok.Type == stringToken {
		return false
	}
	if tok.Value == "matches" {
		cp := lex.MakeCheckpoint()
		lex.Next()
		if next := lex.Peek(); next.Value != "regex" {
			lex.LoadCheckpoint(cp)
			return false
		}
		lex.Next()
		*b = "matches regex"
		return true
	}
	lex.Next()
	*b = binOp(tok.Value)
	return true
}

// sign is an optional unary + or -.
type sign string

// stringToken is the lexer's type for string literals, so that the string
// "has" is never read as the operator has.
var stringToken = tokString

type gInTail struct {
	Op   string   `parser:"@('in' | 'in~' | '!in' | '!in~' | 'has_any' | 'has_all')"`
	List []*gExpr `parser:"'(' @@ ( ',' @@ )* ')'"`
}

type gBetween struct {
	Op   string `parser:"@('between' | '!between')"`
	Low  *gExpr `parser:"'(' @@"`
	High *gExpr `parser:"'..' @@ ')'"`
}

type gUnary struct {
	Pos     int // byte offsets, see above gExpr
	EndPos  int
	Op      sign      `parser:"@@?"`
	Postfix *gPostfix `parser:"@@"`
}

type gPostfix struct {
	Primary *gPrimary  `parser:"@@"`
	Access  []*gAccess `parser:"@@*"`
}

// gAccess is .Name, [index] or .[index] (as written in published Sentinel
// queries: tostring(p.[3])), the last read as [index].
type gAccess struct {
	EndPos int     // a byte offset, see above gExpr
	Member *gIdent `parser:"  \".\" @@"`
	Index  *gExpr  `parser:"| \".\"? \"[\" @@ \"]\""`
}

type gPrimary struct {
	Pos    int // byte offsets, see above gExpr
	EndPos int
	// Most frequent first: every alternative tried costs participle a
	// branch. dynamic(…) and true/false must come before calls and names.
	Dynamic  *gDynamic  `parser:"  \"dynamic\" \"(\" @@ \")\""`
	Bool     string     `parser:"| @(\"true\" | \"false\")"`
	ToScalar *gPipeline `parser:"| \"toscalar\" \"(\" @@ \")\""`
	Star     bool       `parser:"| @\"*\""` // where * has "x": every column
	Call     *gCall     `parser:"| @@"`
	Ident    *gIdent    `parser:"| @@"`
	String   []string   `parser:"| @(String | MultiString)+"`
	Number   string     `parser:"| @Number"`
	Timespan string     `parser:"| @Timespan"`
	TypedLit string     `parser:"| @TypedLit"`
	Paren    *gExpr     `parser:"| \"(\" @@ \")\""`
}

type gCall struct {
	Func *gIdent     `parser:"@@ \"(\""`
	Args []*gCallArg `parser:"( @@ ( \",\" @@ )* )? \")\""`
}

type gCallArg struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Name   *gIdent `parser:"( @@ \"=\" )?"`
	Expr   *gExpr  `parser:"@@"` // a lone * (arg_max(T, *)) is an expression too
}

// gDynamic is the JSON-like value inside dynamic(...).
type gDynamic struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Null   bool            `parser:"  @\"null\""`
	Bool   string          `parser:"| @(\"true\" | \"false\")"`
	Neg    string          `parser:"| @\"-\"?"`
	Number string          `parser:"  @Number"`
	String string          `parser:"| @String"`
	Array  []*gDynamic     `parser:"| \"[\" ( @@ ( \",\" @@ )* )? \"]\""`
	IsObj  bool            `parser:"| @\"{\""`
	Fields []*gDynamicPair `parser:"  ( @@ ( \",\" @@ )* )? \"}\""`
	Time   string          `parser:"| @TypedLit"`
}

type gDynamicPair struct {
	Key   string    `parser:"@String \":\""`
	Value *gDynamic `parser:"@@"`
}
