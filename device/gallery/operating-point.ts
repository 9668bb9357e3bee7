/**
 * Keeps the gallery's 1:N vote threshold at the configured FPIR (recognition.targetFpir) as
 * people come and go: derived from the gallery's own impostor scores and the background set,
 * re-derived a moment after the last change (debounced, sliced off the hot path). An expert's
 * recognition.matchThreshold overrides it; the expected FPIR is then still reported for it.
 *
 * With the second embedding loaded (gallery.secondEmbedding), second templates in the gallery
 * and the background's second embeddings (background-second.bin), the threshold is derived on
 * the scores the door votes with: fused where the main best lies within gallery.fusionBand of
 * the threshold, main elsewhere: the threshold whose FPIR on the scores gated around itself is
 * the target (fpir.ts deriveGatedThreshold, 'max' model). Main scores alone otherwise. (A fused
 * score voted against a threshold derived on main scores let 2.6-5.9% of unknown visitors through
 * at targetFpir 0.01: eval --identify --second --gallery-sizes.)
 */
import { createLogger } from '../../core/log/logger.ts';
import type { Gallery } from './gallery.ts';
import { deriveGatedThreshold, deriveThreshold, expectedGatedFpir, fitExceedance, fpirFromPairs, TAIL_FRACTION, type ThresholdModel } from './fpir.ts';
import { sampleImpostors, type SampleOptions } from './impostors.ts';

const log = createLogger('gallery');

export interface OperatingPointOptions {
  targetFpir: number;
  /** recognition.matchThreshold: when set it wins over the derived one. */
  override?: number;
  model?: ThresholdModel;
  debounceMs?: number;
  sample?: Partial<SampleOptions>;
  /**
   * The background's second-model embeddings (index for index with the main ones), given when the
   * second model is loaded: the threshold is then derived on gated fused scores whenever the
   * gallery holds second templates.
   */
  backgroundSecond?: Float32Array[];
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
  /** Which scores the threshold was derived on: main alone, or the door's gated fusion. */
  scores: 'main' | 'fused';
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
    this.st = { threshold: opts.override ?? gallery.matchThreshold, expectedFpir: null, targetFpir: opts.targetFpir, source: opts.override !== undefined ? 'override' : 'fallback', people: 0, derivedAt: null, scores: 'main' };
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
    const fused = this.opts.backgroundSecond !== undefined && this.gallery.secondCount > 0;
    // The gate is per probe over its best candidates: the fused derivation is the 'max' model's.
    const model = fused ? 'max' : (this.opts.model ?? 'max');
    const sample = await sampleImpostors(this.gallery, this.background, { ...this.opts.sample, keepPairs: model === 'pairs', backgroundSecond: fused ? this.opts.backgroundSecond : undefined });
    const band = this.gallery.config.fusionBand;
    const d = fused ? deriveGatedThreshold(sample, this.opts.targetFpir, band) : deriveThreshold(sample, this.opts.targetFpir, model);
    let threshold = d.threshold;
    let expected = d.expectedFpir;
    if (this.opts.override !== undefined) {
      threshold = this.opts.override;
      if (fused) expected = expectedGatedFpir(sample, threshold, band, this.opts.targetFpir);
      else {
        const ex = fitExceedance(model === 'max' ? sample.maxima : sample.pairs, TAIL_FRACTION[model]);
        expected = model === 'max' ? ex(threshold) : fpirFromPairs(ex(threshold), sample.people);
      }
    }
    this.gallery.matchThreshold = threshold;
    this.st = { threshold, expectedFpir: expected, targetFpir: this.opts.targetFpir, source: this.opts.override !== undefined ? 'override' : 'derived', people, derivedAt: new Date().toISOString(), scores: fused ? 'fused' : 'main' };
    log.info('match threshold derived', { ...this.st, ms: Math.round(performance.now() - t0), probes: sample.maxima.length, ...('mainThreshold' in d ? { mainThreshold: d.mainThreshold } : {}) });
  }

  close(): void {
    clearTimeout(this.timer);
    this.unsubscribe();
  }
}
