/**
 * Simulated camera: plays a folder of images, a raw MJPEG file, a video (through ffmpeg) or a
 * scripted scenario at a set frame rate, looping or once. Frames go through the same one-slot
 * mailbox as real drivers, so a slow pipeline sees the same drops it would see on hardware.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { BaseCamera } from './base.ts';
import { detectClipKind, folderClip, mjpegClip, videoClip, type Clip, type ClipKind } from './clips.ts';
import type { CameraConfig } from './config.ts';
import { loadScenario, type ScenarioStep } from './scenario.ts';
import { findExecutable } from './which.ts';

type Step = { clip: Clip; seconds?: number } | { idle: number };

export class SimulatedCamera extends BaseCamera {
  readonly kind = 'simulated';
  private abort: AbortController | undefined;
  private loopDone: Promise<void> = Promise.resolve();

  constructor(private readonly cfg: CameraConfig) {
    super('camera:simulated');
  }

  async start(): Promise<void> {
    if (this.abort) return;
    this.setStatus('starting');
    const steps = await this.loadSteps(); // throws with a clear message on a bad source
    this.mailbox.reopen();
    const abort = new AbortController();
    this.abort = abort;
    this.loopDone = this.run(steps, abort.signal).catch((err: Error) => {
      if (abort.signal.aborted) return;
      this.reportError(err);
      this.mailbox.close(`failed: ${err.message}`);
      this.setStatus('ended');
    });
  }

  async stop(): Promise<void> {
    const abort = this.abort;
    if (!abort) return;
    abort.abort();
    await this.loopDone;
    this.abort = undefined;
    this.mailbox.clear();
    this.mailbox.close('stopped');
    this.setStatus('stopped');
  }

  private async loadSteps(): Promise<Step[]> {
    const s = this.cfg.simulated;
    const kind = s.kind === 'auto' ? await detectClipKind(s.source) : s.kind;
    if (kind !== 'scenario') return [{ clip: await this.openClip(s.source, kind) }];
    const script: ScenarioStep[] = await loadScenario(s.source);
    const steps: Step[] = [];
    for (const st of script) {
      if ('idle' in st) steps.push(st);
      else {
        const k = await detectClipKind(st.clip);
        if (k === 'scenario') throw new Error(`scenario ${s.source}: a scenario cannot play another scenario (${st.clip})`);
        steps.push({ clip: await this.openClip(st.clip, k), seconds: st.seconds });
      }
    }
    return steps;
  }

  private async openClip(path: string, kind: ClipKind): Promise<Clip> {
    if (kind === 'folder') return folderClip(path);
    if (kind === 'mjpeg') return mjpegClip(path);
    if (kind === 'video') {
      const ffmpeg = this.cfg.simulated.ffmpegPath;
      if (!findExecutable(ffmpeg)) throw new Error(`simulated camera: ${path} is a video file and needs ffmpeg, which was not found (install it: apt-get install -y ffmpeg)`);
      return videoClip(path, this.cfg.fps, ffmpeg);
    }
    throw new Error(`simulated camera: ${path} is a scenario; set simulated.kind to scenario or auto`);
  }

  private async run(steps: Step[], signal: AbortSignal): Promise<void> {
    const interval = 1000 / this.cfg.fps;
    let nextAt = performance.now();
    const tick = async () => {
      const now = performance.now();
      // Fell behind (slow disk, busy event loop): carry on from now rather than bursting.
      if (nextAt < now - interval) nextAt = now;
      if (nextAt > now) await sleep(nextAt - now, undefined, { signal });
      nextAt += interval;
    };
    do {
      let framesThisPass = 0;
      for (const step of steps) {
        if ('idle' in step) {
          this.setStatus('streaming');
          await sleep(step.idle * 1000, undefined, { signal });
          nextAt = performance.now();
          continue;
        }
        const until = step.seconds === undefined ? Infinity : performance.now() + step.seconds * 1000;
        for (;;) {
          let framesThisPlay = 0;
          for await (const frame of step.clip.play()) {
            await tick();
            if (performance.now() >= until) break;
            this.publish(frame);
            this.setStatus('streaming');
            framesThisPlay++;
          }
          framesThisPass += framesThisPlay;
          if (framesThisPlay === 0 && performance.now() < until) throw new Error(`simulated camera: clip ${step.clip.name} produced no frames`);
          if (step.seconds === undefined || performance.now() >= until) break;
        }
      }
      if (framesThisPass === 0 && steps.every((s) => 'idle' in s && s.idle === 0)) break;
    } while (this.cfg.simulated.loop && !signal.aborted);
    this.mailbox.close('ended');
    this.setStatus('ended');
  }
}
