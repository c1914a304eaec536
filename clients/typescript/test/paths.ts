import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** packageDir is clients/typescript (the tests run compiled, from dist/test). */
export const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** repoRoot is the repository's root. */
export const repoRoot = resolve(packageDir, "../..");
