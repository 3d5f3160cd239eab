package crawler

import (
	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/storage"
)

// Tables derives the items' tables from a validated config: each item's
// fields as columns, in config order, with its key. It lives here, not in
// storage, so that storage (and gather serve, which reads through it)
// knows nothing of the config's schema.
func Tables(cfg *config.Config) []storage.Table {
	var out []storage.Table
	for _, name := range cfg.ItemOrder {
		it := cfg.Items[name]
		t := storage.Table{Name: name, Key: it.Key, Indexed: !it.Each.IsZero()}
		for _, f := range it.FieldOrder {
			t.Columns = append(t.Columns, storage.Column{Name: f, Type: affinity(it.Fields[f])})
		}
		out = append(out, t)
	}
	return out
}

// affinity is a field's declared column type: a list (all: true, or a
// split) and a json field are JSON text.
func affinity(f config.Field) string {
	if f.IsList() || f.Type == config.TypeJSON {
		return storage.JSONColumnType
	}
	switch f.Type {
	case config.TypeInteger, config.TypeBoolean:
		return storage.AffinityInteger
	case config.TypeReal:
		return storage.AffinityReal
	}
	return storage.AffinityText
}
