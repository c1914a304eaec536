package tfoutput_test

import (
	"fmt"

	"github.com/tfpilot/tfpilot/tfoutput"
)

func ExampleParse() {
	log := []byte(`2026-01-02T03:04:05.0000000Z   # module.s3_bucket_req_abc.aws_s3_bucket.this will be created
2026-01-02T03:04:05.1000000Z Plan: 1 to add, 0 to change, 0 to destroy.
`)
	s := tfoutput.Parse(log)
	fmt.Println(s.State, s.Counts.Add, s.Changes[0].Action, s.Changes[0].Address)
	fmt.Println(tfoutput.Parse([]byte("npm test\nok\n")).State)
	// Output:
	// planned 1 create module.s3_bucket_req_abc.aws_s3_bucket.this
	// not_terraform
}
