package engine

import (
	"sort"
	"strings"
	"sync"
)

// Column is a named, typed column as KQL sees it.
type Column struct {
	Name string
	Type Type
}

// Table is a table a KQL query may name as its source.
type Table struct {
	Name    string
	Columns []Column
}

// Column returns the column called name (case-sensitive, as in KQL).
func (t *Table) Column(name string) (Column, bool) {
	for _, c := range t.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

// Catalog is the set of tables a query can reach. Nothing outside it is
// addressable from KQL: no DuckDB table function, file or internal table.
// A catalog and its tables are not changed after NewCatalog, so one catalog
// can serve any number of compilations at once.
type Catalog struct {
	tables map[string]*Table
	// scans hold each table's first stage, the SELECT of every column,
	// and scanCols its columns (made once: every query starts with them;
	// the slices are full, so appending to one copies it).
	scans    map[string]string
	scanCols map[string][]scopeColumn
}

// NewCatalog returns a catalog holding tables.
func NewCatalog(tables ...*Table) *Catalog {
	c := &Catalog{tables: map[string]*Table{}, scans: map[string]string{}, scanCols: map[string][]scopeColumn{}}
	for _, t := range tables {
		c.tables[t.Name] = t
		sel := make([]string, len(t.Columns))
		cols := make([]scopeColumn, len(t.Columns))
		for i, col := range t.Columns {
			sel[i] = QuoteIdent(col.Name)
			cols[i] = scopeColumn{Column: col, sql: col.Name}
		}
		c.scanCols[t.Name] = cols
		c.scans[t.Name] = selectFrom(sel, QuoteIdent(t.Name), "")
	}
	return c
}

// Table returns the table called name (case-sensitive).
func (c *Catalog) Table(name string) (*Table, bool) {
	t, ok := c.tables[name]
	return t, ok
}

// TableNames lists the tables in the catalog, sorted.
func (c *Catalog) TableNames() []string {
	names := make([]string, 0, len(c.tables))
	for n := range c.tables {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// DefaultCatalog is the catalog of socq's database: the SecurityIncident table.
func DefaultCatalog() *Catalog { return defaultCatalog() }

// defaultCatalog is built once: catalogs are never changed, and building
// one is a measurable part of compiling a short query.
var defaultCatalog = sync.OnceValue(func() *Catalog { return NewCatalog(SecurityIncident()) })

// SecurityIncidentTable is the name of the Sentinel incident history table.
const SecurityIncidentTable = "SecurityIncident"

// SecurityIncident describes the Azure Monitor SecurityIncident table: every
// documented column with its KQL type, in the order Log Analytics shows them.
// A fresh value is returned so callers cannot mutate a shared schema.
func SecurityIncident() *Table {
	return &Table{Name: SecurityIncidentTable, Columns: []Column{
		{"TenantId", String},
		{"TimeGenerated", DateTime},
		{"IncidentName", String},
		{"Title", String},
		{"Description", String},
		{"Severity", String},
		{"Status", String},
		{"Classification", String},
		{"ClassificationComment", String},
		{"ClassificationReason", String},
		{"Owner", Dynamic},
		{"ProviderName", String},
		{"ProviderIncidentId", String},
		{"FirstActivityTime", DateTime},
		{"LastActivityTime", DateTime},
		{"FirstModifiedTime", DateTime},
		{"LastModifiedTime", DateTime},
		{"CreatedTime", DateTime},
		{"ClosedTime", DateTime},
		{"IncidentNumber", Int},
		{"RelatedAnalyticRuleIds", Dynamic},
		{"AlertIds", Dynamic},
		{"BookmarkIds", Dynamic},
		{"Comments", Dynamic},
		{"Tasks", Dynamic},
		{"Labels", Dynamic},
		{"IncidentUrl", String},
		{"AdditionalData", Dynamic},
		{"ModifiedBy", String},
		{"SourceSystem", String},
		{"Type", String},
		{"_BilledSize", Real},
		{"_IsBillable", String},
	}}
}

// QuoteIdent quotes name as a DuckDB identifier. It is one of the two audited
// quoting functions (with QuoteString) through which query text reaches SQL.
func QuoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// QuoteString quotes s as a DuckDB string literal. DuckDB string literals
// treat backslashes literally, so doubling single quotes is the only escape.
// NUL bytes are the caller's to reject: they never reach here from the parser.
func QuoteString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
