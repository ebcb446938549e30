/**
 * How a file path appears in operator messages.
 */
import { isAbsolute, relative } from 'node:path';

/**
 * A path as the operator would type it: relative to the working directory when it is inside it
 * (`config.yaml`, `deploy/prod.yaml`), else absolute.
 *
 * @param absPath - an absolute path.
 */
export function displayPath(absPath: string): string {
  const rel = relative(process.cwd(), absPath);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : absPath;
}
