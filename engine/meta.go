package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Meta returns the value stored under key in the socq_meta table, and
// whether there is one. Keys are namespaced by their user: "schema_version"
// is the engine's, "pull.<workspace>.newest" socq pull's.
func (db *DB) Meta(ctx context.Context, key string) (string, bool, error) {
	var v string
	err := db.sql.QueryRowContext(ctx, `SELECT value FROM socq_meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read %s from socq_meta: %w", key, err)
	}
	return v, true, nil
}

// SetMeta stores value under key in the socq_meta table.
func (db *DB) SetMeta(ctx context.Context, key, value string) error {
	if key == "schema_version" {
		return errors.New("socq_meta: schema_version is the engine's to set")
	}
	if _, err := db.sql.ExecContext(ctx, `INSERT OR REPLACE INTO socq_meta VALUES (?, ?)`, key, value); err != nil {
		return fmt.Errorf("write %s to socq_meta: %w", key, err)
	}
	return nil
}
