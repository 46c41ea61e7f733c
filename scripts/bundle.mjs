// Bundles an app's entry point into dist/ for `node dist/main.js` in production. Workspace packages
// (@conveyor/*) export TypeScript source, so they are bundled in; every other dependency stays external
// and is loaded from node_modules at run time.
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

const entry = process.argv[2] ?? 'src/main.ts';
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const workspaceDeps = (deps = {}) => Object.keys(deps).filter((d) => d.startsWith('@conveyor/'));
const internal = new Set(workspaceDeps(pkg.dependencies));
for (const dep of internal) {
  const depPkg = JSON.parse(
    readFileSync(new URL(`../node_modules/${dep}/package.json`, import.meta.url), 'utf8'),
  );
  for (const d of workspaceDeps(depPkg.dependencies)) internal.add(d);
}

await build({
  entryPoints: [entry],
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  plugins: [
    {
      name: 'externalize-third-party',
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (args) => {
          const name = args.path.startsWith('@')
            ? args.path.split('/').slice(0, 2).join('/')
            : args.path.split('/')[0];
          return internal.has(name) ? undefined : { path: args.path, external: true };
        });
      },
    },
  ],
});
