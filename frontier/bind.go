package frontier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// A shared crawl belongs to one database: the first sink writes its
// database's id (storage.Store.DatabaseID) in the frontier, and every
// sink, seed --resume and new run checks it before it reads or writes
// anything. A sink of another database would otherwise take outcomes
// that the crawl's database then never gets (both read as the one
// consumer "sink"), and leave the crawl's run waiting for them forever.

// ErrOtherDatabase marks a database the shared crawl does not belong to.
var ErrOtherDatabase = errors.New("the shared crawl belongs to another database")

// Binding is the database a shared crawl belongs to.
type Binding struct {
	ID   string `json:"id"`
	Path string `json:"path"` // where the first sink found it, for messages
}

// Binding reads the database the crawl is bound to (ok false: none yet).
func (r *Redis) Binding(ctx context.Context) (b Binding, ok bool, err error) {
	raw, err := r.rdb.Get(ctx, r.keys.database).Result()
	if errors.Is(err, redis.Nil) {
		return Binding{}, false, nil
	}
	if err != nil {
		return Binding{}, false, fmt.Errorf("frontier %s: %w", r.addr, err)
	}
	if err := json.Unmarshal([]byte(raw), &b); err != nil {
		return Binding{}, false, fmt.Errorf("frontier %s: the crawl's database record does not read: %w", r.addr, err)
	}
	return b, true, nil
}

// Bind binds the crawl to the database id (at path) if it is bound to
// none, and refuses it (ErrOtherDatabase) if it is bound to another.
func (r *Redis) Bind(ctx context.Context, id, path string) error {
	mine, _ := json.Marshal(Binding{ID: id, Path: path})
	if err := r.rdb.SetNX(ctx, r.keys.database, mine, 0).Err(); err != nil {
		return fmt.Errorf("frontier %s: %w", r.addr, err)
	}
	return r.CheckDatabase(ctx, id, path)
}

// CheckDatabase refuses a database (its id, and path for the message)
// that the crawl is not bound to; a crawl bound to none passes.
func (r *Redis) CheckDatabase(ctx context.Context, id, path string) error {
	b, ok, err := r.Binding(ctx)
	if err != nil || !ok || b.ID == id {
		return err
	}
	return fmt.Errorf("%w: crawl %q on frontier %s stores into %s (database id %s), and %s is another database (id %s); refused before reading anything: use that database, or give this one a crawl of its own (another crawl.name or frontier)",
		ErrOtherDatabase, r.opts.Job, r.addr, b.Path, b.ID, path, orNone(id))
}

func orNone(id string) string {
	if id == "" {
		return "none yet"
	}
	return id
}
