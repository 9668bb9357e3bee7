/**
 * How the strict level asks a person to turn or blink: always in the log (and as a `challenge`
 * event for a display), and optionally by running a program with the text as its last argument
 * (e.g. `espeak-ng` for a spoken prompt, or a script that writes to a door display). The program
 * runs detached with no shell; a failure is logged and never delays the door.
 */
import { spawn } from 'node:child_process';
import type { Logger } from '../../core/log/logger.ts';
import type { LivenessConfig } from './config.ts';

export type Prompter = (text: string) => void;

export function createPrompter(config: LivenessConfig['challenge']['prompt'], log: Logger): Prompter {
  return (text) => {
    log.info('liveness request', { prompt: text });
    if (config.type !== 'command' || config.command.length === 0) return;
    const [bin, ...args] = config.command;
    try {
      const child = spawn(bin, [...args, text], { stdio: 'ignore', detached: true });
      child.once('error', (err) => log.warn('prompt command failed', { command: bin, error: err.message }));
      child.unref();
    } catch (err) {
      log.warn('prompt command failed', { command: bin, error: (err as Error).message });
    }
  };
}
