// The demo server the client tests talk to: scripts/test-ts-client builds
// examples/connect-server, starts it with --demo on a free port, passes
// its URL and generated admin token in TFPILOT_TEST_URL and
// TFPILOT_TEST_TOKEN, and stops it by PID afterwards.
import { createClient, type Client, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { bearerToken, RequestService } from "../src/index.js";

/** demo is the running demo server's address and admin token. */
export function demo(): { baseUrl: string; token: string } {
  const baseUrl = process.env.TFPILOT_TEST_URL;
  const token = process.env.TFPILOT_TEST_TOKEN;
  if (!baseUrl || !token) {
    throw new Error(
      "TFPILOT_TEST_URL and TFPILOT_TEST_TOKEN are not set: run the client tests with scripts/test-ts-client " +
        "(from the repository root), which starts the demo server for them",
    );
  }
  return { baseUrl, token };
}

/** protocols are the four wire protocols the server speaks, each a transport to the demo. */
export function protocols(): { name: string; transport: Transport }[] {
  const { baseUrl, token } = demo();
  const interceptors = [bearerToken(token)];
  return [
    { name: "Connect JSON", transport: createConnectTransport({ baseUrl, httpVersion: "1.1", interceptors }) },
    { name: "Connect binary", transport: createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: true, interceptors }) },
    { name: "gRPC (h2c)", transport: createGrpcTransport({ baseUrl, interceptors }) },
    { name: "gRPC-Web", transport: createGrpcWebTransport({ baseUrl, httpVersion: "1.1", interceptors }) },
  ];
}

/** requests is a RequestService client over Connect JSON, as the admin. */
export function requests(): Client<typeof RequestService> {
  return createClient(RequestService, protocols()[0]!.transport);
}

let serial = 0;

/** bucketName is a bucket name the demo's naming policy accepts, unique in this run. */
export function bucketName(what: string): string {
  serial++;
  return `payments-dev-${what}-${process.pid}-${serial}`;
}
