/**
 * The gateway's rows at rest: templates and kept photos, sealed with the shared construction in
 * core/crypto/at-rest.ts under their own associated-data prefixes, so a device row and a gateway
 * row, or a photo and a template, can never stand in for each other.
 */
import { openFloats, open, seal, sealFloats, type Sealed } from '../../core/crypto/at-rest.ts';

export { KeyError, loadKeyEnv, loadKeyFile, loadOrCreateKeyFile, parseKey, type Sealed } from '../../core/crypto/at-rest.ts';

export const TEMPLATE_AAD = 'portier-gateway-template-v1:';
export const SECOND_TEMPLATE_AAD = 'portier-gateway-second-template-v1:';
export const PHOTO_AAD = 'portier-gateway-photo-v1:';

export const sealTemplate = (key: Buffer, personId: string, embedding: Float32Array): Sealed => sealFloats(key, TEMPLATE_AAD + personId, embedding);
export const openTemplate = (key: Buffer, personId: string, sealed: Sealed): Float32Array => openFloats(key, TEMPLATE_AAD + personId, sealed);
export const sealSecondTemplate = (key: Buffer, personId: string, embedding: Float32Array): Sealed => sealFloats(key, SECOND_TEMPLATE_AAD + personId, embedding);
export const openSecondTemplate = (key: Buffer, personId: string, sealed: Sealed): Float32Array => openFloats(key, SECOND_TEMPLATE_AAD + personId, sealed);
export const sealPhoto = (key: Buffer, personId: string, image: Uint8Array): Sealed => seal(key, PHOTO_AAD + personId, image);
export const openPhoto = (key: Buffer, personId: string, sealed: Sealed): Buffer => open(key, PHOTO_AAD + personId, sealed);
