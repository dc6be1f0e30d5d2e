// What the browser tests share: the dosim binary, a scratch folder, the facts of a trace read
// independently of dosim (h5py), a free loopback port and a server process to start and stop.
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const SOURCE = process.env.DOSIM_SOURCE_DIR ||
  path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const DOSIM = process.env.DOSIM_BIN || path.join(SOURCE, "build/cli/dosim");
export const TMP = process.env.DOSIM_TEST_TMP || path.join(SOURCE, "build/tests/tmp/browser");
mkdirSync(TMP, { recursive: true });

export function dosim(...args) {
  return execFileSync(DOSIM, args, { cwd: SOURCE, encoding: "utf8", maxBuffer: 1 << 26 });
}

// The trace's services, edges, incidents and detectors as h5py reads them.
export function traceFacts(trace) {
  const script = `
import h5py, json, sys
f = h5py.File(sys.argv[1], "r")
text = lambda d: [x.decode() if isinstance(x, bytes) else str(x) for x in d[()]]
t = f["truth/incidents"]
print(json.dumps({
  "services": text(f["services/name"]),
  "edges": len(f["edges/src"]),
  "detectors": text(f["detectors/name"]) if "detectors/name" in f else [],
  "alerts": len(f["alerts/t_ns"]),
  "end_s": float(f["time_ns"][-1]) / 1e9,
  "incidents": [{"id": int(t["id"][i]), "start_s": float(t["start_ns"][i]) / 1e9,
                 "end_s": float(t["end_ns"][i]) / 1e9, "root": int(t["root_service"][i]),
                 "silent": bool(t["silent"][i])} for i in range(len(t["id"]))],
}))`;
  return JSON.parse(execFileSync("/usr/bin/python3", ["-c", script, trace], { encoding: "utf8" }));
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

// Starts `dosim args...` and waits until GET /-/ready on `port` answers.
export async function startServer(args, port) {
  const child = spawn(DOSIM, args, { cwd: SOURCE, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk) => { output += chunk; });
  child.stderr.on("data", (chunk) => { output += chunk; });
  const deadline = Date.now() + 30000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`dosim ${args.join(" ")} exited: ${output}`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/-/ready`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`dosim serve never answered: ${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    output: () => output,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.on("exit", resolve);
      child.kill("SIGTERM");
    }),
  };
}
