// The quick start of clients/typescript/README.md: create a request and
// watch it to applied. test/readme.test.ts keeps the README's copy equal
// to the region below; tsc typechecks it.

// #region readme
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { bearerToken, RequestService, Status } from "@tfpilot/client";

const requests = createClient(RequestService, createConnectTransport({
  baseUrl: process.env.TFPILOT_URL!, httpVersion: "1.1",
  interceptors: [bearerToken(process.env.TOKEN!)],
}));
const { request } = await requests.create({ project: "payments", environment: "dev",
  module: "s3_bucket", config: { bucket: "payments-dev-reports" } });
for await (const { request: r } of requests.watch({ id: request!.id })) {
  console.log(Status[r!.status]); // PLANNING ... APPLIED
  if (r!.status === Status.APPLIED) break;
}
// #endregion readme
