/**
 * Keeps the gallery's 1:N vote threshold at the configured FPIR (recognition.targetFpir) as
 * people come and go: derived from the gallery's own impostor scores and the background set,
 * re-derived a moment after the last change (debounced, sliced off the hot path). An expert's
 * recognition.matchThreshold overrides it; the expected FPIR is then still reported for it.
 */
import { createLogger } from '../../core/log/logger.ts';
import type { Gallery } from './gallery.ts';
import { deriveThreshold, fitExceedance, fpirFromPairs, TAIL_FRACTION, type ThresholdModel } from './fpir.ts';
import { sampleImpostors, type SampleOptions } from './impostors.ts';

const log = createLogger('gallery');

export interface OperatingPointOptions {
  targetFpir: number;
  /** recognition.matchThreshold: when set it wins over the derived one. */
  override?: number;
  model?: ThresholdModel;
  debounceMs?: number;
  sample?: Partial<SampleOptions>;
}

export interface OperatingPointState {
  /** The threshold the door votes with. */
  threshold: number;
  /** FPIR the impostor model predicts at that threshold for this gallery (null before the first derivation). */
  expectedFpir: number | null;
  targetFpir: number;
  source: 'override' | 'derived' | 'fallback';
  /** People the figures were derived for. */
  people: number;
  derivedAt: string | null;
}

export class OperatingPoint {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private unsubscribe: () => void;
  private st: OperatingPointState;

  constructor(
    private readonly gallery: Gallery,
    private readonly background: Float32Array[],
    private readonly opts: OperatingPointOptions,
  ) {
    this.st = { threshold: opts.override ?? gallery.matchThreshold, expectedFpir: null, targetFpir: opts.targetFpir, source: opts.override !== undefined ? 'override' : 'fallback', people: 0, derivedAt: null };
    gallery.matchThreshold = this.st.threshold;
    this.unsubscribe = gallery.onChange(() => this.schedule());
  }

  get state(): OperatingPointState {
    return { ...this.st };
  }

  /** Re-derive `debounceMs` after the last gallery change (an enrolment burst derives once). */
  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.derive(), this.opts.debounceMs ?? 2000);
    this.timer.unref?.();
  }

  /** Derive now (start-up awaits this); a change during a derivation triggers one more. */
  derive(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.deriveOnce();
        } while (this.again);
      } catch (err) {
        log.error('could not derive the match threshold; keeping the previous one', { error: (err as Error).message });
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  private async deriveOnce(): Promise<void> {
    const people = this.gallery.personCount;
    if (people === 0) return;
    const t0 = performance.now();
    const model = this.opts.model ?? 'max';
    const sample = await sampleImpostors(this.gallery, this.background, { ...this.opts.sample, keepPairs: model === 'pairs' });
    const d = deriveThreshold(sample, this.opts.targetFpir, model);
    let threshold = d.threshold;
    let expected = d.expectedFpir;
    if (this.opts.override !== undefined) {
      threshold = this.opts.override;
      const ex = fitExceedance(model === 'max' ? sample.maxima : sample.pairs, TAIL_FRACTION[model]);
      expected = model === 'max' ? ex(threshold) : fpirFromPairs(ex(threshold), sample.people);
    }
    this.gallery.matchThreshold = threshold;
    this.st = { threshold, expectedFpir: expected, targetFpir: this.opts.targetFpir, source: this.opts.override !== undefined ? 'override' : 'derived', people, derivedAt: new Date().toISOString() };
    log.info('match threshold derived', { ...this.st, ms: Math.round(performance.now() - t0), probes: sample.maxima.length });
  }

  close(): void {
    clearTimeout(this.timer);
    this.unsubscribe();
  }
}
