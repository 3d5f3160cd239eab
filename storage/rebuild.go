package storage

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// TableRebuild is what RebuildTable did to an item's table.
type TableRebuild struct {
	// Table is the item's table, now with today's columns only; Backup
	// the table it was renamed to, holding every row and column it had.
	Table, Backup string
	// Dropped are the columns no field filled any more.
	Dropped []string
	// Rows were copied; Pages is how many pages they came from.
	Rows, Pages int64
	// Unarchived counts the pages with rows in the table but no archived
	// response for job: a re-extraction cannot refresh them, so their
	// rows stay as they were (without the dropped columns).
	// FirstUnarchived names one of them.
	Unarchived      int64
	FirstUnarchived string
}

// RebuildTable remakes the item table name with only today's columns, in
// one transaction: the table is renamed to a backup
// (gather_backup_<name>_<time>), made again from the config, and every row
// is copied into it without the columns no field fills. If anything fails
// the transaction rolls back and the table is as it was; once it commits,
// every row is in the new table and every byte of the old one is still in
// the backup, which DropBackup removes once the caller has re-extracted
// the rows it can.
func (s *Store) RebuildTable(ctx context.Context, job, name string, at time.Time) (TableRebuild, error) {
	t, ok := s.tables[name]
	if !ok {
		return TableRebuild{}, fmt.Errorf("no item table %s", name)
	}
	reb := TableRebuild{Table: name, Backup: fmt.Sprintf("gather_backup_%s_%s", name, at.UTC().Format("20060102T150405"))}
	conn, err := s.write.Conn(ctx)
	if err != nil {
		return reb, err
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return reb, fmt.Errorf("rebuild %s: %w", name, err)
	}
	defer tx.Rollback()
	existing, err := txColumns(ctx, tx, name)
	if err != nil {
		return reb, err
	}
	if existing == nil {
		return reb, fmt.Errorf("rebuild %s: the database has no table %s: nothing to rebuild", name, name)
	}
	// Two rebuilds within a second take the next free name.
	for i := 2; ; i++ {
		cols, err := txColumns(ctx, tx, reb.Backup)
		if err != nil {
			return reb, err
		}
		if cols == nil {
			break
		}
		reb.Backup = fmt.Sprintf("gather_backup_%s_%s_%d", name, at.UTC().Format("20060102T150405"), i)
	}
	reb.Dropped = unfilledColumns(t, existing)
	var kept []string
	for _, c := range t.allColumns() {
		if existing[c] {
			kept = append(kept, c)
		}
	}
	for _, q := range []string{
		fmt.Sprintf("ALTER TABLE %s RENAME TO %s", quote(name), quote(reb.Backup)),
		t.createSQL(),
		fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s", quote(name), quoteAll(kept), quoteAll(kept), quote(reb.Backup)),
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return reb, fmt.Errorf("rebuild %s: %w", name, err)
		}
	}
	q := fmt.Sprintf(`SELECT count(*), count(DISTINCT %[1]s) FROM %[2]s`, quote(ColURL), quote(name))
	if err := tx.QueryRowContext(ctx, q).Scan(&reb.Rows, &reb.Pages); err != nil {
		return reb, fmt.Errorf("rebuild %s: %w", name, err)
	}
	q = fmt.Sprintf(`SELECT count(DISTINCT %[1]s), coalesce(min(%[1]s), '') FROM %[2]s
		WHERE %[1]s NOT IN (SELECT url FROM gather_archive WHERE job = ?)`, quote(ColURL), quote(name))
	if err := tx.QueryRowContext(ctx, q, job).Scan(&reb.Unarchived, &reb.FirstUnarchived); err != nil {
		return reb, fmt.Errorf("rebuild %s: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return reb, fmt.Errorf("rebuild %s: %w", name, err)
	}
	return reb, nil
}

// DropBackup drops a backup RebuildTable made.
func (s *Store) DropBackup(ctx context.Context, backup string) error {
	if !strings.HasPrefix(backup, "gather_backup_") {
		return fmt.Errorf("%s is not a rebuild's backup", backup)
	}
	if _, err := s.write.ExecContext(ctx, "DROP TABLE "+quote(backup)); err != nil {
		return fmt.Errorf("drop %s: %w", backup, err)
	}
	return nil
}

// txColumns are the columns of table name as tx sees them (nil: no such
// table).
func txColumns(ctx context.Context, tx *sql.Tx, name string) (map[string]bool, error) {
	rows, err := tx.QueryContext(ctx, "SELECT name FROM pragma_table_info(?)", name)
	if err != nil {
		return nil, fmt.Errorf("inspect table %s: %w", name, err)
	}
	defer rows.Close()
	var cols map[string]bool
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		if cols == nil {
			cols = map[string]bool{}
		}
		cols[c] = true
	}
	return cols, rows.Err()
}

// NotRefreshed counts the pages with rows in table name that run did not
// store: after a rebuild's re-extraction, the pages whose rows are still
// those copied from the backup.
func (s *Store) NotRefreshed(ctx context.Context, name string, run int64) (int64, error) {
	if _, ok := s.tables[name]; !ok {
		return 0, fmt.Errorf("no item table %s", name)
	}
	var n int64
	q := fmt.Sprintf(`SELECT count(DISTINCT %s) FROM %s WHERE %s <> ?`, quote(ColURL), quote(name), quote(ColRun))
	if err := s.write.QueryRowContext(ctx, q, run).Scan(&n); err != nil {
		return 0, fmt.Errorf("count the rows of %s not re-extracted: %w", name, err)
	}
	return n, nil
}
