package hclblocks

// List is [Editor.List] with the zero [Editor].
func List(src []byte) ([]Region, error) { return Editor{}.List(src) }

// Find is [Editor.Find] with the zero [Editor].
func Find(src []byte, id string) (Region, error) { return Editor{}.Find(src, id) }

// Upsert is [Editor.Upsert] with the zero [Editor].
func Upsert(src []byte, id string, content []byte) ([]byte, error) {
	return Editor{}.Upsert(src, id, content)
}

// Remove is [Editor.Remove] with the zero [Editor].
func Remove(src []byte, id string) ([]byte, error) { return Editor{}.Remove(src, id) }
