/**
 * `list_contexts`: what the config allows, so the model can pick a context and namespace
 * without guessing. Reads only the config; runs no kubectl.
 */
import type { ToolContext } from 'mithai';
import { ANY_NAMESPACE, parseConfig } from './config.ts';
import { formatTable } from './text.ts';

export function listContexts(ctx: Pick<ToolContext, 'config'>): string {
  const config = parseConfig(ctx.config);
  const rows = config.contexts.map((context) => {
    const namespaces = config.namespaces.get(context) ?? [];
    return [
      context,
      config.productionContexts.has(context) ? 'yes' : 'no',
      context === config.defaultContext ? 'yes' : '',
      namespaces === ANY_NAMESPACE ? '* (any, one per call)' : namespaces.join(','),
    ];
  });
  return [
    formatTable(['CONTEXT', 'PRODUCTION', 'DEFAULT', 'NAMESPACES'], rows),
    'Changes in a production context need the approver to type the resource name (e.g. deployment/api).',
  ].join('\n');
}
