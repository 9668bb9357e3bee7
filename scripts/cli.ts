/**
 * `npm run portier -- <command>` (or `npx portier`): one entry point for the vision, gateway
 * and device commands; each side's module is loaded only when its command runs.
 *   detect <img> | compare <a> <b>              vision engine (core/cli/vision.ts)
 *   provision <id> | mosquitto-acl | setup-token gateway (gateway/cli.ts)
 *   join <bundle> | keygen | doctor              device (device/cli.ts)
 */
const [cmd] = process.argv.slice(2);
const argv = process.argv.slice(2);

async function run(): Promise<number> {
  if (cmd === 'detect' || cmd === 'compare') return (await import('../core/cli/vision.ts')).runVisionCli(argv);
  if (cmd === 'provision' || cmd === 'mosquitto-acl' || cmd === 'setup-token') return (await import('../gateway/cli.ts')).runGatewayCli(argv);
  if (cmd === 'join' || cmd === 'keygen' || cmd === 'doctor') return (await import('../device/cli.ts')).runDeviceCli(argv);
  console.error('usage: portier <detect|compare|provision|mosquitto-acl|setup-token|join|keygen|doctor> ... (see README)');
  return 2;
}

run().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`portier: ${(err as Error).message}`);
    process.exit(1);
  },
);
