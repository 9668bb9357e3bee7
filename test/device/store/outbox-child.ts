// Child for the SIGKILL test: appends in a tight loop and prints each seq after append returns.
import { openDatabase } from '../../../device/store/sqlite.ts';
import { Outbox } from '../../../device/store/outbox.ts';

const db = openDatabase(process.argv[2], { onCorrupt: 'refuse', integrityCheck: true });
const outbox = new Outbox(db);
for (let i = 0; ; i++) {
  const seq = outbox.append({ kind: 'decision', body: { i, pad: 'x'.repeat(200) } });
  process.stdout.write(`${seq}\n`);
}
