/**
 * Runs a bench child (load generator, baseline or peer) and meters CPU while it works. Children print
 * `phase <name>` on stdout when a measured phase starts (after their own start-up) and one JSON line of
 * results last; each phase gets its own CpuMeter over the child itself plus the given process groups.
 */
import { CpuMeter, type PidSource } from './cpu';
import { startScript } from './procs';

export type CpuShares = Record<string, number>;

export async function runMetered<T>(
  name: string,
  script: string,
  spec: unknown,
  groups: Record<string, PidSource>,
): Promise<{ result: T; cpu: Record<string, CpuShares> }> {
  const proc = startScript(name, script, [JSON.stringify(spec)]);
  const cpu: Record<string, CpuShares> = {};
  let meter: { phase: string; meter: CpuMeter } | undefined;
  const closePhase = () => {
    if (meter) cpu[meter.phase] = meter.meter.stop();
    meter = undefined;
  };
  let buffered = '';
  proc.child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      const phase = /^phase (\S+)$/.exec(line.trim())?.[1];
      if (!phase) continue;
      closePhase();
      meter = { phase, meter: new CpuMeter({ [name]: proc.pid, ...groups }) };
    }
  });
  try {
    const code = await proc.exited;
    closePhase();
    const last = proc.stdout().trim().split('\n').at(-1) ?? '';
    if (code !== 0) throw new Error(`${name} exited with ${code}: ${last}`);
    return { result: JSON.parse(last) as T, cpu };
  } finally {
    closePhase();
    await proc.stop();
  }
}
