// The TypeScript client against the running demo server (see demo.ts):
// the calls a Backstage plugin makes, through the generated client.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { fieldViolations, RequestService, Status, type Request } from "../src/index.js";
import { bucketName, protocols, requests } from "./demo.js";

const minute = 60_000;

async function create(bucket: string): Promise<Request> {
  const { request } = await requests().create({
    project: "payments",
    environment: "dev",
    module: "s3_bucket",
    config: { bucket },
  });
  assert.ok(request, "Create answered no request");
  return request;
}

describe("RequestService through @tfpilot/client against the demo server", () => {
  test("Watch follows a created request to STATUS_APPLIED (the demo autopilot approves, merges and applies)", { timeout: 2 * minute }, async () => {
    const created = await create(bucketName("watched"));
    assert.match(created.id, /\S/);
    const seen: Status[] = [];
    for await (const { request } of requests().watch({ id: created.id }, { signal: AbortSignal.timeout(100_000) })) {
      assert.ok(request, "a Watch message carries the request");
      assert.equal(request.id, created.id);
      if (seen.at(-1) !== request.status) seen.push(request.status);
      assert.notEqual(request.status, Status.FAILED, `the request failed after ${seen.map((s) => Status[s]).join(" → ")}`);
      if (request.status === Status.APPLIED) break;
    }
    assert.equal(seen.at(-1), Status.APPLIED, `Watch ended before STATUS_APPLIED: ${seen.map((s) => Status[s]).join(" → ")}`);
    const { request } = await requests().get({ id: created.id });
    assert.equal(request?.status, Status.APPLIED);
    assert.ok(request?.pullRequest?.merged, "an applied request's pull request is merged");
  });

  test("List pages with page tokens return every request exactly once", async () => {
    const made = new Set<string>();
    for (let i = 0; i < 3; i++) made.add((await create(bucketName("paged"))).id);
    const seen: string[] = [];
    let pageToken = "";
    let pages = 0;
    do {
      const page = await requests().list({ project: "payments", environment: "dev", pageSize: 2, pageToken });
      assert.ok(page.requests.length <= 2, `a page of size 2 held ${page.requests.length}`);
      seen.push(...page.requests.map((r) => r.id));
      pageToken = page.nextPageToken;
      pages++;
      assert.ok(pages < 100, "List never ended");
    } while (pageToken !== "");
    assert.ok(pages >= 2, `3 new requests with page size 2 fit on ${pages} page`);
    assert.equal(new Set(seen).size, seen.length, `a request came back twice: ${seen.join(", ")}`);
    for (const id of made) assert.ok(seen.includes(id), `request ${id} is on no page`);
  });

  test("an invalid Create is invalid_argument with a google.rpc.BadRequest naming each field", async () => {
    const err = await requests()
      .create({ project: "payments", environment: "dev", module: "s3_bucket", config: { bucket: "Not A Bucket!" } })
      .then(() => assert.fail("Create accepted an invalid bucket name"), (e: unknown) => e);
    assert.ok(err instanceof ConnectError, `not a ConnectError: ${String(err)}`);
    assert.equal(err.code, Code.InvalidArgument, err.message);
    const violations = fieldViolations(err);
    assert.ok(violations.length > 0, `no BadRequest field violations in ${err.message}`);
    assert.ok(
      violations.some((v) => v.field === "config.bucket" && v.description !== ""),
      `no violation names config.bucket: ${JSON.stringify(violations)}`,
    );
    assert.deepEqual(fieldViolations(new ConnectError("locked", Code.Aborted)), [], "an error without details has no violations");
  });

  test("Cancel archives a request that is not applied and records who cancelled it and why", { timeout: minute }, async () => {
    const created = await create(bucketName("cancelled"));
    const reason = "not needed after all";
    let cancelled: Request | undefined;
    // Cancel may meet the plan's dispatch holding the request (aborted): retry.
    for (let attempt = 0; cancelled === undefined; attempt++) {
      try {
        cancelled = (await requests().cancel({ id: created.id, reason })).request;
        assert.ok(cancelled, "Cancel answered no request");
      } catch (e) {
        if (!(e instanceof ConnectError) || e.code !== Code.Aborted || attempt >= 20) throw e;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    assert.equal(cancelled.id, created.id);
    assert.equal(cancelled.archived, true, "a cancelled request is archived");
    assert.equal(cancelled.cancellation?.reason, reason);
    assert.match(cancelled.cancellation?.actor ?? "", /\S/, "the cancellation names its actor");
    const { request } = await requests().get({ id: created.id });
    assert.equal(request?.archived, true, "Get shows the cancelled request archived");
    assert.equal(request?.cancellation?.reason, reason);
    const live = await requests().list({ project: "payments", pageSize: 500 });
    assert.ok(!live.requests.some((r) => r.id === created.id), "List (live requests) still shows the cancelled request");
  });

  for (const { name, transport } of protocols()) {
    test(`Get and the first Watch message agree over ${name}`, async () => {
      const created = await create(bucketName("proto"));
      const client = createClient(RequestService, transport);
      const { request } = await client.get({ id: created.id });
      assert.equal(request?.id, created.id);
      assert.equal(request?.config?.bucket, created.config?.bucket);
      const abort = new AbortController();
      for await (const msg of client.watch({ id: created.id }, { signal: abort.signal })) {
        assert.equal(msg.request?.id, created.id);
        abort.abort();
        break;
      }
    });
  }
});
