/**
 * Renders the files and commands `netpulse service install` hands to each platform's service manager:
 * a systemd unit (Linux), a launchd agent plist (macOS), schtasks arguments (Windows). Pure functions:
 * no file system, no process; the paths they get are absolute and already checked.
 */

export const SYSTEMD_UNIT_NAME = 'netpulse.service';
export const LAUNCHD_LABEL = 'dev.netpulse';
export const SCHTASKS_TASK_NAME = 'NetPulse';
/** schtasks refuses a /TR command longer than this. */
export const SCHTASKS_TR_MAX_CHARS = 261;

export interface SystemdUnitOptions {
  /** 'user': ~/.config/systemd/user, run by the user's manager; 'system': /etc/systemd/system. */
  scope: 'user' | 'system';
  nodePath: string;
  binPath: string;
  dbPath: string;
  /** Optional KEY=value file for the other NETPULSE_* variables (the token belongs there, not in the unit). */
  environmentFile: string;
  /** System units only: the account to run as; null → a transient DynamicUser. */
  runAsUser: string | null;
  /** System units only: the state directory systemd creates and owns for the service, or null if the
   * database lives elsewhere (then its folder is listed in ReadWritePaths=). */
  stateDirectory: string | null;
}

/** A word for ExecStart=: quoted, with systemd's specifier (%) and variable ($) signs doubled. */
export function quoteSystemdWord(word: string): string {
  return `"${word.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%').replace(/\$/g, '$$$$')}"`;
}

/** A value for Environment=/ReadWritePaths=: quoted, specifiers escaped (no $ expansion there). */
function quoteSystemdValue(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%')}"`;
}

/** A path for EnvironmentFile= (one path, taken whole: no quoting, only specifiers escaped). */
function escapeSystemdPath(value: string): string {
  return value.replace(/%/g, '%%');
}

function isUnder(child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent.endsWith('/') ? parent : `${parent}/`);
}

const HOME_ROOTS = ['/home', '/root', '/run/user'];

export function renderSystemdUnit(options: SystemdUnitOptions): string {
  const { scope, nodePath, binPath, dbPath, environmentFile } = options;
  const execStart = `ExecStart=${quoteSystemdWord(nodePath)} ${quoteSystemdWord(binPath)} serve`;
  const lines: string[] = [
    '# Net-Pulse network traffic monitor.',
    '# Written by `netpulse service install`; remove it with `netpulse service uninstall`.',
    `# Other settings (NETPULSE_HOST, NETPULSE_PORT, NETPULSE_AUTH_TOKEN, ...) go in ${environmentFile}.`,
    '[Unit]',
    'Description=Net-Pulse network traffic monitor',
  ];
  if (scope === 'system') {
    lines.push('Wants=network-online.target', 'After=network-online.target');
  }
  lines.push('', '[Service]', 'Type=simple', execStart);

  if (scope === 'system') {
    if (options.runAsUser === null) {
      lines.push('# A transient unprivileged user: counters in /proc/net/dev and /sys/class/net are world-readable.');
      lines.push('DynamicUser=yes');
    } else {
      lines.push(`User=${options.runAsUser}`);
    }
    if (options.stateDirectory !== null) {
      lines.push(`StateDirectory=${options.stateDirectory}`, 'StateDirectoryMode=0750');
    }
  }

  lines.push(
    `Environment=${quoteSystemdValue(`NETPULSE_DB_PATH=${dbPath}`)}`,
    'Environment=NODE_ENV=production',
    `EnvironmentFile=-${escapeSystemdPath(environmentFile)}`,
    'Restart=on-failure',
    'RestartSec=5',
    'NoNewPrivileges=yes',
    'UMask=0077',
  );

  if (scope === 'system') {
    const inHome = [nodePath, binPath, dbPath].some((p) => HOME_ROOTS.some((root) => isUnder(p, root)));
    const dbDir = dbPath.slice(0, dbPath.lastIndexOf('/')) || '/';
    lines.push(
      '# Hardening. Not set on purpose: PrivateNetwork (it would hide the host interfaces),',
      "# MemoryDenyWriteExecute (V8's JIT needs it), SystemCallFilter (Node's io_uring use varies).",
      'CapabilityBoundingSet=',
      'AmbientCapabilities=',
      '# Per-host totals (NETPULSE_FLOWS=on) add an nftables table and need CAP_NET_ADMIN: replace the two lines',
      '# above with CapabilityBoundingSet=CAP_NET_ADMIN and AmbientCapabilities=CAP_NET_ADMIN.',
      'ProtectSystem=strict',
      inHome ? 'ProtectHome=read-only' : 'ProtectHome=yes',
    );
    if (options.stateDirectory === null) {
      lines.push(`ReadWritePaths=${quoteSystemdValue(dbDir)}`);
    }
    lines.push(
      'PrivateTmp=yes',
      'PrivateDevices=yes',
      'ProtectKernelTunables=yes',
      'ProtectKernelModules=yes',
      'ProtectKernelLogs=yes',
      'ProtectControlGroups=yes',
      'ProtectClock=yes',
      'ProtectHostname=yes',
      'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK',
      'RestrictNamespaces=yes',
      'RestrictRealtime=yes',
      'RestrictSUIDSGID=yes',
      'LockPersonality=yes',
      'SystemCallArchitectures=native',
    );
  }

  lines.push('', '[Install]', `WantedBy=${scope === 'system' ? 'multi-user.target' : 'default.target'}`, '');
  return lines.join('\n');
}

export interface LaunchdPlistOptions {
  nodePath: string;
  binPath: string;
  dbPath: string;
  workingDirectory: string;
  stdoutPath: string;
  stderrPath: string;
}

function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

export function renderLaunchdPlist(options: LaunchdPlistOptions): string {
  const s = (text: string) => `<string>${xmlEscape(text)}</string>`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<!-- Net-Pulse: written by `netpulse service install`; remove it with `netpulse service uninstall`. -->',
    '<!-- Other settings (NETPULSE_HOST, NETPULSE_PORT, NETPULSE_AUTH_TOKEN, ...) go in EnvironmentVariables. -->',
    '<plist version="1.0">',
    '<dict>',
    `  <key>Label</key>`,
    `  ${s(LAUNCHD_LABEL)}`,
    '  <key>ProgramArguments</key>',
    '  <array>',
    `    ${s(options.nodePath)}`,
    `    ${s(options.binPath)}`,
    `    ${s('serve')}`,
    '  </array>',
    '  <key>EnvironmentVariables</key>',
    '  <dict>',
    '    <key>NETPULSE_DB_PATH</key>',
    `    ${s(options.dbPath)}`,
    '    <key>NODE_ENV</key>',
    `    ${s('production')}`,
    '  </dict>',
    '  <key>WorkingDirectory</key>',
    `  ${s(options.workingDirectory)}`,
    '  <key>RunAtLoad</key>',
    '  <true/>',
    '  <!-- Restart after a crash, not after a clean exit (like systemd Restart=on-failure). -->',
    '  <key>KeepAlive</key>',
    '  <dict>',
    '    <key>SuccessfulExit</key>',
    '    <false/>',
    '  </dict>',
    '  <key>ThrottleInterval</key>',
    '  <integer>10</integer>',
    '  <key>ProcessType</key>',
    `  ${s('Background')}`,
    '  <key>StandardOutPath</key>',
    `  ${s(options.stdoutPath)}`,
    '  <key>StandardErrorPath</key>',
    `  ${s(options.stderrPath)}`,
    '</dict>',
    '</plist>',
    '',
  ].join('\n');
}

/** The command schtasks runs at logon: `"<node>" "<bin>" serve`. */
export function renderSchtasksCommand(nodePath: string, binPath: string): string {
  return `"${nodePath}" "${binPath}" serve`;
}

/** Arguments for `schtasks`: a logon task for the current user, limited rights, replacing any old one. */
export function buildSchtasksCreateArgs(nodePath: string, binPath: string): string[] {
  return [
    '/Create',
    '/TN',
    SCHTASKS_TASK_NAME,
    '/SC',
    'ONLOGON',
    '/TR',
    renderSchtasksCommand(nodePath, binPath),
    '/RL',
    'LIMITED',
    '/F',
  ];
}
