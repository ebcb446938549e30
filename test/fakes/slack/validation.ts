/**
 * The checks Slack makes on what an app sends: message text, Block Kit blocks and modal views.
 * A failure answers like Slack does: `error` plus `[ERROR] … [json-pointer:…]` lines for
 * `response_metadata.messages`. Limits are from Slack's Block Kit reference
 * (docs.slack.dev/reference/block-kit) and the chat.postMessage / views.open method pages.
 *
 * Covered: message text length, text-or-blocks, block count, block_id/action_id length and
 * uniqueness, the section/header/actions/context/image/input limits, text objects, buttons,
 * select options, modal title/submit/close/callback_id/private_metadata/external_id.
 * Not covered: attachments, rich_text internals, mrkdwn syntax, URL formats, every element kind's
 * full schema (unknown element types pass), the 250 kB view size cap.
 */
import type { JsonObject } from './types.ts';

/** What Slack answers when a request is invalid. */
export interface Rejection {
  error: string;
  messages: string[];
}

const LIMITS = {
  messageText: 40_000, // chat.postMessage: text over 40,000 chars → msg_too_long
  messageBlocks: 50, // Block Kit: up to 50 blocks per message
  viewBlocks: 100, // Block Kit: up to 100 blocks per modal / Home tab
  id: 255, // block_id, action_id, callback_id, external_id: max 255 chars
  sectionText: 3000, // section.text: max 3000 chars
  sectionFields: 10, // section.fields: max 10 items …
  sectionFieldText: 2000, // … each max 2000 chars
  headerText: 150, // header.text: max 150 chars
  actionsElements: 25, // actions.elements: max 25
  contextElements: 10, // context.elements: max 10
  imageText: 2000, // image alt_text / title: max 2000 chars
  inputLabel: 2000, // input label / hint: max 2000 chars
  buttonText: 75, // button text: max 75 chars
  buttonValue: 2000, // button value: max 2000 chars
  url: 3000, // button url / image_url: max 3000 chars
  placeholder: 150, // element placeholder: max 150 chars
  options: 100, // select options: max 100
  optionText: 75, // option text: max 75 chars
  optionValue: 150, // option value: max 150 chars
  viewTitle: 24, // modal title / submit / close: max 24 chars
  privateMetadata: 3000, // modal private_metadata: max 3000 chars
} as const;

const MESSAGE_BLOCK_TYPES = new Set([
  'section', 'divider', 'image', 'actions', 'context', 'header', 'rich_text', 'file', 'video', 'markdown', 'input', 'table',
]);

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Collects `[ERROR] … [json-pointer:…]` lines while walking a payload. */
class Checker {
  readonly messages: string[] = [];

  fail(text: string, pointer: string): void {
    this.messages.push(`[ERROR] ${text} [json-pointer:${pointer}]`);
  }

  maxLength(value: unknown, max: number, pointer: string): void {
    if (typeof value === 'string' && value.length > max) this.fail(`must be less than ${max + 1} characters`, pointer);
  }

  /** A text object: `{type: plain_text|mrkdwn, text}` with non-empty text. */
  text(value: unknown, pointer: string, max: number, plainOnly = false): void {
    if (!isObject(value)) return this.fail('must provide an object', pointer);
    if (value.type === undefined) return this.fail('missing required field: type', pointer);
    const allowed = plainOnly ? ['plain_text'] : ['plain_text', 'mrkdwn'];
    if (!allowed.includes(String(value.type))) return this.fail(`must be one of ${allowed.join(', ')}`, `${pointer}/type`);
    if (typeof value.text !== 'string') return this.fail('missing required field: text', pointer);
    if (value.text.length === 0) return this.fail('must be more than 0 characters', `${pointer}/text`);
    this.maxLength(value.text, max, `${pointer}/text`);
  }

  /** An interactive element (button, select, input, …). Unknown element types pass. */
  element(el: unknown, pointer: string): void {
    if (!isObject(el)) return this.fail('must provide an object', pointer);
    if (typeof el.type !== 'string') return this.fail('missing required field: type', pointer);
    this.maxLength(el.action_id, LIMITS.id, `${pointer}/action_id`);
    if (el.placeholder !== undefined) this.text(el.placeholder, `${pointer}/placeholder`, LIMITS.placeholder, true);
    if (el.type === 'button') {
      this.text(el.text, `${pointer}/text`, LIMITS.buttonText, true);
      this.maxLength(el.value, LIMITS.buttonValue, `${pointer}/value`);
      this.maxLength(el.url, LIMITS.url, `${pointer}/url`);
      if (el.style !== undefined && el.style !== 'primary' && el.style !== 'danger') {
        this.fail('must be one of primary, danger', `${pointer}/style`);
      }
    }
    if (Array.isArray(el.options)) {
      if (el.options.length > LIMITS.options) this.fail(`no more than ${LIMITS.options} items allowed`, `${pointer}/options`);
      el.options.forEach((opt, i) => {
        const p = `${pointer}/options/${i}`;
        if (!isObject(opt)) return this.fail('must provide an object', p);
        this.text(opt.text, `${p}/text`, LIMITS.optionText);
        this.maxLength(opt.value, LIMITS.optionValue, `${p}/value`);
      });
    }
  }

  /** One block of any surface. */
  block(block: unknown, pointer: string): void {
    if (!isObject(block)) return this.fail('must provide an object', pointer);
    if (typeof block.type !== 'string') return this.fail('missing required field: type', pointer);
    if (!MESSAGE_BLOCK_TYPES.has(block.type)) return this.fail(`unsupported block type: ${block.type}`, `${pointer}/type`);
    this.maxLength(block.block_id, LIMITS.id, `${pointer}/block_id`);
    switch (block.type) {
      case 'section':
        if (block.text === undefined && block.fields === undefined) this.fail('must define either `text` or `fields`', pointer);
        if (block.text !== undefined) this.text(block.text, `${pointer}/text`, LIMITS.sectionText);
        if (Array.isArray(block.fields)) {
          if (block.fields.length > LIMITS.sectionFields) this.fail(`no more than ${LIMITS.sectionFields} items allowed`, `${pointer}/fields`);
          block.fields.forEach((f, i) => this.text(f, `${pointer}/fields/${i}`, LIMITS.sectionFieldText));
        }
        if (block.accessory !== undefined) this.element(block.accessory, `${pointer}/accessory`);
        break;
      case 'header':
        this.text(block.text, `${pointer}/text`, LIMITS.headerText, true);
        break;
      case 'actions':
        this.elements(block, pointer, LIMITS.actionsElements, (el, p) => this.element(el, p));
        this.uniqueActionIds(block, pointer);
        break;
      case 'context':
        this.elements(block, pointer, LIMITS.contextElements, (el, p) => {
          if (isObject(el) && (el.type === 'plain_text' || el.type === 'mrkdwn')) this.text(el, p, LIMITS.sectionText);
          else if (!isObject(el) || typeof el.type !== 'string') this.fail('missing required field: type', p);
        });
        break;
      case 'image':
        this.maxLength(block.image_url, LIMITS.url, `${pointer}/image_url`);
        if (typeof block.alt_text !== 'string') this.fail('missing required field: alt_text', pointer);
        this.maxLength(block.alt_text, LIMITS.imageText, `${pointer}/alt_text`);
        if (block.title !== undefined) this.text(block.title, `${pointer}/title`, LIMITS.imageText, true);
        break;
      case 'input':
        this.text(block.label, `${pointer}/label`, LIMITS.inputLabel, true);
        if (block.hint !== undefined) this.text(block.hint, `${pointer}/hint`, LIMITS.inputLabel, true);
        if (block.element === undefined) this.fail('missing required field: element', pointer);
        else this.element(block.element, `${pointer}/element`);
        break;
    }
  }

  private elements(block: JsonObject, pointer: string, max: number, each: (el: unknown, p: string) => void): void {
    if (!Array.isArray(block.elements)) return this.fail('missing required field: elements', pointer);
    if (block.elements.length === 0) return this.fail('must provide at least 1 item', `${pointer}/elements`);
    if (block.elements.length > max) this.fail(`no more than ${max} items allowed`, `${pointer}/elements`);
    block.elements.forEach((el, i) => each(el, `${pointer}/elements/${i}`));
  }

  private uniqueActionIds(block: JsonObject, pointer: string): void {
    const seen = new Set<string>();
    (block.elements as unknown[]).forEach((el, i) => {
      if (!isObject(el) || typeof el.action_id !== 'string') return;
      if (seen.has(el.action_id)) this.fail(`duplicate action_id: ${el.action_id}`, `${pointer}/elements/${i}/action_id`);
      seen.add(el.action_id);
    });
  }

  /** A list of blocks for a surface: count, each block, unique block_ids. */
  blocks(blocks: unknown[], pointer: string, surface: 'message' | 'modal'): void {
    const max = surface === 'message' ? LIMITS.messageBlocks : LIMITS.viewBlocks;
    if (blocks.length > max) this.fail(`no more than ${max} items allowed`, pointer);
    const blockIds = new Set<string>();
    blocks.forEach((block, i) => {
      this.block(block, `${pointer}/${i}`);
      if (isObject(block) && typeof block.block_id === 'string') {
        if (blockIds.has(block.block_id)) this.fail(`duplicate block_id: ${block.block_id}`, `${pointer}/${i}/block_id`);
        blockIds.add(block.block_id);
      }
    });
  }
}

/**
 * Validate a message's `text` and `blocks` (chat.postMessage, chat.update, chat.postEphemeral,
 * response_url). `blocks` must already be JSON-parsed; a string here means it did not parse.
 */
export function validateMessage(args: { text?: unknown; blocks?: unknown; attachments?: unknown }): Rejection | undefined {
  const text = typeof args.text === 'string' ? args.text : '';
  if (text.length > LIMITS.messageText) return { error: 'msg_too_long', messages: [] };
  if (args.blocks !== undefined && !Array.isArray(args.blocks)) {
    return { error: 'invalid_blocks_format', messages: ['[ERROR] must provide an array [json-pointer:/blocks]'] };
  }
  const blocks = (args.blocks as unknown[] | undefined) ?? [];
  if (text === '' && blocks.length === 0 && args.attachments === undefined) return { error: 'no_text', messages: [] };
  const check = new Checker();
  check.blocks(blocks, '/blocks', 'message');
  return check.messages.length > 0 ? { error: 'invalid_blocks', messages: check.messages } : undefined;
}

/** Validate a modal view (views.open / update / push, or a `response_action: update|push` ack). */
export function validateModalView(view: unknown): Rejection | undefined {
  const check = new Checker();
  if (!isObject(view)) {
    check.fail('must provide an object', '/view');
    return { error: 'invalid_arguments', messages: check.messages };
  }
  if (view.type !== 'modal') check.fail('must be one of modal', '/view/type');
  if (view.title === undefined) check.fail('missing required field: title', '/view');
  else check.text(view.title, '/view/title', LIMITS.viewTitle, true);
  if (view.submit !== undefined) check.text(view.submit, '/view/submit', LIMITS.viewTitle, true);
  if (view.close !== undefined) check.text(view.close, '/view/close', LIMITS.viewTitle, true);
  check.maxLength(view.callback_id, LIMITS.id, '/view/callback_id');
  check.maxLength(view.external_id, LIMITS.id, '/view/external_id');
  check.maxLength(view.private_metadata, LIMITS.privateMetadata, '/view/private_metadata');
  if (!Array.isArray(view.blocks)) check.fail('missing required field: blocks', '/view');
  else {
    check.blocks(view.blocks, '/view/blocks', 'modal');
    const hasInput = view.blocks.some((b) => isObject(b) && b.type === 'input');
    if (hasInput && view.submit === undefined) check.fail('must provide `submit` when the view has input blocks', '/view/submit');
  }
  return check.messages.length > 0 ? { error: 'invalid_arguments', messages: check.messages } : undefined;
}

/**
 * Validate a `response_action: errors` ack against the view it answers: every key must be the
 * block_id of an input block (otherwise Slack shows the user a generic failure instead).
 */
export function validateViewErrors(view: JsonObject, errors: unknown): Rejection | undefined {
  const check = new Checker();
  if (!isObject(errors) || Object.keys(errors).length === 0) {
    check.fail('must provide a non-empty object', '/errors');
  } else {
    const inputIds = new Set(
      ((view.blocks as unknown[]) ?? []).filter((b): b is JsonObject => isObject(b) && b.type === 'input').map((b) => String(b.block_id)),
    );
    for (const [key, value] of Object.entries(errors)) {
      if (!inputIds.has(key)) check.fail(`no input block with block_id: ${key}`, `/errors/${key}`);
      if (typeof value !== 'string' || value === '') check.fail('must be a non-empty string', `/errors/${key}`);
    }
  }
  return check.messages.length > 0 ? { error: 'invalid_arguments', messages: check.messages } : undefined;
}
