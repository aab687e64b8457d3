// Copies the API's protos (proto/latchkey/v1 at the repository's root) into the package, which
// loads them at run time with @grpc/proto-loader.
import { cpSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(dirname(fileURLToPath(import.meta.url)));
const target = join(here, "proto", "latchkey");
rmSync(target, { recursive: true, force: true });
cpSync(join(here, "..", "..", "proto", "latchkey"), target, { recursive: true });
