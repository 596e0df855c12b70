import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { lintDockerfile, type DockerfileProblem } from '../../scripts/lint-dockerfile.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const readRepoFile = (name: string) => readFile(path.join(ROOT, name), 'utf8');

function rules(problems: DockerfileProblem[]): string[] {
  return [...new Set(problems.map((p) => p.rule))].sort();
}

const GOOD = `FROM node:20-bookworm-slim AS build
RUN npm ci && npm run build
FROM node:20-bookworm-slim
USER app
HEALTHCHECK CMD ["node", "-e", "process.exit(0)"]
CMD ["node", "bin/netpulse.js", "serve"]
`;

describe('lintDockerfile', () => {
  test('the repository Dockerfile has no problems', async () => {
    assert.deepEqual(lintDockerfile(await readRepoFile('Dockerfile')), []);
  });

  test('a minimal correct Dockerfile has no problems', () => {
    assert.deepEqual(lintDockerfile(GOOD), []);
  });

  test('a broken Dockerfile is flagged by every rule', () => {
    const broken = `FROM node:latest AS build
RUN npm install && npm run build:docker
FROOM node:20
FROM build
HEALTHCHECK --interval=30x CMD ["node", "-e", "1"]
`;
    const problems = lintDockerfile(broken);
    assert.deepEqual(rules(problems), ['base-image-tag', 'ci-npm-commands', 'dockerfile-utils', 'non-root-user']);
    assert.ok(problems.some((p) => p.rule === 'ci-npm-commands' && p.message.includes('"npm install"') && p.line === 2));
    assert.ok(problems.some((p) => p.rule === 'ci-npm-commands' && p.message.includes('"npm run build:docker"')));
    assert.ok(problems.some((p) => p.rule === 'dockerfile-utils' && p.line === 3), 'unknown instruction');
    assert.ok(problems.some((p) => p.rule === 'dockerfile-utils' && p.line === 5), 'bad duration');
  });

  test('an untagged base image counts as latest; a digest or an earlier stage is fine', () => {
    assert.deepEqual(rules(lintDockerfile(GOOD.replace('FROM node:20-bookworm-slim\n', 'FROM node\n'))), ['base-image-tag']);
    assert.deepEqual(rules(lintDockerfile(GOOD.replace('FROM node:20-bookworm-slim\n', 'FROM registry.local:5000/node\n'))), ['base-image-tag']);
    assert.deepEqual(lintDockerfile(GOOD.replace('FROM node:20-bookworm-slim\n', `FROM node@sha256:${'a'.repeat(64)}\n`)), []);
    assert.deepEqual(lintDockerfile(GOOD.replace('FROM node:20-bookworm-slim\n', 'FROM build\n')), []);
  });

  test('base images named through ARGs are resolved before checking', () => {
    const withArg = (value: string) => `ARG NODE_IMAGE=${value}\n${GOOD.replaceAll('node:20-bookworm-slim', '${NODE_IMAGE}')}`;
    assert.deepEqual(lintDockerfile(withArg('node:20-bookworm-slim')), []);
    assert.deepEqual(rules(lintDockerfile(withArg('node:latest'))), ['base-image-tag']);
    // dockerfile-utils also reports the empty name; ours says which ARG is missing.
    assert.ok(rules(lintDockerfile(GOOD.replace('FROM node:20-bookworm-slim\n', 'FROM ${UNSET}\n'))).includes('base-image-tag'));
  });

  test('the final stage must end as a non-root user, whatever earlier stages do', () => {
    assert.deepEqual(rules(lintDockerfile(GOOD.replace('USER app\n', ''))), ['non-root-user']);
    assert.deepEqual(rules(lintDockerfile(GOOD.replace('USER app\n', 'USER root\n'))), ['non-root-user']);
    assert.deepEqual(rules(lintDockerfile(GOOD.replace('USER app\n', 'USER 0:0\n'))), ['non-root-user']);
    assert.deepEqual(rules(lintDockerfile(GOOD.replace('USER app\n', 'USER app\nUSER root\n'))), ['non-root-user']);
    assert.deepEqual(lintDockerfile(GOOD.replace('USER app\n', 'USER 10001:10001\n')), []);
    const rootOnlyInBuild = GOOD.replace('RUN npm ci', 'USER app\nRUN npm ci').replace('USER app\nHEALTH', 'HEALTH');
    assert.deepEqual(rules(lintDockerfile(rootOnlyInBuild)), ['non-root-user']);
  });

  test('the final stage needs a HEALTHCHECK that is not NONE', () => {
    const without = GOOD.replace(/HEALTHCHECK.*\n/, '');
    assert.deepEqual(rules(lintDockerfile(without)), ['healthcheck']);
    assert.deepEqual(rules(lintDockerfile(GOOD.replace(/HEALTHCHECK.*\n/, 'HEALTHCHECK NONE\n'))), ['healthcheck']);
  });

  test('npm commands are checked across continuations, JSON form, env prefixes and npx', () => {
    const run = (line: string) => rules(lintDockerfile(GOOD.replace('RUN npm ci && npm run build', line)));
    assert.deepEqual(run('RUN apt-get update \\\n && npm ci \\\n && npm run build'), []);
    assert.deepEqual(run('RUN ["npm", "ci"]'), []);
    assert.deepEqual(run('RUN --mount=type=cache,target=/root/.npm npm ci'), []);
    assert.deepEqual(run('RUN npm prune --omit=dev'), []);
    assert.deepEqual(run('RUN NODE_ENV=production npm install'), ['ci-npm-commands']);
    assert.deepEqual(run('RUN true; npx vite build'), ['ci-npm-commands']);
    assert.deepEqual(run('RUN ["npm", "install", "-g", "x"]'), ['ci-npm-commands']);
    assert.deepEqual(run('RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/bin/npm'), []);
  });
});

function runLinter(args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) =>
    execFile(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'lint-dockerfile.ts'), ...args], { cwd: ROOT }, (error, stdout) =>
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout }),
    ),
  );
}

describe('scripts/lint-dockerfile.ts as a command', () => {
  test('exits 0 on the repository Dockerfile', async () => {
    const result = await runLinter([]);
    assert.equal(result.code, 0, result.stdout);
    assert.match(result.stdout, /Dockerfile: no problems/);
  });

  test('exits 1 and prints file:line [rule] for a broken file', async (t) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'netpulse-lint-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'Dockerfile');
    await writeFile(file, 'FROM node:latest\nRUN npm install\n');
    const result = await runLinter([file]);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /Dockerfile:1 \[base-image-tag\]/);
    assert.match(result.stdout, /Dockerfile:2 \[ci-npm-commands\]/);
  });
});

describe('the Dockerfile builds what the project ships', () => {
  test('build stage compiles better-sqlite3 from the image headers, then builds and prunes', async () => {
    const text = await readRepoFile('Dockerfile');
    assert.match(text, /npm_config_nodedir=\/usr\/local/);
    assert.match(text, /apt-get install -y --no-install-recommends python3 make g\+\+/);
    const order = ['RUN npm ci', 'RUN npm run build', 'RUN npm prune --omit=dev'].map((s) => text.indexOf(s));
    assert.ok(order.every((i) => i !== -1) && order[0]! < order[1]! && order[1]! < order[2]!, String(order));
  });

  test('runtime stage: the app files, a data volume, port 8000, loopback default, bin entry', async () => {
    const text = await readRepoFile('Dockerfile');
    const runtime = text.slice(text.lastIndexOf('\nFROM '));
    for (const copied of ['./node_modules', './bin', './dist', './frontend/dist']) {
      assert.ok(runtime.includes(`COPY --from=build /app/${copied.slice(2)} ${copied}`), copied);
    }
    assert.match(runtime, /COPY --from=build \/app\/package\.json \.\//);
    assert.match(runtime, /NETPULSE_DB_PATH=\/data\/netpulse\.db/);
    assert.match(runtime, /NETPULSE_HOST=127\.0\.0\.1/);
    assert.match(runtime, /^VOLUME \["\/data"\]$/m);
    assert.match(runtime, /^EXPOSE 8000$/m);
    assert.match(runtime, /^USER netpulse$/m);
    assert.match(runtime, /^WORKDIR \/app$/m);
    assert.match(runtime, /^CMD \["node", "bin\/netpulse\.js", "serve"\]$/m);
    assert.match(runtime, /fetch\('http:\/\/'\+a\+':'\+\(process\.env\.NETPULSE_PORT\|\|'8000'\)\+'\/health'/);
    const pkg = JSON.parse(await readRepoFile('package.json')) as { bin: Record<string, string> };
    assert.equal(pkg.bin.netpulse, 'bin/netpulse.js');
  });

  test('the health check command is valid JavaScript that fails when nothing listens', async () => {
    const text = await readRepoFile('Dockerfile');
    const json = /HEALTHCHECK[^\n]*\\\n\s*CMD (\[.*\])$/m.exec(text)?.[1];
    assert.ok(json !== undefined);
    const argv = JSON.parse(json) as string[];
    assert.equal(argv[0], 'node');
    assert.equal(argv[1], '-e');
    // Port 9 (discard) on loopback: nothing listens, so the check must exit 1, not hang or throw.
    const code = await new Promise<number>((resolve) =>
      execFile(process.execPath, ['-e', argv[2] as string], { env: { ...process.env, NETPULSE_HOST: '0.0.0.0', NETPULSE_PORT: '9' }, timeout: 10_000 }, (error) =>
        resolve(error === null ? 0 : typeof error.code === 'number' ? error.code : -1),
      ),
    );
    assert.equal(code, 1);
  });

  test('.dockerignore keeps local installs, builds, databases, secrets and git out of the context', async () => {
    const entries = new Set(
      (await readRepoFile('.dockerignore'))
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '' && !l.startsWith('#')),
    );
    for (const expected of ['**/node_modules', 'dist', 'frontend/dist', '.git', 'test-output', '*.db', '*.db-wal', '.env']) {
      assert.ok(entries.has(expected), expected);
    }
    for (const needed of ['src', 'frontend', 'bin', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json']) {
      assert.ok(!entries.has(needed), `${needed} is needed by the build`);
    }
  });
});
