// An example skill: one read-only tool that runs at once, one that needs an approval.
// The services are pretend; they live in this skill's persisted state.
import { defineSkill, defineTool, z } from 'mithai';

const SERVICES = ['api', 'worker', 'web'];

export default defineSkill({
  tools: {
    list_services: defineTool({
      description: 'List the services and how many times each was restarted.',
      human: 'auto',
      readOnly: true,
      input: z.object({}),
      handle: async (_input, ctx) =>
        SERVICES.map((name) => ({ name, status: 'running', restarts: ctx.state.get<number>(`restarts:${name}`) ?? 0 })),
    }),
    restart_service: defineTool({
      description: 'Restart one service. Interrupts its traffic for a few seconds.',
      human: 'approve',
      input: z.object({ name: z.enum(SERVICES as [string, ...string[]]).describe('service to restart') }),
      handle: async ({ name }, ctx) => {
        const restarts = (ctx.state.get<number>(`restarts:${name}`) ?? 0) + 1;
        ctx.state.set(`restarts:${name}`, restarts);
        ctx.logger.info({ service: name }, 'example.service_restarted');
        return `${name} restarted (restart #${restarts})`;
      },
    }),
  },
});
