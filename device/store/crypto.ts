/**
 * The device's rows at rest: templates and (when kept) enrolment photos, sealed with the shared
 * construction in core/crypto/at-rest.ts; the associated data binds each row to its purpose and
 * its person.
 */
import { openFloats, open, seal, sealFloats, type Sealed } from '../../core/crypto/at-rest.ts';

export { generateKeyFile, KeyError, loadKeyCredential, loadKeyEnv, loadKeyFile, parseKey } from '../../core/crypto/at-rest.ts';
export type SealedTemplate = Sealed;

const TEMPLATE_AAD = 'portier-template-v1:';
const IMAGE_AAD = 'portier-face-image-v1:';
/** The second embedding's template (gallery.secondEmbedding), stored beside the main one. */
const SECOND_TEMPLATE_AAD = 'portier-second-template-v1:';

export const sealTemplate = (key: Buffer, personId: string, embedding: Float32Array): Sealed => sealFloats(key, TEMPLATE_AAD + personId, embedding);
/** Throws when the key is wrong, the row was altered or it belongs to another person. */
export const openTemplate = (key: Buffer, personId: string, sealed: Sealed): Float32Array => openFloats(key, TEMPLATE_AAD + personId, sealed);
export const sealSecondTemplate = (key: Buffer, personId: string, embedding: Float32Array): Sealed => sealFloats(key, SECOND_TEMPLATE_AAD + personId, embedding);
export const openSecondTemplate = (key: Buffer, personId: string, sealed: Sealed): Float32Array => openFloats(key, SECOND_TEMPLATE_AAD + personId, sealed);
export const sealFaceImage = (key: Buffer, personId: string, image: Uint8Array): Sealed => seal(key, IMAGE_AAD + personId, image);
export const openFaceImage = (key: Buffer, personId: string, sealed: Sealed): Buffer => open(key, IMAGE_AAD + personId, sealed);
