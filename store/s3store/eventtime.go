package s3store

import (
	"regexp"
	"time"
)

// dashedTimeRE matches a time written into an object key with ':' and
// '.' replaced by '-', as JavaScript code does to make
// new Date().toISOString() safe for keys: 2024-03-01T12-00-00-123Z.
var dashedTimeRE = regexp.MustCompile(`^(\d{4}-\d\d-\d\dT\d\d)-(\d\d)-(\d\d)(?:-(\d{1,9}))?(Z|[+-]\d\d-?\d\d)?$`)

// parseDashedTime reads a time written as dashedTimeRE describes; a
// time without zone is UTC.
func parseDashedTime(s string) (time.Time, bool) {
	m := dashedTimeRE.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, false
	}
	text := m[1] + ":" + m[2] + ":" + m[3]
	if m[4] != "" {
		text += "." + m[4]
	}
	switch zone := m[5]; {
	case zone == "" || zone == "Z":
		text += "Z"
	case len(zone) == 5: // +0100
		text += zone[:3] + ":" + zone[3:]
	default: // +01-00
		text += zone[:3] + ":" + zone[4:]
	}
	t, err := time.Parse(time.RFC3339Nano, text)
	return t, err == nil
}
