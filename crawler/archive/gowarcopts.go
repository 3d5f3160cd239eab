package archive

import (
	"crypto/rand"
	"fmt"
	"sync"

	"github.com/nlnwa/gowarc/v3"
)

// gowarc v3.1.0 calls uuid.EnableRandPool — a write to a global of
// github.com/google/uuid that its documentation says is not safe for
// concurrent use — each time it builds options, that is in every
// NewRecordBuilder and NewUnmarshaler, and its default record-ID function
// reads that global. Found by this package's concurrent-write test under
// the race detector. So every gowarc constructor is called under
// optionsMu, and record IDs come from newRecordID instead of google/uuid.
var optionsMu sync.Mutex

func newRecordBuilder(t gowarc.RecordType, opts ...gowarc.WarcRecordOption) gowarc.WarcRecordBuilder {
	optionsMu.Lock()
	defer optionsMu.Unlock()
	return gowarc.NewRecordBuilder(t, opts...)
}

func newUnmarshaler() gowarc.Unmarshaler {
	optionsMu.Lock()
	defer optionsMu.Unlock()
	return gowarc.NewUnmarshaler(readOptions...)
}

func newWarcFileReader(path string, offset int64) (*gowarc.WarcFileReader, error) {
	optionsMu.Lock()
	defer optionsMu.Unlock()
	return gowarc.NewWarcFileReader(path, offset, readOptions...)
}

// readOptions check what is read: a digest or length that does not match
// is a validation finding, which the callers treat as corruption.
var readOptions = []gowarc.WarcRecordOption{gowarc.WithBufferMaxMemBytes(16 << 20)}

// newRecordID is a random (version 4) UUID URN, as gowarc's default.
func newRecordID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}
