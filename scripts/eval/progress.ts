/** A one-line progress bar on stderr, quiet when stderr is not a terminal except every 10%. */
export function progressBar(total: number, label: string): { tick(n?: number): void; done(): void } {
  let count = 0;
  let lastDecile = -1;
  const start = Date.now();
  const tty = process.stderr.isTTY;
  const draw = () => {
    const frac = total ? count / total : 1;
    const width = 30;
    const filled = Math.round(frac * width);
    const elapsed = (Date.now() - start) / 1000;
    const eta = frac > 0 ? elapsed / frac - elapsed : 0;
    return `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${count}/${total} ${elapsed.toFixed(0)}s eta ${eta.toFixed(0)}s`;
  };
  return {
    tick(n = 1) {
      count += n;
      if (tty) process.stderr.write(`\r${draw()}`);
      else {
        const decile = Math.floor((count / Math.max(1, total)) * 10);
        if (decile !== lastDecile) {
          lastDecile = decile;
          process.stderr.write(`${draw()}\n`);
        }
      }
    },
    done() {
      if (tty) process.stderr.write(`\r${draw()}\n`);
    },
  };
}
