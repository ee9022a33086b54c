import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startTestApp, type TestApp } from '../support/server.js';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

/**
 * Issue 18.6: the CLI outside the repository. `npm pack` makes the tarball (prepack builds it),
 * `npm install -g` puts a `cordon` binary on the PATH (here under a temporary prefix), and it
 * works from any directory: offline commands and calls to a service.
 */
describe('cordon installed from a packed tarball', () => {
  let app: TestApp;
  let dir: string;
  beforeAll(async () => {
    app = await startTestApp();
    dir = mkdtempSync(path.join(os.tmpdir(), 'cordon-install-'));
  });
  afterAll(async () => {
    await app?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('npm pack, npm install -g: `cordon` runs from anywhere', async () => {
    // --ignore-scripts: dist is built already (npm test builds first); rebuilding it here would
    // rewrite files that other suites' servers are loading.
    await run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT, maxBuffer: 64 << 20, timeout: 300_000 });
    const prefix = path.join(dir, 'prefix');
    await run('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', path.join(dir, 'cordon-0.1.0.tgz')], {
      cwd: dir,
      maxBuffer: 64 << 20,
      timeout: 300_000,
    });
    const env = { PATH: `${path.join(prefix, 'bin')}:${process.env.PATH ?? ''}`, HOME: dir };
    const cordon = (args: string[]) => run('cordon', args, { cwd: os.tmpdir(), env });
    expect((await cordon(['--help'])).stdout).toMatch(/Usage: cordon/);
    const canonical = JSON.parse((await cordon(['canonical', 'DOMAIN', 'Shop.Example.'])).stdout);
    expect(canonical).toMatchObject({ kind: 'DOMAIN', canonical: 'shop.example' });
    // A key made by the installed tool, registered, then used against the service.
    const keyFile = path.join(dir, 'k.json');
    const { stdout: pub } = await cordon(['keygen', '--out', keyFile]);
    const member = await app.gql('mutation { createMember(input: { name: "Installed CLI", kind: CARD_PROCESSOR }) { id } }');
    await app.gql('mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { id } }', {
      i: { memberId: member.data!.createMember.id, name: 'installed', roles: ['SCREENER'], publicJwk: JSON.parse(pub) },
    });
    const me = JSON.parse((await cordon(['me', '--key', keyFile, '--url', app.url])).stdout);
    expect(me.me).toMatchObject({ name: 'installed', member: { name: 'Installed CLI' } });
  }, 900_000);
});
