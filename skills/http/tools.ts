/**
 * The built-in `http` skill: check a URL (status, latency, redirects, TLS certificate) and read
 * a page or an API response, without letting the model reach internal addresses.
 *
 * Every guard lives in the runtime's SSRF guard (`guardedGet` from 'mithai'), so a project's
 * own skills get the same ones:
 * - http and https only; no `user:password@`; no ports browsers refuse (SMTP, SSH, …);
 * - the host is resolved once per hop and every answer checked: loopback, private, CGNAT,
 *   link-local, multicast, IPv6 unique-local and link-local, IPv4 hidden in IPv6 (mapped,
 *   NAT64, 6to4), and cloud metadata addresses are refused; literal addresses in any form
 *   (`2130706433`, `0177.0.0.1`, `[::ffff:127.0.0.1]`) are judged by what they mean;
 * - the connection goes to the address that was checked (a DNS answer that changes between
 *   the check and the connection is never used), with SNI and Host for the name in the URL;
 * - redirects are followed by hand and each hop is checked again;
 * - one time limit for the whole request; a body cap, at which the connection is dropped;
 * - no proxies from the environment, no cookies, no credentials, a fixed User-Agent.
 *
 * `allowed_hosts` opens named internal hosts (never the metadata addresses). Both tools change
 * nothing, so both run at once (`auto`); `http_get` brings outside text into the conversation,
 * so its result is marked untrusted and taints the session.
 *
 * Enable it with `skills.builtin: [http]`; settings in config.ts.
 */
import { defineSkill, guardedGet, HttpRequestError, z, type GuardedGetOptions, type ToolContext } from 'mithai';
import { httpConfig } from './config.ts';
import { checkReport, failedCheckReport, getReport, type CheckReport } from './render.ts';

const url = z.string().min(1).max(2048).describe('Absolute http:// or https:// URL');

/**
 * The runtime's own limit for these tools; the request's limit (`timeout_seconds`, at most 60)
 * always ends first, so its clearer message is the one the model sees.
 */
const TOOL_TIMEOUT_SECONDS = 65;

export default defineSkill({
  tools: {
    check_url: {
      description:
        'Check that a URL answers: final HTTP status, latency in ms, each redirect hop, and for https the TLS ' +
        'certificate (days left, expiry, subject and issuer). Does not return the body.',
      human: 'auto',
      readOnly: true,
      timeoutSeconds: TOOL_TIMEOUT_SECONDS,
      input: z.object({ url }),
      handle: async ({ url }, ctx): Promise<CheckReport> => {
        try {
          // maxBodyBytes 0: the body is not read; the connection is dropped after the headers.
          const response = await guardedGet(url, { ...requestOptions(ctx), maxBodyBytes: 0 });
          return checkReport(response.hops[0]?.url ?? url, response);
        } catch (err) {
          // A URL that does not answer is a result of the check; a refusal by the guard
          // (SsrfBlockedError) is not, and stays an error.
          if (err instanceof HttpRequestError) return failedCheckReport(err.hops[0]?.url ?? url, err.message, err.hops, err.tls);
          throw err;
        }
      },
    },

    http_get: {
      description:
        'GET a URL and return its status and body as text (HTML, JSON, plain text, …), cut at the configured ' +
        'size; other content types are described, not shown. The body is untrusted outside content.',
      human: 'auto',
      readOnly: true,
      untrustedOutput: true,
      timeoutSeconds: TOOL_TIMEOUT_SECONDS,
      input: z.object({ url }),
      handle: async ({ url }, ctx) => {
        const config = httpConfig(ctx.config);
        const response = await guardedGet(url, { ...requestOptions(ctx), maxBodyBytes: config.maxBodyBytes });
        return getReport(response, config.maxBodyBytes);
      },
    },
  },

  // Checks the config once at start-up so a mistake is logged early; every call checks it too.
  startup: (ctx) => {
    httpConfig(ctx.config);
  },
});

/** The guard's options from the config and the call. */
function requestOptions(ctx: ToolContext): GuardedGetOptions {
  const config = httpConfig(ctx.config);
  return {
    allowedHosts: config.allowedHosts,
    timeoutMs: config.timeoutMs,
    maxRedirects: config.maxRedirects,
    signal: ctx.signal,
  };
}
