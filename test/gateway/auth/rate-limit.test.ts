import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN, addUser, closeBenches, login, setupAdmin, startBench } from './harness.ts';

afterEach(closeBenches);

const from = (ip: string) => ({ 'x-forwarded-for': ip });

describe('login rate limit', () => {
  it('per username: N failures are answered 401, the next attempt 429 with Retry-After (even with the right password), until the window passes', async () => {
    const b = await startBench({ loginMaxFailures: 5, loginWindowMs: 15 * 60_000, trustProxy: true });
    await setupAdmin(b);
    // Different client addresses, so only the per-username counter can trip.
    for (let i = 0; i < 5; i++) {
      const r = await login(b, 'root', 'wrong password ' + i, from(`10.0.0.${i + 1}`));
      expect(r.reply.status, `attempt ${i + 1}`).toBe(401);
      b.clock.t += 60_000;
    }
    const blocked = await login(b, 'root', ADMIN.password, from('10.0.0.99'));
    expect(blocked.reply.status).toBe(429);
    expect(blocked.reply.body).toMatchObject({ error: 'rate_limited', message: expect.any(String) });
    // The first failure was 5 minutes ago; it ages out of the 15-minute window in 10 minutes.
    expect(Number(blocked.reply.headers['retry-after'])).toBe(10 * 60);
    expect(blocked.reply.headers['set-cookie']).toBeUndefined();
    // Other users are not affected.
    expect((await login(b, 'nobody', 'whatever password', from('10.0.0.98'))).reply.status).toBe(401);

    b.clock.t += 10 * 60_000 - 1000;
    expect((await login(b, 'root', ADMIN.password, from('10.0.0.99'))).reply.status).toBe(429);
    b.clock.t += 1000;
    expect((await login(b, 'root', ADMIN.password, from('10.0.0.99'))).reply.status).toBe(200);
  });

  it('per client address: failures across many usernames trip it; another address still logs in', async () => {
    const b = await startBench({ loginMaxFailures: 3, trustProxy: true });
    const admin = await setupAdmin(b);
    await addUser(b, admin, 'vera', 'viewer password 1', 'viewer');
    for (const u of ['alice', 'bob', 'carol']) expect((await login(b, u, 'guess guess guess', from('192.0.2.7'))).reply.status).toBe(401);
    expect((await login(b, 'vera', 'viewer password 1', from('192.0.2.7'))).reply.status).toBe(429);
    expect((await login(b, 'vera', 'viewer password 1', from('192.0.2.8'))).reply.status).toBe(200);
  });

  it('a success clears the username counter; fewer than N failures never block', async () => {
    const b = await startBench({ loginMaxFailures: 3, trustProxy: true });
    await setupAdmin(b);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 2; i++) expect((await login(b, 'root', 'nope nope nope', from(`10.1.${round}.${i}`))).reply.status).toBe(401);
      expect((await login(b, 'root', ADMIN.password, from(`10.2.${round}.1`))).reply.status).toBe(200);
    }
  });

  it('parallel guesses cannot slip past the limit while hashes are computed', async () => {
    const b = await startBench({ loginMaxFailures: 5 });
    await setupAdmin(b);
    const rs = await Promise.all(Array.from({ length: 12 }, (_, i) => login(b, 'root', 'parallel guess ' + i)));
    const codes = rs.map((r) => r.reply.status);
    expect(codes.filter((c) => c === 401)).toHaveLength(5);
    expect(codes.filter((c) => c === 429)).toHaveLength(7);
  });

  it('without trustProxy, X-Forwarded-For is ignored (a client cannot pick a fresh address per guess)', async () => {
    const b = await startBench({ loginMaxFailures: 2 });
    await setupAdmin(b);
    expect((await login(b, 'a1', 'guess guess guess', from('1.1.1.1'))).reply.status).toBe(401);
    expect((await login(b, 'a2', 'guess guess guess', from('2.2.2.2'))).reply.status).toBe(401);
    expect((await login(b, 'a3', 'guess guess guess', from('3.3.3.3'))).reply.status).toBe(429);
  });

  it('an unknown user costs a password hash too (no fast path revealing which names exist)', async () => {
    const b = await startBench({ loginMaxFailures: 100 });
    await setupAdmin(b);
    const time = async (u: string) => {
      const t0 = performance.now();
      expect((await login(b, u, 'some wrong password')).reply.status).toBe(401);
      return performance.now() - t0;
    };
    await time('ghost'); // warm-up
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 4; i++) {
      known.push(await time('root'));
      unknown.push(await time(`ghost${i}`));
    }
    const median = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)];
    // scrypt at N=2^15 takes tens of milliseconds; a lookup without it takes about one.
    expect(median(known)).toBeGreaterThan(15);
    expect(median(unknown)).toBeGreaterThan(median(known) * 0.4);
  });
});
