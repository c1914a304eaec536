// The READMEs' TypeScript snippets are the readme regions of files under
// examples/, which tsc typechecks in this stage: a snippet edited without
// its file (or the other way round) fails here.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { packageDir, repoRoot } from "./paths.js";

/** region returns the lines between `// #region NAME` and `// #endregion NAME`. */
function region(text: string, name: string): string {
  const lines = text.split("\n");
  const start = lines.indexOf(`// #region ${name}`);
  const end = lines.indexOf(`// #endregion ${name}`);
  assert.ok(start >= 0 && end > start, `no region ${name}`);
  return lines.slice(start + 1, end).join("\n") + "\n";
}

/** fenced returns the body of the first fenced code block after marker. */
function fenced(markdown: string, marker: string): string {
  const at = markdown.indexOf(marker);
  assert.ok(at >= 0, `no ${marker}`);
  const m = /^```[a-z]*\n([\s\S]*?)^```$/m.exec(markdown.slice(at + marker.length));
  assert.ok(m, `no code block after ${marker}`);
  return m[1]!;
}

const snippets = [
  {
    readme: join(repoRoot, "README.md"),
    marker: "<!-- backstage-action: clients/typescript/examples/backstage-action.ts -->",
    file: "examples/backstage-action.ts",
  },
  { readme: join(packageDir, "README.md"), marker: "<!-- example: examples/watch.ts -->", file: "examples/watch.ts" },
];

for (const s of snippets) {
  test(`the snippet after ${s.marker} is the readme region of ${s.file} (typechecked by tsc)`, () => {
    const markdown = readFileSync(s.readme, "utf8");
    const source = readFileSync(join(packageDir, s.file), "utf8");
    assert.equal(fenced(markdown, s.marker), region(source, "readme"), `update ${s.readme}'s snippet from ${s.file} (or the file from it)`);
  });
}
