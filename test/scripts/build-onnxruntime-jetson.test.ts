/**
 * scripts/build-onnxruntime-jetson.sh cannot run here (no Jetson, no CUDA): its --dry-run steps are
 * checked instead, and its refusal off a Jetson. Nothing of it has run on a real Jetson.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, skipReason } from '../helpers.ts';

const script = join(repoRoot, 'scripts/build-onnxruntime-jetson.sh');
const ortVersion = JSON.parse(readFileSync(join(repoRoot, 'node_modules/onnxruntime-node/package.json'), 'utf8')).version as string;
const tmp = mkdtempSync(join(tmpdir(), 'portier-ort-build-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync('bash', [script, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function modelFile(text: string): string {
  const f = join(tmp, `model-${Math.random().toString(36).slice(2)}`);
  writeFileSync(f, `${text}\0`); // device-tree strings end in NUL
  return f;
}

describe('build-onnxruntime-jetson.sh --dry-run', () => {
  const src = join(tmp, 'onnxruntime src');
  const dest = join(repoRoot, 'node_modules/onnxruntime-node/bin/napi-v6/linux/arm64');
  const r = run(['--dry-run', '--src', src, '--jobs', '2']);
  const steps = r.out.split('\n').filter((l) => l.startsWith('+ '));
  const step = (re: RegExp) => steps.find((l) => re.test(l));

  it('succeeds off a Jetson, says a real run would refuse, and runs nothing', () => {
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/dry run: a real run would refuse here: this is not an NVIDIA Jetson/);
    expect(r.out).toMatch(/dry run: nothing was run/);
    expect(existsSync(src)).toBe(false);
    expect(existsSync(`${dest}.npm`)).toBe(false);
  });

  it('pins the onnxruntime source to the version of the installed npm package', () => {
    expect(step(/git clone/)).toBe(`+ git clone --branch v${ortVersion} --depth 1 --recursive --shallow-submodules https://github.com/microsoft/onnxruntime '${src}'`);
  });

  it('patches the binding to forward the trt_* options before building', () => {
    const patch = steps.findIndex((l) => l === `+ python3 ${repoRoot}/scripts/jetson/forward-trt-options.py '${src}/js/node/src/session_options_helper.cc'`);
    const build = steps.findIndex((l) => /build\.sh/.test(l));
    expect(patch).toBeGreaterThan(-1);
    expect(patch).toBeLessThan(build);
  });

  it('builds with CUDA, TensorRT and the Node.js binding at the JetPack paths', () => {
    const b = step(/\.\/build\.sh/)!;
    expect(b).toMatch(new RegExp(`^\\+ \\(cd '${src}' && \\./build\\.sh `));
    for (const flag of [
      '--config Release',
      '--update --build',
      '--parallel 2',
      '--build_shared_lib',
      '--build_nodejs',
      '--use_cuda',
      '--cuda_home /usr/local/cuda',
      '--cudnn_home /usr/lib/aarch64-linux-gnu',
      '--use_tensorrt',
      '--tensorrt_home /usr/lib/aarch64-linux-gnu',
      'CMAKE_CUDA_ARCHITECTURES=87',
    ]) {
      expect(b).toContain(` ${flag}`);
    }
  });

  it('installs the built binding and provider libraries in place of the npm arm64 binary, keeping the npm one', () => {
    const backup = steps.findIndex((l) => l === `+ cp -a ${dest} ${dest}.npm`);
    const binding = steps.findIndex((l) => l.startsWith('+ install -m 0755') && l.endsWith(`${dest}/onnxruntime_binding.node`));
    expect(backup).toBeGreaterThan(-1);
    expect(binding).toBeGreaterThan(backup);
    expect(steps[binding]).toContain(`'${src}/js/node/bin/napi-v6/linux/arm64/onnxruntime_binding.node'`);
    for (const lib of ['libonnxruntime.so.1', 'libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_tensorrt.so']) {
      expect(steps).toContain(`+ cp -L '${src}/build/Linux/Release/${lib}' ${dest}/${lib}`);
    }
    // And proves it by running a cuda and a tensorrt session afterwards.
    expect(steps.findIndex((l) => l.startsWith('+ node - '))).toBeGreaterThan(binding);
  });

  it('--install-only skips clone, patch and build', () => {
    const o = run(['--dry-run', '--install-only', '--src', src]);
    expect(o.code, o.err).toBe(0);
    expect(o.out).not.toMatch(/^\+ .*(git clone|build\.sh|python3)/m);
    expect(o.out).toContain(`${dest}/onnxruntime_binding.node`);
  });
});

describe('build-onnxruntime-jetson.sh refuses off a Jetson', () => {
  it('on a Raspberry Pi, with the board named', () => {
    const r = run(['--src', join(tmp, 'never')], { PORTIER_DT_MODEL: modelFile('Raspberry Pi 5 Model B Rev 1.0') });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/refusing to build: this is not an NVIDIA Jetson \(.*Raspberry Pi 5 Model B Rev 1\.0\)/);
    expect(r.out).not.toMatch(/^\+ /m);
    expect(existsSync(join(tmp, 'never'))).toBe(false);
  });

  it('on a Jetson without nvcc', () => {
    const r = run(['--src', join(tmp, 'never')], { PORTIER_DT_MODEL: modelFile('NVIDIA Jetson Orin Nano Developer Kit'), CUDA_HOME: join(tmp, 'no-cuda'), PATH: '/usr/bin:/bin' });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/refusing to build: nvcc not found/);
    expect(existsSync(join(tmp, 'never'))).toBe(false);
  });
});

const hasPython = spawnSync('python3', ['--version']).status === 0;

describe.skipIf(skipReason(hasPython, 'python3 missing'))('forward-trt-options.py (the binding patch)', () => {
  const patcher = join(repoRoot, 'scripts/jetson/forward-trt-options.py');
  // The shape of the TensorRT branch in onnxruntime 1.2x-1.30's js/node/src/session_options_helper.cc.
  const upstream = [
    '#ifdef USE_TENSORRT',
    '    } else if (name == "tensorrt") {',
    '      OrtTensorRTProviderOptionsV2* options;',
    '      Ort::ThrowOnError(Ort::GetApi().CreateTensorRTProviderOptions(&options));',
    '      options->device_id = deviceId;',
    '      sessionOptions.AppendExecutionProvider_TensorRT_V2(*options);',
    '      Ort::GetApi().ReleaseTensorRTProviderOptions(options);',
    '#endif',
    '',
  ].join('\n');

  it('forwards trt_* string properties before the provider is appended, once', () => {
    const f = join(tmp, 'session_options_helper.cc');
    writeFileSync(f, upstream);
    expect(spawnSync('python3', [patcher, f], { encoding: 'utf8' }).stdout).toContain('patched');
    const once = readFileSync(f, 'utf8');
    const update = once.indexOf('UpdateTensorRTProviderOptions(options, keyPtrs.data(), valuePtrs.data(), keyPtrs.size())');
    expect(update).toBeGreaterThan(once.indexOf('options->device_id = deviceId;'));
    expect(update).toBeLessThan(once.indexOf('AppendExecutionProvider_TensorRT_V2'));
    expect(once).toContain('key.rfind("trt_", 0) == 0 && value.IsString()');
    expect(spawnSync('python3', [patcher, f], { encoding: 'utf8' }).stdout).toContain('already patched');
    expect(readFileSync(f, 'utf8')).toBe(once);
  });

  it('refuses when upstream moved the TensorRT branch', () => {
    const f = join(tmp, 'moved.cc');
    writeFileSync(f, upstream.replace('AppendExecutionProvider_TensorRT_V2', 'AppendExecutionProvider_V2'));
    const r = spawnSync('python3', [patcher, f], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/changed upstream/);
  });
});
