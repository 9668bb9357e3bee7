import { z } from 'zod';

const level = z.union([z.literal(0), z.literal(1)]);

export const doorConfigSchema = z.strictObject({
  failMode: z
    .enum(['secure', 'safe'])
    .default('secure')
    .describe('secure: the lock stays locked when the relay is de-energised (power cut, crash, stop); safe: it opens (egress when the system fails, e.g. maglocks on escape routes). See the level table in device/door/levels.ts.'),
  relay: z
    .strictObject({
      pin: z.number().int().min(0).default(17).describe('GPIO (BCM) number of the lock relay.'),
      activeLow: z.boolean().default(false).describe('true when the relay board energises its coil on a low input (most opto-isolated boards).'),
    })
    .prefault({})
    .describe('Lock relay output.'),
  unlockMs: z.number().int().min(100).max(600_000).default(5000).describe('How long one grant keeps the lock released.'),
  relockOnClose: z.boolean().default(true).describe('Relock as soon as the door closes again after being opened during a grant.'),
  heldOpenMs: z.number().int().min(0).default(30_000).describe('Alarm when the door stays open this long after an authorised opening; 0 disables.'),
  contact: z
    .strictObject({
      enabled: z.boolean().default(true).describe('A door contact (reed switch) is wired.'),
      pin: z.number().int().min(0).default(27).describe('GPIO (BCM) number of the door contact.'),
      openLevel: level.default(1).describe('Input level when the door is open (reed switch to ground with pull-up: 1).'),
      debounceMs: z.number().int().min(0).max(5000).default(50).describe('Software debounce of the contact.'),
    })
    .prefault({})
    .describe('Door position contact.'),
  exitButton: z
    .strictObject({
      enabled: z.boolean().default(true).describe('A request-to-exit (REX) button is wired.'),
      pin: z.number().int().min(0).default(22).describe('GPIO (BCM) number of the exit button.'),
      pressedLevel: level.default(0).describe('Input level while pressed (button to ground with pull-up: 0).'),
      debounceMs: z.number().int().min(0).max(5000).default(50).describe('Software debounce of the button.'),
      unlocks: z
        .boolean()
        .default(true)
        .describe('The button releases the lock; false where egress is mechanical and the button only marks the opening as authorised.'),
      graceMs: z
        .number()
        .int()
        .min(0)
        .default(10_000)
        .describe('When unlocks is false: an opening this soon after a press is authorised (no forced-open alarm).'),
    })
    .prefault({})
    .describe('Exit button (REX).'),
});

export type DoorConfig = z.output<typeof doorConfigSchema>;
export const defaultDoorConfig = (): DoorConfig => doorConfigSchema.parse({});
