import { ConveyorError } from '@conveyor/client';
import { parseCommand, USAGE, UsageError } from './args';
import { CliError, run } from './commands';
import { loadCliConfig } from './config';
import { formatApiError } from './render';

/**
 * `conveyor ...`: parses, runs, and turns every failure into a short message on stderr and a non-zero
 * exit code — never a stack trace.
 */
async function main(argv: readonly string[]): Promise<number> {
  try {
    const command = parseCommand(argv);
    return await run(command, {
      config: loadCliConfig(),
      io: {
        out: (line) => process.stdout.write(`${line}\n`),
        write: (text) => process.stdout.write(text),
        tty: Boolean(process.stdout.isTTY),
      },
    });
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`conveyor: ${error.message}\n\n${USAGE}\n`);
      return 2;
    }
    if (error instanceof ConveyorError) {
      process.stderr.write(`${formatApiError(error)}\n`);
      return 1;
    }
    if (error instanceof CliError) {
      process.stderr.write(`error: ${error.message}\n`);
      return error.exitCode;
    }
    // fetch's "fetch failed" hides the reason (ECONNREFUSED, ENOTFOUND) in `cause`.
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const reason = cause?.code ?? cause?.message ?? (error as Error).message;
    process.stderr.write(`error: cannot reach the API (${reason})\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
