package incident

import (
	"context"
	"fmt"
	"time"

	"github.com/socq/socq/engine"
)

// Tags lists the labels on snapshot rows written since since (Sentinel's
// portal suggests the tags of the past two weeks), most recently used first.
func (r *Recorder) Tags(ctx context.Context, since time.Time) ([]string, error) {
	return r.strings(ctx, `SELECT name FROM (
		SELECT json_extract_string(label, '$.labelName') AS name, max(t) AS last_used FROM (
			SELECT unnest(CAST("Labels" AS JSON[])) AS label, "TimeGenerated" AS t
			FROM "SecurityIncident" WHERE json_type("Labels") = 'ARRAY' AND "TimeGenerated" >= CAST(? AS TIMESTAMP_NS))
		GROUP BY name) WHERE coalesce(name, '') <> '' ORDER BY last_used DESC, name`, Time{since}.sqlText())
}

// Owners lists the people incidents were ever assigned to, by UPN (or
// display name when they have none), most recently assigned first.
func (r *Recorder) Owners(ctx context.Context) ([]string, error) {
	return r.strings(ctx, `SELECT who FROM (
		SELECT coalesce(nullif(json_extract_string("Owner", '$.userPrincipalName'), ''), nullif(json_extract_string("Owner", '$.email'), ''),
			nullif(json_extract_string("Owner", '$.assignedTo'), '')) AS who, max("TimeGenerated") AS last_used
		FROM "SecurityIncident" GROUP BY who) WHERE who IS NOT NULL ORDER BY last_used DESC, who`)
}

func (r *Recorder) strings(ctx context.Context, q string, args ...any) ([]string, error) {
	var out []string
	err := r.db.Tx(ctx, func(tx *engine.Tx) error {
		rows, err := tx.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				return err
			}
			out = append(out, s)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("read known values: %w", err)
	}
	return out, nil
}
