/** One line of `mithai doctor` output. */
export type Status = 'ok' | 'warn' | 'FAIL';

export interface Check {
  status: Status;
  text: string;
}
