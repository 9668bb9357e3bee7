/** Codes from the API in words an admin reads at a glance. */
const quality: Record<string, string> = {
  no_face: 'no face found',
  multiple_faces: 'two or more faces',
  too_small: 'face too small',
  blurry: 'too blurry',
  too_dark: 'too dark',
  too_bright: 'too bright',
  pose: 'head turned too far',
  eyes_closed: 'eyes closed',
  not_an_image: 'not an image',
  duplicate: 'already enrolled as someone else',
  limit: 'this person has the most templates allowed',
};
export const qualityInWords = (code: string): string => quality[code] ?? code.replace(/_/g, ' ');

const decision: Record<string, string> = {
  granted: 'granted',
  unknown: 'face not recognised',
  not_live: 'not a live person (photo or screen?)',
  'not_live:passive': 'not a live person (face looks like a photo or screen)',
  'not_live:screen_border': 'not a live person (phone, screen or paper edge around the face)',
  'not_live:rigid_motion': 'not a live person (face moved with its frame, like a held-up screen)',
  'not_live:blink': 'not a live person (no blink)',
  'not_live:screen_artifacts': 'not a live person (screen pattern in the image)',
  'not_live:active_check': 'did not follow the on-screen request (turn or blink)',
  'not_live:combined': 'not a live person (several weak signs)',
  low_score: 'recognition too uncertain',
  low_margin: 'could be two people',
  invalid_profile: 'access record invalid',
  inactive: 'person deactivated',
  expired: 'access expired',
  not_yet_valid: 'access not valid yet',
  no_access_to_door: 'no access to this door',
  outside_schedule: 'outside their hours',
};
export const decisionInWords = (reason: string | null | undefined): string => (reason ? (decision[reason] ?? reason.replace(/[_:]/g, ' ')) : '');
