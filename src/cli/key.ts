// `npm run key -- create|list|rotate|revoke …`: API keys for the operator of this machine.
import { runKeyCommand } from './key-command.ts';

const code = await runKeyCommand(process.argv.slice(2), process.env, {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
});
process.exit(code);
