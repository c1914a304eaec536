// Package webhooktest helps test code that receives GitHub webhook
// deliveries: it holds real fixture payloads (GitHub's own example
// deliveries), builds variants of them, and builds signed requests.
//
// The fixtures live in the repository, in testdata/github-webhooks/ of
// this package (GitHub's example deliveries from octokit/webhooks, MIT
// licence; see the README there), and are embedded in the package, so a
// test anywhere in the module (or in a module that imports this one)
// reads them without touching the file system. [ReadFixture] reports a
// missing fixture with an error wrapping fs.ErrNotExist; helpers that
// take a testing.TB fail the test instead, listing the fixtures.
package webhooktest
