// Generates src/generated (the TypeScript types of the API's messages and service clients) from
// proto/latchkey/v1 with @grpc/proto-loader's own generator; `--check` generates into a scratch
// directory and fails when the committed types differ.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(dirname(fileURLToPath(import.meta.url)));
const root = join(here, "..", "..");
const check = process.argv.includes("--check");
const out = check ? mkdtempSync(join(tmpdir(), "latchkey-ts-")) : join(here, "src", "generated");
if (!check) rmSync(out, { recursive: true, force: true });
const protos = readdirSync(join(root, "proto", "latchkey", "v1"))
  .filter((f) => f.endsWith(".proto"))
  .map((f) => `latchkey/v1/${f}`);
execFileSync(
  join(here, "node_modules", ".bin", "proto-loader-gen-types"),
  [
    "--keepCase", "--longs=Number", "--enums=String", "--defaults", "--oneofs",
    "--grpcLib=@grpc/grpc-js", "-I", "proto", "-I", "third_party/googleapis", "-O", out, ...protos,
  ],
  // From the repository's root, so the files name their proto by a relative path.
  { stdio: "inherit", cwd: root },
);
if (check) {
  const files = (dir) =>
    readdirSync(dir).flatMap((f) => {
      const path = join(dir, f);
      return statSync(path).isDirectory() ? files(path) : [path];
    });
  const committed = join(here, "src", "generated");
  const made = files(out).map((f) => relative(out, f)).sort();
  const kept = files(committed).map((f) => relative(committed, f)).sort();
  const differs =
    made.join("\n") !== kept.join("\n") ||
    made.some((f) => readFileSync(join(out, f), "utf8") !== readFileSync(join(committed, f), "utf8"));
  rmSync(out, { recursive: true, force: true });
  if (differs) {
    console.error("clients/typescript: src/generated is not what proto/ generates; run npm run generate");
    process.exit(1);
  }
}
