package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"
	"github.com/spf13/cobra"

	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/output"
	"github.com/gather-crawler/gather/storage"
)

// dbFlags choose the database of query and runs: --db, else the config's.
type dbFlags struct {
	cfgFile string
	db      string
	format  string
	cmd     *cobra.Command // to tell --db "" from no --db
	timeout time.Duration
}

// defaultQueryTimeout bounds a statement unless --timeout says otherwise:
// while it reads, a crawl writing the same database cannot empty its WAL.
const defaultQueryTimeout = 30 * time.Second

func (f *dbFlags) register(cmd *cobra.Command) {
	f.cmd = cmd
	cmd.Flags().StringVarP(&f.cfgFile, "config", "c", "", "config whose database to read (default $GATHER_CONFIG, else ./config.yaml)")
	cmd.Flags().StringVar(&f.db, "db", "", "SQLite file to read (instead of the config's)")
	cmd.Flags().StringVar(&f.format, "format", "", "output: table, csv, json or jsonl (default table on a terminal, else csv)")
	cmd.Flags().DurationVar(&f.timeout, "timeout", defaultQueryTimeout, "stop the statement after this long, printing included (0: no limit)")
}

func (f *dbFlags) path() (string, error) {
	if f.cmd.Flags().Changed("db") {
		if err := config.CheckDatabasePath(f.db); err != nil {
			return "", usagef("--db: %v", err)
		}
		return f.db, nil
	}
	cfg, err := config.Load(configPath(f.cfgFile))
	if err != nil {
		return "", fmt.Errorf("%w (or pass --db)", err)
	}
	return cfg.Database, nil
}

func (f *dbFlags) outputFormat(w io.Writer) (string, error) {
	if f.format == "" {
		if isTerminal(w) {
			return output.Table, nil
		}
		return output.CSV, nil
	}
	if err := output.Check(f.format); err != nil {
		return "", usagef("--format: %v", err)
	}
	return f.format, nil
}

func newQueryCmd() *cobra.Command {
	f := &dbFlags{}
	cmd := &cobra.Command{
		Use:   "query [-c FILE | --db PATH] [--format table|csv|json|jsonl] [--timeout 30s] SQL",
		Short: "Run one read-only SQL statement and print the rows",
		Long: `query runs one read-only statement (SELECT, or WITH … SELECT) against the
database and streams its rows. Anything that could modify the database or
touch another file is refused. SQL "-" reads the statement from stdin.

The statement is stopped after --timeout (default 30s), printing included,
and query exits 1. While it runs it reads one snapshot of the database, and
a crawl writing the same file cannot empty its WAL meanwhile: the WAL grows
by what the crawl writes until the statement ends.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q := strings.Join(args, " ")
			if q == "-" {
				b, err := io.ReadAll(cmd.InOrStdin())
				if err != nil {
					return err
				}
				q = string(b)
			}
			return printQuery(cmd.Context(), f, cmd.OutOrStdout(), func(ctx context.Context, r *storage.Reader) (*sql.Rows, error) {
				return r.Query(ctx, q)
			})
		},
	}
	f.register(cmd)
	return cmd
}

// printQuery opens the database read-only, runs query on it and prints
// the rows in the chosen format, within --timeout. An interrupt stops the
// statement, not a crawl, and says so.
func printQuery(ctx context.Context, f *dbFlags, out io.Writer, query func(context.Context, *storage.Reader) (*sql.Rows, error)) error {
	if f.timeout < 0 {
		return usagef("--timeout must not be negative")
	}
	format, err := f.outputFormat(out)
	if err != nil {
		return err
	}
	path, err := f.path()
	if err != nil {
		return err
	}
	setStopNote("stopping the query")
	defer setStopNote("")
	r, err := storage.OpenReader(ctx, path)
	if err != nil {
		return err
	}
	defer r.Close()
	qctx, cancel := ctx, context.CancelFunc(func() {})
	if f.timeout > 0 {
		qctx, cancel = context.WithTimeoutCause(ctx, f.timeout, errTimeout)
	}
	defer cancel()
	// Rows are closed as soon as they are printed (or the printing fails),
	// so that the statement's snapshot ends before anything else.
	rows, err := query(qctx, r)
	if err != nil {
		return queryError(ctx, qctx, f, err)
	}
	_, err = output.Write(out, format, rows)
	err = errors.Join(err, rows.Close())
	if err != nil {
		return queryError(ctx, qctx, f, r.Explain(ctx, err))
	}
	return nil
}

// errTimeout is the cause of a statement's context when --timeout ends it.
var errTimeout = errors.New("timeout")

// queryError says why a statement stopped: --timeout, an interrupt, or
// what SQLite said.
func queryError(ctx, qctx context.Context, f *dbFlags, err error) error {
	switch {
	case context.Cause(qctx) == errTimeout:
		return fmt.Errorf("query stopped after --timeout %s (raise it, or 0 for no limit)", f.timeout)
	case ctx.Err() != nil:
		return fmt.Errorf("query stopped: %w", context.Cause(ctx))
	}
	return sqlError(err)
}

// sqlError makes mistakes in the SQL itself usage errors (exit 2), and
// keeps I/O and locking trouble runtime errors.
func sqlError(err error) error {
	var se sqlite3.Error
	if errors.Is(err, storage.ErrReadOnly) || (errors.As(err, &se) && se.Code == sqlite3.ErrError) ||
		strings.HasPrefix(err.Error(), "no such table") {
		return usageError{err}
	}
	return err
}

func newRunsCmd() *cobra.Command {
	f := &dbFlags{}
	var limit int
	cmd := &cobra.Command{
		Use:   "runs [-c FILE | --db PATH] [--format FORMAT] [--limit N]",
		Short: "List past runs, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 0 {
				return usagef("--limit must not be negative")
			}
			return printQuery(cmd.Context(), f, cmd.OutOrStdout(), func(ctx context.Context, r *storage.Reader) (*sql.Rows, error) {
				return r.RunHistory(ctx, limit)
			})
		},
	}
	f.register(cmd)
	cmd.Flags().IntVar(&limit, "limit", 20, "show the newest N runs (0: all)")
	return cmd
}
