// Tools of the {{name}} skill. Each tool declares how much human approval it needs:
// `auto` runs at once (only for read-only tools), `approve` asks for a click, `confirm` asks
// the approver to type a phrase. A tool that declares nothing gets `approve`.
import { defineSkill, defineTool, z } from 'mithai';

export default defineSkill({
  tools: {
    get_status: defineTool({
      description: 'Show the status of a service. Changes nothing.',
      human: 'auto',
      readOnly: true,
      input: z.object({ service: z.string().min(1).describe('service name') }),
      handle: async ({ service }, ctx) => {
        const restarts = ctx.state.get<number>(`restarts:${service}`) ?? 0;
        return { service, status: 'running', restarts };
      },
    }),
    restart: defineTool({
      description: 'Restart a service. Interrupts its traffic for a few seconds.',
      human: 'approve',
      input: z.object({ service: z.string().min(1).describe('service name') }),
      handle: async ({ service }, ctx) => {
        // Replace this with the real call; pass ctx.signal so the time limit can stop it.
        const restarts = (ctx.state.get<number>(`restarts:${service}`) ?? 0) + 1;
        ctx.state.set(`restarts:${service}`, restarts);
        ctx.logger.info({ service }, 'service restarted');
        return `${service} restarted`;
      },
    }),
  },
});
