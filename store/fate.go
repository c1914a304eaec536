package store

import "context"

// Fate is what a migration does with one stored object.
type Fate string

// The fates of an object.
const (
	// FateCopy: the object is an item and is copied.
	FateCopy Fate = "copy"
	// FateSkip: the object is not an item (a backup, a stray file, a
	// duplicate that a rule settles, an index tfpilot rebuilds); the
	// reason says which.
	FateSkip Fate = "skip"
	// FateQuarantine: the object looks like an item but cannot be read
	// as one (an empty or non-JSON body, a document without id); the
	// field and the problem say why. It is not copied, and a copy that
	// quarantines anything is not complete.
	FateQuarantine Fate = "quarantine"
)

// ObjectFate is what a walk of a store made of one stored object.
type ObjectFate struct {
	// Object is the backend's name for the object (an S3 key).
	Object string `json:"object"`
	// Kind is the kind of item the object's place holds ("" for an
	// object outside every kind's place).
	Kind ItemKind `json:"kind,omitempty"`
	Fate Fate     `json:"fate"`
	// Item is the copied item's key ([Item.Key]), for FateCopy.
	Item string `json:"item,omitempty"`
	// Field is the field at fault, for FateQuarantine, when one is.
	Field string `json:"field,omitempty"`
	// Reason says why an object is skipped or quarantined; for a copied
	// object it lists what was read leniently ([Request.DecodeIssues]),
	// if anything.
	Reason string `json:"reason,omitempty"`
}

// FateExporter is an [Exporter] that accounts for every object it
// holds, for migrations of stores that other programs wrote (s3store
// serving a bucket the original TfPilot filled). Where Export skips
// what is not an item and stops at an object it cannot read,
// ExportFates names the fate of each and goes on.
type FateExporter interface {
	Exporter
	// ExportFates walks kind as Export does, calling fn with every item
	// and fate with the fate of every object under the kind's place,
	// the objects of the items included. Only an error from fn or fate,
	// a store failure or the end of ctx stops it.
	ExportFates(ctx context.Context, kind ItemKind, fn func(Item) error, fate func(ObjectFate) error) error
	// OtherObjects calls fate with every stored object that lies
	// outside every kind's place, each skipped with the reason.
	OtherObjects(ctx context.Context, fate func(ObjectFate) error) error
}
