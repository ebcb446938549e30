/**
 * kubectl's JSON (`get -o json`) and `top` tables turned into compact text tables for the model:
 * a few whitelisted fields per kind, each cell one safe token (see `cell`), so a list of 5 000
 * pods costs what the text cap allows and never megabytes.
 */
import type { KindName } from './kinds.ts';
import { age, cell, cleanText, formatTable } from './text.ts';

/** A JSON value as kubectl prints it; read through {@link at} and friends, never trusted. */
type Json = unknown;

/** The value at `path` inside `value`, or undefined. */
function at(value: Json, ...path: Array<string | number>): Json {
  let current = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string | number, Json>)[key];
  }
  return current;
}

function list(value: Json, ...path: Array<string | number>): Json[] {
  const found = at(value, ...path);
  return Array.isArray(found) ? found : [];
}

function num(value: Json, ...path: Array<string | number>): number {
  const found = at(value, ...path);
  return typeof found === 'number' && Number.isFinite(found) ? found : 0;
}

/** The objects of a kubectl JSON answer: a List's `items`, or the one object asked for by name. */
export function itemsOf(parsed: Json): Json[] {
  if (Array.isArray(at(parsed, 'items'))) return list(parsed, 'items');
  return typeof parsed === 'object' && parsed !== null ? [parsed] : [];
}

/** One kind's table: column headers and a row per object. */
interface TableSpec {
  headers: readonly string[];
  row: (item: Json, now: number) => readonly string[];
}

const name = (item: Json) => cell(at(item, 'metadata', 'name'), 253);
const created = (item: Json, now: number) => age(at(item, 'metadata', 'creationTimestamp'), now);
const images = (item: Json) => cell(list(item, 'spec', 'template', 'spec', 'containers').map((c) => at(c, 'image')).join(','), 200);

const TABLES: Readonly<Record<KindName, TableSpec>> = {
  pods: {
    headers: ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'NODE'],
    row: (p, now) => {
      const statuses = list(p, 'status', 'containerStatuses');
      const total = list(p, 'spec', 'containers').length || statuses.length;
      const ready = statuses.filter((s) => at(s, 'ready') === true).length;
      const restarts = statuses.reduce<number>((sum, s) => sum + num(s, 'restartCount'), 0);
      return [name(p), `${ready}/${total}`, cell(podStatus(p)), String(restarts), created(p, now), cell(at(p, 'spec', 'nodeName'))];
    },
  },
  deployments: {
    headers: ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE', 'IMAGES'],
    row: (d, now) => [name(d), `${num(d, 'status', 'readyReplicas')}/${num(d, 'spec', 'replicas')}`, String(num(d, 'status', 'updatedReplicas')), String(num(d, 'status', 'availableReplicas')), created(d, now), images(d)],
  },
  statefulsets: {
    headers: ['NAME', 'READY', 'UP-TO-DATE', 'AGE', 'IMAGES'],
    row: (s, now) => [name(s), `${num(s, 'status', 'readyReplicas')}/${num(s, 'spec', 'replicas')}`, String(num(s, 'status', 'updatedReplicas')), created(s, now), images(s)],
  },
  daemonsets: {
    headers: ['NAME', 'DESIRED', 'CURRENT', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE', 'IMAGES'],
    row: (d, now) => [
      name(d), ...['desiredNumberScheduled', 'currentNumberScheduled', 'numberReady', 'updatedNumberScheduled', 'numberAvailable'].map((k) => String(num(d, 'status', k))),
      created(d, now), images(d),
    ],
  },
  replicasets: {
    headers: ['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE'],
    row: (r, now) => [name(r), String(num(r, 'spec', 'replicas')), String(num(r, 'status', 'replicas')), String(num(r, 'status', 'readyReplicas')), created(r, now)],
  },
  jobs: {
    headers: ['NAME', 'COMPLETIONS', 'ACTIVE', 'FAILED', 'AGE'],
    row: (j, now) => [name(j), `${num(j, 'status', 'succeeded')}/${cell(at(j, 'spec', 'completions') ?? 1)}`, String(num(j, 'status', 'active')), String(num(j, 'status', 'failed')), created(j, now)],
  },
  cronjobs: {
    headers: ['NAME', 'SCHEDULE', 'SUSPEND', 'ACTIVE', 'LAST-SCHEDULE', 'AGE'],
    row: (c, now) => [
      name(c), cronSchedule(at(c, 'spec', 'schedule')), String(at(c, 'spec', 'suspend') === true), String(list(c, 'status', 'active').length),
      at(c, 'status', 'lastScheduleTime') === undefined ? '<none>' : age(at(c, 'status', 'lastScheduleTime'), now), created(c, now),
    ],
  },
  services: {
    headers: ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORTS', 'AGE'],
    row: (s, now) => [
      name(s), cell(at(s, 'spec', 'type')), cell(at(s, 'spec', 'clusterIP')),
      cell([...list(s, 'status', 'loadBalancer', 'ingress').map((i) => at(i, 'ip') ?? at(i, 'hostname')), ...list(s, 'spec', 'externalIPs')].join(',')),
      cell(list(s, 'spec', 'ports').map((p) => `${at(p, 'port')}${at(p, 'nodePort') === undefined ? '' : `:${at(p, 'nodePort')}`}/${at(p, 'protocol') ?? 'TCP'}`).join(','), 200),
      created(s, now),
    ],
  },
  ingresses: {
    headers: ['NAME', 'CLASS', 'HOSTS', 'ADDRESS', 'AGE'],
    row: (i, now) => [
      name(i), cell(at(i, 'spec', 'ingressClassName')), cell(list(i, 'spec', 'rules').map((r) => at(r, 'host') ?? '*').join(','), 200),
      cell(list(i, 'status', 'loadBalancer', 'ingress').map((x) => at(x, 'ip') ?? at(x, 'hostname')).join(',')), created(i, now),
    ],
  },
  configmaps: {
    // Key counts only: values (and even key names) are the workload's, and may be sensitive.
    headers: ['NAME', 'DATA', 'AGE'],
    row: (c, now) => [name(c), String(Object.keys(objectAt(c, 'data')).length + Object.keys(objectAt(c, 'binaryData')).length), created(c, now)],
  },
  persistentvolumeclaims: {
    headers: ['NAME', 'STATUS', 'VOLUME', 'CAPACITY', 'STORAGECLASS', 'AGE'],
    row: (p, now) => [name(p), cell(at(p, 'status', 'phase')), cell(at(p, 'spec', 'volumeName')), cell(at(p, 'status', 'capacity', 'storage')), cell(at(p, 'spec', 'storageClassName')), created(p, now)],
  },
  horizontalpodautoscalers: {
    headers: ['NAME', 'REFERENCE', 'MIN', 'MAX', 'REPLICAS', 'AGE'],
    row: (h, now) => [
      name(h), cell(`${at(h, 'spec', 'scaleTargetRef', 'kind') ?? ''}/${at(h, 'spec', 'scaleTargetRef', 'name') ?? ''}`),
      cell(at(h, 'spec', 'minReplicas') ?? 1), String(num(h, 'spec', 'maxReplicas')), String(num(h, 'status', 'currentReplicas')), created(h, now),
    ],
  },
  nodes: {
    headers: ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION'],
    row: (n, now) => {
      const ready = list(n, 'status', 'conditions').find((c) => at(c, 'type') === 'Ready');
      const status = [at(ready, 'status') === 'True' ? 'Ready' : 'NotReady', ...(at(n, 'spec', 'unschedulable') === true ? ['SchedulingDisabled'] : [])].join(',');
      const roles = Object.keys(objectAt(n, 'metadata', 'labels')).filter((k) => k.startsWith('node-role.kubernetes.io/')).map((k) => k.slice('node-role.kubernetes.io/'.length));
      return [name(n), status, cell(roles.join(',')), created(n, now), cell(at(n, 'status', 'nodeInfo', 'kubeletVersion'))];
    },
  },
};

/** A table of `items` of `kind`, one row each. */
export function resourceTable(kind: KindName, items: readonly Json[], now: number): string {
  const spec = TABLES[kind];
  return formatTable(spec.headers, items.map((item) => spec.row(item, now)));
}

/** Most events `events` shows (the most recent ones). */
export const EVENTS_SHOWN = 50;
/** Characters of an event message kept. */
const EVENT_MESSAGE_CHARS = 240;

/**
 * Events, oldest first, the last {@link EVENTS_SHOWN}. The message column is free text from the
 * cluster (and, through it, from workloads), cleaned to one line; the tool is marked untrusted.
 */
export function eventsTable(items: readonly Json[], now: number): { text: string; shown: number; total: number } {
  const when = (e: Json): string => String(at(e, 'lastTimestamp') ?? at(e, 'eventTime') ?? at(e, 'metadata', 'creationTimestamp') ?? '');
  const sorted = [...items].sort((a, b) => (Date.parse(when(a)) || 0) - (Date.parse(when(b)) || 0));
  const shown = sorted.slice(-EVENTS_SHOWN);
  const rows = shown.map((e) => {
    const message = cleanText(String(at(e, 'message') ?? '')).replace(/\s+/g, ' ').trim();
    return [
      age(when(e), now), cell(at(e, 'type')), cell(at(e, 'reason')),
      cell(`${String(at(e, 'involvedObject', 'kind') ?? '').toLowerCase()}/${at(e, 'involvedObject', 'name') ?? ''}`, 120),
      cell(at(e, 'count') ?? 1),
      message.length > EVENT_MESSAGE_CHARS ? `${message.slice(0, EVENT_MESSAGE_CHARS - 1)}…` : message,
    ];
  });
  return { text: formatTable(['LAST-SEEN', 'TYPE', 'REASON', 'OBJECT', 'COUNT', 'MESSAGE'], rows), shown: shown.length, total: items.length };
}

/** `kubectl top` prints a whitespace-separated table; re-emitted cell by cell through {@link cell}. */
export function topTable(text: string): { text: string; rows: number } {
  const lines = cleanText(text).split('\n').map((line) => line.trim()).filter((line) => line !== '');
  if (lines.length === 0) return { text: '(no metrics)', rows: 0 };
  const [header, ...rows] = lines.map((line) => line.split(/\s+/).map((c) => cell(c)));
  return { text: formatTable(header!, rows), rows: rows.length };
}

/** The STATUS column kubectl shows for a pod: Terminating, a container's waiting/terminated reason, or the phase. */
function podStatus(pod: Json): unknown {
  if (at(pod, 'metadata', 'deletionTimestamp') !== undefined) return 'Terminating';
  if (at(pod, 'status', 'reason') !== undefined) return at(pod, 'status', 'reason');
  for (const s of list(pod, 'status', 'initContainerStatuses')) {
    const reason = at(s, 'state', 'waiting', 'reason') ?? (num(s, 'state', 'terminated', 'exitCode') !== 0 ? at(s, 'state', 'terminated', 'reason') : undefined);
    if (reason !== undefined) return `Init:${String(reason)}`;
  }
  for (const s of list(pod, 'status', 'containerStatuses')) {
    const reason = at(s, 'state', 'waiting', 'reason') ?? at(s, 'state', 'terminated', 'reason');
    if (reason !== undefined) return reason;
  }
  return at(pod, 'status', 'phase') ?? 'Unknown';
}

/** Month and weekday names a cron field may use. */
const CRON_NAMES = 'JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC|SUN|MON|TUE|WED|THU|FRI|SAT';
const CRON_FIELD = new RegExp(`^(?:[0-9*/,?#LW-]|${CRON_NAMES})+$`, 'i');
const CRON_MACRO = /^@(?:yearly|annually|monthly|weekly|daily|midnight|hourly|every [0-9]+[smh])$/;
const CRON_TZ = /^(?:CRON_)?TZ=[A-Za-z_/+-]{1,40}$/;

/**
 * A CronJob schedule (it has spaces, so it cannot go through {@link cell}): shown only when
 * every field is cron syntax, otherwise replaced, so the column cannot carry a sentence.
 */
function cronSchedule(value: Json): string {
  if (typeof value !== 'string') return '<none>';
  if (CRON_MACRO.test(value)) return value;
  const fields = value.trim().split(/ +/);
  const body = fields[0] !== undefined && CRON_TZ.test(fields[0]) ? fields.slice(1) : fields;
  const valid = (body.length === 5 || body.length === 6) && body.every((f) => f.length <= 40 && CRON_FIELD.test(f));
  return valid ? fields.join(' ') : '(unusual schedule; see describe)';
}

function objectAt(value: Json, ...path: string[]): Record<string, Json> {
  const found = at(value, ...path);
  return typeof found === 'object' && found !== null && !Array.isArray(found) ? (found as Record<string, Json>) : {};
}
