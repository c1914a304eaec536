// The committed generated code (src/gen) is what ./generate makes from
// the protos now: a proto change committed without regenerating fails here.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { test } from "node:test";
import { packageDir } from "./paths.js";

function files(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) {
      const path = join(e.parentPath, e.name);
      out.set(relative(dir, path), readFileSync(path, "utf8"));
    }
  }
  return out;
}

test("the committed src/gen is what ./generate makes from the current protos", { timeout: 5 * 60_000 }, () => {
  const tmp = mkdtempSync(join(tmpdir(), "tfpilot-ts-gen-"));
  try {
    execFileSync(join(packageDir, "generate"), ["-o", tmp], { stdio: ["ignore", "inherit", "inherit"] });
    const want = files(join(tmp, "clients/typescript/src/gen"));
    const have = files(join(packageDir, "src/gen"));
    assert.ok(want.size > 0, "generate wrote nothing");
    const fix = "; run clients/typescript/generate and commit src/gen";
    assert.deepEqual([...have.keys()].sort(), [...want.keys()].sort(), `src/gen holds other files than generate makes${fix}`);
    for (const [name, text] of want) {
      assert.ok(have.get(name) === text, `src/gen/${name} is stale${fix}`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test("src/index.ts re-exports every generated tfpilot.v1 file", () => {
  const index = readFileSync(join(packageDir, "src/index.ts"), "utf8");
  const generated = [...files(join(packageDir, "src/gen/tfpilot")).keys()].filter((f) => f.endsWith("_pb.ts"));
  assert.ok(generated.length > 0, "no generated tfpilot files");
  for (const f of generated) {
    const line = `export * from "./gen/tfpilot/${f.replace(/\.ts$/, ".js")}";`;
    assert.ok(index.includes(line), `src/index.ts lacks ${line}`);
  }
});
