/**
 * Named crash points for the fault-injection suite (`npm run test:faults`). With
 * `MITHAI_FAULT_POINT=<name>` (or `<name>:<n>` for the n-th time it is reached) in the
 * environment, the process kills itself with SIGKILL when it reaches that point — exactly what
 * a power cut or an OOM kill does there, so the suite can prove each ordering window safe.
 * Without the variable this is a no-op: one comparison against a value read once at start.
 */

/** Every crash point, in the order a gated turn reaches them. */
export const FAULT_POINTS = [
  'turn.accepted',
  'event.acked',
  'model.responded',
  'approval.opened',
  'card.posted',
  'decision.committed',
  'click.acked',
  'claim.committed',
  'tool.returned',
  'outcome.committed',
  'reply.decided',
  'reply.posted',
] as const;

export type FaultPoint = (typeof FAULT_POINTS)[number];

const setting = /^([a-z_.]+)(?::(\d+))?$/.exec(process.env.MITHAI_FAULT_POINT ?? '');
const target = setting?.[1];
let remaining = Number(setting?.[2] ?? '1');

/** Crash here if the fault-injection setting names this point (see the module comment). */
export function faultPoint(name: FaultPoint): void {
  if (target !== name) return;
  remaining -= 1;
  if (remaining <= 0) process.kill(process.pid, 'SIGKILL');
}
