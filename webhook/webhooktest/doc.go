// Package webhooktest helps test code that receives GitHub webhook
// deliveries: it finds the shared fixture payloads (GitHub's own example
// deliveries), builds variants of them, and builds signed requests.
//
// Fixtures live beside the repository, at
// <repo>/../shared/fixtures/github-webhooks/ (CI checks the repository
// out with shared/ next to it); TFPILOT_WEBHOOK_FIXTURES overrides the
// directory. Helpers that take a testing.TB fail the test when a fixture
// is missing, saying where they looked.
package webhooktest
