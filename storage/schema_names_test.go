package storage_test

import (
	"testing"

	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/storage"
)

// storage names the key columns itself (it does not import the config's
// schema); a key in the config names them by config's constants.
func TestKeyColumnsAreTheConfigsKeyNames(t *testing.T) {
	if storage.ColURL != config.KeyURL || storage.ColIndex != config.KeyIndex {
		t.Fatalf("storage's %q/%q differ from config's %q/%q", storage.ColURL, storage.ColIndex, config.KeyURL, config.KeyIndex)
	}
}
