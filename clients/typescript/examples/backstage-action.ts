// A Backstage scaffolder action that requests infrastructure from tfpilot
// through @tfpilot/client and waits until it is applied, and the backend
// module that registers it. The README's "Backstage" section shows the
// region below; clients/typescript/test/readme.test.ts keeps the two equal,
// and the Node test stage typechecks this file against the real
// @backstage/plugin-scaffolder-node and @backstage/backend-plugin-api types.

// #region readme
import { coreServices, createBackendModule } from "@backstage/backend-plugin-api";
import { InputError } from "@backstage/errors";
import { createTemplateAction, scaffolderActionsExtensionPoint } from "@backstage/plugin-scaffolder-node";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { bearerToken, fieldViolations, RequestService, Status } from "@tfpilot/client";

export function createTfpilotRequestAction(baseUrl: string, token: string) {
  const requests = createClient(RequestService, createConnectTransport({
    baseUrl, httpVersion: "1.1", interceptors: [bearerToken(token)],
  }));
  return createTemplateAction({
    id: "tfpilot:request",
    description: "Requests infrastructure from tfpilot and waits until it is applied",
    schema: {
      input: {
        project: (z) => z.string(),
        environment: (z) => z.string(),
        module: (z) => z.string(),
        config: (z) => z.record(z.string(), z.any()),
      },
      output: { id: (z) => z.string(), pullRequestUrl: (z) => z.string() },
    },
    async handler(ctx) {
      // The checkpoint and the Idempotency-Key make a retried task create nothing new.
      const id = await ctx.checkpoint({
        key: "tfpilot-create",
        fn: async () => {
          try {
            const { request } = await requests.create(ctx.input, {
              headers: { "Idempotency-Key": `backstage-${ctx.task.id}` }, signal: ctx.signal,
            });
            return request!.id;
          } catch (err) {
            const problems = fieldViolations(err); // invalid_argument: one entry per field
            if (problems.length > 0) {
              throw new InputError(problems.map((v) => `${v.field}: ${v.description}`).join("; "));
            }
            throw err;
          }
        },
      });
      ctx.output("id", id);
      // Watch sends the request now and again on every change.
      for await (const { request } of requests.watch({ id }, { signal: ctx.signal })) {
        if (!request) continue;
        ctx.logger.info(`${id}: ${Status[request.status]}`);
        if (request.pullRequest) ctx.output("pullRequestUrl", request.pullRequest.url);
        if (request.status === Status.APPLIED) return;
        if (request.status === Status.FAILED) throw new Error(`tfpilot request ${id} failed`);
      }
      throw new Error(`tfpilot request ${id} was archived before it was applied`);
    },
  });
}

export default createBackendModule({
  pluginId: "scaffolder",
  moduleId: "tfpilot",
  register(env) {
    env.registerInit({
      deps: { scaffolder: scaffolderActionsExtensionPoint, config: coreServices.rootConfig },
      async init({ scaffolder, config }) {
        scaffolder.addActions(createTfpilotRequestAction(
          config.getString("tfpilot.baseUrl"), config.getString("tfpilot.token")));
      },
    });
  },
});
// #endregion readme
