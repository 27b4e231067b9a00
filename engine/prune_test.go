package engine

import (
	"slices"
	"testing"
)

func TestSelectItems(t *testing.T) {
	tests := []struct {
		stage string
		want  []string
	}{
		{"s1 AS (\n  SELECT \"a\", f(\"b\", 'x, y') AS \"c\", [1, 2] AS \"d\"\n  FROM s0\n)", []string{`"a"`, `f("b", 'x, y') AS "c"`, `[1, 2] AS "d"`}},
		{"s1 AS (\n  SELECT *\n  FROM s0\n  WHERE (\"a\" = 1)\n)", []string{"*"}},
		{"s1 AS (\n  SELECT DISTINCT \"a\", \"b\"\n  FROM s0\n)", nil},
		{"s1 AS (\n  SELECT \"a\" AS \"a\", count(*) AS \"n\"\n  FROM s0\n  GROUP BY 1\n)", nil},
		{"s1 AS (\n  SELECT \"a\" FROM p\nUNION ALL\nSELECT \"a\" FROM q\n)", nil},
	}
	for _, tt := range tests {
		if got := selectItems(tt.stage); !slices.Equal(got, tt.want) {
			t.Errorf("selectItems(%q) = %q, want %q", tt.stage, got, tt.want)
		}
	}
}

func TestPassedOn(t *testing.T) {
	pass := "s3 AS (\n  SELECT \"K\", \"Col\", unnest(\"_mv0\") AS \"X\"\n  FROM s2\n)"
	star := "s4 AS (\n  SELECT *\n  FROM s3\n)"
	read := "s5 AS (\n  SELECT \"K\", lower(\"Col\") AS \"Y\"\n  FROM s4\n)"
	distinct := "s5 AS (\n  SELECT DISTINCT \"K\", \"Col\"\n  FROM s4\n)"
	tests := []struct {
		name       string
		stages     []string
		tail       string
		wantPasses []int
		wantUsed   bool
	}{
		{"passed on, never read", []string{pass, star}, "SELECT \"K\" AS \"K\" FROM s4", []int{0}, false},
		{"passed on, then read", []string{pass, star, read}, "SELECT \"K\" AS \"K\" FROM s5", nil, true},
		{"read by the output", []string{pass, star}, "SELECT \"Col\" AS \"Col\" FROM s4", []int{0}, true},
		{"distinct keeps it", []string{pass, star, distinct}, "SELECT \"K\" AS \"K\" FROM s5", nil, true},
	}
	for _, tt := range tests {
		st := newStages(tt.stages)
		passes, used := st.passedOn(0, tt.tail, `"Col"`)
		if used != tt.wantUsed || (!used && !slices.Equal(passes, tt.wantPasses)) {
			t.Errorf("%s: passedOn = %v, %v; want %v, %v", tt.name, passes, used, tt.wantPasses, tt.wantUsed)
		}
	}
	st := newStages([]string{pass})
	st.withoutItems(0, map[string]bool{`"Col"`: true})
	if got := st.ctes[0]; got != "s3 AS (\n  SELECT \"K\", unnest(\"_mv0\") AS \"X\"\n  FROM s2\n)" {
		t.Errorf("withoutItems = %q", got)
	}
	if got := st.selectItems(0); !slices.Equal(got, selectItems(st.ctes[0])) {
		t.Errorf("withoutItems left the split items %q", got)
	}
}
