// Copies the API's protos (proto/latchkey/v1 at the repository's root) and the google.api
// annotations they import (third_party/googleapis) into the package, which loads them at run
// time with @grpc/proto-loader.
import { cpSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(dirname(fileURLToPath(import.meta.url)));
const root = join(here, "..", "..");
rmSync(join(here, "proto"), { recursive: true, force: true });
cpSync(join(root, "proto", "latchkey"), join(here, "proto", "latchkey"), { recursive: true });
cpSync(
  join(root, "third_party", "googleapis", "google", "api"),
  join(here, "proto", "google", "api"),
  { recursive: true },
);
