package engine

import "fmt"

// Type is a KQL scalar type. The zero value is Invalid.
type Type int

const (
	Invalid Type = iota
	Bool
	Int  // 32-bit
	Long // 64-bit; the type of integer literals
	Real
	String
	DateTime // TIMESTAMP_NS, UTC: Kusto datetimes have 100 ns ticks
	Timespan // stored in SQL as BIGINT ticks (100 ns), Kusto's resolution
	Dynamic  // stored in SQL as JSON; SQL NULL and JSON null are both "null"
	Null     // the type of a bare null literal before it meets a context
)

var typeNames = map[Type]string{
	Bool: "bool", Int: "int", Long: "long", Real: "real", String: "string",
	DateTime: "datetime", Timespan: "timespan", Dynamic: "dynamic", Null: "null",
}

// String returns the KQL name of t.
func (t Type) String() string {
	if n, ok := typeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("Type(%d)", int(t))
}

// typeByName maps the names KQL accepts in typeof(...) and in function-style
// literals to types. "date", "time", "boolean" and "double" are documented aliases.
var typeByName = map[string]Type{
	"bool": Bool, "boolean": Bool,
	"int": Int, "long": Long,
	"real": Real, "double": Real,
	"string":   String,
	"datetime": DateTime, "date": DateTime,
	"timespan": Timespan, "time": Timespan,
	"dynamic": Dynamic,
}

// TypeByName returns the KQL type named name, as written in typeof(name).
func TypeByName(name string) (Type, bool) {
	t, ok := typeByName[name]
	return t, ok
}

// SQLType is the DuckDB type a KQL type is stored and computed as.
func (t Type) SQLType() string {
	switch t {
	case Bool:
		return "BOOLEAN"
	case Int:
		return "INTEGER"
	case Long, Timespan:
		return "BIGINT"
	case Real:
		return "DOUBLE"
	case String:
		return "VARCHAR"
	case DateTime:
		return "TIMESTAMP_NS"
	case Dynamic:
		return "JSON"
	}
	return "VARCHAR"
}

// numeric reports whether t takes part in arithmetic as a number.
func (t Type) numeric() bool { return t == Int || t == Long || t == Real }
