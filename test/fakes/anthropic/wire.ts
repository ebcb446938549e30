/**
 * Loose shapes of what arrives at the fake on the wire. They are deliberately permissive
 * (index signatures, optional fields): the fake must see exactly what a client sent, broken
 * or not, so the validator can reject it the way the real API would.
 */

/** `cache_control` as sent on a block or tool. */
export interface WireCacheControl {
  type: string;
  ttl?: string;
}

/** Any content block: text, tool_use, tool_result, image, … */
export interface WireBlock {
  type: string;
  text?: string;
  id?: string;
  name?: string;
  input?: unknown;
  tool_use_id?: string;
  content?: unknown;
  is_error?: boolean;
  cache_control?: WireCacheControl | null;
  [key: string]: unknown;
}

/** One message of the conversation. */
export interface WireMessage {
  role: string;
  content: string | WireBlock[];
}

/** One tool definition. */
export interface WireTool {
  name: string;
  description?: string;
  input_schema?: { type?: string; [key: string]: unknown };
  cache_control?: WireCacheControl | null;
  [key: string]: unknown;
}

/** The JSON body of `POST /v1/messages`, unvalidated. */
export interface WireRequest {
  model?: unknown;
  max_tokens?: unknown;
  messages?: unknown;
  system?: unknown;
  tools?: unknown;
  stream?: unknown;
  [key: string]: unknown;
}

/** What the fake recorded about one request, for tests to assert on. */
export interface RecordedRequest {
  /** Position among all requests the fake received (0-based). */
  index: number;
  method: string;
  path: string;
  /** Request headers, names lower-cased. */
  headers: Record<string, string>;
  /** The parsed body as sent (undefined if it was not JSON). */
  body: WireRequest | undefined;
  model: string | undefined;
  max_tokens: number | undefined;
  stream: boolean;
  /** `system` normalised to text blocks (a string becomes one block). */
  system: WireBlock[];
  tools: WireTool[];
  messages: WireMessage[];
  /** How many blocks and tools carried `cache_control`. */
  cacheControlCount: number;
  /** The HTTP status the fake answered with (set once it answers; 499 if the client left first). */
  status: number | undefined;
  /** The script step that answered it; undefined if it was rejected before reaching the script. */
  stepIndex: number | undefined;
}

/** Read a request body into a {@link RecordedRequest}, tolerating any shape. */
export function recordRequest(
  index: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: WireRequest | undefined,
): RecordedRequest {
  const system: WireBlock[] =
    typeof body?.system === 'string' ? [{ type: 'text', text: body.system }] : Array.isArray(body?.system) ? (body.system as WireBlock[]) : [];
  const tools = Array.isArray(body?.tools) ? (body.tools as WireTool[]) : [];
  const messages = Array.isArray(body?.messages) ? (body.messages as WireMessage[]) : [];
  return {
    index,
    method,
    path,
    headers,
    body,
    model: typeof body?.model === 'string' ? body.model : undefined,
    max_tokens: typeof body?.max_tokens === 'number' ? body.max_tokens : undefined,
    stream: body?.stream === true,
    system,
    tools,
    messages,
    cacheControlCount: countCacheControl(system, tools, messages),
    status: undefined,
    stepIndex: undefined,
  };
}

function hasCacheControl(x: unknown): boolean {
  return !!x && typeof x === 'object' && (x as { cache_control?: unknown }).cache_control != null;
}

/** Count cache breakpoints across system, tools and message blocks, as the API's limit does. */
export function countCacheControl(system: WireBlock[], tools: WireTool[], messages: WireMessage[]): number {
  let n = system.filter(hasCacheControl).length + tools.filter(hasCacheControl).length;
  for (const m of messages) {
    if (m && Array.isArray(m.content)) n += m.content.filter(hasCacheControl).length;
  }
  return n;
}
