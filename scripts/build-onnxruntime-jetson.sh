#!/usr/bin/env bash
# Build onnxruntime with CUDA and TensorRT and its Node.js binding on a Jetson (JetPack 6), then
# install it in place of the npm binary in node_modules/onnxruntime-node.
#
# Why: the npm onnxruntime-node build for linux-arm64 has the cpu provider only, so
# vision.executionProviders ["tensorrt", "cuda", "cpu"] falls back to cpu on a Jetson. This follows
# onnxruntime's build documentation (docs/build/eps.md, "NVIDIA Jetson"; docs/build/inferencing.md,
# "--build_nodejs") at the version the npm package pins, so the JS wrapper and binding match.
#
# It also patches the binding so the `trt_*` keys Portier puts on the tensorrt provider (engine
# cache in the store folder, int8 for the QDQ models: core/vision/session.ts) reach TensorRT: the
# stock binding passes only deviceId, and the TensorRT provider ignores its ORT_TENSORRT_*
# environment variables once provider options are given.
#
# Usage: scripts/build-onnxruntime-jetson.sh [--dry-run] [--src DIR] [--jobs N] [--install-only]
#   --dry-run       print every step (checks, clone, patch, build, install) and run none of them
#   --src DIR       onnxruntime checkout and build tree (default ~/.cache/portier/onnxruntime-v<version>)
#   --jobs N        parallel compile jobs (default 4; use 2 on an 8 GB Orin Nano if it runs out of memory)
#   --install-only  skip clone and build; install an existing build again (after npm install/ci
#                   replaced node_modules/onnxruntime-node)
# Environment: CUDA_HOME (default /usr/local/cuda), PORTIER_DT_MODEL (default /proc/device-tree/model).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DRY=0
INSTALL_ONLY=0
JOBS=4
SRC=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY=1 ;;
    --install-only) INSTALL_ONLY=1 ;;
    --jobs) JOBS="${2:?--jobs needs a number}"; shift ;;
    --src) SRC="${2:?--src needs a folder}"; shift ;;
    -h | --help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "build-onnxruntime-jetson: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$JOBS" in '' | *[!0-9]*) echo "build-onnxruntime-jetson: --jobs must be a number" >&2; exit 2 ;; esac

fail() { echo "build-onnxruntime-jetson: $*" >&2; exit 1; }
note() { echo "# $*"; }
# Every step goes through run: printed always, executed only without --dry-run.
quote() {
  local a out=""
  for a in "$@"; do
    if [[ "$a" =~ ^[A-Za-z0-9_./=:,+@%-]+$ ]]; then out+=" $a"; else out+=" '${a//\'/\'\\\'\'}'"; fi
  done
  printf '%s' "${out# }"
}
run() {
  echo "+ $(quote "$@")"
  [ "$DRY" = 1 ] || "$@"
}
run_in() {
  local dir="$1"; shift
  echo "+ (cd $(quote "$dir") && $(quote "$@"))"
  [ "$DRY" = 1 ] || (cd "$dir" && "$@")
}

CUDA_HOME="${CUDA_HOME:-/usr/local/cuda}"
# JetPack puts cuDNN and TensorRT (headers and libraries) in the multiarch folders.
CUDNN_HOME=/usr/lib/aarch64-linux-gnu
TENSORRT_HOME=/usr/lib/aarch64-linux-gnu
TRT_HEADER=/usr/include/aarch64-linux-gnu/NvInferVersion.h
# Orin (sm_87) is the only Jetson JetPack 6 supports.
CUDA_ARCH=87
DT_MODEL="${PORTIER_DT_MODEL:-/proc/device-tree/model}"

# --- 1. Refuse off a Jetson -----------------------------------------------------------------------
model="$({ tr -d '\0' <"$DT_MODEL"; } 2>/dev/null || true)"
nvcc="$(command -v nvcc || true)"
[ -n "$nvcc" ] || { [ -x "$CUDA_HOME/bin/nvcc" ] && nvcc="$CUDA_HOME/bin/nvcc"; } || true
problem=""
if [[ "$model" != *Jetson* ]]; then
  problem="this is not an NVIDIA Jetson (${DT_MODEL}: ${model:-missing}); the build needs JetPack's CUDA, cuDNN and TensorRT. On other boards Portier runs on the cpu provider of the npm build."
elif [ -z "$nvcc" ]; then
  problem="nvcc not found (PATH or $CUDA_HOME/bin): install the JetPack CUDA toolkit (sudo apt install nvidia-jetpack) or set CUDA_HOME."
fi
if [ -n "$problem" ]; then
  [ "$DRY" = 1 ] || fail "refusing to build: $problem"
  note "dry run: a real run would refuse here: $problem"
fi
if [ "$DRY" = 0 ] && [ "$(id -u)" = 0 ]; then
  fail "run as the user who owns $REPO, not root (onnxruntime's build.sh refuses root, and the install only writes into node_modules)"
fi

# --- 2. Version pin: the one the npm package (JS wrapper + onnxruntime-common) was published with --
PKG="$REPO/node_modules/onnxruntime-node/package.json"
[ -f "$PKG" ] || fail "$PKG missing: run npm install first (the build pins the version installed there)"
VERSION="$(sed -n 's/^ *"version": *"\([0-9][0-9.]*\)".*/\1/p' "$PKG" | head -n1)"
[ -n "$VERSION" ] || fail "cannot read the onnxruntime-node version from $PKG"
TAG="v$VERSION"
SRC="${SRC:-$HOME/.cache/portier/onnxruntime-$TAG}"
BUILD_DIR="$SRC/build/Linux/Release"
DEST="$REPO/node_modules/onnxruntime-node/bin/napi-v6/linux/arm64"
note "onnxruntime $TAG (from $PKG), source and build in $SRC, install into $DEST"

# --- 3. Toolchain checks (onnxruntime build docs: cmake 3.28+, python3, gcc 11+; TensorRT 10) -----
version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }
check() {
  if [ "$DRY" = 1 ]; then note "check: $1"; return 0; fi
  eval "$2" || fail "$1: $3"
}
check "JetPack 6 (L4T R36 in /etc/nv_tegra_release)" 'grep -q "^# R36" /etc/nv_tegra_release' \
  "JetPack 6 (L4T R36) is needed: CUDA 12 and TensorRT 10 are what onnxruntime $VERSION builds against"
check "TensorRT 10 or newer ($TRT_HEADER)" '[ "$(sed -n "s/^#define NV_TENSORRT_MAJOR \([0-9]*\).*/\1/p" "$TRT_HEADER")" -ge 10 ]' \
  "TensorRT 10 is needed (JetPack 6.1 or newer; sudo apt install tensorrt-dev). JetPack 6.0 ships TensorRT 8.6."
check "cuDNN ($CUDNN_HOME/libcudnn.so)" 'ls "$CUDNN_HOME"/libcudnn.so* >/dev/null 2>&1' "cuDNN missing: sudo apt install libcudnn9-dev-cuda-12 (or nvidia-jetpack)"
check "cmake 3.28 or newer" 'version_ge "$(cmake --version | sed -n "1s/[^0-9]*\([0-9.]*\).*/\1/p")" 3.28' \
  "install a newer cmake: python3 -m pip install --user 'cmake>=3.28' (then put ~/.local/bin first in PATH)"
check "python3, git, node, npm, g++" 'command -v python3 && command -v git && command -v node && command -v npm && command -v g++' \
  "install them: sudo apt install python3 git build-essential (node and npm as for Portier itself)"
check "20 GB free under $(dirname "$SRC")" 'mkdir -p "$(dirname "$SRC")" && [ "$(df -Pk "$(dirname "$SRC")" | awk "NR==2{print \$4}")" -ge 20000000 ]' \
  "the source and CUDA build tree need about 20 GB; use --src on a bigger disk"

export PATH="$CUDA_HOME/bin:$PATH"
export CUDACXX="$CUDA_HOME/bin/nvcc"
note "PATH=$CUDA_HOME/bin:\$PATH CUDACXX=$CUDACXX"

if [ "$INSTALL_ONLY" = 0 ]; then
  # --- 4. Source at the pinned tag -----------------------------------------------------------------
  if [ -d "$SRC/.git" ]; then
    note "existing checkout must be at $TAG"
    check "checkout at $TAG" '[ "$(git -C "$SRC" describe --tags --exact-match 2>/dev/null)" = "$TAG" ]' \
      "$SRC is not at $TAG: remove it or pass another --src"
  else
    run mkdir -p "$(dirname "$SRC")"
    run git clone --branch "$TAG" --depth 1 --recursive --shallow-submodules https://github.com/microsoft/onnxruntime "$SRC"
  fi

  # --- 5. Forward trt_* provider options from JS to TensorRT ----------------------------------------
  note "patch js/node/src/session_options_helper.cc: string 'trt_*' properties of the tensorrt provider object -> UpdateTensorRTProviderOptions"
  run python3 "$REPO/scripts/jetson/forward-trt-options.py" "$SRC/js/node/src/session_options_helper.cc"

  # --- 6. Build: docs/build/eps.md (Jetson, TensorRT) + inferencing.md (--build_nodejs) -------------
  # --update --build runs no tests; --nvcc_threads 1 keeps nvcc from exhausting an Orin's memory.
  run_in "$SRC" ./build.sh \
    --config Release --update --build --parallel "$JOBS" --nvcc_threads 1 \
    --build_shared_lib --build_nodejs \
    --use_cuda --cuda_home "$CUDA_HOME" --cudnn_home "$CUDNN_HOME" \
    --use_tensorrt --tensorrt_home "$TENSORRT_HOME" \
    --cmake_extra_defines "CMAKE_CUDA_ARCHITECTURES=$CUDA_ARCH" onnxruntime_BUILD_UNIT_TESTS=OFF
fi

# --- 7. Install in place of the npm binary (kept as <dir>.npm for a way back) ----------------------
BUILT_BINDING="$SRC/js/node/bin/napi-v6/linux/arm64/onnxruntime_binding.node"
LIBS=(libonnxruntime.so.1 libonnxruntime_providers_shared.so libonnxruntime_providers_cuda.so libonnxruntime_providers_tensorrt.so)
for f in "$BUILT_BINDING" "${LIBS[@]/#/$BUILD_DIR/}"; do
  check "built $(basename "$f")" '[ -e "$f" ]' "$f is missing: the build did not finish (run without --install-only)"
done
note "binding links libonnxruntime.so.1 by \$ORIGIN; onnxruntime loads the provider libraries from beside it"
[ -d "$DEST.npm" ] || run cp -a "$DEST" "$DEST.npm"
run install -m 0755 "$BUILT_BINDING" "$DEST/onnxruntime_binding.node"
for lib in "${LIBS[@]}"; do
  # -L: libonnxruntime.so.1 is a symlink to the versioned file in the build tree.
  run cp -L "$BUILD_DIR/$lib" "$DEST/$lib"
done
echo "+ record $DEST/PORTIER-BUILD.txt"
[ "$DRY" = 1 ] || printf 'onnxruntime %s built on this Jetson by scripts/build-onnxruntime-jetson.sh (cuda, tensorrt; trt_* options forwarded) on %s; the npm binary is kept in %s\n' \
  "$TAG" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$DEST.npm" >"$DEST/PORTIER-BUILD.txt"

# --- 8. Check by running: a provider list is fixed at compile time, only a session proves it loads -
note "check: a cuda and a tensorrt session on models/fr_eye.onnx load their provider libraries and run"
run node - "$REPO" <<'JS'
const repo = process.argv[2];
const ort = require(`${repo}/node_modules/onnxruntime-node`);
(async () => {
  for (const ep of ['cuda', 'tensorrt']) {
    const s = await ort.InferenceSession.create(`${repo}/models/fr_eye.onnx`, { executionProviders: [ep] });
    await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', new Float32Array(24 * 24), [1, 1, 24, 24]) });
    console.log(`${ep}: session created and ran`);
  }
})().catch((e) => { console.error(`provider check failed: ${e.message}`); process.exit(1); });
JS
note "next: set vision.executionProviders to [\"tensorrt\", \"cuda\", \"cpu\"], restart, and check /state models (or npm run bench -- --json, key providers)."
note "the first start builds TensorRT engines (minutes); they are cached in <store.dir>/tensorrt-cache (vision.tensorrt.engineCacheDir)."
note "npm install/ci replaces node_modules/onnxruntime-node: run this script again with --install-only afterwards."
[ "$DRY" = 0 ] || note "dry run: nothing was run"
