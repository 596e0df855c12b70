/**
 * `netpulse service install|uninstall|status`: run Net-Pulse in the background under the platform's
 * service manager (systemd on Linux, launchd on macOS, the Task Scheduler on Windows).
 *
 * Everything that touches the machine — platform, home folder, uid, files, commands, output — comes in
 * through ServiceDeps, so tests render and install into a temp folder with a fake command runner.
 *
 * Exit codes: 0 done; 1 failed, or wrote the file but could not start it (the message says what to do);
 * 2 bad usage. `status`: 0 installed and running, 3 not running or not installed, 4 state unknown.
 */
import { execFile } from 'node:child_process';
import { access, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir, userInfo } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  LAUNCHD_LABEL,
  SCHTASKS_TASK_NAME,
  SCHTASKS_TR_MAX_CHARS,
  SYSTEMD_UNIT_NAME,
  buildSchtasksCreateArgs,
  renderLaunchdPlist,
  renderSchtasksCommand,
  renderSystemdUnit,
} from './service-units.js';

export interface CommandResult {
  /** Exit code; null when the command could not be started at all (see `error`). */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Why the command did not run (e.g. "spawn systemctl ENOENT"). */
  error?: string;
}

export type CommandRunner = (command: string, args: readonly string[]) => Promise<CommandResult>;

export interface ServiceFs {
  /** The file's text, or null if it does not exist. */
  readFile(file: string): Promise<string | null>;
  /** Writes the file, creating its folder. */
  writeFile(file: string, content: string, mode: number): Promise<void>;
  /** Removes the file; false if it was not there. */
  removeFile(file: string): Promise<boolean>;
  mkdir(dir: string, mode: number): Promise<void>;
  exists(file: string): Promise<boolean>;
}

export interface ServiceDeps {
  platform?: NodeJS.Platform;
  homedir?: string;
  /** Numeric user id (launchd's gui/<uid> domain, root check); null where there is none (Windows). */
  uid?: number | null;
  username?: string;
  /** The node binary the service runs (default: process.execPath). */
  nodePath?: string;
  /** The CLI entry the service runs (default: this package's bin/netpulse.js). */
  binPath?: string;
  fs?: ServiceFs;
  run?: CommandRunner;
  out?: (text: string) => void;
  err?: (text: string) => void;
}

interface ResolvedDeps {
  platform: NodeJS.Platform;
  homedir: string;
  uid: number | null;
  username: string;
  nodePath: string;
  binPath: string;
  fs: ServiceFs;
  run: CommandRunner;
  out: (text: string) => void;
  err: (text: string) => void;
}

type Action = 'install' | 'uninstall' | 'status';

interface ServiceArgs {
  action: Action;
  system: boolean;
  dryRun: boolean;
  runAsUser: string | null;
  dbPath: string | null;
}

class UsageError extends Error {}

export const SERVICE_HELP = `Usage: netpulse service <install|uninstall|status> [options]

Runs Net-Pulse in the background, started at boot or logon:
  Linux    a systemd user unit, ~/.config/systemd/user/${SYSTEMD_UNIT_NAME}
           (--system: /etc/systemd/system/${SYSTEMD_UNIT_NAME}, needs root)
  macOS    a launchd agent, ~/Library/LaunchAgents/${LAUNCHD_LABEL}.plist
  Windows  a Task Scheduler logon task "${SCHTASKS_TASK_NAME}" with limited rights

Commands:
  install     write the service definition, then enable and start it
  uninstall   stop and disable it, then remove the definition
  status      say whether it is installed and running
              (exit 0 running, 3 not running or not installed, 4 unknown)

Options:
  --system          Linux only: a system-wide unit run by an unprivileged dynamic
                    user, database in /var/lib/netpulse (needs root)
  --user NAME       with --system: run as this existing account instead
  --db-path PATH    absolute path of the database file (default: user units
                    ~/.local/share/netpulse/netpulse.db, system units
                    /var/lib/netpulse/netpulse.db, macOS
                    ~/Library/Application Support/netpulse/netpulse.db)
  --dry-run         print what would be written and run; change nothing
  -h, --help        show this help

Other settings (NETPULSE_HOST, NETPULSE_PORT, NETPULSE_AUTH_TOKEN, ...) go in the
environment file named in the unit, or the plist's EnvironmentVariables.
`;

const defaultFs: ServiceFs = {
  async readFile(file) {
    try {
      return await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  },
  async writeFile(file, content, mode) {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content, { mode });
  },
  async removeFile(file) {
    try {
      await access(file);
    } catch {
      return false;
    }
    await rm(file, { force: true });
    return true;
  },
  async mkdir(dir, mode) {
    await mkdir(dir, { recursive: true, mode });
  },
  async exists(file) {
    try {
      await access(file);
      return true;
    } catch {
      return false;
    }
  },
};

const defaultRun: CommandRunner = (command, args) =>
  new Promise((resolve) => {
    execFile(command, [...args], { timeout: 30_000, windowsHide: true }, (error, stdout, stderr) => {
      if (error === null) {
        resolve({ code: 0, stdout, stderr });
        return;
      }
      const code = typeof error.code === 'number' ? error.code : null;
      resolve(code === null ? { code, stdout, stderr, error: error.message } : { code, stdout, stderr });
    });
  });

function defaultBinPath(): string {
  // src/cli/service.ts and dist/cli/service.js both sit two folders under the package root.
  return fileURLToPath(new URL('../../bin/netpulse.js', import.meta.url));
}

function resolveDeps(deps: ServiceDeps): ResolvedDeps {
  let username = deps.username;
  if (username === undefined) {
    try {
      username = userInfo().username;
    } catch {
      username = process.env.USER ?? process.env.USERNAME ?? 'user';
    }
  }
  return {
    platform: deps.platform ?? process.platform,
    homedir: deps.homedir ?? homedir(),
    uid: deps.uid !== undefined ? deps.uid : typeof process.getuid === 'function' ? process.getuid() : null,
    username,
    nodePath: deps.nodePath ?? process.execPath,
    binPath: deps.binPath ?? defaultBinPath(),
    fs: deps.fs ?? defaultFs,
    run: deps.run ?? defaultRun,
    out: deps.out ?? ((text) => process.stdout.write(`${text}\n`)),
    err: deps.err ?? ((text) => process.stderr.write(`${text}\n`)),
  };
}

const ACTIONS: readonly Action[] = ['install', 'uninstall', 'status'];
const USERNAME_PATTERN = /^[a-z_][a-z0-9_-]{0,31}$/;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/** Parses argv after `service`. Returns 'help' for --help; throws UsageError on anything unknown. */
function parseArgs(argv: readonly string[]): ServiceArgs | 'help' {
  let action: Action | null = null;
  let system = false;
  let dryRun = false;
  let runAsUser: string | null = null;
  let dbPath: string | null = null;

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h') return 'help';
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq === -1 ? arg : arg.slice(0, eq);
    const takeValue = (): string => {
      if (eq !== -1) return arg.slice(eq + 1);
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('-')) throw new UsageError(`${name} needs a value`);
      i++;
      return next;
    };
    switch (name) {
      case '--system':
      case '--dry-run':
        if (eq !== -1) throw new UsageError(`${name} takes no value`);
        if (name === '--system') system = true;
        else dryRun = true;
        break;
      case '--user':
        runAsUser = takeValue();
        break;
      case '--db-path':
        dbPath = takeValue();
        break;
      default:
        if (arg.startsWith('-')) throw new UsageError(`unknown option ${name}`);
        if (action !== null) throw new UsageError(`unexpected argument "${arg}"`);
        if (!(ACTIONS as readonly string[]).includes(arg)) {
          throw new UsageError(`unknown command "${arg}": expected install, uninstall or status`);
        }
        action = arg as Action;
    }
  }
  if (action === null) throw new UsageError('missing command: install, uninstall or status');
  return { action, system, dryRun, runAsUser, dbPath };
}

interface LinuxPlan {
  kind: 'systemd';
  scope: 'user' | 'system';
  unitPath: string;
  content: string;
  dbPath: string;
  environmentFile: string;
  /** Folders to create before starting (user units; system units get StateDirectory=). */
  dirs: string[];
}

interface MacPlan {
  kind: 'launchd';
  plistPath: string;
  content: string;
  dbPath: string;
  logDir: string;
  domain: string;
}

interface WindowsPlan {
  kind: 'schtasks';
  createArgs: string[];
}

type Plan = LinuxPlan | MacPlan | WindowsPlan;

function checkPath(label: string, value: string, p: typeof path.posix | typeof path.win32): void {
  if (CONTROL_CHARS.test(value)) throw new UsageError(`${label} contains a control character`);
  if (!p.isAbsolute(value)) throw new UsageError(`${label} must be an absolute path, got "${value}"`);
}

const SYSTEM_STATE_DIR = '/var/lib/netpulse';

function planFor(args: ServiceArgs, d: ResolvedDeps): Plan {
  const { platform } = d;
  if (platform !== 'linux' && platform !== 'darwin' && platform !== 'win32') {
    throw new UsageError(`netpulse service supports Linux, macOS and Windows, not ${platform}`);
  }
  if (args.system && platform !== 'linux') throw new UsageError('--system is only supported on Linux');
  if (args.runAsUser !== null && !args.system) throw new UsageError('--user goes with --system');
  if (args.runAsUser !== null && (!USERNAME_PATTERN.test(args.runAsUser) || args.runAsUser === 'root')) {
    throw new UsageError(`--user "${args.runAsUser}" is not an unprivileged account name`);
  }
  const p = platform === 'win32' ? path.win32 : path.posix;
  checkPath('the node binary path', d.nodePath, p);
  checkPath('the netpulse bin path', d.binPath, p);
  checkPath('the home folder', d.homedir, p);
  if (args.dbPath !== null) checkPath('--db-path', args.dbPath, p);

  if (platform === 'win32') {
    if (args.dbPath !== null) {
      throw new UsageError('--db-path is not supported on Windows: set NETPULSE_DB_PATH for your account (setx NETPULSE_DB_PATH <path>)');
    }
    if (d.nodePath.includes('"') || d.binPath.includes('"')) {
      throw new UsageError('paths with double quotes cannot be scheduled');
    }
    const tr = renderSchtasksCommand(d.nodePath, d.binPath);
    if (tr.length > SCHTASKS_TR_MAX_CHARS) {
      throw new UsageError(`the task command is ${tr.length} characters; schtasks allows ${SCHTASKS_TR_MAX_CHARS}. Install Net-Pulse in a shorter path.`);
    }
    return { kind: 'schtasks', createArgs: buildSchtasksCreateArgs(d.nodePath, d.binPath) };
  }

  if (platform === 'darwin') {
    if (d.uid === null) throw new UsageError('cannot tell the user id for launchd');
    const appSupport = p.join(d.homedir, 'Library', 'Application Support', 'netpulse');
    const logDir = p.join(d.homedir, 'Library', 'Logs', 'netpulse');
    const dbPath = args.dbPath ?? p.join(appSupport, 'netpulse.db');
    const content = renderLaunchdPlist({
      nodePath: d.nodePath,
      binPath: d.binPath,
      dbPath,
      workingDirectory: d.homedir,
      stdoutPath: p.join(logDir, 'netpulse.log'),
      stderrPath: p.join(logDir, 'netpulse.err.log'),
    });
    return {
      kind: 'launchd',
      plistPath: p.join(d.homedir, 'Library', 'LaunchAgents', `${LAUNCHD_LABEL}.plist`),
      content,
      dbPath,
      logDir,
      domain: `gui/${d.uid}`,
    };
  }

  if (args.system) {
    const dbPath = args.dbPath ?? p.join(SYSTEM_STATE_DIR, 'netpulse.db');
    const inStateDir = p.dirname(dbPath) === SYSTEM_STATE_DIR;
    if (!inStateDir && args.runAsUser === null) {
      throw new UsageError(
        `--db-path outside ${SYSTEM_STATE_DIR}/ needs --user NAME: the dynamic user can only own ${SYSTEM_STATE_DIR}`,
      );
    }
    const environmentFile = '/etc/netpulse/netpulse.env';
    const content = renderSystemdUnit({
      scope: 'system',
      nodePath: d.nodePath,
      binPath: d.binPath,
      dbPath,
      environmentFile,
      runAsUser: args.runAsUser,
      stateDirectory: inStateDir ? 'netpulse' : null,
    });
    return {
      kind: 'systemd',
      scope: 'system',
      unitPath: p.join('/etc/systemd/system', SYSTEMD_UNIT_NAME),
      content,
      dbPath,
      environmentFile,
      dirs: [],
    };
  }

  const dbPath = args.dbPath ?? p.join(d.homedir, '.local', 'share', 'netpulse', 'netpulse.db');
  const environmentFile = p.join(d.homedir, '.config', 'netpulse', 'netpulse.env');
  const content = renderSystemdUnit({
    scope: 'user',
    nodePath: d.nodePath,
    binPath: d.binPath,
    dbPath,
    environmentFile,
    runAsUser: null,
    stateDirectory: null,
  });
  return {
    kind: 'systemd',
    scope: 'user',
    unitPath: p.join(d.homedir, '.config', 'systemd', 'user', SYSTEMD_UNIT_NAME),
    content,
    dbPath,
    environmentFile,
    dirs: [p.dirname(dbPath)],
  };
}

function systemctlArgs(plan: LinuxPlan, ...rest: string[]): string[] {
  return plan.scope === 'user' ? ['--user', ...rest] : rest;
}

function formatCommand(command: string, args: readonly string[]): string {
  return [command, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** One line on why a command failed: its error, else its first stderr line, else its exit code. */
function whyFailed(result: CommandResult): string {
  if (result.error !== undefined) return result.error;
  const line = result.stderr.trim().split('\n')[0]?.trim();
  return line !== undefined && line !== '' ? line : `exit code ${result.code}`;
}

function ok(result: CommandResult): boolean {
  return result.code === 0;
}

function startByHand(d: ResolvedDeps): string {
  return formatCommand(d.nodePath, [d.binPath, 'serve']);
}

async function checkBuilt(d: ResolvedDeps, dryRun: boolean): Promise<boolean> {
  const p = d.platform === 'win32' ? path.win32 : path.posix;
  const mainJs = p.join(p.dirname(d.binPath), '..', 'dist', 'cli', 'main.js');
  const problems: string[] = [];
  if (!(await d.fs.exists(d.binPath))) problems.push(`${d.binPath} does not exist`);
  else if (!(await d.fs.exists(mainJs))) problems.push(`${p.normalize(mainJs)} does not exist: run \`npm run build\` first`);
  for (const problem of problems) d.err(`${dryRun ? 'warning' : 'error'}: ${problem}`);
  return problems.length === 0;
}

async function install(plan: Plan, args: ServiceArgs, d: ResolvedDeps): Promise<number> {
  if (plan.kind === 'systemd' && plan.scope === 'system' && d.uid !== 0 && !args.dryRun) {
    d.err(`error: a system unit needs root: sudo ${formatCommand(d.nodePath, [d.binPath, 'service', 'install', '--system'])}`);
    return 1;
  }
  const built = await checkBuilt(d, args.dryRun);
  if (!built && !args.dryRun) return 1;
  if (plan.kind === 'systemd' && plan.scope === 'system' && args.runAsUser === null) {
    const inHome = [d.nodePath, d.binPath].filter((p) => /^\/(home|root)\//.test(p));
    for (const p of inHome) {
      d.err(`warning: the service's dynamic user must be able to read ${p}; if it cannot, use --user NAME or install Net-Pulse outside home folders.`);
    }
  }

  if (plan.kind === 'schtasks') {
    if (args.dryRun) {
      d.out('Would run:');
      d.out(`  ${formatCommand('schtasks', plan.createArgs)}`);
      d.out(`  ${formatCommand('schtasks', ['/Run', '/TN', SCHTASKS_TASK_NAME])}`);
      return 0;
    }
    const created = await d.run('schtasks', plan.createArgs);
    if (!ok(created)) {
      d.err(`error: could not create the scheduled task: ${whyFailed(created)}`);
      d.err('Creating a logon task may need an elevated prompt. Net-Pulse can still be started by hand:');
      d.err(`  ${startByHand(d)}`);
      return 1;
    }
    const started = await d.run('schtasks', ['/Run', '/TN', SCHTASKS_TASK_NAME]);
    if (!ok(started)) {
      d.err(`Created the task "${SCHTASKS_TASK_NAME}" (it starts at your next logon) but could not start it now: ${whyFailed(started)}`);
      return 1;
    }
    d.out(`Installed and started the scheduled task "${SCHTASKS_TASK_NAME}"; it starts at every logon.`);
    d.out('Dashboard: http://127.0.0.1:8000/ (unless NETPULSE_HOST/NETPULSE_PORT say otherwise)');
    return 0;
  }

  if (plan.kind === 'launchd') {
    const bootstrap = ['bootstrap', plan.domain, plan.plistPath];
    if (args.dryRun) {
      d.out(`Would write ${plan.plistPath}:`);
      d.out(plan.content);
      d.out('Would run:');
      d.out(`  ${formatCommand('launchctl', ['bootout', `${plan.domain}/${LAUNCHD_LABEL}`])}   (if loaded)`);
      d.out(`  ${formatCommand('launchctl', bootstrap)}`);
      return 0;
    }
    await d.fs.mkdir(plan.logDir, 0o700);
    await d.fs.mkdir(path.posix.dirname(plan.dbPath), 0o700);
    await d.fs.writeFile(plan.plistPath, plan.content, 0o644);
    d.out(`Wrote ${plan.plistPath}`);
    // bootstrap fails if the label is already loaded: unload any previous copy first.
    await d.run('launchctl', ['bootout', `${plan.domain}/${LAUNCHD_LABEL}`]);
    const loaded = await d.run('launchctl', bootstrap);
    if (!ok(loaded)) {
      d.err(`Could not load it with launchd: ${whyFailed(loaded)}`);
      d.err(`Load it later with: ${formatCommand('launchctl', bootstrap)}`);
      d.err(`or start Net-Pulse by hand: ${startByHand(d)}`);
      return 1;
    }
    d.out(`Loaded ${LAUNCHD_LABEL} into ${plan.domain}; it starts at every logon.`);
    d.out(`Logs: ${plan.logDir}`);
    d.out('Dashboard: http://127.0.0.1:8000/ (unless NETPULSE_HOST/NETPULSE_PORT say otherwise)');
    return 0;
  }

  const reload = systemctlArgs(plan, 'daemon-reload');
  const enable = systemctlArgs(plan, 'enable', '--now', SYSTEMD_UNIT_NAME);
  if (args.dryRun) {
    d.out(`Would write ${plan.unitPath}:`);
    d.out(plan.content);
    d.out('Would run:');
    d.out(`  ${formatCommand('systemctl', reload)}`);
    d.out(`  ${formatCommand('systemctl', enable)}`);
    return 0;
  }
  for (const dir of plan.dirs) await d.fs.mkdir(dir, 0o700);
  await d.fs.writeFile(plan.unitPath, plan.content, 0o644);
  d.out(`Wrote ${plan.unitPath}`);

  const howToStart = () => {
    d.err('Start it on a machine running systemd with:');
    d.err(`  ${formatCommand('systemctl', reload)} && ${formatCommand('systemctl', enable)}`);
    d.err(`or start Net-Pulse by hand: ${formatCommand('env', [`NETPULSE_DB_PATH=${plan.dbPath}`, d.nodePath, d.binPath, 'serve'])}`);
  };
  const reloaded = await d.run('systemctl', reload);
  if (!ok(reloaded)) {
    d.err(`Could not reach systemd, so the service is NOT enabled or started: ${whyFailed(reloaded)}`);
    howToStart();
    return 1;
  }
  const enabled = await d.run('systemctl', enable);
  if (!ok(enabled)) {
    d.err(`systemd could not enable or start ${SYSTEMD_UNIT_NAME}: ${whyFailed(enabled)}`);
    d.err(`See: ${formatCommand('journalctl', systemctlArgs(plan, '-u', SYSTEMD_UNIT_NAME, '-e'))}`);
    howToStart();
    return 1;
  }
  d.out(`Enabled and started ${SYSTEMD_UNIT_NAME} (${plan.scope}).`);
  d.out(`Database: ${plan.dbPath}`);
  d.out(`Settings: ${plan.environmentFile} (KEY=value lines, read at start; keep the token there)`);
  d.out(`Logs: ${formatCommand('journalctl', systemctlArgs(plan, '-u', SYSTEMD_UNIT_NAME, '-f'))}`);
  d.out('Dashboard: http://127.0.0.1:8000/ (unless NETPULSE_HOST/NETPULSE_PORT say otherwise)');
  if (plan.scope === 'user') {
    d.out(`A user unit stops when you log out; to keep it running: loginctl enable-linger ${d.username}`);
  }
  return 0;
}

async function uninstall(plan: Plan, args: ServiceArgs, d: ResolvedDeps): Promise<number> {
  if (plan.kind === 'systemd' && plan.scope === 'system' && d.uid !== 0 && !args.dryRun) {
    d.err('error: removing a system unit needs root (sudo)');
    return 1;
  }

  if (plan.kind === 'schtasks') {
    const end = ['/End', '/TN', SCHTASKS_TASK_NAME];
    const del = ['/Delete', '/TN', SCHTASKS_TASK_NAME, '/F'];
    if (args.dryRun) {
      d.out('Would run:');
      d.out(`  ${formatCommand('schtasks', end)}`);
      d.out(`  ${formatCommand('schtasks', del)}`);
      return 0;
    }
    const query = await d.run('schtasks', ['/Query', '/TN', SCHTASKS_TASK_NAME]);
    if (!ok(query)) {
      d.out(`The scheduled task "${SCHTASKS_TASK_NAME}" is not installed.`);
      return 0;
    }
    await d.run('schtasks', end);
    const deleted = await d.run('schtasks', del);
    if (!ok(deleted)) {
      d.err(`error: could not delete the task "${SCHTASKS_TASK_NAME}": ${whyFailed(deleted)}`);
      return 1;
    }
    d.out(`Stopped and removed the scheduled task "${SCHTASKS_TASK_NAME}".`);
    return 0;
  }

  const file = plan.kind === 'launchd' ? plan.plistPath : plan.unitPath;
  const stopArgs =
    plan.kind === 'launchd' ? ['bootout', plan.domain, plan.plistPath] : systemctlArgs(plan, 'disable', '--now', SYSTEMD_UNIT_NAME);
  const stopCommand = plan.kind === 'launchd' ? 'launchctl' : 'systemctl';
  const present = (await d.fs.readFile(file)) !== null;
  if (args.dryRun) {
    if (!present) {
      d.out(`Not installed: ${file} does not exist. Nothing would change.`);
      return 0;
    }
    d.out('Would run:');
    d.out(`  ${formatCommand(stopCommand, stopArgs)}`);
    d.out(`Would remove ${file}`);
    if (plan.kind === 'systemd') d.out(`Would run:\n  ${formatCommand('systemctl', systemctlArgs(plan, 'daemon-reload'))}`);
    return 0;
  }
  if (!present) {
    d.out(`Not installed: ${file} does not exist.`);
    return 0;
  }
  const stopped = await d.run(stopCommand, stopArgs);
  await d.fs.removeFile(file);
  d.out(`Removed ${file}`);
  if (plan.kind === 'systemd') {
    const reloaded = await d.run('systemctl', systemctlArgs(plan, 'daemon-reload'));
    if (!ok(stopped) && !ok(reloaded)) {
      d.out(`systemd could not be reached (${whyFailed(reloaded)}); if Net-Pulse was started by hand, stop that process yourself.`);
      return 0;
    }
  }
  if (ok(stopped)) d.out('Stopped and disabled the service.');
  else d.out(`The service manager did not stop it (${whyFailed(stopped)}); it was probably not running.`);
  d.out(`The database was kept: ${plan.dbPath}`);
  return 0;
}

const SYSTEMD_STATES = new Set(['active', 'inactive', 'failed', 'activating', 'deactivating', 'reloading', 'maintenance', 'refreshing']);

async function status(plan: Plan, d: ResolvedDeps): Promise<number> {
  if (plan.kind === 'schtasks') {
    const query = await d.run('schtasks', ['/Query', '/TN', SCHTASKS_TASK_NAME, '/FO', 'LIST']);
    if (query.code === null) {
      d.out(`Unknown: could not run schtasks (${whyFailed(query)}).`);
      return 4;
    }
    if (!ok(query)) {
      d.out(`Not installed: no scheduled task "${SCHTASKS_TASK_NAME}".`);
      return 3;
    }
    const running = /^\s*Status:\s*Running\s*$/im.test(query.stdout);
    d.out(`Installed: scheduled task "${SCHTASKS_TASK_NAME}" (at logon). Running: ${running ? 'yes' : 'no'}.`);
    return running ? 0 : 3;
  }

  const file = plan.kind === 'launchd' ? plan.plistPath : plan.unitPath;
  const installed = (await d.fs.readFile(file)) !== null;
  if (!installed) {
    d.out(`Not installed: ${file} does not exist.`);
    return 3;
  }

  if (plan.kind === 'launchd') {
    const printed = await d.run('launchctl', ['print', `${plan.domain}/${LAUNCHD_LABEL}`]);
    if (printed.code === null) {
      d.out(`Installed: ${file}. Running: unknown (${whyFailed(printed)}).`);
      return 4;
    }
    const loaded = ok(printed);
    const running = loaded && /^\s*state = running\s*$/m.test(printed.stdout);
    d.out(`Installed: ${file}. Loaded: ${loaded ? 'yes' : 'no'}. Running: ${running ? 'yes' : 'no'}.`);
    return running ? 0 : 3;
  }

  const active = await d.run('systemctl', systemctlArgs(plan, 'is-active', SYSTEMD_UNIT_NAME));
  const enabled = await d.run('systemctl', systemctlArgs(plan, 'is-enabled', SYSTEMD_UNIT_NAME));
  const state = active.stdout.trim();
  if (!SYSTEMD_STATES.has(state)) {
    d.out(`Installed: ${file} (${plan.scope} unit). Running: unknown, systemd could not be reached (${whyFailed(active)}).`);
    return 4;
  }
  const enabledState = enabled.stdout.trim() || 'unknown';
  d.out(`Installed: ${file} (${plan.scope} unit). Enabled: ${enabledState}. Active: ${state}.`);
  return state === 'active' ? 0 : 3;
}

/** `netpulse service …` with argv after `service`. Returns the exit code; never calls process.exit. */
export async function runServiceCommand(argv: string[], deps?: ServiceDeps): Promise<number> {
  const d = resolveDeps(deps ?? {});
  let args: ServiceArgs | 'help';
  let plan: Plan;
  try {
    args = parseArgs(argv);
    if (args === 'help') {
      d.out(SERVICE_HELP);
      return 0;
    }
    plan = planFor(args, d);
  } catch (error) {
    if (error instanceof UsageError) {
      d.err(`netpulse service: ${error.message}`);
      d.err('Try: netpulse service --help');
      return 2;
    }
    throw error;
  }

  try {
    switch (args.action) {
      case 'install':
        return await install(plan, args, d);
      case 'uninstall':
        return await uninstall(plan, args, d);
      case 'status':
        return await status(plan, d);
    }
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    d.err(`error: ${e.message}`);
    if (e.code === 'EACCES' || e.code === 'EPERM') d.err('Permission denied: a system-wide service needs root (sudo).');
    return 1;
  }
}
