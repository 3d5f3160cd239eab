package config

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// ItemVersion is one item's part of ItemsHash: its name, its hash (the
// item's spec and fields, in order, as ItemsHash hashes them) and its url
// pattern. A change of items re-extracts only the pages the items whose
// hash changed apply to.
type ItemVersion struct {
	Name, Hash, URL string
}

// ItemVersions are the config's items' versions, in config order.
func (c *Config) ItemVersions() []ItemVersion {
	out := make([]ItemVersion, 0, len(c.ItemOrder))
	for _, name := range c.ItemOrder {
		it := c.Items[name]
		fields := make([]Field, len(it.FieldOrder))
		for i, f := range it.FieldOrder {
			fields[i] = it.Fields[f]
		}
		spec := it
		spec.Fields = nil
		b, err := json.Marshal(struct {
			Name   string
			Spec   Item
			Fields []Field
		}{name, spec, fields})
		if err != nil {
			// As in ItemsHash: a config with no stable identity.
			b = []byte(fmt.Sprintf("%v", err))
		}
		sum := sha256.Sum256(b)
		out = append(out, ItemVersion{Name: name, Hash: hex.EncodeToString(sum[:8]), URL: it.URL})
	}
	return out
}
