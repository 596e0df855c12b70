/**
 * Lints the Dockerfile: dockerfile-utils' validator (syntax, flags, instruction arguments) plus the
 * project's own rules:
 *   base-image-tag   every FROM names a tag or digest, never `latest` or none (stage names are fine)
 *   non-root-user    the final stage switches to a USER that is not root/0
 *   healthcheck      the final stage has a HEALTHCHECK (not NONE)
 *   ci-npm-commands  every npm/npx/yarn/pnpm command in a RUN is one CI also runs
 *
 * Usage: npx tsx scripts/lint-dockerfile.ts [path/to/Dockerfile]   (exit 1 when it finds problems)
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { validate } from 'dockerfile-utils';

export interface DockerfileProblem {
  /** 1-based line of the instruction (or of the validator's finding). */
  line: number;
  rule: 'dockerfile-utils' | 'base-image-tag' | 'non-root-user' | 'healthcheck' | 'ci-npm-commands';
  message: string;
}

/**
 * The npm commands the image build may run: the ones CI runs (`npm ci`, `npm run build`), plus
 * `npm prune --omit=dev`, which only removes packages from the tree CI built and tested.
 */
export const CI_NPM_COMMANDS: readonly string[] = ['npm ci', 'npm run build', 'npm prune --omit=dev'];

interface Instruction {
  line: number;
  keyword: string;
  args: string;
}

/** Joins continuation lines (trailing backslash), drops comments and blank lines. */
function parseInstructions(content: string): Instruction[] {
  const lines = content.split(/\r?\n/);
  const result: Instruction[] = [];
  let current: { line: number; text: string } | null = null;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] as string;
    const trimmed = raw.trim();
    if (trimmed.startsWith('#') || (trimmed === '' && current === null)) continue;
    if (trimmed === '' && current !== null) continue; // an empty line inside a continuation
    const continues = /\\\s*$/.test(raw);
    const piece = continues ? raw.replace(/\\\s*$/, '') : raw;
    if (current === null) current = { line: i + 1, text: piece };
    else current.text += piece; // Docker joins continuation lines as they are
    if (!continues) {
      const text = current.text.trim();
      const space = text.search(/\s/);
      result.push({
        line: current.line,
        keyword: (space === -1 ? text : text.slice(0, space)).toUpperCase(),
        args: space === -1 ? '' : text.slice(space + 1).trim(),
      });
      current = null;
    }
  }
  if (current !== null) {
    const text = current.text.trim();
    const space = text.search(/\s/);
    result.push({ line: current.line, keyword: (space === -1 ? text : text.slice(0, space)).toUpperCase(), args: space === -1 ? '' : text.slice(space + 1).trim() });
  }
  return result;
}

/** Substitutes ${NAME} / $NAME from the ARGs declared before the first FROM; null if any is unknown. */
function substitute(text: string, args: ReadonlyMap<string, string>): string | null {
  let unknown = false;
  const out = text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, braced: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare) as string;
    const value = args.get(name);
    if (value === undefined) {
      unknown = true;
      return '';
    }
    return value;
  });
  return unknown ? null : out;
}

/** `node:20-slim` → '20-slim'; `repo/img@sha256:…` → digest; `img` → null (which means latest). */
function tagOf(image: string): { kind: 'tag' | 'digest'; value: string } | null {
  const at = image.indexOf('@');
  if (at !== -1) return { kind: 'digest', value: image.slice(at + 1) };
  const lastSlash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  if (colon > lastSlash) return { kind: 'tag', value: image.slice(colon + 1) };
  return null;
}

/** The shell command of a RUN: JSON form joined, flags such as --mount=… dropped. */
function runCommand(args: string): string {
  let rest = args;
  while (/^--[a-z-]+=\S+\s+/i.test(rest)) rest = rest.replace(/^--[a-z-]+=\S+\s+/i, '');
  if (rest.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(rest);
      if (Array.isArray(parsed) && parsed.every((p) => typeof p === 'string')) return parsed.join(' ');
    } catch {
      // not JSON after all: treat as shell form
    }
  }
  return rest;
}

const PACKAGE_MANAGERS = new Set(['npm', 'npx', 'yarn', 'pnpm', 'corepack']);

function lintNpmCommands(instruction: Instruction): DockerfileProblem[] {
  const problems: DockerfileProblem[] = [];
  const command = runCommand(instruction.args);
  for (const segment of command.split(/&&|\|\||;|\||\n/)) {
    const words = segment.trim().split(/\s+/).filter((w) => w !== '');
    while (words.length > 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0] as string)) words.shift(); // FOO=bar npm …
    if (words[0] === 'env') words.shift();
    while (words.length > 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0] as string)) words.shift();
    const first = words[0];
    if (first === undefined || !PACKAGE_MANAGERS.has(path.posix.basename(first))) continue;
    const normalized = words.join(' ');
    if (!CI_NPM_COMMANDS.includes(normalized)) {
      problems.push({
        line: instruction.line,
        rule: 'ci-npm-commands',
        message: `"${normalized}" is not a command CI runs; use one of: ${CI_NPM_COMMANDS.join(', ')}`,
      });
    }
  }
  return problems;
}

export function lintDockerfile(content: string): DockerfileProblem[] {
  const problems: DockerfileProblem[] = [];

  for (const diagnostic of validate(content)) {
    const message = typeof diagnostic.message === 'string' ? diagnostic.message : diagnostic.message.value;
    problems.push({ line: diagnostic.range.start.line + 1, rule: 'dockerfile-utils', message });
  }

  const instructions = parseInstructions(content);
  const globalArgs = new Map<string, string>();
  const stageNames = new Set<string>();
  let stages = 0;
  let finalStage: { line: number; user: Instruction | null; healthcheck: Instruction | null } | null = null;

  for (const instruction of instructions) {
    switch (instruction.keyword) {
      case 'ARG': {
        if (stages === 0) {
          const match = /^([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$/.exec(instruction.args);
          if (match?.[1] !== undefined && match[2] !== undefined) {
            globalArgs.set(match[1], match[2].replace(/^(["'])(.*)\1$/, '$2'));
          }
        }
        break;
      }
      case 'FROM': {
        stages++;
        finalStage = { line: instruction.line, user: null, healthcheck: null };
        const words = instruction.args.split(/\s+/).filter((w) => !w.startsWith('--'));
        const imageRaw = words[0] ?? '';
        const asIndex = words.findIndex((w) => w.toUpperCase() === 'AS');
        const image = substitute(imageRaw, globalArgs);
        if (image === null) {
          problems.push({ line: instruction.line, rule: 'base-image-tag', message: `cannot resolve the base image "${imageRaw}" from the ARGs before FROM` });
        } else if (image !== 'scratch' && !stageNames.has(image.toLowerCase())) {
          const tag = tagOf(image);
          if (tag === null) {
            problems.push({ line: instruction.line, rule: 'base-image-tag', message: `base image "${image}" has no tag, which means latest; name a version` });
          } else if (tag.kind === 'tag' && tag.value.toLowerCase() === 'latest') {
            problems.push({ line: instruction.line, rule: 'base-image-tag', message: `base image "${image}" uses the latest tag; name a version` });
          }
        }
        const stageName = asIndex !== -1 ? words[asIndex + 1] : undefined;
        if (stageName !== undefined) stageNames.add(stageName.toLowerCase());
        break;
      }
      case 'USER':
        if (finalStage !== null) finalStage.user = instruction;
        break;
      case 'HEALTHCHECK':
        if (finalStage !== null) finalStage.healthcheck = instruction;
        break;
      case 'RUN':
        problems.push(...lintNpmCommands(instruction));
        break;
      default:
        break;
    }
  }

  if (finalStage !== null) {
    if (finalStage.user === null) {
      problems.push({ line: finalStage.line, rule: 'non-root-user', message: 'the final stage runs as root: add USER <unprivileged user>' });
    } else {
      const user = (finalStage.user.args.split(':')[0] ?? '').trim();
      if (user === '' || user === 'root' || user === '0') {
        problems.push({ line: finalStage.user.line, rule: 'non-root-user', message: `the final stage runs as "${finalStage.user.args}": use an unprivileged user` });
      }
    }
    if (finalStage.healthcheck === null) {
      problems.push({ line: finalStage.line, rule: 'healthcheck', message: 'the final stage has no HEALTHCHECK' });
    } else if (finalStage.healthcheck.args.trim().toUpperCase() === 'NONE') {
      problems.push({ line: finalStage.healthcheck.line, rule: 'healthcheck', message: 'HEALTHCHECK NONE disables the health check' });
    }
  }

  return problems.sort((a, b) => a.line - b.line);
}

function main(argv: string[]): number {
  const file = path.resolve(argv[0] ?? 'Dockerfile');
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (error) {
    process.stderr.write(`lint-dockerfile: cannot read ${file}: ${(error as Error).message}\n`);
    return 2;
  }
  const problems = lintDockerfile(content);
  const shown = path.relative(process.cwd(), file) || file;
  for (const p of problems) process.stdout.write(`${shown}:${p.line} [${p.rule}] ${p.message}\n`);
  process.stdout.write(problems.length === 0 ? `${shown}: no problems\n` : `${shown}: ${problems.length} problem(s)\n`);
  return problems.length === 0 ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  process.exitCode = main(process.argv.slice(2));
}
