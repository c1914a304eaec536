package tfpilot_test

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/tfpilot/tfpilot"
	"github.com/tfpilot/tfpilot/runs"
)

// A stored TfPilot document decodes into a Request; its status is derived
// from facts, and fields tfpilot does not model survive the write back.
func Example() {
	doc := []byte(`{"id":"req-1","project":"payments","environment":"dev","module":"s3_bucket",
	  "version":3,"templateId":"tmpl-7","pr":{"number":12,"open":true}}`)
	var r tfpilot.Request
	if err := json.Unmarshal(doc, &r); err != nil {
		panic(err)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	fmt.Println(r.Status(now))

	r.Runs = runs.Dispatch(r.Runs, runs.Plan, runs.DispatchMeta{Actor: "alice"}, now)
	r.Runs, _ = runs.AttachRunID(r.Runs, runs.Plan, 1, 501, "")
	r.Runs, _ = runs.PatchByRunID(r.Runs, runs.Plan, 501, runs.RunFacts{Status: "completed", Conclusion: "success", UpdatedAt: now})
	fmt.Println(r.Status(now))

	out, _ := json.Marshal(r)
	var back map[string]any
	_ = json.Unmarshal(out, &back)
	fmt.Println(back["templateId"])
	// Output:
	// planning
	// plan_ready
	// tmpl-7
}
