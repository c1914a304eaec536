package store

import (
	"encoding/json"
	"testing"
)

// BenchmarkRequestDecode decodes a document tfpilot wrote (no unknown
// fields: the common case in every backend's list page) and a document
// from the original system (legacy and unknown fields at several levels).
func BenchmarkRequestDecode(b *testing.B) {
	var seed Request
	if err := json.Unmarshal(loadSeed(b), &seed); err != nil {
		b.Fatal(err)
	}
	own := seed.Clone()
	own.raw = nil
	own.SchemaVersion = SchemaVersion
	ownDoc, err := json.Marshal(own)
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		doc  []byte
	}{{"tfpilot-written", ownDoc}, {"seed-with-unknown-fields", loadSeed(b)}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(tc.doc)))
			for b.Loop() {
				var r Request
				if err := json.Unmarshal(tc.doc, &r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
