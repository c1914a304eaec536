// Command fake-github serves githubx/githubtest — an in-memory fake of
// the GitHub REST API with an Actions simulator and signed webhooks — as
// a process of its own at a fixed address, so that several tfpilot
// servers (replicas on one store) can run against one simulated GitHub
// without writing code.
//
// What it adds to the in-process fake:
//
//   - a fixed address (--listen, FAKE_GITHUB_LISTEN), default
//     127.0.0.1:8090; point a server's --github-url at http://ADDR/;
//   - auto mode, on by default: runs move queued → in_progress →
//     completed on their own (--queue-delay, --run-delay);
//   - repositories from --repo owner/name, or from --config: the
//     reference server's own config file (each target's owner/repo is
//     created with a main.tf in its envPath) and/or a "repos" list;
//   - webhook fan-out: every delivery, signed with --webhook-secret, is
//     posted to every --webhook-target, each target served in order by
//     a worker of its own, so every replica gets every delivery and a
//     dead one delays nobody; as on GitHub, a failed post is recorded
//     and not retried;
//   - a lagging runs list (--runs-list-lag): a new run stays out of the
//     run lists for that long, as GitHub's lists trail a dispatch (see
//     the README for the evidence), while Get run and webhooks see it;
//   - a JSON debug API under /_debug/: runs with the request id and
//     nonce they carry, deliveries with their outcome per target, calls
//     per endpoint, and fault injection (failed and ambiguous calls).
//
// It answers -h with its flags and exit status 0, and stops on SIGINT
// or SIGTERM. Links inside API answers (run and job URLs, the log
// download redirect) point at the fake's internal loopback listener,
// which serves the same fake.
package main
