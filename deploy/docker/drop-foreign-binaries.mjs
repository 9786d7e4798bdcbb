// Run by deploy/docker/Dockerfile in the build stage, from the project root, after `npm prune --omit=dev`.
// onnxruntime-node ships its native binaries for every platform in one npm package (about 290 MB); the image
// runs on one. This keeps the running platform's folder, which is the target platform's (the build stage
// runs on it), and deletes the others: about 245 MB less on x64.
// It refuses to delete anything when the running platform's binaries are not where they are expected, so a
// new package layout fails the image build instead of producing an image without them.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';

const root = path.join('node_modules', 'onnxruntime-node', 'bin', 'napi-v6');
const keep = path.join(root, process.platform, process.arch, 'onnxruntime_binding.node');
if (!existsSync(keep)) {
  console.error(`drop-foreign-binaries: ${keep} is missing; onnxruntime-node's layout changed, nothing deleted`);
  process.exit(1);
}
const dropped = [];
for (const platform of readdirSync(root)) {
  for (const arch of readdirSync(path.join(root, platform))) {
    if (platform === process.platform && arch === process.arch) continue;
    rmSync(path.join(root, platform, arch), { recursive: true, force: true });
    dropped.push(`${platform}/${arch}`);
  }
  if (readdirSync(path.join(root, platform)).length === 0) rmSync(path.join(root, platform), { recursive: true });
}
console.log(`drop-foreign-binaries: kept ${process.platform}/${process.arch}, dropped ${dropped.join(', ') || 'nothing'}`);
