import { z } from 'zod';

const port = (dflt: number) => z.number().int().min(0).max(65535).default(dflt);

export const gatewayBrokerConfigSchema = z
  .strictObject({
    type: z
      .enum(['embedded', 'external'])
      .default('embedded')
      .describe('`embedded`: the gateway runs its own broker (aedes). `external`: connect to a broker such as Mosquitto or EMQX at `url`.'),
    host: z
      .string()
      .min(1)
      .default('0.0.0.0')
      .describe('Embedded broker: address to bind. All interfaces by default because devices connect from the LAN; anonymous clients are refused and every topic is under ACL.'),
    port: port(1883).describe('Embedded broker: plain MQTT TCP port; 0 picks a free port (tests).'),
    tls: z
      .strictObject({
        port: port(8883).describe('MQTT over TLS port, opened only when `cert` and `key` are set; 0 picks a free port.'),
        cert: z.string().default('').describe('PEM certificate (chain) file of the embedded broker; empty = no TLS listener.'),
        key: z.string().default('').describe('PEM private key file for `cert`.'),
        ca: z.string().default('').describe('PEM CA file that client certificates must chain to (with `requireClientCert`).'),
        requireClientCert: z
          .boolean()
          .default(false)
          .describe('Refuse TLS clients without a certificate signed by `ca` (on top of username and password).'),
      })
      .prefault({})
      .describe('TLS listener of the embedded broker.'),
    advertisedUrl: z
      .string()
      .regex(/^(mqtts?:\/\/\S+)?$/, 'must be empty, mqtt://host:port or mqtts://host:port')
      .default('')
      .describe(
        'Embedded broker: the URL devices are told to use (provisioning bundles), e.g. `mqtts://gateway.lan:8883`; empty = derived from host and port (loopback when bound to all interfaces, so set it for devices on other machines).',
      ),
    maxPacketBytes: z
      .number()
      .int()
      .min(4096)
      .max(268_435_460)
      .default(4 * 1024 * 1024)
      .describe(
        'Embedded broker: largest MQTT packet (header included) any client may send, on both listeners; a client sending a larger one is disconnected. Before login the limit is 64 KiB (or this, if smaller). The largest message of the contract is a `changes` page sent by the gateway (~600 KB for 100 people with sealed templates): keep a wide margin above it.',
      ),
    url: z
      .string()
      .regex(/^mqtts?:\/\/\S+$/, 'must be mqtt://host:port or mqtts://host:port')
      .default('mqtt://localhost:1883')
      .describe('External broker URL (`mqtt://` or `mqtts://`), used when type is `external`.'),
    urlCa: z.string().default('').describe('External broker: PEM CA file to trust for an `mqtts://` broker with a private CA; empty = system CAs.'),
    username: z.string().min(1).default('portier-gateway').describe("The gateway's own MQTT username on an external broker."),
    password: z
      .string()
      .default('')
      .describe("The gateway's own MQTT password on an external broker (use `env:NAME` or `file:/path` rather than the value)."),
    adminUsername: z
      .string()
      .default('')
      .describe('Optional operator/monitor user of the embedded broker with every right (e.g. to watch `#`); empty = none.'),
    adminPassword: z
      .string()
      .default('')
      .describe('Password of `adminUsername`, at least 16 characters (use `env:NAME` or `file:/path`).'),
  })
  .superRefine((c, ctx) => {
    if (!!c.tls.cert !== !!c.tls.key) ctx.addIssue({ code: 'custom', path: ['tls'], message: 'tls.cert and tls.key must be set together' });
    if (c.tls.requireClientCert && !c.tls.ca) ctx.addIssue({ code: 'custom', path: ['tls', 'ca'], message: 'tls.requireClientCert needs tls.ca' });
    if (c.adminUsername && c.adminPassword.length < 16)
      ctx.addIssue({ code: 'custom', path: ['adminPassword'], message: 'adminUsername is set: adminPassword must have at least 16 characters' });
    if (c.adminUsername && c.adminUsername === c.username)
      ctx.addIssue({ code: 'custom', path: ['adminUsername'], message: 'adminUsername must differ from username' });
    if (c.type === 'external' && !c.password)
      ctx.addIssue({ code: 'custom', path: ['password'], message: 'an external broker needs the gateway password (anonymous access must be off)' });
  });

export type GatewayBrokerConfig = z.output<typeof gatewayBrokerConfigSchema>;
export const defaultGatewayBrokerConfig = (): GatewayBrokerConfig => gatewayBrokerConfigSchema.parse({});
