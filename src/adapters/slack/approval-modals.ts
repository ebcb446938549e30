/**
 * The two modals of an approval: "Confirm" (the approver types the confirmation phrase) and
 * "Deny" (an optional reason the model will read). `private_metadata` carries only the approval
 * id; on submission the server reloads the approval and lets the gate check everything again.
 */
import { redactThenCut } from '../../security/redact-then-cut.ts';
import type { Approval } from '../../human/types.ts';
import type { SlackBlock } from './approval-card.ts';
import { clip, inputSection, SECTION_MAX, shown } from './approval-card.ts';
import { escapeInline, escapeMrkdwn, stripZeroWidth } from './mrkdwn.ts';

/** callback_ids of the modals. */
export const MODALS = { confirm: 'mithai_confirm_modal', deny: 'mithai_deny_modal' } as const;

/** block_id / action_id of the single input of each modal (the key for `response_action: errors`). */
export const INPUTS = {
  phrase: { block: 'mithai_phrase', action: 'phrase' },
  reason: { block: 'mithai_reason', action: 'reason' },
} as const;

/** Longest deny reason accepted (the model reads it; the card shows the first 300 characters). */
export const REASON_MAX = 1000;

/** A modal view as sent to views.open. */
export interface ModalSpec {
  type: 'modal';
  callback_id: string;
  private_metadata: string;
  title: { type: 'plain_text'; text: string };
  submit: { type: 'plain_text'; text: string };
  close: { type: 'plain_text'; text: string };
  blocks: SlackBlock[];
}

/** The confirm modal: shows the tool, the input it confirms and the phrase, and asks for the phrase. */
export function confirmModal(approval: Approval, redactText: (text: string) => string): ModalSpec {
  const redact = shown(redactText);
  const tool = escapeInline(redact(approval.tool));
  const phrase = escapeInline(redact(approval.confirmPhrase ?? ''));
  return {
    type: 'modal',
    callback_id: MODALS.confirm,
    private_metadata: approval.id,
    title: { type: 'plain_text', text: 'Confirm call' },
    submit: { type: 'plain_text', text: 'Confirm and run' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'section',
        block_id: 'mithai_confirm_intro',
        text: { type: 'mrkdwn', text: clip(`\`${tool}\` will run once you confirm.\nType \`${phrase}\` exactly to confirm.`, SECTION_MAX) },
      },
      // What is being confirmed, as on the card: the approver confirms this input, not a name.
      { type: 'section', block_id: 'mithai_confirm_input', text: { type: 'mrkdwn', text: clip(inputSection(approval, redactText), SECTION_MAX) } },
      {
        type: 'input',
        block_id: INPUTS.phrase.block,
        label: { type: 'plain_text', text: 'Confirmation phrase' },
        element: { type: 'plain_text_input', action_id: INPUTS.phrase.action },
      },
    ],
  };
}

/** The deny modal: an optional reason the model receives with the denial. */
export function denyModal(approval: Approval, redactText: (text: string) => string): ModalSpec {
  const redact = shown(redactText);
  return {
    type: 'modal',
    callback_id: MODALS.deny,
    private_metadata: approval.id,
    title: { type: 'plain_text', text: 'Deny call' },
    submit: { type: 'plain_text', text: 'Deny' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'section',
        block_id: 'mithai_deny_intro',
        text: { type: 'mrkdwn', text: clip(`Deny \`${escapeInline(redact(approval.tool))}\`? It will not run. ${escapeMrkdwn('The reason (optional) is shown on the card and told to the model.')}`, SECTION_MAX) },
      },
      {
        type: 'input',
        block_id: INPUTS.reason.block,
        optional: true,
        label: { type: 'plain_text', text: 'Reason' },
        element: { type: 'plain_text_input', action_id: INPUTS.reason.action, multiline: true, max_length: REASON_MAX },
      },
    ],
  };
}

/** The `view.state.values` shape of a submission (only what we read). */
export type ViewStateValues = Record<string, Record<string, { value?: string | null } | undefined> | undefined>;

/** The phrase typed in the confirm modal; zero-width spaces (from copying the card) removed. */
export function typedPhrase(values: ViewStateValues): string {
  return stripZeroWidth(values[INPUTS.phrase.block]?.[INPUTS.phrase.action]?.value ?? '');
}

/** The reason typed in the deny modal, trimmed and capped; undefined when left empty. */
export function typedReason(values: ViewStateValues, redact: (text: string) => string): string | undefined {
  const reason = (values[INPUTS.reason.block]?.[INPUTS.reason.action]?.value ?? '').trim();
  // Redacted before the cut (a forged submission can exceed the form's max_length).
  return reason === '' ? undefined : redactThenCut(reason, REASON_MAX, redact).text;
}
