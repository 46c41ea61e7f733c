import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/env';

/** The worked example in docs/jobs.md quotes real files; this keeps the quotes and the code the same. */
describe('docs/jobs.md', () => {
  const doc = readFileSync(join(REPO_ROOT, 'docs/jobs.md'), 'utf8');
  const blocks = [...doc.matchAll(/```ts file=(\S+)\n([\s\S]*?)\n```/g)].map((m) => ({
    path: m[1]!,
    code: m[2]!,
  }));

  it('quotes at least the contract and the handler of the worked example', () => {
    expect(blocks.map((b) => b.path)).toEqual([
      'packages/shared/src/catalog/noop.ts',
      'apps/worker/src/handlers/noop.ts',
    ]);
  });

  it.each(blocks.map((b) => [b.path, b.code]))(
    'quotes %s exactly as it is in the repository',
    (path, code) => {
      expect(code.trimEnd()).toBe(readFileSync(join(REPO_ROOT, path), 'utf8').trimEnd());
    },
  );

  it('names every kind in the catalog', async () => {
    const { jobTypes } = await import('@conveyor/shared');
    for (const type of jobTypes.filter((t) => t !== 'noop')) expect(doc).toContain(`## \`${type}\``);
  });
});
