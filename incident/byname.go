package incident

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/socq/socq/engine"
)

// GetByName returns the current state of the incident named name (its
// IncidentName, a GUID, as the REST API addresses incidents). An unknown
// name is a *NotFoundError, as is a deleted incident's (with who deleted
// it and when).
func (r *Recorder) GetByName(ctx context.Context, name string) (*Incident, error) {
	id, err := uuid.Parse(strings.TrimSpace(name))
	if err != nil {
		return nil, invalid("name", "%q is not a GUID", name)
	}
	var inc *Incident
	err = r.db.Tx(ctx, func(tx *engine.Tx) error {
		rows, err := tx.Query(ctx, `SELECT "IncidentNumber" FROM "SecurityIncident" WHERE lower("IncidentName") = ? LIMIT 1`, id.String())
		if err != nil {
			return fmt.Errorf("find incident %s: %w", id, err)
		}
		var number int64
		found := rows.Next()
		if found {
			err = rows.Scan(&number)
		}
		rows.Close()
		if err != nil {
			return fmt.Errorf("find incident %s: %w", id, err)
		}
		if !found {
			return &NotFoundError{What: "incident " + id.String()}
		}
		s, err := loadLive(ctx, tx, number)
		if err == nil {
			inc = s.inc
		}
		return err
	})
	return inc, err
}
