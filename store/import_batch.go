package store

import "context"

// BatchImporter is an optional extension of an [Importer], found by type
// assertion, that imports many items at once: migrate.Copy hands a
// destination that has it batches of items instead of one item at a
// time.
type BatchImporter interface {
	// ImportBatch imports items as [Importer.Import] imports each one:
	// results[i] is what Import(ctx, items[i]) would return (written, or
	// an error wrapping [ErrAlreadyExists] or [ErrInvalid]), and the
	// items may be of any kinds, in any order, with repeated keys. err
	// is a failure of the store (or ctx's end) for the batch as a whole:
	// results is then nil, and each item may or may not have been
	// stored, whole, so importing the batch again completes it (as it
	// does after a crash mid-batch).
	ImportBatch(ctx context.Context, items []Item) (results []ImportResult, err error)
}

// ImportResult is what [BatchImporter.ImportBatch] did with one item.
type ImportResult struct {
	Written bool
	Err     error
}
