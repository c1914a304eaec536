// Package tfpilot is the core of a Terraform self-service control plane:
// a request document, a Store interface with in-memory, PostgreSQL and S3
// backends, and the Pilot engine that drives
// "request → pull request → plan → approve → merge → apply → destroy"
// through GitHub Actions.
package tfpilot
