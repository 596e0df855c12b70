import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runServiceCommand, type CommandResult, type ServiceDeps, type ServiceFs } from '../../src/cli/service.js';
import {
  buildSchtasksCreateArgs,
  quoteSystemdWord,
  renderLaunchdPlist,
  renderSystemdUnit,
  type SystemdUnitOptions,
} from '../../src/cli/service-units.js';

const REPO_BIN = fileURLToPath(new URL('../../bin/netpulse.js', import.meta.url));

interface Call {
  command: string;
  args: string[];
}

/** A command runner that records calls and answers from a table keyed by "command arg1 arg2…". */
function fakeRunner(answers: Record<string, Partial<CommandResult>> = {}, fallback: Partial<CommandResult> = {}) {
  const calls: Call[] = [];
  const run = async (command: string, args: readonly string[]): Promise<CommandResult> => {
    calls.push({ command, args: [...args] });
    const key = [command, ...args].join(' ');
    const answer = answers[key] ?? fallback;
    return { code: 0, stdout: '', stderr: '', ...answer };
  };
  return { run, calls, lines: () => calls.map((c) => [c.command, ...c.args].join(' ')) };
}

/** In-memory files for paths the test must not touch for real (/etc/systemd/system). */
function memoryFs(existing: string[] = []) {
  const files = new Map<string, { content: string; mode: number }>();
  const dirs = new Set<string>();
  const present = new Set(existing);
  const fs: ServiceFs = {
    async readFile(file) {
      return files.get(file)?.content ?? null;
    },
    async writeFile(file, content, mode) {
      files.set(file, { content, mode });
    },
    async removeFile(file) {
      return files.delete(file);
    },
    async mkdir(dir) {
      dirs.add(dir);
    },
    async exists(file) {
      return present.has(file) || files.has(file);
    },
  };
  return { fs, files, dirs };
}

function captureOutput() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, deps: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) } };
}

/** A temp home plus a fake installed package (bin/netpulse.js and a built dist/cli/main.js). */
async function tempWorld(t: TestContext, built = true) {
  const root = await mkdtemp(path.join(tmpdir(), 'netpulse-service-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const home = path.join(root, 'home');
  const pkg = path.join(root, 'pkg');
  await mkdir(home, { recursive: true });
  await mkdir(path.join(pkg, 'bin'), { recursive: true });
  await writeFile(path.join(pkg, 'bin', 'netpulse.js'), '// bin\n');
  if (built) {
    await mkdir(path.join(pkg, 'dist', 'cli'), { recursive: true });
    await writeFile(path.join(pkg, 'dist', 'cli', 'main.js'), '// main\n');
  }
  return { root, home, binPath: path.join(pkg, 'bin', 'netpulse.js') };
}

async function listTree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.map(String).sort();
}

const LINUX_BASE: ServiceDeps = {
  platform: 'linux',
  homedir: '/home/alice',
  uid: 1000,
  username: 'alice',
  nodePath: '/usr/bin/node',
  binPath: '/opt/net-pulse/bin/netpulse.js',
};
const BUILT = ['/opt/net-pulse/bin/netpulse.js', '/opt/net-pulse/dist/cli/main.js'];

function lineSet(text: string): Set<string> {
  return new Set(text.split('\n'));
}

describe('rendering', () => {
  const userUnit: SystemdUnitOptions = {
    scope: 'user',
    nodePath: '/usr/bin/node',
    binPath: '/opt/net-pulse/bin/netpulse.js',
    dbPath: '/home/alice/.local/share/netpulse/netpulse.db',
    environmentFile: '/home/alice/.config/netpulse/netpulse.env',
    runAsUser: null,
    stateDirectory: null,
  };

  test('the user unit runs node on bin/netpulse.js serve with an absolute database path', () => {
    const lines = lineSet(renderSystemdUnit(userUnit));
    assert.ok(lines.has('ExecStart="/usr/bin/node" "/opt/net-pulse/bin/netpulse.js" serve'));
    assert.ok(lines.has('Environment="NETPULSE_DB_PATH=/home/alice/.local/share/netpulse/netpulse.db"'));
    assert.ok(lines.has('EnvironmentFile=-/home/alice/.config/netpulse/netpulse.env'));
    assert.ok(lines.has('Restart=on-failure'));
    assert.ok(lines.has('NoNewPrivileges=yes'));
    assert.ok(lines.has('WantedBy=default.target'));
    assert.ok(!lines.has('DynamicUser=yes'));
    assert.ok(![...lines].some((l) => l.startsWith('User=')));
  });

  test('the system unit runs as a dynamic user in a hardened sandbox with its state directory', () => {
    const text = renderSystemdUnit({
      ...userUnit,
      scope: 'system',
      dbPath: '/var/lib/netpulse/netpulse.db',
      environmentFile: '/etc/netpulse/netpulse.env',
      stateDirectory: 'netpulse',
    });
    const lines = lineSet(text);
    for (const expected of [
      'DynamicUser=yes',
      'StateDirectory=netpulse',
      'Environment="NETPULSE_DB_PATH=/var/lib/netpulse/netpulse.db"',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'ProtectHome=yes',
      'PrivateTmp=yes',
      'CapabilityBoundingSet=',
      'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK',
      'Restart=on-failure',
      'After=network-online.target',
      'WantedBy=multi-user.target',
    ]) {
      assert.ok(lines.has(expected), expected);
    }
    assert.ok(![...lines].some((l) => l.startsWith('ReadWritePaths=')), 'the state directory needs no ReadWritePaths');
    assert.ok(![...lines].some((l) => /^(PrivateNetwork|MemoryDenyWriteExecute)=/.test(l)));
  });

  test('a system unit for a named user and a custom database lists the folder in ReadWritePaths', () => {
    const lines = lineSet(
      renderSystemdUnit({ ...userUnit, scope: 'system', runAsUser: 'netpulse', dbPath: '/srv/netpulse/db.sqlite', stateDirectory: null }),
    );
    assert.ok(lines.has('User=netpulse'));
    assert.ok(lines.has('ReadWritePaths="/srv/netpulse"'));
    assert.ok(!lines.has('DynamicUser=yes'));
  });

  test('a system unit whose program lives under /home gets ProtectHome=read-only', () => {
    const lines = lineSet(
      renderSystemdUnit({ ...userUnit, scope: 'system', binPath: '/home/alice/net-pulse/bin/netpulse.js', stateDirectory: 'netpulse' }),
    );
    assert.ok(lines.has('ProtectHome=read-only'));
  });

  test('quoteSystemdWord escapes quotes, backslashes, specifiers and variables', () => {
    assert.equal(quoteSystemdWord('/a b/c'), '"/a b/c"');
    assert.equal(quoteSystemdWord('/x%h/$HOME/"q"\\'), '"/x%%h/$$HOME/\\"q\\"\\\\"');
  });

  test('the launchd plist runs at load, restarts on failure and escapes XML', () => {
    const text = renderLaunchdPlist({
      nodePath: '/usr/local/bin/node',
      binPath: '/Users/a&b/net-pulse/bin/netpulse.js',
      dbPath: '/Users/a&b/Library/Application Support/netpulse/netpulse.db',
      workingDirectory: '/Users/a&b',
      stdoutPath: '/Users/a&b/Library/Logs/netpulse/netpulse.log',
      stderrPath: '/Users/a&b/Library/Logs/netpulse/netpulse.err.log',
    });
    assert.match(text, /<key>Label<\/key>\s*<string>dev\.netpulse<\/string>/);
    assert.match(
      text,
      /<key>ProgramArguments<\/key>\s*<array>\s*<string>\/usr\/local\/bin\/node<\/string>\s*<string>\/Users\/a&amp;b\/net-pulse\/bin\/netpulse\.js<\/string>\s*<string>serve<\/string>\s*<\/array>/,
    );
    assert.match(text, /<key>RunAtLoad<\/key>\s*<true\/>/);
    assert.match(text, /<key>KeepAlive<\/key>\s*<dict>\s*<key>SuccessfulExit<\/key>\s*<false\/>/);
    assert.match(text, /<key>NETPULSE_DB_PATH<\/key>\s*<string>\/Users\/a&amp;b\/Library\/Application Support\/netpulse\/netpulse\.db<\/string>/);
    assert.match(text, /<key>StandardOutPath<\/key>/);
    assert.match(text, /<key>StandardErrorPath<\/key>/);
    assert.ok(!/&(?!amp;|lt;|gt;|quot;|apos;)/.test(text), 'no bare ampersand');
    assertBalancedXml(text);
  });

  test('the schtasks task runs at logon with limited rights', () => {
    assert.deepEqual(buildSchtasksCreateArgs('C:\\Program Files\\nodejs\\node.exe', 'C:\\np\\bin\\netpulse.js'), [
      '/Create',
      '/TN',
      'NetPulse',
      '/SC',
      'ONLOGON',
      '/TR',
      '"C:\\Program Files\\nodejs\\node.exe" "C:\\np\\bin\\netpulse.js" serve',
      '/RL',
      'LIMITED',
      '/F',
    ]);
  });
});

/** Every element opened is closed in order (enough to catch a broken template). */
function assertBalancedXml(text: string): void {
  const body = text.replace(/<\?xml[^>]*\?>/, '').replace(/<!DOCTYPE[^>]*>/, '').replace(/<!--[\s\S]*?-->/g, '');
  const stack: string[] = [];
  for (const match of body.matchAll(/<(\/?)([A-Za-z]+)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = match;
    if (selfClosing === '/') continue;
    if (closing === '/') assert.equal(stack.pop(), name, `</${name}> closes the wrong element`);
    else stack.push(name as string);
  }
  assert.deepEqual(stack, [], 'unclosed elements');
}

function commandWorks(command: string, args: string[]): Promise<boolean> {
  return new Promise((resolve) => execFile(command, args, (error) => resolve(error === null)));
}

function runVerify(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  return new Promise((resolve) =>
    execFile('systemd-analyze', args, { env }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, output: `${stdout}${stderr}` }),
    ),
  );
}

describe('systemd-analyze verify', async () => {
  const available = process.platform === 'linux' && (await commandWorks('systemd-analyze', ['--version']));
  const skip = available ? false : 'systemd-analyze is not installed (apt-get install systemd)';

  for (const scope of ['user', 'system'] as const) {
    test(`the rendered ${scope} unit passes systemd-analyze verify with no warnings`, { skip }, async (t) => {
      const dir = await mkdtemp(path.join(tmpdir(), 'netpulse-verify-'));
      t.after(() => rm(dir, { recursive: true, force: true }));
      const runtimeDir = path.join(dir, 'runtime');
      await mkdir(runtimeDir, { mode: 0o700 });
      const cap = captureOutput();
      const code = await runServiceCommand(['install', '--dry-run', ...(scope === 'system' ? ['--system'] : [])], {
        ...cap.deps,
        platform: 'linux',
        homedir: '/home/alice',
        uid: 1000,
        nodePath: process.execPath,
        binPath: REPO_BIN,
      });
      assert.equal(code, 0);
      const printed = cap.out.join('\n');
      const unit = printed.slice(printed.indexOf('# Net-Pulse'), printed.indexOf('Would run:'));
      assert.match(unit, /\[Install\]/);
      const file = path.join(dir, 'netpulse.service');
      await writeFile(file, unit);
      // --user needs a runtime directory to set up its (offline) manager; no systemd need be running.
      const result = await runVerify([...(scope === 'user' ? ['--user'] : []), 'verify', file], {
        ...process.env,
        XDG_RUNTIME_DIR: runtimeDir,
        SYSTEMD_LOG_COLOR: '0',
      });
      assert.equal(result.code, 0, result.output);
      // Unknown keys or bad values only warn (exit 0): any line about our file is a failure.
      const aboutUs = result.output.split('\n').filter((l) => l.includes('netpulse.service'));
      assert.deepEqual(aboutUs, [], result.output);
    });
  }

  test('systemd-analyze verify flags a broken unit (the check can fail)', { skip }, async (t) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'netpulse-verify-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'netpulse.service');
    await writeFile(file, `[Service]\nExecStart=${process.execPath} x\nRestart=sometimes\nBogusKey=1\n`);
    const result = await runVerify(['verify', file], { ...process.env, SYSTEMD_LOG_COLOR: '0' });
    assert.ok(result.output.split('\n').some((l) => l.includes('netpulse.service')), result.output);
  });
});

describe('install, uninstall and status on Linux (user unit, temp home)', () => {
  test('install writes the unit, creates the database folder and enables it with systemctl --user', async (t) => {
    const world = await tempWorld(t);
    const runner = fakeRunner();
    const cap = captureOutput();
    const code = await runServiceCommand(['install'], { ...cap.deps, platform: 'linux', homedir: world.home, uid: 1000, username: 'alice', nodePath: '/usr/bin/node', binPath: world.binPath, run: runner.run });
    assert.equal(code, 0, cap.err.join('\n'));
    const unitPath = path.join(world.home, '.config', 'systemd', 'user', 'netpulse.service');
    const unit = await readFile(unitPath, 'utf8');
    assert.ok(unit.includes(`ExecStart="/usr/bin/node" "${world.binPath}" serve`));
    assert.ok(unit.includes(`NETPULSE_DB_PATH=${path.join(world.home, '.local', 'share', 'netpulse', 'netpulse.db')}`));
    assert.ok((await stat(path.join(world.home, '.local', 'share', 'netpulse'))).isDirectory());
    assert.deepEqual(runner.lines(), ['systemctl --user daemon-reload', 'systemctl --user enable --now netpulse.service']);
    assert.ok(cap.out.some((l) => l.includes('loginctl enable-linger alice')));
  });

  test('install without a usable systemd still writes the unit, exits 1 and says how to start it', async (t) => {
    const world = await tempWorld(t);
    const runner = fakeRunner({}, { code: null, error: 'spawn systemctl ENOENT' });
    const cap = captureOutput();
    const code = await runServiceCommand(['install'], { ...cap.deps, platform: 'linux', homedir: world.home, uid: 1000, nodePath: '/usr/bin/node', binPath: world.binPath, run: runner.run });
    assert.equal(code, 1);
    assert.ok((await stat(path.join(world.home, '.config', 'systemd', 'user', 'netpulse.service'))).isFile());
    const err = cap.err.join('\n');
    assert.match(err, /NOT enabled or started/);
    assert.match(err, /spawn systemctl ENOENT/);
    assert.ok(err.includes(`/usr/bin/node ${world.binPath} serve`), err);
    assert.deepEqual(runner.lines(), ['systemctl --user daemon-reload'], 'no enable after a failed reload');
  });

  test('install when systemd refuses to enable exits 1 and points at the journal', async (t) => {
    const world = await tempWorld(t);
    const runner = fakeRunner({ 'systemctl --user enable --now netpulse.service': { code: 1, stderr: 'Job failed.\n' } });
    const cap = captureOutput();
    const code = await runServiceCommand(['install'], { ...cap.deps, platform: 'linux', homedir: world.home, uid: 1000, nodePath: '/usr/bin/node', binPath: world.binPath, run: runner.run });
    assert.equal(code, 1);
    assert.match(cap.err.join('\n'), /Job failed\./);
    assert.match(cap.err.join('\n'), /journalctl --user -u netpulse\.service/);
  });

  test('install refuses when the package is not built and writes nothing', async (t) => {
    const world = await tempWorld(t, false);
    const runner = fakeRunner();
    const cap = captureOutput();
    const code = await runServiceCommand(['install'], { ...cap.deps, platform: 'linux', homedir: world.home, uid: 1000, nodePath: '/usr/bin/node', binPath: world.binPath, run: runner.run });
    assert.equal(code, 1);
    assert.match(cap.err.join('\n'), /npm run build/);
    assert.deepEqual(await listTree(world.home), []);
    assert.deepEqual(runner.calls, []);
  });

  test('--dry-run prints the unit and its path and changes nothing', async (t) => {
    const world = await tempWorld(t);
    const runner = fakeRunner();
    const cap = captureOutput();
    const code = await runServiceCommand(['install', '--dry-run'], { ...cap.deps, platform: 'linux', homedir: world.home, uid: 1000, nodePath: '/usr/bin/node', binPath: world.binPath, run: runner.run });
    assert.equal(code, 0);
    const printed = cap.out.join('\n');
    assert.ok(printed.includes(`Would write ${path.join(world.home, '.config', 'systemd', 'user', 'netpulse.service')}:`));
    assert.ok(printed.includes('ExecStart="/usr/bin/node"'));
    assert.ok(printed.includes('systemctl --user enable --now netpulse.service'));
    assert.deepEqual(await listTree(world.home), []);
    assert.deepEqual(runner.calls, []);
  });

  test('uninstall disables, removes the unit and reloads; the database is kept', async (t) => {
    const world = await tempWorld(t);
    const deps = { platform: 'linux' as const, homedir: world.home, uid: 1000, nodePath: '/usr/bin/node', binPath: world.binPath };
    assert.equal(await runServiceCommand(['install'], { ...deps, ...captureOutput().deps, run: fakeRunner().run }), 0);
    const dbDir = path.join(world.home, '.local', 'share', 'netpulse');
    await writeFile(path.join(dbDir, 'netpulse.db'), 'data');

    const runner = fakeRunner();
    const cap = captureOutput();
    assert.equal(await runServiceCommand(['uninstall'], { ...deps, ...cap.deps, run: runner.run }), 0);
    assert.deepEqual(runner.lines(), ['systemctl --user disable --now netpulse.service', 'systemctl --user daemon-reload']);
    await assert.rejects(stat(path.join(world.home, '.config', 'systemd', 'user', 'netpulse.service')), { code: 'ENOENT' });
    assert.equal(await readFile(path.join(dbDir, 'netpulse.db'), 'utf8'), 'data');
  });

  test('uninstall --dry-run of an installed unit removes nothing', async (t) => {
    const world = await tempWorld(t);
    const deps = { platform: 'linux' as const, homedir: world.home, uid: 1000, nodePath: '/usr/bin/node', binPath: world.binPath };
    assert.equal(await runServiceCommand(['install'], { ...deps, ...captureOutput().deps, run: fakeRunner().run }), 0);
    const before = await listTree(world.home);
    const runner = fakeRunner();
    const cap = captureOutput();
    assert.equal(await runServiceCommand(['uninstall', '--dry-run'], { ...deps, ...cap.deps, run: runner.run }), 0);
    assert.deepEqual(await listTree(world.home), before);
    assert.deepEqual(runner.calls, []);
    assert.match(cap.out.join('\n'), /Would remove .*netpulse\.service/);
  });

  test('uninstall when nothing is installed says so and exits 0', async (t) => {
    const world = await tempWorld(t);
    const runner = fakeRunner();
    const cap = captureOutput();
    const code = await runServiceCommand(['uninstall'], { ...cap.deps, platform: 'linux', homedir: world.home, uid: 1000, nodePath: '/usr/bin/node', binPath: world.binPath, run: runner.run });
    assert.equal(code, 0);
    assert.match(cap.out.join('\n'), /Not installed/);
    assert.deepEqual(runner.calls, []);
  });

  test('status: 3 when not installed, 0 when active, 3 when inactive, 4 when systemd is unreachable', async (t) => {
    const world = await tempWorld(t);
    const deps = { platform: 'linux' as const, homedir: world.home, uid: 1000, nodePath: '/usr/bin/node', binPath: world.binPath };
    const status = async (runner: ReturnType<typeof fakeRunner>) => {
      const cap = captureOutput();
      const code = await runServiceCommand(['status'], { ...deps, ...cap.deps, run: runner.run });
      return { code, text: cap.out.join('\n') };
    };
    const none = await status(fakeRunner());
    assert.equal(none.code, 3);
    assert.match(none.text, /Not installed/);

    assert.equal(await runServiceCommand(['install'], { ...deps, ...captureOutput().deps, run: fakeRunner().run }), 0);
    const active = await status(
      fakeRunner({
        'systemctl --user is-active netpulse.service': { stdout: 'active\n' },
        'systemctl --user is-enabled netpulse.service': { stdout: 'enabled\n' },
      }),
    );
    assert.equal(active.code, 0);
    assert.match(active.text, /Enabled: enabled\. Active: active\./);
    const inactive = await status(fakeRunner({ 'systemctl --user is-active netpulse.service': { code: 3, stdout: 'inactive\n' } }));
    assert.equal(inactive.code, 3);
    const unknown = await status(fakeRunner({}, { code: 1, stderr: 'Failed to connect to bus: No medium found\n' }));
    assert.equal(unknown.code, 4);
    assert.match(unknown.text, /Failed to connect to bus/);
  });
});

describe('system units (--system, in-memory files)', () => {
  test('install --system as root writes /etc/systemd/system/netpulse.service and enables it system-wide', async () => {
    const mem = memoryFs(BUILT);
    const runner = fakeRunner();
    const cap = captureOutput();
    const code = await runServiceCommand(['install', '--system'], { ...LINUX_BASE, ...cap.deps, uid: 0, fs: mem.fs, run: runner.run });
    assert.equal(code, 0, cap.err.join('\n'));
    const unit = mem.files.get('/etc/systemd/system/netpulse.service');
    assert.ok(unit !== undefined);
    assert.equal(unit.mode, 0o644);
    assert.match(unit.content, /^DynamicUser=yes$/m);
    assert.match(unit.content, /^Environment="NETPULSE_DB_PATH=\/var\/lib\/netpulse\/netpulse\.db"$/m);
    assert.deepEqual(runner.lines(), ['systemctl daemon-reload', 'systemctl enable --now netpulse.service']);
  });

  test('install --system without root refuses and writes nothing', async () => {
    const mem = memoryFs(BUILT);
    const runner = fakeRunner();
    const cap = captureOutput();
    const code = await runServiceCommand(['install', '--system'], { ...LINUX_BASE, ...cap.deps, fs: mem.fs, run: runner.run });
    assert.equal(code, 1);
    assert.match(cap.err.join('\n'), /needs root/);
    assert.equal(mem.files.size, 0);
    assert.deepEqual(runner.calls, []);
  });

  test('install --system --dry-run works without root and changes nothing', async () => {
    const mem = memoryFs(BUILT);
    const runner = fakeRunner();
    const cap = captureOutput();
    const code = await runServiceCommand(['install', '--system', '--dry-run'], { ...LINUX_BASE, ...cap.deps, fs: mem.fs, run: runner.run });
    assert.equal(code, 0);
    assert.match(cap.out.join('\n'), /Would write \/etc\/systemd\/system\/netpulse\.service:/);
    assert.equal(mem.files.size, 0);
    assert.equal(mem.dirs.size, 0);
    assert.deepEqual(runner.calls, []);
  });

  test('--system --user NAME --db-path runs as that user with the folder writable', async () => {
    const mem = memoryFs(BUILT);
    const cap = captureOutput();
    const code = await runServiceCommand(['install', '--system', '--user', 'netmon', '--db-path=/srv/np/np.db'], {
      ...LINUX_BASE,
      ...cap.deps,
      uid: 0,
      fs: mem.fs,
      run: fakeRunner().run,
    });
    assert.equal(code, 0, cap.err.join('\n'));
    const content = mem.files.get('/etc/systemd/system/netpulse.service')?.content ?? '';
    assert.match(content, /^User=netmon$/m);
    assert.match(content, /^ReadWritePaths="\/srv\/np"$/m);
    assert.doesNotMatch(content, /^StateDirectory=/m);
  });
});

describe('macOS and Windows', () => {
  const MAC: ServiceDeps = { platform: 'darwin', homedir: '/Users/alice', uid: 501, nodePath: '/opt/homebrew/bin/node', binPath: '/opt/net-pulse/bin/netpulse.js' };
  const WIN: ServiceDeps = {
    platform: 'win32',
    homedir: 'C:\\Users\\alice',
    uid: null,
    nodePath: 'C:\\Program Files\\nodejs\\node.exe',
    binPath: 'C:\\net-pulse\\bin\\netpulse.js',
  };
  const WIN_BUILT = ['C:\\net-pulse\\bin\\netpulse.js', 'C:\\net-pulse\\dist\\cli\\main.js'];

  test('macOS install writes the agent plist and bootstraps it into gui/<uid>', async () => {
    const mem = memoryFs(BUILT);
    const runner = fakeRunner({ 'launchctl bootout gui/501/dev.netpulse': { code: 113, stderr: 'Could not find service' } });
    const cap = captureOutput();
    const code = await runServiceCommand(['install'], { ...MAC, ...cap.deps, fs: mem.fs, run: runner.run });
    assert.equal(code, 0, cap.err.join('\n'));
    const plist = mem.files.get('/Users/alice/Library/LaunchAgents/dev.netpulse.plist');
    assert.ok(plist !== undefined);
    assert.match(plist.content, /<string>\/Users\/alice\/Library\/Application Support\/netpulse\/netpulse\.db<\/string>/);
    assert.ok(mem.dirs.has('/Users/alice/Library/Logs/netpulse'), 'launchd does not create log folders');
    assert.deepEqual(runner.lines(), [
      'launchctl bootout gui/501/dev.netpulse',
      'launchctl bootstrap gui/501 /Users/alice/Library/LaunchAgents/dev.netpulse.plist',
    ]);
  });

  test('macOS status reads launchctl print; uninstall boots it out and removes the plist', async () => {
    const mem = memoryFs(BUILT);
    assert.equal(await runServiceCommand(['install'], { ...MAC, ...captureOutput().deps, fs: mem.fs, run: fakeRunner().run }), 0);
    const printed = fakeRunner({ 'launchctl print gui/501/dev.netpulse': { stdout: 'gui/501/dev.netpulse = {\n\tstate = running\n}\n' } });
    assert.equal(await runServiceCommand(['status'], { ...MAC, ...captureOutput().deps, fs: mem.fs, run: printed.run }), 0);
    const runner = fakeRunner();
    assert.equal(await runServiceCommand(['uninstall'], { ...MAC, ...captureOutput().deps, fs: mem.fs, run: runner.run }), 0);
    assert.deepEqual(runner.lines(), ['launchctl bootout gui/501 /Users/alice/Library/LaunchAgents/dev.netpulse.plist']);
    assert.equal(mem.files.size, 0);
  });

  test('Windows install creates a limited logon task and starts it', async () => {
    const mem = memoryFs(WIN_BUILT);
    const runner = fakeRunner();
    const cap = captureOutput();
    const code = await runServiceCommand(['install'], { ...WIN, ...cap.deps, fs: mem.fs, run: runner.run });
    assert.equal(code, 0, cap.err.join('\n'));
    assert.deepEqual(runner.calls, [
      { command: 'schtasks', args: buildSchtasksCreateArgs(WIN.nodePath as string, WIN.binPath as string) },
      { command: 'schtasks', args: ['/Run', '/TN', 'NetPulse'] },
    ]);
    assert.ok(!runner.calls[0]?.args.includes('HIGHEST'));
    assert.equal(mem.files.size, 0);
  });

  test('Windows status and uninstall use schtasks /Query and /Delete', async () => {
    const mem = memoryFs(WIN_BUILT);
    const running = fakeRunner({ 'schtasks /Query /TN NetPulse /FO LIST': { stdout: 'TaskName: \\NetPulse\nStatus:   Running\n' } });
    assert.equal(await runServiceCommand(['status'], { ...WIN, ...captureOutput().deps, fs: mem.fs, run: running.run }), 0);
    const missing = fakeRunner({}, { code: 1, stderr: 'ERROR: The system cannot find the file specified.' });
    assert.equal(await runServiceCommand(['status'], { ...WIN, ...captureOutput().deps, fs: mem.fs, run: missing.run }), 3);
    const runner = fakeRunner();
    assert.equal(await runServiceCommand(['uninstall'], { ...WIN, ...captureOutput().deps, fs: mem.fs, run: runner.run }), 0);
    assert.deepEqual(runner.lines(), ['schtasks /Query /TN NetPulse', 'schtasks /End /TN NetPulse', 'schtasks /Delete /TN NetPulse /F']);
  });

  test('Windows refuses a task command longer than schtasks allows', async () => {
    const cap = captureOutput();
    const code = await runServiceCommand(['install', '--dry-run'], { ...WIN, ...cap.deps, binPath: `C:\\${'x'.repeat(250)}\\bin\\netpulse.js`, fs: memoryFs().fs, run: fakeRunner().run });
    assert.equal(code, 2);
    assert.match(cap.err.join('\n'), /schtasks allows 261/);
  });
});

describe('arguments', () => {
  const cases: Array<{ argv: string[]; deps?: ServiceDeps; message: RegExp }> = [
    { argv: ['install', '--bogus'], message: /unknown option --bogus/ },
    { argv: ['install', '-x'], message: /unknown option -x/ },
    { argv: [], message: /missing command/ },
    { argv: ['start'], message: /unknown command "start"/ },
    { argv: ['install', 'status'], message: /unexpected argument "status"/ },
    { argv: ['install', '--user', 'bob'], message: /--user goes with --system/ },
    { argv: ['install', '--system', '--user', 'root'], message: /not an unprivileged account/ },
    { argv: ['install', '--system', '--user', 'Bad Name'], message: /not an unprivileged account/ },
    { argv: ['install', '--db-path', 'relative/np.db'], message: /must be an absolute path/ },
    { argv: ['install', '--db-path'], message: /--db-path needs a value/ },
    { argv: ['install', '--db-path=/tmp/a\nb.db'], message: /control character/ },
    { argv: ['install', '--dry-run=yes'], message: /takes no value/ },
    { argv: ['install', '--system', '--db-path', '/srv/np.db'], message: /needs --user/ },
    { argv: ['install', '--system'], deps: { platform: 'darwin', uid: 501 }, message: /only supported on Linux/ },
    { argv: ['install'], deps: { platform: 'freebsd' }, message: /not freebsd/ },
    { argv: ['install'], deps: { binPath: 'bin/netpulse.js' }, message: /must be an absolute path/ },
  ];
  for (const c of cases) {
    test(`netpulse service ${JSON.stringify(c.argv)} is a usage error (exit 2)`, async () => {
      const mem = memoryFs(BUILT);
      const runner = fakeRunner();
      const cap = captureOutput();
      const code = await runServiceCommand(c.argv, { ...LINUX_BASE, ...c.deps, ...cap.deps, fs: mem.fs, run: runner.run });
      assert.equal(code, 2);
      assert.match(cap.err.join('\n'), c.message);
      assert.equal(mem.files.size, 0);
      assert.deepEqual(runner.calls, []);
    });
  }

  test('--help prints the usage and exits 0, whatever else is given', async () => {
    for (const argv of [['--help'], ['install', '-h'], ['--bogus', '--help']]) {
      const cap = captureOutput();
      assert.equal(await runServiceCommand(argv, { ...LINUX_BASE, ...cap.deps, fs: memoryFs().fs, run: fakeRunner().run }), 0);
      assert.match(cap.out.join('\n'), /Usage: netpulse service <install\|uninstall\|status>/);
    }
  });

  test('the default bin path is this package’s bin/netpulse.js', async () => {
    const cap = captureOutput();
    const code = await runServiceCommand(['install', '--dry-run'], { platform: 'linux', homedir: '/home/alice', uid: 1000, nodePath: '/usr/bin/node', ...cap.deps, fs: memoryFs().fs });
    assert.equal(code, 0);
    assert.ok(cap.out.join('\n').includes(`"${REPO_BIN}" serve`));
  });
});
