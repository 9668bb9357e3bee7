// Child for the salvage kill tests: salvages argv[2], and blocks (for the parent's SIGKILL) at
// argv[3]: "copying" after three batches of rows went into the new file, "committed" once the
// complete copy was renamed to <file>.salvaged. Prints the stage when it blocks.
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import Database from 'better-sqlite3';
import { openDatabase } from '../../../device/store/sqlite.ts';

const [file, stage] = process.argv.slice(2);
const block = (what: string) => {
  fs.writeSync(1, `${what}\n`);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
};
if (stage === 'copying') {
  const transaction = Database.prototype.transaction;
  let batches = 0;
  Database.prototype.transaction = function (this: Database.Database, fn: (...a: never[]) => unknown) {
    const run = transaction.call(this, fn);
    return ((...args: never[]) => {
      const r = run(...args);
      if (++batches === 3) block('copying');
      return r;
    }) as typeof run;
  } as typeof transaction;
}
if (stage === 'committed') {
  const rename = fs.renameSync;
  fs.renameSync = (from: fs.PathLike, to: fs.PathLike) => {
    rename(from, to);
    if (String(to).endsWith('.salvaged')) block('committed');
  };
  syncBuiltinESMExports();
}
openDatabase(file, { onCorrupt: 'salvage', integrityCheck: true });
fs.writeSync(1, 'done\n');
