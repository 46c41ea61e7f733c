#!/usr/bin/env node
// Runs the CLI's TypeScript source through tsx's loader in this same process (Node 20 cannot run .ts itself),
// so signals and the exit code are the CLI's own.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
