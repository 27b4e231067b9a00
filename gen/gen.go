// Package gen generates a deterministic, realistic Microsoft Sentinel
// SecurityIncident history: the audit rows a workspace accumulates as
// incidents are created, triaged, worked and closed.
//
// Write emits NDJSON in the Log Analytics export shape: one object per line
// whose keys are the SecurityIncident columns in table order (see Columns),
// dynamic columns as JSON text, datetimes with seven fractional digits, rows
// ordered by TimeGenerated. WriteFormat writes the same rows as a JSON array
// or as CSV the way the Logs page exports it. Each row is the full state of one incident after
// one change, as Sentinel records it:
//
//   - creation ("Incident created from alert", or "Microsoft 365 Defender" for
//     incidents synchronised from Defender), Status New, unassigned, and
//     FirstModifiedTime null;
//   - an automation rule ("Automation rule - Phishing triage tasks") adding a
//     task list and an AutoAssigned label seconds later, or closing an
//     informational incident outright;
//   - assignment to one of six analysts and New → Active;
//   - playbooks ("Playbook - Enrich IP") completing the task they own and
//     commenting;
//   - analyst work: comments, labels, ad-hoc tasks, completing, reopening and
//     deleting tasks (a deleted task shows once with status Deleted and is
//     gone from later rows), severity changes, reassignment;
//   - closing with a classification/reason pair as the portal offers them.
//
// Analysts act on Medium, Low and Informational incidents in office hours
// (Monday–Friday 07:00–19:00 UTC); High incidents are worked at once. Some
// incidents are never picked up and some are left Active; anything that
// would happen after Start+Days does not happen.
//
// The same Options always produce the same bytes: all randomness comes from
// a PCG generator seeded with Options.Seed and nothing reads the clock.
package gen

import (
	"bufio"
	"bytes"
	"container/heap"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// Defaults for zero Options fields.
const (
	DefaultIncidents = 200
	DefaultDays      = 30
)

// DefaultStart is the start of the generated period when Options.Start is zero.
var DefaultStart = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)

// Options controls the generated history.
type Options struct {
	Incidents int       // number of incidents; 0 means DefaultIncidents
	Seed      int64     // same seed, same output
	Days      int       // length of the period; 0 means DefaultDays
	Start     time.Time // start of the period (UTC); zero means DefaultStart
	// FirstNumber is the IncidentNumber of the first incident; 0 means 1.
	// Only the numbers change with it: the incidents are the same.
	FirstNumber int
}

func (o Options) withDefaults() (Options, error) {
	if o.Incidents < 0 {
		return o, fmt.Errorf("gen: incidents must not be negative (got %d)", o.Incidents)
	}
	if o.FirstNumber < 0 || o.FirstNumber > math.MaxInt32-o.Incidents {
		return o, fmt.Errorf("gen: the first incident number must be from 1 to %d (got %d)", math.MaxInt32-o.Incidents, o.FirstNumber)
	}
	if o.FirstNumber == 0 {
		o.FirstNumber = 1
	}
	if o.Days < 0 {
		return o, fmt.Errorf("gen: days must not be negative (got %d)", o.Days)
	}
	if o.Incidents == 0 {
		o.Incidents = DefaultIncidents
	}
	if o.Days == 0 {
		o.Days = DefaultDays
	}
	if o.Start.IsZero() {
		o.Start = DefaultStart
	}
	o.Start = o.Start.UTC()
	return o, nil
}

// Write writes the history described by opts to w as NDJSON.
func Write(w io.Writer, opts Options) error { return WriteFormat(w, opts, NDJSON) }

// WriteFormat writes the history described by opts to w in format f. The
// same options and format always give the same bytes.
func WriteFormat(w io.Writer, opts Options, f Format) error {
	opts, err := opts.withDefaults()
	if err != nil {
		return err
	}
	enc, err := newEncoder(f)
	if err != nil {
		return err
	}
	end := opts.Start.AddDate(0, 0, opts.Days)
	seed := uint64(opts.Seed)
	created := arrivals(rand.New(rand.NewPCG(seed, 0x736f6371)), opts.Start, end, opts.Incidents)

	bw := bufio.NewWriter(w)
	if _, err := bw.Write(enc.header()); err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	var pending rowHeap
	// flush writes every pending row at or before t. Rows of incidents
	// created later all come at or after their creation, so the output stays
	// ordered while only the rows of recent incidents are held in memory.
	flush := func(t time.Time, all bool) error {
		for len(pending) > 0 && (all || !pending[0].at.After(t)) {
			r := heap.Pop(&pending).(row)
			if _, err := bw.Write(enc.separator()); err != nil {
				return err
			}
			if _, err := bw.Write(r.line); err != nil {
				return err
			}
		}
		return nil
	}
	for i, at := range created {
		if err := flush(at, false); err != nil {
			return fmt.Errorf("gen: %w", err)
		}
		number := opts.FirstNumber + i
		s := newStory(rand.New(rand.NewPCG(seed, uint64(i+1))), number, at, end)
		s.play()
		for seq, snap := range s.rows {
			line := enc.row(&snap)
			heap.Push(&pending, row{at: time.Time(snap.TimeGenerated), number: number, seq: seq, line: line})
		}
	}
	if err := flush(time.Time{}, true); err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	if _, err := bw.Write(enc.trailer()); err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	return nil
}

// arrivals returns n creation times in [start, end), sorted, following the
// daily and weekly rhythm of alert volume: busiest on weekday office hours,
// quieter at night and at weekends.
func arrivals(rng *rand.Rand, start, end time.Time, n int) []time.Time {
	span := end.Sub(start)
	times := make([]time.Time, 0, n)
	for len(times) < n {
		t := start.Add(time.Duration(rng.Int64N(int64(span)))).Truncate(tick)
		if rng.Float64() < arrivalWeight(t) {
			times = append(times, t)
		}
	}
	slices.SortFunc(times, time.Time.Compare)
	return times
}

// hourWeight is the relative alert volume by hour of day (UTC).
var hourWeight = [24]float64{
	0.35, 0.30, 0.28, 0.28, 0.30, 0.40, 0.55, 0.75, 0.95, 1, 1, 1,
	0.95, 1, 1, 0.95, 0.90, 0.80, 0.65, 0.55, 0.50, 0.45, 0.40, 0.38,
}

func arrivalWeight(t time.Time) float64 {
	w := hourWeight[t.Hour()]
	switch t.Weekday() {
	case time.Saturday:
		w *= 0.45
	case time.Sunday:
		w *= 0.40
	case time.Friday:
		w *= 0.90
	}
	return w
}

// tick is the resolution of Log Analytics datetimes.
const tick = 100 * time.Nanosecond

// row is one encoded snapshot waiting to be written.
type row struct {
	at     time.Time
	number int // IncidentNumber
	seq    int // position in the incident's history
	line   []byte
}

// rowHeap orders rows by time, then incident number, then sequence.
type rowHeap []row

func (h rowHeap) Len() int { return len(h) }
func (h rowHeap) Less(i, j int) bool {
	if c := h[i].at.Compare(h[j].at); c != 0 {
		return c < 0
	}
	if h[i].number != h[j].number {
		return h[i].number < h[j].number
	}
	return h[i].seq < h[j].seq
}
func (h rowHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *rowHeap) Push(x any)   { *h = append(*h, x.(row)) }
func (h *rowHeap) Pop() any {
	old := *h
	r := old[len(old)-1]
	*h = old[:len(old)-1]
	return r
}

// newGUID returns a random version 4 GUID drawn from rng.
func newGUID(rng *rand.Rand) string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := rng.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return formatGUID(b)
}

// nameGUID returns a stable GUID for a named thing (an analyst, an analytic
// rule), so the cast keeps its object ids whatever the seed.
func nameGUID(kind, name string) string {
	h := fnv.New128a()
	h.Write([]byte(kind + "\x00" + name))
	var b [16]byte
	copy(b[:], h.Sum(nil))
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	return formatGUID(b)
}

func formatGUID(b [16]byte) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Counter counts the bytes and lines written through it to W: the size
// and, in NDJSON, the number of rows of a history, for callers that size
// one by its output (the benchmarks).
type Counter struct {
	W     io.Writer
	Bytes int64
	Lines int
}

func (c *Counter) Write(p []byte) (int, error) {
	n, err := c.W.Write(p)
	c.Bytes += int64(n)
	c.Lines += bytes.Count(p[:n], []byte("\n"))
	return n, err
}
