// Package tfoutput extracts Terraform's summary from a GitHub Actions job
// log: what a plan would do ("Plan: 1 to add, 0 to change, 0 to
// destroy.", "No changes."), what an apply did ("Apply complete!
// Resources: ..."), the resource change lines ("# aws_s3_bucket.this will
// be created") and Terraform's errors. tfpilot stores the result on the
// run's attempt so an approver sees what they approve.
//
// It is a pure package: it imports nothing of tfpilot's, does no I/O, and
// never fails. Input and output are bounded ([Limits]): a huge log is
// read from its end (where Terraform prints its summary) and
// [Summary.Truncated] says so; at most [Limits.MaxChanges] change lines
// and [Limits.MaxErrors] errors of at most [Limits.MaxLine] bytes each are
// kept. A log that is absent or holds no Terraform output gives a
// [Summary] whose [State] says so ([StateNoLog], [StateNotTerraform]),
// not an error.
//
// Use:
//
//	s := tfoutput.Parse(jobLog)
//	switch s.State {
//	case tfoutput.StatePlanned:
//		fmt.Println(s.Headline, len(s.Changes))
//	case tfoutput.StateFailed:
//		fmt.Println(s.Errors)
//	}
//
// Lines may carry GitHub's timestamp prefix and ANSI colour codes; both
// are removed. The workflows in the repository's workflows/ folder run
// Terraform with -no-color so that its output is plain.
package tfoutput
