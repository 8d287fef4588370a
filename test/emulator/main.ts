/**
 * Runs the Bedrock emulator as its own process:
 *   node test/emulator/main.ts [--port 0] [--host 127.0.0.1] [--region us-east-1] [--faults JSON]
 * Prints one JSON line `{"url":"http://127.0.0.1:PORT","mantleUrl":"http://127.0.0.1:PORT2","region":"us-east-1"}`
 * once it accepts connections (mantleUrl: the bedrock-mantle host, for AWS_ENDPOINT_URL_BEDROCK_MANTLE).
 */
import { parseArgs } from 'node:util';
import { startEmulator } from './server.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    region: { type: 'string', default: 'us-east-1' },
    /** A fault plan in force from the start (see faults.ts), e.g. '{"throttle":{"percent":50}}'. */
    faults: { type: 'string' },
  },
});

const emulator = await startEmulator({
  port: Number(values.port),
  host: values.host,
  region: values.region,
  ...(values.faults ? { faults: JSON.parse(values.faults) } : {}),
});
process.stdout.write(
  `${JSON.stringify({ url: emulator.url, mantleUrl: emulator.mantleUrl, region: emulator.region })}\n`,
);

const stop = () => {
  emulator.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
