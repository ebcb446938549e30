/**
 * Type-checking TypeScript skills, so an author sees `tools.ts:12:7 …` from
 * `mithai skill validate` instead of a wrong call in Slack. Runs when the `typescript` package
 * can be found (the project's own, else the runtime's); otherwise it says so and checks nothing.
 *
 * `import … from 'mithai'` is mapped to the running runtime's own source, as at run time, and
 * only diagnostics inside the checked skill files are reported (the runtime is not the
 * author's to fix).
 *
 * The same settings are written as a project's `tsconfig.json` ({@link projectTsconfig}) so an
 * editor resolves the `mithai` types in a project that has no `node_modules`.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The runtime's package folder (holds src/ and node_modules/). */
const RUNTIME_DIR = fileURLToPath(new URL('../../', import.meta.url));

/** One type error, located. */
export interface TypeDiagnostic {
  /** Absolute path of the file. */
  file: string;
  line: number;
  column: number;
  message: string;
}

/** What a type check found; `available: false` when no `typescript` package was found. */
export type TypecheckResult = { available: true; diagnostics: TypeDiagnostic[] } | { available: false };

/** The subset of the TypeScript compiler API used here. */
interface TypeScriptApi {
  createProgram(files: string[], options: Record<string, unknown>): {
    getSemanticDiagnostics(): readonly Diagnostic[];
    getSyntacticDiagnostics(): readonly Diagnostic[];
  };
  convertCompilerOptionsFromJson(json: unknown, basePath: string): { options: Record<string, unknown>; errors: readonly Diagnostic[] };
  flattenDiagnosticMessageText(text: unknown, newLine: string): string;
}
interface Diagnostic {
  file?: { fileName: string; getLineAndCharacterOfPosition(pos: number): { line: number; character: number } };
  start?: number;
  messageText: unknown;
}

/** Compiler options for skills, as tsconfig.json JSON (paths point at this runtime). */
export function skillCompilerOptions(): Record<string, unknown> {
  const typesDir = join(RUNTIME_DIR, 'node_modules', '@types');
  const hasNodeTypes = existsSync(join(typesDir, 'node', 'package.json'));
  return {
    target: 'ES2022',
    module: 'ESNext',
    moduleResolution: 'Bundler',
    strict: true,
    noEmit: true,
    allowImportingTsExtensions: true,
    skipLibCheck: true,
    ...(hasNodeTypes ? { types: ['node'], typeRoots: [typesDir] } : { types: [] }),
    paths: {
      mithai: [join(RUNTIME_DIR, 'src', 'index.ts')],
      'mithai/testing': [join(RUNTIME_DIR, 'src', 'testing', 'index.ts')],
    },
  };
}

/** A project's tsconfig.json text: the skill settings, for the skills under `skillsGlob`. */
export function projectTsconfig(skillsGlob = 'skills/**/*.ts'): string {
  return `${JSON.stringify({ compilerOptions: skillCompilerOptions(), include: [skillsGlob] }, null, 2)}\n`;
}

/**
 * Type-check `files` (TypeScript skill modules).
 * @param projectDir where to look for the project's own `typescript` first
 */
export function typecheckSkills(files: readonly string[], projectDir: string): TypecheckResult {
  const ts = loadTypeScript(projectDir);
  if (ts === undefined) return { available: false };
  const converted = ts.convertCompilerOptionsFromJson(skillCompilerOptions(), projectDir);
  const program = ts.createProgram([...files], converted.options);
  const roots = files.map((f) => dirname(resolve(f)));
  const inSkill = (file: string): boolean => roots.some((root) => !relative(root, file).startsWith('..'));
  const diagnostics: TypeDiagnostic[] = [];
  for (const d of [...program.getSyntacticDiagnostics(), ...program.getSemanticDiagnostics()]) {
    if (d.file === undefined || !inSkill(resolve(d.file.fileName))) continue;
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start ?? 0);
    diagnostics.push({ file: resolve(d.file.fileName), line: line + 1, column: character + 1, message: ts.flattenDiagnosticMessageText(d.messageText, '\n') });
  }
  return { available: true, diagnostics };
}

function loadTypeScript(projectDir: string): TypeScriptApi | undefined {
  for (const from of [join(resolve(projectDir), 'package.json'), join(RUNTIME_DIR, 'package.json')]) {
    try {
      return createRequire(from)('typescript') as TypeScriptApi;
    } catch {
      // Not installed there; try the next place.
    }
  }
  return undefined;
}
